"""Text from the data, made safe for the places it is written to.

A register is written by many hands and its outputs are read by anyone, so every value
is hostile until escaped for where it goes:

- **HTML**: :func:`html_text` (element text and quoted attribute values);
- **inline scripts**: :func:`script_json`, JSON with ``<``, ``>``, ``&``, ``'`` and the
  line separators U+2028/U+2029 escaped, so no value can end the ``<script>`` element,
  open a comment or break a string;
- **spreadsheets**: text that Excel, LibreOffice or Google Sheets would read as a
  formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a
  leading apostrophe in every CSV file the project writes (:func:`spreadsheet_text`,
  undone exactly by :func:`from_spreadsheet_text` when the project reads its own files
  back) and is stored as a text cell in workbooks; control characters, which workbooks
  cannot hold, are replaced by U+FFFD.

No value from the data is ever passed through a template engine.
"""

from __future__ import annotations

import html
import json
import math
import re
from typing import Any

# Characters a spreadsheet reads as the start of a formula or a command (OWASP's list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# XML 1.0 cannot hold these (a workbook is XML); tab, newline and CR are allowed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "'": "\\u0027",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_SCRIPT_UNSAFE = re.compile("[<>&'\u2028\u2029]")


def html_text(value: Any) -> str:
    """``value`` as HTML text, safe in element content and in quoted attributes."""
    return html.escape(str(value), quote=True)


def script_json(value: Any) -> str:
    """``value`` as a JSON literal that is safe inside an inline ``<script>`` element.

    Only characters that HTML or older JavaScript parsers treat specially are changed
    (to ``\\uXXXX`` escapes, which JSON and JavaScript read back as the same text), so
    ``JSON.parse`` and a JavaScript literal both give back exactly ``value``.
    """
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return _SCRIPT_UNSAFE.sub(lambda m: _SCRIPT_ESCAPES[m.group(0)], text)


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds a character that a workbook (XML 1.0) cannot store."""
    return bool(_CONTROL.search(text))


def strip_control_characters(text: str) -> str:
    """``text`` with every character a workbook cannot hold replaced by U+FFFD."""
    return _CONTROL.sub("\ufffd", text)


def _core(text: str) -> str:
    return text.lstrip("'")


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet would read ``text`` as a formula rather than as text.

    Plain numbers such as ``-12.5`` or ``+44`` are numbers, not formulas.
    """
    if text in ("-", "+"):  # a dash for "none" is text to every spreadsheet
        return False
    return text.startswith(FORMULA_START) and not _NUMBER.match(text.strip())


def _needs_quote(text: str) -> bool:
    # Leading apostrophes are looked through, so that quoting can always be undone:
    # "'=x" (a value that already starts with an apostrophe) is written "''=x".
    return looks_like_formula(_core(text))


def spreadsheet_text(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as the text it is.

    Text that would start a formula gets a leading apostrophe (``'=1+1``), which
    Excel and LibreOffice hide, showing the rest as text; numbers, booleans, missing
    values and other text pass unchanged.  :func:`from_spreadsheet_text` undoes it
    exactly, so the project reads its own CSV files back as they were.
    """
    if not isinstance(value, str) or not _needs_quote(value):
        return value
    return "'" + value


def from_spreadsheet_text(value: Any) -> Any:
    """The inverse of :func:`spreadsheet_text`."""
    if isinstance(value, str) and value.startswith("'") and _needs_quote(value):
        return value[1:]
    return value


def protect_frame(frame: Any) -> Any:
    """A copy of a DataFrame with every text cell passed through :func:`spreadsheet_text`."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) in ("str", "string"):
            out[column] = out[column].map(spreadsheet_text)
    out.columns = [spreadsheet_text(c) if isinstance(c, str) else c for c in out.columns]
    return out


def unprotect_frame(frame: Any) -> Any:
    """Undo :func:`protect_frame` on a DataFrame read from CSV (text columns only)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) in ("str", "string"):
            out[column] = out[column].map(from_spreadsheet_text)
    out.columns = [from_spreadsheet_text(c) if isinstance(c, str) else c for c in out.columns]
    return out


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
