"""The terminal summary of an access report (rich)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from geodata.access import share_column
from geodata.access_report import AccessInputs, AccessReport
from geodata.placecheck import check_lines


def print_access(
    report: AccessReport, inputs: AccessInputs, console: Console, out_dir: str | Path
) -> None:
    """Coverage per service type, where the times came from, and where the files are."""
    summary = report.summary
    if report.is_estimate:
        console.print(
            "[bold red]ESTIMATE[/]: no road network given; times are straight-line "
            "distance x circuity / speed, not road travel times."
        )
    console.print(escape(str(report.table.note)))
    zones = summary["zones"]
    console.print(
        f"{zones['count']:,} zones ({zones['population']:,.0f} people) x "
        f"{summary['buildings']['count']:,} buildings; "
        f"{summary['pairs_within_cutoff']:,} pairs within {inputs.cutoff_minutes:g} min"
    )
    if report.cache_hit:
        console.print("Travel times from the cache (same inputs as an earlier run).")
    for note in zones["notes"]:
        console.print(f"  {escape(str(note))}")
    for line in check_lines(summary["place_checks"]):
        console.print(f"[yellow]{escape(line)}[/]")
    title = f"Share of the population within N minutes by {inputs.mode}" + (
        " (ESTIMATE)" if report.is_estimate else ""
    )
    table = Table(
        title=title,
        caption="mean: population-weighted minutes to the nearest; none: no site in the cutoff",
    )
    table.add_column("service type", no_wrap=True)
    table.add_column("sites", justify="right")
    for t in inputs.thresholds:
        table.add_column(f"≤{t:g}", justify="right")
    table.add_column("mean", justify="right")
    table.add_column("none", justify="right")
    for row in report.coverage.to_dict(orient="records"):
        table.add_row(
            escape(str(row["service_type"])),
            str(row["buildings"]),
            *(f"{row[share_column(t)]:.0%}" for t in inputs.thresholds),
            f"{row['mean_minutes_to_nearest']:.1f}",
            f"{row['share_beyond_cutoff']:.0%}",
        )
    console.print(table)
    console.print(
        f"Report written to {escape(str(out_dir))}/ (coverage.csv, travel_times.parquet, map.html)"
    )
