"""The Python API: the whole job from a notebook or a script, through a few names.

    from scenarios import run_scenario, Run

    run = run_scenario("scenario.yaml", time_limit=30)   # or a Scenario, or RunInputs
    run.summary["npv_saving"]
    run.buildings            # GeoDataFrame, EPSG:27700 (.to_crs(4326) for lat/lon)
    run.map()                # draws itself in Jupyter and VS Code notebooks
    run.report()             # the finance report: .tables, .save(folder)
    run.write("runs/today")  # the whole run folder, as `estate run` writes it
    Run.open("runs/today")   # any run folder, read back

From data already in memory (a register, zones, an osmnx graph)::

    from scenarios import Register, RoadNetwork, RunInputs, AccessStandard
    from scenarios import read_zones, travel_times, run_scenario

    register = Register.from_files("buildings.xlsx", "services.csv")
    zones = read_zones("lsoa_centroids.csv", population="sape.csv")
    network = RoadNetwork.from_osmnx(G)          # or RoadNetwork.from_file("x.osm.pbf")
    times = travel_times(register, zones, network)
    run = run_scenario(
        RunInputs(name="Rutland", register=register, zones=zones, network=network,
                  access={"library": AccessStandard(drive=15, max_loss=0.0)}),
        travel=times,
    )

The command line (``estate run``, ``estate demo``) calls the same functions.  Errors are
:class:`estate.errors.EstateError`, naming the file, row, column and value.
"""

from __future__ import annotations

import html
import json
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from estate.errors import SettingsError
from estate.money import gbp
from estate.register import Register
from geodata.network import RoadNetwork
from optimise.settings import AccessStandard, Mode
from scenarios.layers import RunLayers, run_layers
from scenarios.run import RunInputs, Travel, mode_travel_times
from scenarios.runfolder import RunFolder, load_run
from scenarios.scenario import ScenarioFile, load_scenario
from scenarios.schema import Scenario

__all__ = [
    "MapView",
    "ReportView",
    "Run",
    "default_out",
    "read_zones",
    "run_demo",
    "run_scenario",
    "travel_times",
]

Progress = Callable[[str], None]
# Keyword settings a notebook writes often, and the scenario keys they stand for.
ALIASES = {
    "time_limit": "solver.time_limit_seconds",
    "gap": "solver.mip_rel_gap",
    "sharing": "policy.sharing",
    "horizon_years": "finance.horizon_years",
    "discount_rate": "finance.discount_rate",
}
SECTIONS = ("finance", "policy", "solver", "phasing")
MAP_HEIGHT = 600


def _quiet(_: str) -> None:
    return None


# --- reading data -----------------------------------------------------------------------


def read_zones(
    path: str | Path, population: str | Path | None = None, name_prefix: str | None = None
) -> pd.DataFrame:
    """Zones (where people live) as ``estate run`` reads them: a canonical CSV, ONS LSOA
    centroids (with ``population``, e.g. an ONS SAPE CSV), or a point layer; columns
    ``zone_id``, ``name``, ``population``, ``weight``, ``lat``/``lon``,
    ``easting``/``northing``."""
    from geodata.zones import read_zones as read

    return read(path, population, name_prefix).zones


def travel_times(
    register: Register,
    zones: pd.DataFrame,
    network: RoadNetwork | None = None,
    modes: Iterable[Mode] | Mapping[str, AccessStandard | None] = ("drive",),
) -> Travel:
    """Minutes from every zone to every building, per mode: on ``network`` (snapping each
    point to its nearest node), or straight-line estimates without one (labelled so).
    ``modes`` are modes, or a scenario's access standards (every mode they name, the
    default standards of the register's public-facing types included).
    ``TravelTimes.frame()`` is the matrix as a DataFrame (zones x buildings)."""
    from scenarios.run import modes_of

    wanted = modes_of(modes, register) if isinstance(modes, Mapping) else list(modes)
    return {mode: mode_travel_times(register, zones, network, mode) for mode in wanted}


# --- running ----------------------------------------------------------------------------


def _key(name: str) -> str:
    """A keyword setting as a scenario key: ``solver__time_limit_seconds`` or an alias."""
    return ALIASES.get(name, name.replace("__", "."))


def _text(value: Any) -> str:
    """A Python value as the scenario reads a ``--set`` value (JSON is YAML)."""
    return value if isinstance(value, str) else json.dumps(value)


