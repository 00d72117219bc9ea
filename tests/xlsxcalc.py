"""A small, independent evaluator of the formulas ``report.xlsx`` holds.

Understands exactly the forms the workbook writes and nothing else: a cell reference
(``B7``, ``$L$2``, ``'cash flow by year'!M23``), a difference, sum or product of two
references, ``SUM(range)`` and ``SUMPRODUCT(range, range)``.  Anything else raises, so
a new formula shape is noticed.  Values are read from the workbook as written
(``data_only=False``); a reference to another formula is evaluated in turn.
"""

from __future__ import annotations

import re
from typing import Any

from openpyxl.utils import column_index_from_string
from openpyxl.workbook.workbook import Workbook

_REF = r"(?:'(?P<sheet{n}>[^']+)'!)?\$?(?P<col{n}>[A-Z]{{1,3}})\$?(?P<row{n}>[0-9]+)"
REF = re.compile(_REF.format(n=""))
BINARY = re.compile(rf"={_REF.format(n=1)}(?P<op>[-+*]){_REF.format(n=2)}")
SINGLE = re.compile(rf"={_REF.format(n=1)}")
RANGE = r"(?:'[^']+'!)?\$?[A-Z]{1,3}\$?[0-9]+:\$?[A-Z]{1,3}\$?[0-9]+"
SUM = re.compile(rf"=SUM\(({RANGE})\)")
SUMPRODUCT = re.compile(rf"=SUMPRODUCT\(({RANGE}),({RANGE})\)")


class Evaluator:
    """Evaluates every formula of a workbook loaded with its formulas."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self.memo: dict[tuple[str, int, int], float] = {}

    def cell(self, sheet: str, row: int, col: int) -> float:
        key = (sheet, row, col)
        if key not in self.memo:
            value: Any = self.wb[sheet].cell(row=row, column=col).value
            if isinstance(value, str) and value.startswith("="):
                self.memo[key] = self.formula(sheet, value)
            elif value is None:
                self.memo[key] = 0.0
            elif isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{sheet}!{col}{row}: {value!r} is not a number")
            else:
                self.memo[key] = float(value)
        return self.memo[key]

    def _ref(self, sheet: str, m: re.Match[str], n: str) -> float:
        where = m.group(f"sheet{n}") or sheet
        column = column_index_from_string(m.group(f"col{n}"))
        return self.cell(where, int(m.group(f"row{n}")), column)

    def _range(self, sheet: str, text: str) -> list[float]:
        where = sheet
        if "!" in text:
            quoted, text = text.rsplit("!", 1)
            where = quoted.strip("'")
        start, end = (REF.fullmatch(part) for part in text.split(":"))
        assert start is not None and end is not None, text
        c0, c1 = (column_index_from_string(m.group("col")) for m in (start, end))
        r0, r1 = (int(m.group("row")) for m in (start, end))
        return [self.cell(where, r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]

    def formula(self, sheet: str, text: str) -> float:
        if m := SUM.fullmatch(text):
            return sum(self._range(sheet, m.group(1)))
        if m := SUMPRODUCT.fullmatch(text):
            a, b = self._range(sheet, m.group(1)), self._range(sheet, m.group(2))
            assert len(a) == len(b), text
            return sum(x * y for x, y in zip(a, b, strict=True))
        if m := BINARY.fullmatch(text):
            x, y = self._ref(sheet, m, "1"), self._ref(sheet, m, "2")
            return {"-": x - y, "+": x + y, "*": x * y}[m.group("op")]
        if m := SINGLE.fullmatch(text):
            return self._ref(sheet, m, "1")
        raise ValueError(f"{sheet}: a formula this evaluator does not know: {text!r}")
