"""Terminal presentation of a run: the summary a Board reads first."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def _gbp(value: float | None) -> str:
    return "—" if value is None else f"£{value:,.0f}"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def print_summary(doc: dict[str, Any], console: Console, out_dir: str | None = None) -> None:
    """Headline figures, per-agency money and access before/after."""
    if doc.get("notice"):
        console.print(f"[bold red]{doc['notice']}[/]")
    status = doc["status"]
    gap = doc.get("gap")
    tolerance = doc["settings"]["solver"]["mip_rel_gap"]
    gap_text = (
        f" (within {gap:.3%} of the proven bound; tolerance {tolerance:.2%})"
        if gap is not None
        else ""
    )
    console.print(
        f"[bold]{doc['scenario']}[/]: status [bold]{status}[/]{gap_text}, "
        f"solved in {doc['solve_seconds']:.2f} s (model built in {doc['build_seconds']:.2f} s)"
    )
    if "npv_saving" not in doc:
        console.print("[red]No decision was found.[/]")
        for finding in doc.get("diagnosis", {}).get("findings", []):
            console.print(f"[red]- {finding['message']}[/]")
        return
    headline = Table(title="Headline (present values at the Green Book rate, real terms)")
    headline.add_column("Figure")
    headline.add_column("Value", justify="right")
    buildings = doc["buildings"]
    rows = [
        ("NPV saving over the horizon", _gbp(doc["npv_saving"])),
        ("Annual revenue saving (once exits complete)", _gbp(doc["annual_revenue_saving"])),
        ("Capital receipts (net of disposal costs)", _gbp(doc["capital_receipts"])),
        ("One-off costs (moves, fit-out, dilapidations)", _gbp(doc["one_off_costs"])),
        ("Backlog maintenance avoided", _gbp(doc["backlog_avoided"])),
        ("Payback year", "—" if doc["payback_year"] is None else str(doc["payback_year"])),
        (
            "Buildings kept / hosting / disposed",
            f"{buildings['kept']} / {buildings['hosting']} / {buildings['disposed']}"
            f" of {buildings['total']}",
        ),
        ("Services moved (desks)", f"{doc['services_moved']} ({doc['desks_moved']:g})"),
    ]
    for name, value in rows:
        headline.add_row(name, value)
    console.print(headline)

    agencies = Table(title="By agency")
    for col in ("Agency", "NPV saving", "Revenue/yr", "Receipts", "One-off", "Disposed", "Payback"):
        agencies.add_column(col, justify="left" if col == "Agency" else "right")
    for a in doc["agencies"]:
        agencies.add_row(
            a["agency"],
            _gbp(a["npv_saving"]),
            _gbp(a["annual_revenue_saving"]),
            _gbp(a["capital_receipts"]),
            _gbp(a["one_off_costs"]),
            f"{a['buildings_disposed']}/{a['buildings_before']}",
            "—" if a["payback_year"] is None else str(a["payback_year"]),
        )
    console.print(agencies)

    access = Table(title="Access: share of population within the standard (weighted)")
    for col in ("Service", "Standard", "Before", "After", "Required", "Mean min before", "after"):
        access.add_column(col, justify="left" if col == "Service" else "right")
    for a in doc["access"]:
        access.add_row(
            a["service_type"],
            f"{a['max_minutes']:g} min {a['mode']}",
            _share(a["share_before"]),
            _share(a["share_after"]),
            _share(a["target_share"]),
            _minutes(a["mean_minutes_before"]),
            _minutes(a["mean_minutes_after"]),
        )
    console.print(access)
    for mode, info in doc.get("travel_times", {}).items():
        if info["method"] == "estimate":
            console.print(f"[yellow]{mode}: {info['note']}[/]")
    if out_dir:
        console.print(f"Outputs written to [bold]{out_dir}[/] (map: {out_dir}/map.html)")
