"""Write a run folder's map and reports, private or published, from the folder alone.

Private files go in ``RUN_DIR`` (``map.html``, ``report.html``, ``report.xlsx``).
Published files go in ``RUN_DIR/published/`` and never overwrite the private ones; each
published file is scanned for the withheld sites before the command reports success.
``estate publish`` builds the whole published set in a new folder beside it and swaps it
in only once every file has passed the scan; ``--publish`` on ``map`` and ``report``
adds its files to ``published/`` after clearing it if it holds the copy of an earlier
run.  Writing a run's presentation (the end of ``estate run``) removes any
``published/`` left by an earlier run in the folder.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from estate.io import write_text
from scenarios.geopackage import write_gpkg
from scenarios.maps import Basemap, write_map
from scenarios.publish import (
    PUBLISHED_DIR,
    PublishError,
    check_published,
    fingerprint,
    published_dir,
    published_fingerprint,
    redact,
    redaction_text,
    write_published_tables,
)
from scenarios.report import report_tables, write_report_html
from scenarios.runfolder import RunFolder, load_run
from scenarios.workbook import write_workbook


@dataclass(frozen=True)
class Written:
    """What a command wrote, what it withheld, and what the publisher should check."""

    files: tuple[Path, ...]
    withheld_sites: int | None = None  # None: private output, nothing withheld
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "files": [str(f) for f in self.files],
            "published": self.withheld_sites is not None,
            "withheld_sites": self.withheld_sites,
            "warnings": list(self.warnings),
        }


def _published(private: RunFolder, shown: RunFolder, files: list[Path]) -> Written:
    assert shown.redaction is not None
    check_published(files, private)
    return Written(tuple(files), shown.redaction.withheld_sites, shown.redaction.warnings)


def _partial_target(private: RunFolder) -> tuple[RunFolder, Path]:
    """The redacted copy and ``published/``, emptied first if it holds an earlier run's."""
    shown = redact(private)
    out = published_dir(private.path)
    if out.exists() and published_fingerprint(out) != fingerprint(shown):
        shutil.rmtree(out)
    return shown, out


def write_map_files(
    run_dir: str | Path,
    publish: bool = False,
    basemap: Basemap = "tiles",
    service_type: str | None = None,
    out: str | Path | None = None,
) -> Written:
    """``map.html`` (or ``published/map.html``) from the run folder; with ``out``, the
    page is written there instead (published or not) and the run folder is left as it is."""
    private = load_run(run_dir)
    if out is not None:
        shown = redact(private) if publish else private
        files = [write_map(shown, out, basemap, service_type)]
        return _published(private, shown, files) if publish else Written(tuple(files))
    if not publish:
        return Written((write_map(private, private.path / "map.html", basemap, service_type),))
    shown, out = _partial_target(private)
    files = [write_map(shown, out / "map.html", basemap, service_type)]
    files.append(write_text(out / "REDACTION.txt", redaction_text(shown)))
    return _published(private, shown, files)


def write_report_files(
    run_dir: str | Path, publish: bool = False, out: str | Path | None = None
) -> Written:
    """``report.html`` and ``report.xlsx`` (or their published copies); with ``out``,
    into that folder instead, leaving the run folder as it is."""
    private = load_run(run_dir)
    if out is not None:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        shown = redact(private) if publish else private
        files = _reports(shown, folder)
        return _published(private, shown, files) if publish else Written(tuple(files))
    if not publish:
        return Written(tuple(_reports(private, private.path)))
    shown, out = _partial_target(private)
    files = _reports(shown, out)
    files.append(write_text(out / "REDACTION.txt", redaction_text(shown)))
    return _published(private, shown, files)


def _reports(folder: RunFolder, out: Path) -> list[Path]:
    tables = report_tables(folder)
    return [
        write_report_html(folder, out / "report.html"),
        write_workbook(folder, out / "report.xlsx", tables),
    ]


def write_published(
    run_dir: str | Path, basemap: Basemap = "tiles", service_type: str | None = None
) -> Written:
    """Every published file: tables, GeoPackage, map and reports, sensitive sites withheld.

    The set is written into a new folder beside ``published/`` and scanned there; only
    if every file passes does it replace ``published/`` (so a failed publish leaves no
    half-written set, and a stale copy of an earlier run is removed either way).
    """
    private = load_run(run_dir)
    shown = redact(private)
    final = published_dir(private.path)
    work = Path(tempfile.mkdtemp(prefix=f".{PUBLISHED_DIR}-", dir=private.path))
    try:
        files = write_published_tables(shown, work)
        files.append(write_map(shown, work / "map.html", basemap, service_type))
        files += _reports(shown, work)
        try:
            check_published(files, private)
        except PublishError as exc:
            if final.exists() and published_fingerprint(final) != fingerprint(shown):
                shutil.rmtree(final)
            raise PublishError(str(exc).replace(str(work), str(final))) from None
        _swap(work, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert shown.redaction is not None
    return Written(
        tuple(final / f.name for f in files),
        shown.redaction.withheld_sites,
        shown.redaction.warnings,
    )


def _swap(new: Path, final: Path) -> None:
    """Put ``new`` in the place of ``final``, keeping the old one until the new is there."""
    old = None
    if final.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{PUBLISHED_DIR}-old-", dir=final.parent))
        old.rmdir()
        final.rename(old)
    try:
        new.rename(final)
    except OSError:
        if old is not None:
            old.rename(final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_presentation(run_dir: str | Path, basemap: Basemap = "roads") -> list[Path]:
    """The private GeoPackage, map and reports of a freshly written run folder.

    A ``published/`` folder left by an earlier run in this folder would contradict the
    new results, so it is removed: publish again from the new run.
    """
    folder = load_run(run_dir)
    shutil.rmtree(published_dir(folder.path), ignore_errors=True)
    files = [write_map(folder, folder.path / "map.html", basemap)]
    files += _reports(folder, folder.path)
    return [*files, write_gpkg(folder, folder.path / "results.gpkg")]
