"""Atomic file output: write to a temporary file beside the target, then rename.

A reader never sees a half-written file, and an interrupted run leaves the old file
(or none) rather than a truncated one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from estate.textsafe import protect_frame, unprotect_frame


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` then move ``tmp_path`` onto ``path`` atomically."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, target)
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        if exc.filename is None:  # a failed write() names no file: name the one written
            raise OSError(exc.errno, exc.strerror, str(target)) from exc
        raise
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return target


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text atomically, with Unix newlines."""

    def _write(p: Path) -> None:
        p.write_text(text, encoding="utf-8", newline="\n")

    return atomic_write(path, _write)


def write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Write JSON atomically: sorted keys, two-space indent, trailing newline."""
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return write_text(path, text + "\n")


def write_csv(path: str | os.PathLike[str], frame: pd.DataFrame) -> Path:
    """Write a CSV atomically with Unix newlines (callers round their floats).

    Text a spreadsheet would run as a formula gets a leading apostrophe
    (:func:`estate.textsafe.protect_frame`); :func:`read_csv_text` undoes it.
    """
    safe = protect_frame(frame)

    def _write(p: Path) -> None:
        safe.to_csv(p, index=False, lineterminator="\n")

    return atomic_write(path, _write)


def read_csv_text(path: str | os.PathLike[str], encoding: str = "utf-8-sig") -> pd.DataFrame:
    """Read a CSV as text cells (no type guessing, empty cells as ""), undoing the
    spreadsheet quoting that :func:`write_csv` adds."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
    return unprotect_frame(frame)