def _with_settings(inputs: RunInputs, overrides: Mapping[str, Any]) -> RunInputs:
    """``inputs`` with dotted settings replaced, each section validated again."""
    changes: dict[str, Any] = {}
    access = dict(inputs.access)
    for name, value in overrides.items():
        parts = _key(name).split(".")
        if parts[0] in ("name", "notice") and len(parts) == 1:
            changes[parts[0]] = str(value)
        elif parts[0] in SECTIONS and len(parts) == 2:
            section = changes.get(parts[0], getattr(inputs, parts[0]))
            data = {**section.model_dump(), parts[1]: value}
            changes[parts[0]] = type(section).model_validate(data)
        elif parts[0] == "access" and len(parts) == 3 and parts[1] in access:
            standard = access[parts[1]]
            before = standard.model_dump() if standard is not None else {}
            access[parts[1]] = AccessStandard.model_validate({**before, parts[2]: value})
        else:
            raise SettingsError(f"{name}: not a setting of the run")
    return replace(inputs, access=access, **changes)


def _scenario_file(scenario: str | Path | Scenario | ScenarioFile) -> ScenarioFile:
    if isinstance(scenario, ScenarioFile):
        return scenario
    if isinstance(scenario, Scenario):
        return ScenarioFile.of(scenario, Path.cwd())
    return load_scenario(scenario)


def run_scenario(
    scenario: str | Path | Scenario | ScenarioFile | RunInputs,
    *,
    out: str | Path | None = None,
    travel: Travel | None = None,
    sharing_value: bool = False,
    price_of_keeping: bool | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    serial: bool = False,
    force: bool = False,
    progress: Progress | None = None,
    **overrides: Any,
) -> Run:
    """Run a scenario and return the :class:`Run`.

    ``scenario`` is a scenario file (its path), a :class:`~scenarios.schema.Scenario`
    (input paths relative to the current folder), or :class:`RunInputs` with the data
    in memory.  ``overrides`` set any setting by its key, ``solver__time_limit_seconds=30``
    or ``**{"access.library.drive": 15}``, or by a short name: ``time_limit``,
    ``gap``, ``sharing``, ``horizon_years``, ``discount_rate``.

    ``out`` is the run folder to write (whole, as ``estate run`` writes it; ``force``
    replaces a folder no estate command wrote); without it the run lives in a temporary
    folder that goes with the :class:`Run` (keep it with :meth:`Run.write`).
    ``travel`` gives travel times already computed (:func:`travel_times`) for the
    same register and zones.  ``sharing_value`` also solves the scenario under the
    other policy, into ``OUT/<policy>/``, and adds ``value_of_sharing`` to the summary.
    ``price_of_keeping`` re-solves the scenario once per building the plan disposes of,
    with it kept (into ``OUT/price_of_keeping/``, on a local Dask cluster unless
    ``serial``, or on the one at ``scheduler``), and adds the NPV saving given up to
    the buildings table; None: when the plan disposes of 50 buildings or fewer.  It
    needs a scenario file (not :class:`RunInputs` alone).
    """
    from scenarios.folders import writing_folder
    from scenarios.inputs import load_inputs
    from scenarios.keeping import keeping_annotator
    from scenarios.run import run, run_with_sharing_value

    report = progress or _quiet
    if sharing_value and travel is not None:
        raise SettingsError("travel= goes with a single run, not with sharing_value=True")
    protect: list[Path] = []
    loaded: ScenarioFile | None = None
    if isinstance(scenario, RunInputs):
        ready: RunInputs | None = _with_settings(scenario, overrides)
    else:
        loaded = _scenario_file(scenario)
        if overrides:
            loaded = loaded.with_overrides({_key(k): _text(v) for k, v in overrides.items()})
        protect = list(loaded.input_paths().values())
        ready = None
    if price_of_keeping and loaded is None:
        raise SettingsError(
            "price_of_keeping=True needs a scenario file: its re-solves are points of a "
            "sweep over the scenario"
        )
    holder = None
    if out is None:
        holder = tempfile.mkdtemp(prefix="estate-run-")
        target = Path(holder) / "run"
    else:
        target = Path(out)
    try:
        with writing_folder(target, force=force, protect=protect) as folder:
            if ready is None:
                assert loaded is not None
                report("reading the inputs")
                ready = load_inputs(loaded)
            annotate = (
                None
                if loaded is None or price_of_keeping is False
                else keeping_annotator(
                    loaded,
                    folder.path,
                    price_of_keeping,
                    scheduler=scheduler,
                    workers=workers,
                    serial=serial,
                    progress=report,
                )
            )
            if sharing_value:
                run_with_sharing_value(ready, folder, report, annotate=annotate)
            else:
                run(ready, folder, report, travel=travel, annotate=annotate)
        return Run.open(target, _temporary=holder)
    except BaseException:
        if holder is not None:
            shutil.rmtree(holder, ignore_errors=True)
        raise


