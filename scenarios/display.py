"""Terminal presentation of a run: the summary a Board reads first."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from estate.money import gbp

if TYPE_CHECKING:
    from scenarios.compare import Comparison
    from scenarios.sweep import SweepResult


_gbp = gbp  # one money format everywhere: -£43,478 (estate.money)


def _m(value: Any) -> str:
    """Text from the data, with rich's markup escaped: ``[/]`` in a name is text."""
    return escape(str(value))


def short_standard(row: dict[str, Any]) -> str:
    """A standard in a few words for the terminal: ``15 drive/20 walk, +10 max``.

    ``standard`` in summary.json says it in full ("within 15 min drive or 20 min walk:
    nobody loses it; no zone more than 10 min further (drive/walk)").
    """
    text = str(row.get("standard") or "")
    if row.get("source") == "none" or text.startswith("none"):
        return "none"
    within = text.split(":", 1)[0].removeprefix("within ").replace(" min ", " ")
    within = within.replace(" or ", "/")
    rise = row.get("max_increase_minutes")
    return within + ("" if rise is None else f", +{float(rise):g} max")


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def print_place_checks(doc: dict[str, Any], console: Console) -> None:
    """Points far from the road network, buildings outside the zones, empty zones."""
    from geodata.placecheck import check_lines

    checks = doc.get("place_checks")
    for line in check_lines(checks) if checks else []:
        console.print(f"[yellow]{_m(line)}[/]")


def print_summary(doc: dict[str, Any], console: Console, out_dir: str | None = None) -> None:
    """Headline figures, per-agency money and access before/after."""
    if doc.get("notice"):
        console.print(f"[bold red]{_m(doc['notice'])}[/]")
    status = doc["status"]
    gap = doc.get("gap")
    tolerance = doc["settings"]["solver"]["mip_rel_gap"]
    gap_text = (
        f" (within {gap:.3%} of the proven bound; tolerance {tolerance:.2%})"
        if gap is not None
        else ""
    )
    console.print(
        f"[bold]{_m(doc['scenario'])}[/]: status [bold]{status}[/]{gap_text}, "
        f"solved in {doc['solve_seconds']:.2f} s (model built in {doc['build_seconds']:.2f} s)"
    )
    print_solver_check(doc, console)
    print_place_checks(doc, console)
    if "npv_saving" not in doc:
        console.print("[red]No decision was found.[/]")
        for finding in doc.get("diagnosis", {}).get("findings", []):
            console.print(f"[red]- {_m(finding['message'])}[/]")
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
        (
            "Optimism bias on that backlog (in the NPV)",
            _gbp(doc.get("backlog_optimism_bias")),
        ),
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
            _m(a["agency"]),
            _gbp(a["npv_saving"]),
            _gbp(a["annual_revenue_saving"]),
            _gbp(a["capital_receipts"]),
            _gbp(a["one_off_costs"]),
            f"{a['buildings_disposed']}/{a['buildings_before']}",
            "—" if a["payback_year"] is None else str(a["payback_year"]),
        )
    console.print(agencies)

    access = Table(
        title="Access: share of population within the standard (weighted)",
        caption="Worst rise: most minutes any zone's nearest moves further; "
        "mean: minutes to the nearest by car, before → after",
    )
    columns = ("Service", "Standard", "Before", "After", "Required", "Worst rise", "Mean")
    for col in columns:
        access.add_column(
            col, justify="left" if col in ("Service", "Standard") else "right", overflow="fold"
        )
    for a in doc["access"]:
        access.add_row(
            _m(a["service_type"].replace("_", " ")),
            _m(short_standard(a)),
            _share(a["share_before"]),
            _share(a["share_after"]),
            _share(a["target_share"]),
            "—"
            if a.get("largest_increase_minutes") is None
            else f"{a['largest_increase_minutes']:+.1f}",
            f"{_minutes(a['mean_minutes_before'])}→{_minutes(a['mean_minutes_after'])}",
        )
    console.print(access)
    for note in doc.get("notes", []):
        console.print(f"[yellow]Note: {_m(note)}[/]")
    for mode, info in doc.get("travel_times", {}).items():
        if info["method"] == "estimate":
            console.print(f"[yellow]{_m(mode)}: {_m(info['note'])}[/]")
    if out_dir:
        console.print(f"Outputs written to [bold]{_m(out_dir)}[/] (map: {_m(out_dir)}/map.html)")


# --- progress ----------------------------------------------------------------------------


class _SolveBar(ProgressColumn):
    """A bar that fills with elapsed time against the solver's time limit."""

    def render(self, task: Task) -> RenderableType:
        if task.total is None:
            return Text("")
        elapsed = task.elapsed or 0.0
        return ProgressBar(total=task.total, completed=min(elapsed, task.total), width=30)


