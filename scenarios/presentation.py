"""Write a run folder's map and reports, private or published, from the folder alone.

Private files go in ``RUN_DIR`` (``map.html``, ``report.html``, ``report.xlsx``).
Published files go in ``RUN_DIR/published/`` and never overwrite the private ones; each
published file is scanned for the withheld sites before the command reports success.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scenarios.geopackage import write_gpkg
from scenarios.maps import Basemap, write_map
from scenarios.publish import (
    check_published,
    published_dir,
    redact,
    redaction_text,
    write_published_tables,
)
from scenarios.report import report_tables, write_report_html
from scenarios.runfolder import RunFolder, load_run
from scenarios.workbook import write_workbook


@dataclass(frozen=True)
class Written:
    """What a command wrote, and what it withheld."""

    files: tuple[Path, ...]
    withheld_sites: int | None = None  # None: private output, nothing withheld

    def as_dict(self) -> dict[str, object]:
        return {
            "files": [str(f) for f in self.files],
            "published": self.withheld_sites is not None,
            "withheld_sites": self.withheld_sites,
        }


def _target(folder: RunFolder, publish: bool) -> tuple[RunFolder, Path]:
    if publish:
        return redact(folder), published_dir(folder.path)
    return folder, folder.path


def _finish(private: RunFolder, shown: RunFolder, files: list[Path], out: Path) -> Written:
    if shown.redaction is None:
        return Written(tuple(files))
    from estate.io import write_text

    files.append(write_text(out / "REDACTION.txt", redaction_text(shown)))
    check_published(files, private)
    return Written(tuple(files), shown.redaction.withheld_sites)


def write_map_files(
    run_dir: str | Path,
    publish: bool = False,
    basemap: Basemap = "tiles",
    service_type: str | None = None,
) -> Written:
    """``map.html`` (or ``published/map.html``) from the run folder."""
    private = load_run(run_dir)
    shown, out = _target(private, publish)
    files = [write_map(shown, out / "map.html", basemap, service_type)]
    return _finish(private, shown, files, out)


def write_report_files(run_dir: str | Path, publish: bool = False) -> Written:
    """``report.html`` and ``report.xlsx`` (or their published copies)."""
    private = load_run(run_dir)
    shown, out = _target(private, publish)
    return _finish(private, shown, _reports(shown, out), out)


def _reports(folder: RunFolder, out: Path) -> list[Path]:
    tables = report_tables(folder)
    return [
        write_report_html(folder, out / "report.html"),
        write_workbook(folder, out / "report.xlsx", tables),
    ]


def write_published(
    run_dir: str | Path, basemap: Basemap = "tiles", service_type: str | None = None
) -> Written:
    """Every published file: tables, GeoPackage, map and reports, sensitive sites withheld."""
    private = load_run(run_dir)
    shown, out = _target(private, publish=True)
    files = write_published_tables(shown, out)
    files.append(write_map(shown, out / "map.html", basemap, service_type))
    files += _reports(shown, out)
    check_published(files, private)
    assert shown.redaction is not None
    return Written(tuple(files), shown.redaction.withheld_sites)


def write_presentation(run_dir: str | Path, basemap: Basemap = "roads") -> list[Path]:
    """The private GeoPackage, map and reports of a freshly written run folder."""
    folder = load_run(run_dir)
    files = [
        write_gpkg(folder, folder.path / "results.gpkg"),
        write_map(folder, folder.path / "map.html", basemap),
    ]
    return files + _reports(folder, folder.path)
