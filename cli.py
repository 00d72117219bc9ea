"""The ``estate`` command line: a thin layer over the library.

Library errors (:class:`estate.errors.EstateError`) become a one-line message and
exit code 1 (or the error's own ``exit_code``: 2 for an unusable scenario file); usage
errors exit 2 (click's convention).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, Literal, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from estate.errors import EstateError

F = TypeVar("F", bound=Callable[..., Any])


def _handle_errors(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EstateError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(getattr(exc, "exit_code", 1))

    return wrapper  # type: ignore[return-value]


class _Finite(click.FloatRange):
    """A number in a range that is also finite: click's FloatRange lets nan through."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def _time_limit_range() -> _Finite:
    from optimise.settings import MAX_TIME_LIMIT_SECONDS

    return _Finite(0, MAX_TIME_LIMIT_SECONDS, min_open=True)


_FORCE = click.option(
    "--force",
    is_flag=True,
    help="Replace OUT even if it holds files no estate command wrote (they are deleted).",
)


def _out(help_text: str, default: str | None = None, required: bool = False) -> Any:
    """``-o/--out``: where a command writes (the same flag on every command)."""
    return click.option(
        "-o",
        "--out",
        "out_dir",
        type=click.Path(file_okay=False),
        default=default,
        show_default=default is not None,
        required=required,
        metavar="DIR",
        help=help_text,
    )


def _solver_options(what: str = "the solver") -> Callable[[F], F]:
    """``--time-limit`` and ``--gap``: how long and how close ``what`` solves."""

    def decorate(func: F) -> F:
        options = [
            click.option(
                "--time-limit",
                type=_time_limit_range(),
                default=None,
                metavar="S",
                help=f"Seconds {what} may take (at most a week) [default: the scenario's "
                "solver.time_limit_seconds].",
            ),
            click.option(
                "--gap",
                type=_Finite(0, 1),
                default=None,
                metavar="G",
                help=f"Relative optimality gap at which {what} may stop [default: the "
                "scenario's solver.mip_rel_gap].",
            ),
        ]
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def _solver_sets(
    sets: tuple[str, ...], time_limit: float | None, gap: float | None
) -> tuple[str, ...]:
    """``--time-limit`` and ``--gap`` as the ``--set`` overrides they stand for."""
    extra = []
    if time_limit is not None:
        extra.append(f"solver.time_limit_seconds={time_limit!r}")
    if gap is not None:
        extra.append(f"solver.mip_rel_gap={gap!r}")
    return (*sets, *extra)


@click.group()
@click.version_option(package_name="public-estate")
def main() -> None:
    """Shared public-estate and Total Capital optimiser.

    Load every public body's buildings into one estate, compute travel times on the
    road network, and choose which buildings to keep, share and dispose of.
    """