@contextmanager
def stage_progress(
    console: Console, time_limit_seconds: float | None = None
) -> Iterator[Callable[[str], None]]:
    """A spinner that shows each stage of a run; while solving, a bar of elapsed time
    against the time limit (the solver stops at the limit with its best decision)."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        _SolveBar(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    with progress:
        task = progress.add_task("Starting", total=None)

        def update(stage: str) -> None:
            text = stage[:1].upper() + stage[1:]
            if stage.startswith("solving") and time_limit_seconds:
                text += f" (time limit {time_limit_seconds:g} s)"
                progress.reset(task, total=time_limit_seconds, description=text)
            else:
                progress.reset(task, total=None, description=text)

        yield update


@contextmanager
def sweep_progress(console: Console) -> Iterator[Callable[[int, int, str], None]]:
    """A bar of finished points out of all points, with the latest point's status."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    with progress:
        task = progress.add_task("Sweep", total=None)

        def update(done: int, total: int, message: str) -> None:
            progress.update(task, completed=done, total=total, description=f"Sweep: {message}")

        yield update


# --- value of sharing, comparisons, sweeps -------------------------------------------------


def print_sharing_value(value: dict[str, Any], console: Console) -> None:
    """The shared result against the siloed one: the value of treating it as one estate."""
    table = Table(title="Value of sharing: one shared estate against each agency alone")
    for col in ("Figure", "Shared", "Siloed", "Difference"):
        table.add_column(col, justify="left" if col == "Figure" else "right")
    shared, siloed, diff = value["shared"], value["siloed"], value["difference"]
    table.add_row("Status", shared["status"], siloed["status"], "")
    labels = {
        "npv_saving": "NPV saving",
        "annual_revenue_saving": "Annual revenue saving",
        "capital_receipts": "Capital receipts",
        "one_off_costs": "One-off costs",
    }
    for key, label in labels.items():
        table.add_row(label, _gbp(shared.get(key)), _gbp(siloed.get(key)), _gbp(diff.get(key)))
    table.add_row(
        "Buildings disposed",
        str(shared.get("buildings_disposed", "—")),
        str(siloed.get("buildings_disposed", "—")),
        "",
    )
    console.print(table)


def print_comparison(comparison: Comparison, console: Console) -> None:
    """The figures side by side, then the buildings whose decision differs."""
    from scenarios.compare import formatted

    labels = list(comparison.runs)
    for notice in comparison.notices:
        console.print(f"[bold red]{_m(notice)}[/]")
    figures = Table(title=f"Comparison of {len(labels)} runs")
    figures.add_column("Figure")
    for label in labels:
        figures.add_column(_m(label), justify="right", overflow="fold")
    for row in formatted(comparison.figures, labels):
        figures.add_row(*(_m(cell) for cell in row))
    console.print(figures)
    d = comparison.decisions
    if d.empty:
        console.print("Every building has the same decision in every run.")
        return
    decisions = Table(title=f"Buildings whose decision differs ({len(d)})")
    for col in d.columns:
        decisions.add_column(_m(col))
    for row in d.itertuples(index=False):
        decisions.add_row(*(_m(v) for v in row))
    console.print(decisions)


def print_sweep(result: SweepResult, console: Console) -> None:
    """One row a point: its settings, status, money, access, and the frontier."""
    frame = result.results
    axes = [c for c in frame.columns if "." in c]
    table = Table(title=f"Sweep: {len(frame)} points (* on the Pareto frontier)")
    for col in (*axes, "Status", "NPV saving", "Access share", "Disposed", ""):
        table.add_column(_m(col), justify="left" if col in axes or col == "Status" else "right")
    for _, row in frame.iterrows():
        disposed = _num(row.get("buildings_disposed"))
        table.add_row(
            *(_m(row[a]) for a in axes),
            _m(row["status"]),
            _gbp(_num(row.get("npv_saving"))),
            _share(_num(row.get("access_share"))),
            "—" if disposed is None else f"{disposed:g}",
            "*" if bool(row["pareto"]) else "",
        )
    console.print(table)
    for _, row in frame.loc[frame["error"].fillna("") != ""].iterrows():
        console.print(
            f"[red]{_m(row['status'])}[/] {_m(row['point'] or '(invalid)')}: {_m(row['error'])}"
        )
    errors = f"{result.solver_errors} solver error(s), " if result.solver_errors else ""
    console.print(
        f"{len(result.computed)} computed, {len(result.cached)} reused, "
        f"{len(result.failed)} failed, {errors}in {result.seconds:.1f} s. "
        f"Results in [bold]{_m(result.out_dir)}[/] (results.csv, pareto.svg, points/)"
    )
    if result.recomputed:
        now = result.versions
        before = sorted(
            {
                ", ".join(f"{k} {v}" for k, v in e.versions.items())
                for e in result.recomputed.values()
            }
        )
        console.print(
            f"[yellow]{len(result.recomputed)} point(s) solved before by another version "
            f"({_m('; '.join(before))}) were computed again with "
            f"{_m(', '.join(f'{k} {v}' for k, v in now.items()))}; the earlier folders are "
            "kept in points/ (see sweep.json).[/]"
        )


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number


