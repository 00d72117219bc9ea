"""The ``estate`` command line: a thin layer over the library.

Library errors (:class:`estate.errors.EstateError`) become a one-line message and
exit code 1; usage errors exit 2 (click's convention).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click
from rich.console import Console

from estate.errors import EstateError

F = TypeVar("F", bound=Callable[..., Any])


def _handle_errors(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EstateError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group()
@click.version_option(package_name="public-estate")
def main() -> None:
    """Shared public-estate and Total Capital optimiser.

    Load every public body's buildings into one estate, compute travel times on the
    road network, and choose which buildings to keep, share and dispose of.
    """


@main.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default="runs/demo",
    show_default=True,
    help="Run folder to write.",
)
@click.option("--seed", type=int, default=None, help="Seed of the generated place [default: 2026].")
@click.option("--time-limit", type=float, default=60.0, show_default=True, help="Solver seconds.")
@click.option(
    "--gap",
    type=click.FloatRange(0, 1),
    default=0.005,
    show_default=True,
    help="Relative optimality gap at which the solver may stop.",
)
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--json", "as_json", is_flag=True, help="Print summary.json to stdout.")
@_handle_errors
def demo(
    out_dir: str, seed: int | None, time_limit: float, gap: float, quiet: bool, as_json: bool
) -> None:
    """Run the whole pipeline on the embedded synthetic place "Demo Vale".

    Generates the place from SEED (no data files), computes travel times on its road
    network, solves the estate model and writes the run folder: summary.json,
    buildings.csv, moves.csv, agencies.csv, access.csv, cash_flows.csv,
    results.gpkg, map.html (offline basemap: the place is invented), report.html
    and report.xlsx.
    """
    from scenarios.demo import DEFAULT_SEED
    from scenarios.display import print_summary
    from scenarios.run import run_demo

    console = Console(stderr=as_json, quiet=quiet)
    with console.status("Generating Demo Vale") as status:
        outcome, doc = run_demo(
            out_dir,
            DEFAULT_SEED if seed is None else seed,
            time_limit,
            gap,
            progress=lambda stage: status.update(stage.capitalize()),
        )
    if as_json:
        click.echo(json.dumps(doc, indent=2, sort_keys=True))
    else:
        print_summary(doc, console, out_dir)
    if not outcome.result.has_solution:
        sys.exit(1)


def _print_written(written: Any, console: Console, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(written.as_dict(), indent=2, sort_keys=True))
        return
    if written.withheld_sites is not None:
        console.print(
            f"[bold red]Published copy: {written.withheld_sites} sensitive site(s) withheld[/] "
            "(names and locations removed; see REDACTION.txt)"
        )
    for path in written.files:
        console.print(f"wrote {path}")


_RUN_DIR = click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
_PUBLISH = click.option(
    "--publish",
    is_flag=True,
    help="Withhold sensitive sites (name and location; a count per zone instead) and "
    "write to RUN_DIR/published/ instead of RUN_DIR.",
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
    help="Access layer shown first (minutes to the nearest service of this type, before "
    "vs after) [default: the type whose access changes most].",
)
_QUIET = click.option("--quiet", is_flag=True, help="Print nothing but errors.")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")


@main.command(name="map")
@_RUN_DIR
@_PUBLISH
@_OFFLINE
@_SERVICE_TYPE
@_QUIET
@_JSON
@_handle_errors
def map_command(
    run_dir: str,
    publish: bool,
    offline: bool,
    service_type: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Draw RUN_DIR/map.html from a run folder alone.

    Buildings styled by decision and coloured by agency, service moves as arrows, zones
    shaded by the change in minutes to the nearest service, catchments, a layer control,
    a legend and the key figures.  Leaflet is inlined, so the page opens without internet
    access; with --offline it makes no network request at all.
    """
    from scenarios.presentation import write_map_files

    console = Console(quiet=quiet or as_json)
    written = write_map_files(run_dir, publish, "roads" if offline else "tiles", service_type)
    _print_written(written, console, as_json)


@main.command()
@_RUN_DIR
@_PUBLISH
@_QUIET
@_JSON
@_handle_errors
def report(run_dir: str, publish: bool, quiet: bool, as_json: bool) -> None:
    """Write RUN_DIR/report.html and RUN_DIR/report.xlsx from a run folder alone.

    The finance report: NPV saving, annual revenue saving, capital receipts, one-off
    costs and payback, in total and per agency; the cash flow over the horizon; every
    building and move; every assumption.  report.xlsx has the sheets summary, agencies,
    buildings, moves, cash flow by year, access and assumptions.
    """
    from scenarios.presentation import write_report_files

    console = Console(quiet=quiet or as_json)
    _print_written(write_report_files(run_dir, publish), console, as_json)


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
    report.html, report.xlsx) with each sensitive site's name and exact location
    withheld and shown only as a count per zone, plus REDACTION.txt saying what was
    withheld.  The files are scanned for the withheld names, ids and coordinates before
    the command succeeds.  The private originals in RUN_DIR are left as they are.
    """
    from scenarios.presentation import write_published

    console = Console(quiet=quiet or as_json)
    written = write_published(run_dir, "roads" if offline else "tiles", service_type)
    _print_written(written, console, as_json)


if __name__ == "__main__":  # pragma: no cover
    main()