def default_out(scenario: str | Path, prefix: str = "") -> Path:
    """Where a scenario's run goes by default: ``runs/<prefix><name>`` beside the
    scenario file (``<name>`` its stem, or its folder's name for ``scenario.yaml``).
    The ``scenario.yaml`` a run folder holds gives a folder beside that run folder,
    ``<prefix><name>``, or ``<name>-rerun`` where that would be the run folder itself."""
    from scenarios.folders import folder_kind

    given = Path(scenario)
    folder = given.parent
    name = folder.resolve().name if given.stem == "scenario" else given.stem
    if folder_kind(folder.resolve()) != "run":
        return folder / "runs" / f"{prefix}{name}"
    out = folder.parent / f"{prefix}{name}"
    return out.with_name(f"{out.name}-rerun") if out.resolve() == folder.resolve() else out


def run_demo(
    out: str | Path | None,
    seed: int,
    time_limit: float = 60.0,
    gap: float | None = None,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> Run:
    """Generate the synthetic place "Demo Vale" from ``seed`` and run it (``estate demo``)."""
    from scenarios.run import DEMO_GAP, demo_inputs

    report = progress or _quiet
    report("generating the demo place")
    inputs = demo_inputs(seed, time_limit, DEMO_GAP if gap is None else gap)
    return run_scenario(inputs, out=out, force=force, progress=report)


# --- a run, read back ---------------------------------------------------------------------


class Run:
    """A run folder: its figures as tables, its places as GeoDataFrames, its map and report.

    Open any folder that ``estate run``, ``demo``, ``plan`` or ``share`` wrote with
    :meth:`open`, or get one from :func:`run_scenario`.  Tables are read once, on first
    use.  ``buildings``, ``zones``, ``moves`` and ``catchments`` are GeoDataFrames in
    EPSG:27700 (British National Grid metres), the layers of ``results.gpkg``.
    """

    def __init__(
        self,
        path: Path,
        summary: Mapping[str, Any],
        folder: RunFolder | None = None,
        _temporary: str | None = None,
    ) -> None:
        self._path = path
        self._summary = dict(summary)
        self._folder = folder
        if _temporary is not None:  # a run with no folder of its own: removed with it
            self._cleanup = weakref.finalize(self, shutil.rmtree, _temporary, True)

    @classmethod
    def open(cls, path: str | Path, _temporary: str | None = None) -> Run:
        """Read the run folder at ``path`` (every file checked, problems named).

        A run that found no decision (``status`` infeasible or no_solution) has its
        ``summary`` (with the ``diagnosis``) and no tables.
        """
        from scenarios.runfolder import read_summary

        root = Path(path)
        summary = read_summary(root)
        folder = load_run(root) if "npv_saving" in summary else None
        return cls(root, summary, folder, _temporary)

    # -- what it holds -------------------------------------------------------------------
    @property
    def folder(self) -> RunFolder:
        """The run folder's tables, checked and joined (:class:`RunFolder`)."""
        if self._folder is None:
            raise SettingsError(
                f"the run found no decision (status {self.status}), so it has no tables; "
                "summary['diagnosis'] says why"
            )
        return self._folder

    @property
    def path(self) -> Path:
        """Where the run folder is (a temporary folder unless written with ``out=``)."""
        return self._path

    @property
    def name(self) -> str:
        return str(self._summary.get("scenario", self._path.name))

    @property
    def summary(self) -> dict[str, Any]:
        """``summary.json``: status, gap, NPV saving, per-agency figures, settings, ..."""
        return dict(self._summary)

    @property
    def ok(self) -> bool:
        """A decision was found and the solver's claim passed the check."""
        return self._summary.get("plan_status") is not None and self.status != "solver_error"

    @property
    def status(self) -> str:
        return str(self._summary.get("status"))

    @cached_property
    def layers(self) -> RunLayers:
        return run_layers(self.folder)

    @property
    def buildings(self) -> gpd.GeoDataFrame:
        """One row a building: decision, exit year (null: kept), desks, costs, receipt."""
        return self.layers.buildings.copy()

    @property
    def zones(self) -> gpd.GeoDataFrame:
        """The zones' cells with minutes before/after/change per service type
        (``zone_fields`` names the service type of each column)."""
        return self.layers.zones.copy()

    @property
    def zone_fields(self) -> pd.DataFrame:
        return self.layers.fields_table()

    @property
    def moves(self) -> gpd.GeoDataFrame:
        """One row a moved service, a line from its old building to its new one."""
        return self.layers.moves.copy()

    @property
    def catchments(self) -> gpd.GeoDataFrame:
        """Each zone joined to its nearest service of each type after the change."""
        return self.layers.catchments.copy()

    @property
    def agencies(self) -> pd.DataFrame:
        return self.folder.agencies.copy()

    @property
    def access(self) -> pd.DataFrame:
        return self.folder.access.copy()

    @property
    def cash_flows(self) -> pd.DataFrame:
        return self.folder.cash_flows.copy()

    # -- what it draws -------------------------------------------------------------------
    def map(
        self,
        basemap: str = "roads",
        service_type: str | None = None,
        height: int = MAP_HEIGHT,
    ) -> MapView:
        """The decision map, as ``map.html`` draws it: ``basemap="roads"`` (the run's
        own roads, no network request) or ``"tiles"`` (OpenStreetMap, online)."""
        from scenarios.maps import BASEMAPS, render_map

        if basemap not in BASEMAPS:
            raise SettingsError(f"basemap {basemap!r}: choose one of {', '.join(BASEMAPS)}")
        return MapView(render_map(self.folder, basemap, service_type), height)

    def report(self) -> ReportView:
        """The finance report: its tables, its page, and ``.save(folder)`` for
        ``report.html`` and ``report.xlsx``."""
        return ReportView(self.folder)

    def write(self, out: str | Path, force: bool = False) -> Path:
        """Write the run folder to ``out`` whole (as ``estate run`` writes one: every
        table, ``inputs/``, ``scenario.yaml``, the GeoPackage, map and reports)."""
        from scenarios.folders import writing_folder
        from scenarios.presentation import write_presentation

        with writing_folder(out, force=force) as staging:
            shutil.copytree(self.path, staging.path, dirs_exist_ok=True)
            if self._folder is not None:
                write_presentation(staging.path)
        return Path(out)

    def __repr__(self) -> str:
        s = self._summary
        return (
            f"Run({self.name!r}, status={self.status}, npv_saving={gbp(s.get('npv_saving'))}, "
            f"path={str(self.path)!r})"
        )

    def _repr_html_(self) -> str:
        """The headline figures, as a notebook shows a run."""
        s = self._summary
        b = s.get("buildings", {})
        rows = [
            ("Status", str(s.get("status"))),
            ("NPV saving", gbp(s.get("npv_saving"))),
            ("Annual revenue saving", gbp(s.get("annual_revenue_saving"))),
            ("Capital receipts", gbp(s.get("capital_receipts"))),
            ("One-off costs", gbp(s.get("one_off_costs"))),
            ("Payback year", str(s.get("payback_year") or "—")),
            (
                "Buildings kept / disposed",
                f"{b.get('kept', '—')} / {b.get('disposed', '—')} of {b.get('total', '—')}",
            ),
        ]
        cells = "".join(
            f"<tr><td>{html.escape(k)}</td><td style='text-align:right'>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        notice = str(s.get("notice") or "")
        return (
            f"<div><b>{html.escape(self.name)}</b>"
            + (f"<div style='color:#b00'>{html.escape(notice)}</div>" if notice else "")
            + f"<table>{cells}</table><div style='color:#666'>{html.escape(str(self.path))}"
            "</div></div>"
        )


def _frame(page: str, height: int, title: str) -> str:
    """A whole page in an ``iframe`` (its own document: scripts and styles stay in it),
    as Jupyter, JupyterLab and VS Code notebooks show HTML output."""
    return (
        f'<iframe srcdoc="{html.escape(page, quote=True)}" title="{html.escape(title)}" '
        f'style="width:100%;height:{int(height)}px;border:1px solid #ddd" '
        'loading="lazy"></iframe>'
    )


class MapView:
    """A map page that draws itself in a notebook (``_repr_html_``) and saves as a file."""

    def __init__(self, page: str, height: int = MAP_HEIGHT) -> None:
        self.html = page
        self.height = height

    def _repr_html_(self) -> str:
        return _frame(self.html, self.height, "decision map")

    def save(self, path: str | Path) -> Path:
        """Write the page (one self-contained file: Leaflet inlined) atomically."""
        from estate.io import write_text

        return write_text(path, self.html)


class ReportView:
    """The finance report of a run: ``tables`` (DataFrames), the page, and the files."""

    def __init__(self, folder: RunFolder) -> None:
        self.folder = folder

    @cached_property
    def tables(self) -> Any:
        """:class:`scenarios.report.ReportTables`: headline, agencies, cash_by_year, ..."""
        from scenarios.report import report_tables

        return report_tables(self.folder)

    @cached_property
    def html(self) -> str:
        from scenarios.report import render_report

        return render_report(self.folder)

    def _repr_html_(self) -> str:
        return _frame(self.html, 800, "finance report")

    def save(self, folder: str | Path) -> list[Path]:
        """Write ``report.html`` and ``report.xlsx`` into ``folder``."""
        from estate.io import write_text
        from scenarios.workbook import write_workbook

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        return [
            write_text(out / "report.html", self.html),
            write_workbook(self.folder, out / "report.xlsx", self.tables),
        ]