# --- who pays, who gains; the year-by-year plan ----------------------------------------------


def print_share(doc: dict[str, Any], console: Console, out_dir: str | None = None) -> None:
    """Each agency: where the money lands, its fair share and the transfer between."""
    sampled = doc["method"] == "sampled"
    how = (
        f"sampled from {doc['samples']} orders (seed {doc['seed']})"
        if sampled
        else f"exact over {len(doc['coalitions'])} coalitions"
    )
    table = Table(
        title=f"Who pays, who gains: {_gbp(doc['grand_coalition_saving'])} shared ({how})"
    )
    columns = ["Agency", "Money lands", "Fair share (Shapley)", "Transfer", "± solver gaps"]
    if sampled:
        columns.append("± standard error")
    for col in columns:
        table.add_column(col, justify="left" if col == "Agency" else "right")
    for row in doc["agencies"]:
        cells = [
            _m(row["agency"]),
            _gbp(row["lands"]),
            _gbp(row["shapley"]),
            _gbp(row["transfer"]),
            _gbp(row["uncertainty"]),
        ]
        if sampled:
            cells.append(_gbp(row["standard_error"]))
        table.add_row(*cells)
    console.print(table)
    core = doc["core"]
    if doc["in_core"]:
        console.print(
            f"In the core: no coalition would do better alone than its members' fair shares "
            f"({core['coalitions_checked']} coalitions checked)."
        )
    else:
        worst = core["worst"]
        noise = sum(
            row["uncertainty"] or 0.0
            for row in doc["agencies"]
            if row["agency"] in worst["coalition"]
        )
        hint = (
            f" That is within the {_gbp(noise)} the solver gaps could move its members' "
            "shares: re-run with a tighter --gap to be sure."
            if worst["excess"] <= noise
            else ""
        )
        console.print(
            f"[bold red]Not in the core:[/] {_m(' + '.join(worst['coalition']))} would do "
            f"{_gbp(worst['excess'])} better alone (least-core epsilon "
            f"{_gbp(core['least_core_epsilon'])}; the core is "
            f"{'empty' if (core['least_core_epsilon'] or 0) > 1 else 'not empty'}).{hint}"
        )
    if out_dir:
        console.print(
            f"Written to [bold]{_m(out_dir)}[/]: report.html (Who pays, who gains), sharing.csv, "
            "coalitions.csv, and the grand coalition's run folder"
        )


def print_solver_check(doc: dict[str, Any], console: Console) -> None:
    """Say so, in red, when the solver's claim failed the check against a plan known to
    be feasible; and when the plan shown is not the solver's."""
    check = doc.get("solver_check") or {}
    if not check.get("passed", True):
        console.print(f"[bold red]{_m(check.get('message', 'The solver failed its check.'))}[/]")
    elif check.get("plan") not in (None, "solver"):
        console.print(f"[yellow]{_m(check.get('message', ''))}[/]")


def print_plan(doc: dict[str, Any], console: Console, out_dir: str | None = None) -> None:
    """The pot year by year, and what happens each year."""
    gap = doc.get("gap")
    console.print(
        f"[bold]{_m(doc['scenario'])}[/]: year-by-year plan, status [bold]{doc['status']}[/]"
        + (f" (within {gap:.3%} of the proven bound)" if gap is not None else "")
    )
    print_solver_check(doc, console)
    if "years" not in doc:
        console.print("[red]No plan was found.[/]")
        return
    console.print(
        f"NPV saving {_gbp(doc['npv_saving'])}; one-off costs {_gbp(doc['one_off_costs'])}; "
        f"capital receipts {_gbp(doc['capital_receipts'])}."
    )
    table = Table(title="The Total Capital pot by year")
    for col in ("Year", "Spent", "Pot could pay", "Receipts", "Sold", "Leases", "Moves"):
        table.add_column(col, justify="right")
    idle = 0
    for row in doc["years"]:
        if not (row["spent"] or row["receipts"] or row["buildings_sold"] or row["leases_exited"]):
            idle += 1  # nothing paid, sold or exited: left out here, listed in plan.json
            continue
        table.add_row(
            str(row["year"]),
            _gbp(row["spent"]),
            _gbp(row["available"]),
            _gbp(row["receipts"]),
            str(row["buildings_sold"]),
            str(row["leases_exited"]),
            str(row["services_moved"]),
        )
    console.print(table)
    if idle:
        console.print(f"{idle} year(s) with nothing paid, sold or exited are not shown.")
    if out_dir:
        console.print(
            f"Written to [bold]{_m(out_dir)}[/]: plan.csv (every action with its year), "
            "plan.json, charts/ (cash flow per agency), report.html (Year-by-year plan)"
        )
