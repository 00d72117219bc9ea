"""The project's error hierarchy.

Every error the library raises on purpose derives from :class:`EstateError`, so a
caller (the CLI, a notebook, a scheduler) can catch one class.  Errors about input
data carry :class:`CellIssue` records naming the file, row, column and value.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


class EstateError(Exception):
    """Base class of every error the project raises on purpose."""


@dataclass(frozen=True)
class CellIssue:
    """One problem with one input cell (or row, when ``column`` is empty).

    ``row`` is the 1-based line number in the source file counting the header as
    line 1, so it matches what a spreadsheet shows; it is ``None`` for problems
    that concern a whole table.
    """

    file: str
    row: int | None
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column!r}"
        shown = f" (value {self.value!r})" if self.value != "" else ""
        return f"{where}: {self.message}{shown}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class InputDataError(EstateError, ValueError):
    """Input data that cannot be used; holds every problem found, not just the first."""

    def __init__(self, issues: list[CellIssue], summary: str | None = None) -> None:
        self.issues = list(issues)
        head = summary or f"{len(self.issues)} problem(s) in the input data"
        shown = "\n".join(f"  - {issue}" for issue in self.issues[:20])
        more = f"\n  ... and {len(self.issues) - 20} more" if len(self.issues) > 20 else ""
        super().__init__(f"{head}:\n{shown}{more}" if self.issues else head)


class UnreadableError(InputDataError):
    """A file, sheet or database table that cannot be read at all (not one bad row)."""

    @classmethod
    def about(cls, source: str, message: str) -> UnreadableError:
        return cls([CellIssue(source, None, "", "", message)], f"cannot read {source}")


class SettingsError(EstateError, ValueError):
    """A scenario or model setting that is out of range or inconsistent."""


class SolverError(EstateError, RuntimeError):
    """The solver could not be run, or returned something we cannot trust."""