@main.command()
@_out("Run folder to write.", default="runs/demo")
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="Seed of the generated place [default: 2026].",
)
@click.option(
    "--time-limit",
    type=_time_limit_range(),
    default=60.0,
    show_default=True,
    metavar="S",
    help="Solver seconds (at most a week).",
)
@click.option(
    "--gap",
    type=_Finite(0, 1),
    default=0.005,
    show_default=True,
    metavar="G",
    help="Relative optimality gap at which the solver may stop.",
)
@_FORCE
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--json", "as_json", is_flag=True, help="Print summary.json to stdout.")
@_handle_errors
def demo(
    out_dir: str,
    seed: int | None,
    time_limit: float,
    gap: float,
    force: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Run the whole pipeline on the embedded synthetic place "Demo Vale".

    Generates the place from SEED (no data files), computes travel times on its road
    network, solves the estate model and writes the run folder: summary.json,
    buildings.csv, moves.csv, agencies.csv, access.csv, cash_flows.csv,
    results.gpkg, map.html (offline basemap: the place is invented), report.html
    and report.xlsx.
    """
    from scenarios.api import run_demo
    from scenarios.demo import DEFAULT_SEED

    console = Console(stderr=as_json, quiet=quiet)
    with console.status("Generating Demo Vale") as status:
        run = run_demo(
            out_dir,
            DEFAULT_SEED if seed is None else seed,
            time_limit,
            gap,
            progress=lambda stage: status.update(stage.capitalize()),
            force=force,
        )
    _print_run(run.summary, console, out_dir, as_json)
    if not run.ok:  # no decision, or the solver failed its check
        sys.exit(1)


def _print_run(doc: dict[str, Any], console: Console, out_dir: str, as_json: bool) -> None:
    """``summary.json`` as JSON, or the summary a Board reads (and the value of sharing)."""
    from scenarios.display import print_sharing_value, print_summary

    if as_json:
        click.echo(json.dumps(doc, indent=2, sort_keys=True))
        return
    print_summary(doc, console, out_dir)
    if doc.get("value_of_sharing") is not None:
        print_sharing_value(doc["value_of_sharing"], console)


def _into_run_folder(run_dir: str, write: Callable[[Any], Any], skip: tuple[str, ...] = ()) -> Any:
    """Add files to a run folder whole: ``write(folder)`` writes into a copy of it that
    replaces it on success (see scenarios/folders.py); returns what ``write`` returned,
    with the paths it wrote as they are after the swap."""
    from dataclasses import replace

    from scenarios.folders import writing_folder

    with writing_folder(run_dir, kind=None, update=True, skip=skip) as staging:
        written = write(staging.path)
    return replace(written, files=staging.finals(written.files))


def _print_written(written: Any, console: Console, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(written.as_dict(), indent=2, sort_keys=True))
        return
    if written.withheld_sites is not None:
        console.print(
            f"[bold red]Published copy: {written.withheld_sites} sensitive site(s) withheld[/] "
            "(names and locations removed; see REDACTION.txt)"
        )
    for warning in written.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    for path in written.files:
        console.print(f"wrote {path}")


_RUN_DIR = click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
_PUBLISH = click.option(
    "--publish",
    is_flag=True,
    help="Withhold sensitive sites (name, id and location; only how many there are is "
    "shown) and write to RUN_DIR/published/ instead of RUN_DIR.",
)
_OFFLINE = click.option(
    "--offline",
    is_flag=True,
    help="Basemap from the run's road network, drawn as vectors (no tiles: the page "
    "makes no network request). Default: OpenStreetMap tiles, fetched by the browser.",
)
_SERVICE_TYPE = click.option(
    "--service-type",
    default=None,
    metavar="T",
    help="Access layer shown first (minutes to the nearest service of this type, before "
    "vs after) [default: the type whose access changes most].",
)
_QUIET = click.option("--quiet", is_flag=True, help="Print nothing but errors.")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")


_FILE_OUT = click.option(
    "-o",
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Write the page here instead, leaving RUN_DIR as it is.",
)


@main.command(name="map")
@_RUN_DIR
@_PUBLISH
@_OFFLINE
@_SERVICE_TYPE
@_FILE_OUT
@_QUIET
@_JSON
@_handle_errors
def map_command(
    run_dir: str,
    publish: bool,
    offline: bool,
    service_type: str | None,
    out_path: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Draw RUN_DIR/map.html from a run folder alone.

    Buildings styled by decision and coloured by agency, service moves as arrows, zones
    shaded by the change in minutes to the nearest service, catchments, a layer control,
    a legend and the key figures.  Leaflet is inlined, so the page opens without internet
    access; with --offline it makes no network request at all.  RUN_DIR is replaced
    whole by a copy with the new file, so a failure leaves it as it was.
    """
    from scenarios.presentation import write_map_files

    console = Console(quiet=quiet or as_json)
    basemap: Literal["roads", "tiles"] = "roads" if offline else "tiles"
    if out_path is not None:
        written = write_map_files(run_dir, publish, basemap, service_type, out=out_path)
    else:
        written = _into_run_folder(
            run_dir, lambda folder: write_map_files(folder, publish, basemap, service_type)
        )
    _print_written(written, console, as_json)


@main.command()
@_RUN_DIR
@_PUBLISH
@_out("Write report.html and report.xlsx into this folder instead, leaving RUN_DIR as it is.")
@_QUIET
@_JSON
@_handle_errors
def report(run_dir: str, publish: bool, out_dir: str | None, quiet: bool, as_json: bool) -> None:
    """Write RUN_DIR/report.html and RUN_DIR/report.xlsx from a run folder alone.

    The finance report: NPV saving, annual revenue saving, capital receipts, one-off
    costs and payback, in total and per agency; the cash flow over the horizon; every
    building and move; every assumption.  report.xlsx has one table a sheet (summary,
    agencies, buildings, moves, cash flow by year, saving by agency, access,
    assumptions), its totals, present values and NPV as formulas over the cash flows.
    RUN_DIR is replaced whole by a copy with both files, so a failure leaves it as it
    was.
    """
    from scenarios.presentation import write_report_files

    console = Console(quiet=quiet or as_json)
    if out_dir is not None:
        written = write_report_files(run_dir, publish, out=out_dir)
    else:
        written = _into_run_folder(run_dir, lambda folder: write_report_files(folder, publish))
    _print_written(written, console, as_json)


@main.command()
@_RUN_DIR
@_OFFLINE
@_SERVICE_TYPE
@_QUIET
@_JSON
@_handle_errors
def publish(
    run_dir: str, offline: bool, service_type: str | None, quiet: bool, as_json: bool
) -> None:
    """Write the publishable copy of a run to RUN_DIR/published/.

    Every file a run shares (summary.json, the CSV tables, results.gpkg, map.html,
    report.html, report.xlsx), built from an allow-list of fields: each sensitive site is
    withheld-N everywhere (settings and policy lists too), with no name and no location
    (only how many there are is shown), and no travel times are published for a service
    type one provides.  REDACTION.txt says what was withheld.
    The files are scanned for the withheld names, ids and coordinates before the command
    succeeds.  The private originals in RUN_DIR are left as they are.
    The new published/ replaces the old one whole, with nothing of an earlier
    publication.
    """
    from scenarios.presentation import write_published

    console = Console(quiet=quiet or as_json)
    basemap: Literal["roads", "tiles"] = "roads" if offline else "tiles"
    # A fresh published/ each time: no file of an earlier publication stays beside it.
    written = _into_run_folder(
        run_dir,
        lambda folder: write_published(folder, basemap, service_type),
        skip=("published",),
    )
    _print_written(written, console, as_json)


# --- the register: validate, mapping, geocode (issue 4) --------------------------------

_KINDS = click.Choice(["register", "assets", "services"])
_KIND_HELP = (
    "register: buildings with costs and capacity (the default); assets: a list of sites "
    "(only id and agency required); services"
)


def _load_options(func: F, kinds: click.Choice = _KINDS, kind_help: str = _KIND_HELP) -> F:
    options = [
        click.option("--kind", type=kinds, default=None, help=kind_help + "."),
        click.option(
            "--mapping",
            "mapping_paths",
            multiple=True,
            type=click.Path(dir_okay=False),
            help="YAML column mapping (see `estate mapping`): once for all files, or once "
            "a file in the files' order.",
        ),
        click.option(
            "--agency",
            "agencies",
            multiple=True,
            metavar="NAME",
            help="Agency of every row, overriding any agency column: once for all files, "
            "or once a file in the files' order (\"\" = the file's own column).",
        ),
        click.option("--sheet", help="Sheet (workbooks) or layer (GeoPackage): name or number."),
        click.option("--encoding", help="Text encoding of CSV files [default: detected]."),
        click.option(
            "--query", metavar="SQL", help="SQL query for a PostGIS source (instead of URL#table)."
        ),
        click.option(
            "--colocation-metres",
            type=click.FloatRange(0),
            default=25.0,
            show_default=True,
            help="Sites of two agencies this close are reported as co-located.",
        ),
        click.option(
            "--agencies",
            "agencies_path",
            type=click.Path(dir_okay=False),
            help="Agencies table (YAML: name, aliases, codes) laid over the built-in one, "
            "so one body has one name.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _load(files: tuple[str, ...], opts: dict[str, Any], require_points: bool = True) -> Any:
    """Load files for validate/geocode; a usage problem exits 2.  Without
    ``require_points`` a full register's rows without a point are accepted (geocode
    places them)."""
    from estate.agencies import Agencies
    from estate.load import load_files
    from estate.mapping import load_mapping

    try:
        mappings = [load_mapping(p) for p in opts["mapping_paths"]] or None
        table = Agencies.from_file(opts["agencies_path"]) if opts["agencies_path"] else None
        return load_files(
            files,
            kind=opts["kind"],
            mapping=mappings,
            agency=[a or None for a in opts["agencies"]] or None,
            sheet=opts["sheet"],
            encoding=opts["encoding"],
            query=opts["query"],
            colocation_metres=opts["colocation_metres"],
            agency_table=table,
            require_points=require_points,
        )
    except EstateError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)


def _validate_options(func: F) -> F:
    kinds = click.Choice(["register", "assets", "services", "zones"])
    zones_help = "; zones: where people live (with --population, --zone-name-prefix)"
    return _load_options(func, kinds, _KIND_HELP + zones_help)


@main.command()
@click.argument("files", nargs=-1, required=True)
@_validate_options
@click.option(
    "--population",
    "population_path",
    type=click.Path(exists=True, dir_okay=False),
    help="With --kind zones: population by zone code (e.g. ONS SAPE CSV).",
)
@click.option(
    "--zone-name-prefix", metavar="X", help="With --kind zones: keep zones whose name starts so."
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="With a scenario: override a setting, as estate run --set does.",
)
@click.option(
    "--rejected",
    "rejected_path",
    type=click.Path(dir_okay=False),
    default="rejected.csv",
    show_default=True,
    help="CSV of every rejected row with its reasons (written on every run).",
)
@click.option(
    "--set-aside",
    "set_aside_path",
    type=click.Path(dir_okay=False),
    default="set_aside.csv",
    show_default=True,
    help="CSV of every row set aside (blank, excluded, not a building) with its reason.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the account as JSON.")
@click.option("--quiet", is_flag=True, help="Print nothing; the exit code tells.")
def validate(
    files: tuple[str, ...],
    population_path: str | None,
    zone_name_prefix: str | None,
    sets: tuple[str, ...],
    rejected_path: str,
    set_aside_path: str,
    as_json: bool,
    quiet: bool,
    **opts: Any,
) -> None:
    """Check register FILES, or everything a scenario reads, and account for every row.

    FILES are CSV (UTF-8, UTF-16 or Windows-1252; comma, semicolon, tab or bar),
    XLSX/XLS/ODS, GeoPackage, GeoJSON, Shapefile, or PostGIS URLs
    (postgresql://user@host/db#table), read as --kind says (zones: the zones reader of
    estate run and estate access). Prints rows read, accepted, rejected and set aside
    per file and each error as file, row, column, value and message; rows read =
    accepted + rejected + set aside. Rows that are not buildings (blank rows, land,
    open space, car parks, street records, rows a mapping's exclude: names) are set
    aside with their reason: never an error. Sites of different agencies with the same
    UPRN or within --colocation-metres are reported as groups of co-located sites;
    agency names that may be one body are listed.

    A scenario (one SCENARIO.yaml, with --set as estate run takes it) is checked as
    estate run checks it, by the same code, up to the solver: its buildings, services
    and zones, how they fit together, points far from the road network or outside the
    zones, its access standards and policy. Exit code 0: every row accepted or set aside
    (a scenario: estate run would solve it); 1: some rejected (or a check fails); 2: a
    file could not be read or used, or the command was misused.
    """
    from estate.io import write_csv
    from estate.report import load_lines

    scenario = len(files) == 1 and files[0].lower().endswith((".yaml", ".yml"))
    zones = opts["kind"] == "zones"
    if sets and not scenario:
        raise click.UsageError("--set goes with a scenario file")
    if (population_path or zone_name_prefix) and not zones:
        raise click.UsageError("--population and --zone-name-prefix go with --kind zones")
    if scenario:
        given = _given_file_options(opts)
        if given:
            raise click.UsageError(
                f"{', '.join(given)}: a scenario names its own files, kinds and mapping"
            )
        _validate_scenario(files[0], sets, rejected_path, set_aside_path, as_json, quiet)
        return
    if zones:
        given = [g for g in _given_file_options(opts) if g != "--kind"]
        if given:
            raise click.UsageError(f"{', '.join(given)}: not for zones files")
        from geodata.zones import account_zone_files

        result = account_zone_files(files, population_path, zone_name_prefix)
    else:
        result = _load(files, opts)
    write_csv(rejected_path, result.rejected())
    write_csv(set_aside_path, result.set_aside())
    if as_json:
        doc = result.summary()
        doc["rejected_csv"] = rejected_path
        doc["set_aside_csv"] = set_aside_path
        click.echo(json.dumps(doc, indent=2, sort_keys=True, default=str))
    elif not quiet:
        for line in load_lines(result):
            click.echo(line)
        if any(f.rows_rejected for f in result.files):
            click.echo(f"rejected rows and reasons written to {rejected_path}")
    sys.exit(result.exit_code)


#: Options of the file form of validate that a scenario (or a zones file) sets itself.
_FILE_OPTS = {
    "kind",
    "mapping_paths",
    "agencies",
    "sheet",
    "encoding",
    "query",
    "agencies_path",
    "colocation_metres",
}


def _given_file_options(opts: dict[str, Any]) -> list[str]:
    """The register-file options given on the command line, as the user wrote them."""
    from click.core import ParameterSource

    context = click.get_current_context()
    flags = {p.name: p.opts[0] for p in context.command.params}
    return [
        flags[name]
        for name in opts
        if name in _FILE_OPTS and context.get_parameter_source(name) is ParameterSource.COMMANDLINE
    ]


@_handle_errors
def _validate_scenario(
    path: str,
    sets: tuple[str, ...],
    rejected_path: str,
    set_aside_path: str,
    as_json: bool,
    quiet: bool,
) -> None:
    from estate.io import write_csv
    from scenarios.preflight import preflight
    from scenarios.scenario import load_scenario

    loaded = load_scenario(path, _overrides(sets))
    console = Console(stderr=True, quiet=quiet or as_json)
    with console.status("Checking the scenario's inputs") as status:
        found = preflight(loaded, progress=lambda s: status.update(s[:1].upper() + s[1:]))
    write_csv(rejected_path, found.rejected())
    write_csv(set_aside_path, found.set_aside())
    if as_json:
        doc = found.summary()
        doc["rejected_csv"] = rejected_path
        doc["set_aside_csv"] = set_aside_path
        click.echo(json.dumps(doc, indent=2, sort_keys=True, default=str))
    elif not quiet:
        for line in found.lines():
            click.echo(line)
    sys.exit(found.exit_code)


@main.command()
@click.argument("file")
@click.option(
    "-o",
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    help="Mapping file to write [default: FILE's name + .mapping.yaml, here].",
)
@click.option("--kind", type=_KINDS, default=None, help="Table kind the mapping is for.")
@click.option("--sheet", help="Sheet or layer: name or number.")
@click.option("--encoding", help="Text encoding of a CSV file [default: detected].")
@click.option("--query", metavar="SQL", help="SQL query for a PostGIS source.")
@click.option("--force", is_flag=True, help="Overwrite an existing mapping file.")
@_QUIET
@_JSON
@_handle_errors
def mapping(
    file: str,
    out_path: str | None,
    kind: str | None,
    sheet: str | None,
    encoding: str | None,
    query: str | None,
    force: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Write a column-mapping skeleton for FILE with the guesses filled in.

    Lists every canonical column with the FILE column guessed for it (built-in
    synonyms and known formats), the header row found, and the columns left unmapped.
    Edit it, then pass it to `estate validate --mapping`.
    """
    from pathlib import Path

    from estate.io import write_text
    from estate.load import build_skeleton

    target = Path(out_path or f"{Path(file.split('#')[0]).stem}.mapping.yaml")
    if target.exists() and not force:
        raise click.UsageError(f"{target} exists; use --force to overwrite it")
    text = build_skeleton(file, kind=kind, sheet=sheet, encoding=encoding, query=query)  # type: ignore[arg-type]
    write_text(target, text)
    _print_files([target], quiet, as_json)


def _print_files(files: list[Any], quiet: bool, as_json: bool) -> None:
    """The files a command wrote: ``{"files": [...]}`` with --json, a line each without."""
    if as_json:
        click.echo(json.dumps({"files": [str(f) for f in files]}, indent=2))
    elif not quiet:
        for path in files:
            click.echo(f"wrote {path}")


@main.command()
@click.argument("files", nargs=-1, required=True)
@click.option(
    "-o",
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    required=True,
    help="Register to write: .gpkg (points, EPSG:27700) or .csv.",
)
@click.option(
    "--postcodes",
    multiple=True,
    type=click.Path(exists=True),
    help="Postcode lookup: OS Code-Point Open CSVs (or their folder) or an ONS Postcode "
    "Directory CSV. Repeatable.",
)
@click.option("--uprns", type=click.Path(exists=True, dir_okay=False), help="OS Open UPRN CSV.")
@click.option(
    "--online",
    is_flag=True,
    help="Look up addresses nothing else placed with Nominatim (OpenStreetMap), one a "
    "second, cached on disk.",
)
@click.option(
    "--user-agent",
    metavar="TEXT",
    default="public-estate-geocoder",
    show_default=True,
    help="Identifies you to the online geocoder (its usage policy asks for one).",
)
@_load_options
@click.option("--json", "as_json", is_flag=True, help="Print the account as JSON.")
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
def geocode(
    files: tuple[str, ...],
    out_path: str,
    postcodes: tuple[str, ...],
    uprns: str | None,
    online: bool,
    user_agent: str,
    as_json: bool,
    quiet: bool,
    **opts: Any,
) -> None:
    """Load register FILES, give every building a point, and write one register.

    Per row, the first that works: latitude/longitude, easting/northing, UPRN (with
    --uprns), postcode (with --postcodes), the address online (with --online). Each row
    records geocode_method; rows nothing places are listed and kept without a point;
    points outside Great Britain are flagged. Exit code 0: every row accepted and
    placed; 1: some rejected or unplaced; 2: unreadable file or misuse.
    """
    from estate.geocode import (
        PostcodeLookup,
        UprnLookup,
        nominatim,
        wanted_values,
        write_register,
    )
    from estate.geocode import (
        geocode as run_geocode,
    )
    from estate.report import geocode_lines, geocode_summary, load_lines

    console = Console(stderr=True, quiet=quiet or as_json)
    if opts["kind"] is None:  # placing sites needs no costs: read any register as sites
        opts["kind"] = "assets"
    result = _load(files, opts, require_points=False)
    if result.unreadable:
        for line in load_lines(result):
            click.echo(line, err=True)
        sys.exit(2)
    buildings = result.accepted
    if any(f.kind == "services" for f in result.files):
        raise click.UsageError("geocode takes buildings or assets, not services")
    try:
        with console.status("Reading lookups"):
            pc = (
                PostcodeLookup.from_files(postcodes, wanted_values(buildings, "postcode"))
                if postcodes
                else None
            )
            up = UprnLookup.from_file(uprns, wanted_values(buildings, "uprn")) if uprns else None
        coder = nominatim(user_agent) if online else None
        with console.status("Geocoding") as status:
            geo = run_geocode(
                buildings,
                pc,
                up,
                coder,
                progress=lambda done, total: status.update(f"Geocoding online {done}/{total}"),
            )
        write_register(geo.buildings, out_path)
    except EstateError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    if as_json:
        doc = {"load": result.summary(), "geocode": geocode_summary(geo), "out": out_path}
        click.echo(json.dumps(doc, indent=2, sort_keys=True, default=str))
    elif not quiet:
        for line in load_lines(result) + geocode_lines(geo):
            click.echo(line)
        click.echo(f"wrote {out_path}")
    rejected = any(f.rows_rejected for f in result.files)
    sys.exit(1 if rejected or len(geo.unmatched) else 0)


@main.command()
@click.argument("files", nargs=-1, required=True)
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Folder for buildings.csv, services.csv, set_aside.csv, rejected.csv, estimate.json.",
)
@click.option(
    "--mapping",
    "mapping_paths",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="YAML column mapping: once for all files, or once a file.",
)
@click.option(
    "--agency",
    "agencies",
    multiple=True,
    metavar="NAME",
    help='Agency of every row: once for all files, or once a file ("" = the file\'s own).',
)
@click.option(
    "--rates",
    "rates_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Unit rates (YAML, the layout of estate/data/unit_rates.yaml) overriding any "
    "built-in rate.",
)
@click.option(
    "--service-rules",
    "rules_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Services per building type (YAML, the layout of estate/data/services.yaml).",
)
@click.option(
    "--osm",
    "osm_path",
    type=click.Path(exists=True, dir_okay=False),
    help="OpenStreetMap file (.osm.pbf/.osm): floor areas from the building outline each "
    "site's point lies in, times its storeys.",
)
@click.option(
    "--postcodes",
    multiple=True,
    type=click.Path(exists=True),
    help="Postcode lookup (Code-Point Open CSVs or their folder, or ONSPD) to place rows "
    "that have only a postcode.",
)
@click.option("--uprns", type=click.Path(exists=True, dir_okay=False), help="OS Open UPRN CSV.")
@click.option(
    "--agencies",
    "agencies_path",
    type=click.Path(dir_okay=False),
    help="Agencies table (YAML: name, aliases, codes) laid over the built-in one.",
)
@click.option("--sheet", help="Sheet (workbooks) or layer: name or number.")
@click.option("--json", "as_json", is_flag=True, help="Print estimate.json as JSON.")
@click.option("--quiet", is_flag=True, help="Print nothing; the exit code tells.")
def estimate(
    files: tuple[str, ...],
    out_dir: str,
    mapping_paths: tuple[str, ...],
    agencies: tuple[str, ...],
    rates_path: str | None,
    rules_path: str | None,
    osm_path: str | None,
    postcodes: tuple[str, ...],
    uprns: str | None,
    agencies_path: str | None,
    sheet: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Turn site lists (FILES) into a register `estate run` can use, estimating what
    they do not say.

    Floor area from the file, else the OpenStreetMap outline times storeys (--osm), else
    the typical area of the building's type; running cost, backlog, capacity (desks),
    disposal value and cost from the file, else a unit rate per building type (every
    rate, its unit and basis in estimate.json; --rates overrides any); one set of
    services per occupied building by its type (--service-rules). Writes
    OUT/buildings.csv and OUT/services.csv (an `estimated` column names every estimated
    value of a row), OUT/set_aside.csv (rows that are not buildings or cannot be placed,
    with the reason), OUT/rejected.csv and OUT/estimate.json. Exit code 0: every row
    accepted or set aside; 1: some rejected; 2: a file unreadable or misuse.
    """
    from estate.agencies import Agencies
    from estate.estimate import estimate as run_estimate
    from estate.estimate import write_estimate
    from estate.mapping import load_mapping
    from estate.report import load_lines

    try:
        mappings = [load_mapping(p) for p in mapping_paths] or None
        table = Agencies.from_file(agencies_path) if agencies_path else None
        est = run_estimate(
            files,
            mapping=mappings,
            agency=[a or None for a in agencies] or None,
            rates=rates_path,
            rules=rules_path,
            osm=osm_path,
            postcodes=postcodes,
            uprns=uprns,
            agency_table=table,
            sheet=sheet,
        )
    except EstateError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    if est.load.unreadable:
        for line in load_lines(est.load):
            click.echo(line, err=True)
        sys.exit(2)
    written = write_estimate(est, out_dir)
    if as_json:
        click.echo(json.dumps(est.doc, indent=2, sort_keys=True, default=str))
    elif not quiet:
        for line in load_lines(est.load):
            click.echo(line)
        doc = est.doc
        click.echo(
            f"register: {doc['buildings']} buildings ({doc['buildings_with_estimates']} with "
            f"estimated figures), {doc['services']} services; {doc['set_aside']} rows set "
            f"aside ({doc['rows_not_placed']} could not be placed)"
        )
        click.echo(
            "floor area from: " + ", ".join(f"{k} {v}" for k, v in doc["floor_area_from"].items())
        )
        for path in written:
            click.echo(f"wrote {path}")
    sys.exit(est.exit_code)


def _thresholds(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise click.BadParameter(f"expected minutes separated by commas, got {text!r}") from None
    if not values or min(values) <= 0:
        raise click.BadParameter(f"expected positive minutes, got {text!r}")
    return values


@main.command()
@click.option(
    "--register",
    "register_path",
    required=True,
    type=click.Path(exists=True),
    help="Folder holding buildings.csv (and services.csv), or any buildings file estate "
    "validate reads, of any kind (a list of sites, what estate geocode writes).",
)
@click.option(
    "--services",
    "services_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Services CSV [default: services.csv beside the buildings; without one, services "
    "follow from each building's type].",
)
@click.option(
    "--zones",
    "zones_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Zones: canonical CSV, ONS LSOA centroids, or a point layer with a population.",
)
@click.option(
    "--population",
    "population_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Population by zone code (e.g. ONS SAPE CSV) when the zones file has none.",
)
@click.option(
    "--zone-name-prefix",
    metavar="X",
    help="Keep zones whose name starts with this (e.g. Rutland for its LSOAs).",
)
@click.option(
    "--synthetic-zones",
    type=click.IntRange(min=1),
    help="Instead of --zones: this many SYNTHETIC zones scattered over the network.",
)
@click.option("--seed", type=int, default=2026, show_default=True, help="Seed of synthetic zones.")
@click.option(
    "--network",
    "network_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Road network: .osm.pbf, .osm or .graphml.  Without it (or --place) times are "
    "straight-line ESTIMATES.",
)
@click.option(
    "--place",
    metavar="NAME",
    help="Download the network of this place with osmnx (online, cached).",
)
@click.option(
    "--mode",
    type=click.Choice(["drive", "walk"]),
    default="drive",
    show_default=True,
    help="By car (speed limits, one-way streets) or on foot (4.8 km/h).",
)
@click.option(
    "--cutoff",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help="Ignore journeys longer than this many minutes.",
)
@click.option(
    "--thresholds",
    default="10,15,20,30",
    metavar="M1,M2,...",
    show_default=True,
    help="Coverage thresholds in minutes, comma-separated.",
)
@click.option(
    "--allow-far-from-network",
    is_flag=True,
    help="Compute access even when a zone or building is more than 5 km from the road "
    "network (its minutes are then mostly a straight line off the map). Points more than "
    "1 km (drive) or 500 m (walk) away are listed either way.",
)
@click.option("--no-cache", is_flag=True, help="Parse the network and compute travel times afresh.")
@click.option(
    "--offline",
    is_flag=True,
    help="Map basemap from the network's own roads (no request at all); default: "
    "OpenStreetMap tiles, fetched by the browser when online.",
)
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Report folder to write.",
)
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--json", "as_json", is_flag=True, help="Print access.json to stdout.")
@_handle_errors
def access(
    register_path: str,
    services_path: str | None,
    zones_path: str | None,
    population_path: str | None,
    zone_name_prefix: str | None,
    synthetic_zones: int | None,
    seed: int,
    network_path: str | None,
    place: str | None,
    mode: str,
    cutoff: float,
    thresholds: str,
    allow_far_from_network: bool,
    no_cache: bool,
    offline: bool,
    out_dir: str,
    quiet: bool,
    as_json: bool,
) -> None:
    """Travel times from every zone to every building, and who can reach each service.

    Writes travel_times.parquet (zone_id, building_id, minutes within the cutoff),
    coverage.csv (per service type: share of the population within each threshold,
    population-weighted mean minutes to the nearest building), nearest.csv,
    access.json and map.html.  Travel times are cached: a second run with the same
    inputs reads them back.  Zones and buildings snapped more than 1 km (drive) or
    500 m (walk) from the road network, and buildings outside the zones' extent, are
    listed (terminal and access.json); beyond 5 km from the network it is an error
    unless --allow-far-from-network.
    """
    from geodata.access_report import AccessInputs, run_access
    from geodata.inputs import load_network, load_register, load_zones
    from scenarios.access_map import write_access_map

    if (zones_path is None) == (synthetic_zones is None):
        raise click.UsageError("give exactly one of --zones and --synthetic-zones")
    if network_path is not None and place is not None:
        raise click.UsageError("give at most one of --network and --place")
    levels = _thresholds(thresholds)
    console = Console(stderr=as_json, quiet=quiet)
    with console.status("Loading the register") as status:
        register = load_register(register_path, services_path)
        status.update("Loading the road network")
        network, network_source = load_network(network_path, place, use_cache=not no_cache)
        status.update("Loading the zones")
        zones = load_zones(
            zones_path, population_path, zone_name_prefix, synthetic_zones, seed, network, register
        )
        inputs = AccessInputs(
            register=register,
            zones=zones,
            network=network,
            mode=mode,  # type: ignore[arg-type]
            cutoff_minutes=cutoff,
            thresholds=levels,
            use_cache=not no_cache,
            network_source=network_source,
            allow_far_from_network=allow_far_from_network,
        )
        report = run_access(
            inputs, out_dir, progress=lambda s: status.update(s[:1].upper() + s[1:])
        )
        status.update("Drawing the map")
        report = write_access_map(report, inputs, out_dir, "roads" if offline else "tiles")
    if as_json:
        doc = {**report.summary, "cache_hit": report.cache_hit}
        click.echo(json.dumps(doc, indent=2, sort_keys=True))
    else:
        from geodata.access_display import print_access

        print_access(report, inputs, console, out_dir)


# --- scenarios: init, run, compare, sweep ----------------------------------------------


MAX_WORKERS = 1_024


def _cluster_options(what: str) -> Callable[[F], F]:
    """--scheduler, --workers and --serial: where the sweep engine solves ``what``."""

    def decorate(func: F) -> F:
        options = [
            click.option(
                "--scheduler",
                default=None,
                metavar="ADDRESS",
                help=f"Solve the {what} on this existing Dask scheduler (e.g. "
                "tcp://10.0.0.5:8786), leaving it as it is.",
            ),
            click.option(
                "--workers",
                type=click.IntRange(min=1, max=MAX_WORKERS),
                default=None,
                help="Worker processes of the local cluster [default: one a core].",
            ),
            click.option(
                "--serial", is_flag=True, help=f"No cluster: solve the {what} one by one here."
            ),
        ]
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def _check_cluster(scheduler: str | None, workers: int | None, serial: bool) -> None:
    if scheduler and (serial or workers):
        raise click.UsageError("--scheduler uses the cluster as it is: no --serial or --workers")


def _overrides(sets: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for text in sets:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{text!r}: expected KEY=VALUE", param_hint="--set")
        out[key.strip()] = value
    return out


def _default_out(scenario: str, prefix: str = "") -> str:
    """Where a scenario's outputs go by default: beside it (see scenarios.api)."""
    from scenarios.api import default_out

    return str(default_out(scenario, prefix))


@main.command()
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Overwrite files that are there already.")
@click.option(
    "--demo", is_flag=True, help="Write the synthetic demo place's scenario and inputs instead."
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="Seed of the demo place [default: 2026].",
)
@click.option(
    "--register",
    "register_dir",
    type=click.Path(exists=True, file_okay=False),
    help="A register folder (buildings.csv, services.csv: what `estate estimate` writes): "
    "write a scenario over it and real zones instead of a template.",
)
@click.option(
    "--zones",
    "zones_path",
    type=click.Path(exists=True, dir_okay=False),
    help="With --register: canonical zones CSV, ONS LSOA centroids or a point layer.",
)
@click.option(
    "--population",
    "population_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Population by zone code (e.g. ONS SAPE CSV) when the zones file has none.",
)
@click.option("--zone-name-prefix", metavar="X", help="Keep zones whose name starts with this.")
@click.option(
    "--network",
    "network_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Road network (.osm.pbf, .osm, .graphml) for the scenario.",
)
@click.option(
    "--name",
    "scenario_name",
    metavar="NAME",
    help="With --register: the scenario's name, shown on every output "
    "[default: the register folder's name].",
)
@_QUIET
@_JSON
@_handle_errors
def init(
    folder: str,
    force: bool,
    demo: bool,
    seed: int | None,
    register_dir: str | None,
    zones_path: str | None,
    population_path: str | None,
    zone_name_prefix: str | None,
    network_path: str | None,
    scenario_name: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Write a template scenario and empty register tables into FOLDER.

    FOLDER/scenario.yaml lists every setting with its default and meaning;
    FOLDER/inputs/ holds buildings.csv, services.csv and zones.csv with the canonical
    headers; FOLDER/scenario.schema.json lets an editor check the scenario as you type.
    With --demo, the scenario and inputs are those of the synthetic place of
    `estate demo`, ready for `estate run` and `estate sweep`. With --register REGDIR
    --zones Z, the scenario points at that register and those zones (read first, as
    `estate run` reads them) with a default access standard for every public-facing
    service type present, stated in the file as an assumption to review.
    """
    from scenarios.demo import DEFAULT_SEED
    from scenarios.template import init_folder, init_from_register

    if seed is not None and not demo:
        raise click.UsageError("--seed goes with --demo")
    real = (zones_path, population_path, zone_name_prefix, network_path, scenario_name)
    if register_dir is None and any(v is not None for v in real):
        raise click.UsageError(
            "--zones, --population, --zone-name-prefix, --network, --name go with --register"
        )
    if scenario_name is not None and not scenario_name.strip():
        raise click.UsageError("--name is blank")
    if register_dir is not None and (demo or zones_path is None):
        raise click.UsageError("--register needs --zones and does not go with --demo")
    demo_seed = (DEFAULT_SEED if seed is None else seed) if demo else None
    try:
        if register_dir is not None:
            assert zones_path is not None
            files = init_from_register(
                folder,
                register_dir,
                zones_path,
                population_path,
                zone_name_prefix,
                network_path,
                force=force,
                name=scenario_name,
            )
        else:
            files = init_folder(folder, force=force, demo_seed=demo_seed)
    except FileExistsError as exc:
        raise click.UsageError(f"{exc} exists already; use --force to overwrite") from exc
    _print_files(list(files), quiet, as_json)


_OUT_BESIDE = (
    "[default: runs/{prefix}<name> beside the scenario file; a run folder's own "
    "scenario.yaml: <run folder>-rerun]"
)


@main.command("run")
@click.argument("scenario", type=click.Path(dir_okay=False))
@_out("Run folder to write " + _OUT_BESIDE.format(prefix="") + ".")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a setting.")
@_solver_options()
@click.option(
    "--sharing-value/--no-sharing-value",
    default=True,
    show_default=True,
    help="Also solve under the other policy and report the value of sharing.",
)
@click.option(
    "--price-of-keeping/--no-price-of-keeping",
    default=None,
    help="For each building disposed of, re-solve with it kept: the NPV saving given up "
    "[default: on when the plan disposes of 50 buildings or fewer].",
)
@_cluster_options("price-of-keeping re-solves")
@_FORCE
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--json", "as_json", is_flag=True, help="Print summary.json to stdout.")
@_handle_errors
def run_command(
    scenario: str,
    out_dir: str | None,
    sets: tuple[str, ...],
    time_limit: float | None,
    gap: float | None,
    sharing_value: bool,
    price_of_keeping: bool | None,
    scheduler: str | None,
    workers: int | None,
    serial: bool,
    force: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Run the scenario in SCENARIO (a YAML file) and write its run folder.

    The folder holds summary.json, buildings.csv, moves.csv, agencies.csv,
    access.csv, cash_flows.csv, results.gpkg, map.html, inputs/ and scenario.yaml.
    By default the same scenario is also solved under the other policy (shared or
    siloed, into OUT/<policy>/) and the difference, the value of sharing, is reported;
    and for each building disposed of (up to 50), the scenario is solved again with it
    kept (OUT/price_of_keeping/), giving the price of keeping it in buildings.csv.
    The folder is written whole, replacing the previous run only when everything is
    written; another command writing OUT at the same time makes this one fail at once.
    An unusable scenario file exits with code 2 before anything is written.
    """
    from scenarios.api import run_scenario
    from scenarios.display import stage_progress
    from scenarios.scenario import load_scenario

    _check_cluster(scheduler, workers, serial)
    loaded = load_scenario(scenario, _overrides(_solver_sets(sets, time_limit, gap)))
    out = out_dir or _default_out(scenario)
    console = Console(stderr=as_json, quiet=quiet)
    with stage_progress(console, loaded.scenario.solver.time_limit_seconds) as progress:
        run = run_scenario(
            loaded,
            out=out,
            sharing_value=sharing_value,
            price_of_keeping=price_of_keeping,
            scheduler=scheduler,
            workers=workers,
            serial=serial,
            force=force,
            progress=progress,
        )
    _print_run(run.summary, console, out, as_json)
    if not run.ok:  # no decision, or the solver failed its check
        sys.exit(1)


@main.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False, exists=True))
@_out(
    "Folder for comparison.csv, decisions.csv and comparison.html [default: comparison/ "
    "beside the first RUN_DIR]."
)
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@_handle_errors
def compare(run_dirs: tuple[str, ...], out_dir: str | None, quiet: bool, as_json: bool) -> None:
    """Compare run folders side by side: savings, receipts, one-off costs, access,
    the settings that differ, and the buildings whose decision differs.

    Writes comparison.csv, decisions.csv and comparison.html into --out.
    """
    from pathlib import Path

    from scenarios.compare import compare_runs, write_comparison
    from scenarios.display import print_comparison

    comparison = compare_runs(run_dirs)
    out_dir = out_dir or str(Path(run_dirs[0]).parent / "comparison")
    files = write_comparison(comparison, out_dir)
    if as_json:
        doc = {
            "runs": dict(zip(comparison.runs, map(str, comparison.folders), strict=True)),
            "figures": comparison.figures.to_dict(orient="records"),
            "decisions": comparison.decisions.to_dict(orient="records"),
        }
        click.echo(json.dumps(doc, indent=2, default=str))
        return
    console = Console(quiet=quiet)
    print_comparison(comparison, console)
    console.print("Written: " + ", ".join(str(f) for f in files))


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option(
    "--set",
    "sets",
    multiple=True,
    required=True,
    metavar="KEY=V1,V2",
    help="A setting and the values to try; repeat for a grid of every combination.",
)
@_out("Sweep folder " + _OUT_BESIDE.format(prefix="sweep-") + ".")
@_solver_options("each point's solve")
@_cluster_options("points")
@_FORCE
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--json", "as_json", is_flag=True, help="Print the results table as JSON.")
@_handle_errors
def sweep(
    scenario: str,
    sets: tuple[str, ...],
    out_dir: str | None,
    time_limit: float | None,
    gap: float | None,
    scheduler: str | None,
    workers: int | None,
    serial: bool,
    force: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Solve SCENARIO for every combination of the --set values, in parallel on Dask.

    Writes results.csv (one row a point), pareto.svg and pareto.png (NPV saving
    against the population share with access) and each point's run folder under
    points/.  Finished points are never recomputed, so a sweep resumes where it
    stopped; a failing point is reported and the others go on (exit code 1).
    """
    from scenarios.display import print_sweep, sweep_progress
    from scenarios.scenario import load_scenario
    from scenarios.sweep import grid, parse_axis, run_sweep

    _check_cluster(scheduler, workers, serial)
    try:
        axes = [parse_axis(text) for text in sets]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--set") from exc
    base = load_scenario(scenario, _overrides(_solver_sets((), time_limit, gap)))
    points = grid(base, axes)  # an unknown key or an all-invalid grid stops here (exit 2)
    out = out_dir or _default_out(scenario, "sweep-")
    console = Console(stderr=as_json, quiet=quiet)
    with sweep_progress(console) as progress:
        result = run_sweep(
            base,
            axes,
            out,
            scheduler=scheduler,
            workers=workers,
            serial=serial,
            progress=progress,
            points=points,
            force=force,
        )
    if as_json:
        records = result.results.astype(object).where(result.results.notna(), None)
        click.echo(json.dumps(records.to_dict(orient="records"), indent=2, default=str))
    else:
        print_sweep(result, console)
    if not result.ok:
        sys.exit(1)


# --- who pays, who gains; the year-by-year plan (issue 9) ---------------------------------


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@_out("Folder to write " + _OUT_BESIDE.format(prefix="share-") + ".")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a setting.")
@click.option(
    "--time-limit",
    type=_time_limit_range(),
    default=None,
    metavar="S",
    help="Seconds each coalition's solve may take [default: the scenario's "
    "solver.time_limit_seconds].",
)
@click.option(
    "--gap",
    type=_Finite(0, 1),
    default=1e-6,
    show_default=True,
    metavar="G",
    help="Relative gap every coalition is solved to (the shares are differences of "
    "coalition values, so they need tighter solves than one run).",
)
@click.option(
    "--samples",
    type=click.IntRange(min=2, max=1_000_000),
    default=200,
    show_default=True,
    help="Random orders of the agencies when there are more than 10 (exact up to 10).",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the orders."
)
@_cluster_options("coalitions")
@_FORCE
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--json", "as_json", is_flag=True, help="Print sharing.json to stdout.")
@_handle_errors
def share(
    scenario: str,
    out_dir: str | None,
    sets: tuple[str, ...],
    time_limit: float | None,
    gap: float,
    samples: int,
    seed: int,
    scheduler: str | None,
    workers: int | None,
    serial: bool,
    force: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Share the saving fairly: each agency's Shapley value and the transfers to it.

    Solves SCENARIO for every coalition of agencies (only they pool their estates; the
    others stay as they are) in parallel on Dask, resumably (OUT/coalitions/); exact
    Shapley values up to 10 agencies, sampled beyond (with standard errors); checks
    whether any coalition would do better alone (the core); and sets each fair share
    beside where the money lands in the grand coalition's plan, with the transfer
    between them (shapley = lands + transfer; transfers add up to zero). OUT is the
    grand coalition's run folder, with sharing.json, sharing.csv, coalitions.csv and
    a "Who pays, who gains" section in report.html and report.xlsx.
    """
    from scenarios.display import print_share, sweep_progress
    from scenarios.scenario import load_scenario
    from scenarios.share import ShareOptions, share_scenario

    _check_cluster(scheduler, workers, serial)
    loaded = load_scenario(scenario, _overrides(_solver_sets(sets, time_limit, None)))
    out = out_dir or _default_out(scenario, "share-")
    console = Console(stderr=as_json, quiet=quiet)
    with sweep_progress(console) as progress:
        result = share_scenario(
            loaded,
            out,
            ShareOptions(gap=gap, samples=samples, seed=seed),
            scheduler=scheduler,
            workers=workers,
            serial=serial,
            progress=progress,
            force=force,
        )
    if as_json:
        click.echo(json.dumps(result.doc, indent=2, sort_keys=True))
    else:
        print_share(result.doc, console, out)


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@_out("Run folder to write " + _OUT_BESIDE.format(prefix="plan-") + ".")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a setting.")
@_solver_options()
@_FORCE
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--json", "as_json", is_flag=True, help="Print plan.json to stdout.")
@_handle_errors
def plan(
    scenario: str,
    out_dir: str | None,
    sets: tuple[str, ...],
    time_limit: float | None,
    gap: float | None,
    force: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Plan the change year by year: when each building goes and each service moves.

    Solves SCENARIO's model with a year for every disposal: leases are exited only at a
    break or their end, and one-off costs are paid from the Total Capital pot's annual
    budget (the scenario's phasing section: years, annual_budget, carry_forward,
    recycle_receipts). Writes a run folder priced with the plan's years, plus plan.csv
    (every action with its year), plan.json (the pot by year) and charts/ (cash flow
    per agency); report.html and report.xlsx gain a "Year-by-year plan" section.
    """
    from scenarios.display import print_plan, stage_progress
    from scenarios.plan import plan_scenario
    from scenarios.scenario import load_scenario

    loaded = load_scenario(scenario, _overrides(_solver_sets(sets, time_limit, gap)))
    out = out_dir or _default_out(scenario, "plan-")
    console = Console(stderr=as_json, quiet=quiet)
    with stage_progress(console, loaded.scenario.solver.time_limit_seconds) as progress:
        outcome = plan_scenario(loaded, out, progress, force=force)
    if as_json:
        click.echo(json.dumps(outcome.doc, indent=2, sort_keys=True))
    else:
        print_plan(outcome.doc, console, out)
    if not outcome.phased.result.ok:  # no plan, or the solver failed its check
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()


# --- the README's commands table, generated from the commands themselves -------------------

README_START = (
    "<!-- commands: generated from cli.py by `python -c 'import cli; cli.write_readme()'` -->"
)
README_END = "<!-- end of commands -->"


def _metavar(param: click.Parameter) -> str:
    if param.metavar:
        return param.metavar
    kind = param.type
    if isinstance(kind, click.Choice):
        return "|".join(str(c) for c in kind.choices)
    if isinstance(kind, click.Path):
        return "FILE" if not kind.dir_okay else "DIR" if not kind.file_okay else "PATH"
    if isinstance(kind, click.types.IntParamType):
        return "N"
    if isinstance(kind, click.types.FloatParamType):
        return "X"
    return (param.name or "value").upper()


def _usage(param: click.Parameter) -> str:
    """One parameter as the table shows it: ``FILE...``, ``[-o/--out DIR]``, ``[--quiet]``."""
    if isinstance(param, click.Argument):
        text = (param.name or "").upper() + ("..." if param.nargs == -1 else "")
        return text if param.required else f"[{text}]"
    assert isinstance(param, click.Option)
    short = [o for o in param.opts if not o.startswith("--")]
    long = [o for o in param.opts if o.startswith("--")]
    flag = "/".join(short + long[:1])
    if param.secondary_opts:
        flag += "/" + "/".join(param.secondary_opts)
    text = flag if param.is_flag else f"{flag} {_metavar(param)}"
    text = text if param.required else f"[{text}]"
    return text + ("..." if param.multiple else "")


def _help_text(text: str) -> str:
    """A command's help as one line (every paragraph)."""
    return " ".join(text.split())


def commands_table() -> str:
    """The README's table of commands: each command's parameters and its help, in the
    order the commands are defined."""
    rows = ["| command | what it does |", "|---|---|"]
    for name, command in main.commands.items():
        params: list[click.Parameter] = [p for p in command.params if isinstance(p, click.Argument)]
        params += [p for p in command.params if not isinstance(p, click.Argument)]
        synopsis = " ".join(["estate", name, *(_usage(p) for p in params)])
        what = _help_text(command.help or "")
        rows.append(f"| `{synopsis.replace('|', chr(92) + '|')}` | {what.replace('|', '&#124;')} |")
    return "\n".join(rows) + "\n"


def write_readme(path: str = "README.md") -> None:
    """Replace the commands table of the README with :func:`commands_table`."""
    from pathlib import Path

    text = Path(path).read_text(encoding="utf-8")
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    Path(path).write_text(
        f"{head}{README_START}\n{commands_table()}{README_END}{tail}", encoding="utf-8"
    )
