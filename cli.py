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
    results.gpkg and map.html.
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


if __name__ == "__main__":  # pragma: no cover
    main()
