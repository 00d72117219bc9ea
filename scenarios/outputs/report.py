"""The finance report of a run: ``report.html`` and ``report.xlsx`` from the run folder.

Both are built from one set of tables (:func:`report_tables`), so the page a Board reads
and the workbook a finance lead pastes into a business case hold the same numbers, and
those numbers are the run's own: headline totals from ``summary.json``, per-agency rows
from ``agencies.csv`` (they sum to the totals), years from ``cash_flows.csv`` (their
discounted sum is the NPV saving).  Every assumption behind them is stated.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from estate.errors import CellIssue, InputDataError
from estate.estimate import ESTIMATED_LABELS, describe_estimated, estimated_columns
from estate.io import write_text
from estate.money import gbp
from optimise.finance import CATEGORIES, discount_factors
from optimise.settings import FinanceSettings
from scenarios.outputs.charts import bar_chart, cash_flow_chart
from scenarios.outputs.runfolder import RunFolder, read_document

MONEY_KEYS = (
    ("npv_saving", "NPV saving", "present value over the horizon, £"),
    ("annual_revenue_saving", "Annual revenue saving", "£ a year once the buildings are exited"),
    ("capital_receipts", "Capital receipts", "£, net of disposal costs"),
    ("one_off_costs", "One-off costs", "£: moves, fit-out and dilapidations, with optimism bias"),
    ("backlog_avoided", "Backlog avoided", "£ of maintenance backlog not incurred"),
    (
        "backlog_optimism_bias",
        "Optimism bias on the backlog avoided",
        "£: the risk uplift on that backlog, included in the NPV saving; not cash",
    ),
    ("baseline_present_cost", "Present cost, baseline", "£, everything kept"),
    ("scenario_present_cost", "Present cost, scenario", "£"),
)
AGENCY_COLUMNS = {
    "agency": "Agency",
    "npv_saving": "NPV saving (£)",
    "annual_revenue_saving": "Annual revenue saving (£/yr)",
    "capital_receipts": "Capital receipts (£)",
    "one_off_costs": "One-off costs (£)",
    "backlog_avoided": "Backlog avoided (£)",
    "backlog_optimism_bias": "Optimism bias on backlog avoided (£)",
    "baseline_present_cost": "Present cost, baseline (£)",
    "scenario_present_cost": "Present cost, scenario (£)",
    "buildings_before": "Buildings",
    "buildings_disposed": "Disposed",
    "services_moved": "Services moved",
    "payback_year": "Payback year",
}
BUILDING_COLUMNS = {
    "building_id": "Building",
    "name": "Name",
    "agency": "Agency",
    "decision": "Decision",
    "tenure": "Tenure",
    "exit_year": "Exit year",
    "running_cost_gbp": "Running cost (£/yr)",
    "backlog_cost_gbp": "Backlog (£)",
    "capital_receipt_gbp": "Net receipt (£)",
    "dilapidations_gbp": "Dilapidations (£)",
    "disposal_value": "Disposal value (£)",
    "disposal_cost": "Disposal cost (£)",
    "desks_before": "Desks now",
    "desks_after": "Desks after",
    "capacity_desks": "Capacity (desks)",
    "services_in": "Services in",
    "services_out": "Services out",
    "lease_break": "Lease break",
    "lease_end": "Lease end",
    "estimated": "Estimated values",
    "redacted": "Redacted",
}
DISPOSAL_COLUMNS = {
    "building_id": "Building",
    "name": "Name",
    "agency": "Agency",
    "annual_saving_gbp": "Saves a year once gone (£)",
    "npv_saving_gbp": "NPV of giving it up (£)",
    "capital_receipt_gbp": "Net receipt (£)",
    "price_of_keeping_gbp": "Price of keeping it (£ NPV given up)",
    "price_of_keeping_low_gbp": "… at least (solver gaps, £)",
    "price_of_keeping_high_gbp": "… at most (£)",
    "exit_year": "Exit year",
    "services_go_to": "Where its services go",
    "people_served": "People it served (nearest today)",
    "largest_increase_minutes": "Largest rise in their minutes",
    "access_change": "Minutes to the nearest, for the zones it served",
}
MOVE_COLUMNS = {
    "year": "Year",
    "service_id": "Service",
    "name": "Name",
    "agency": "Agency",
    "service_type": "Type",
    "from_building": "From",
    "to_building": "To",
    "desks": "Desks",
    "space_type": "Space it needs",
    "floor_m2": "Floor area (m²)",
    "fitted_out_from": "Fitted out of",
    "fit_out_cost": "Fit-out (£)",
    "cost": "One-off cost (£)",
    "redacted": "Redacted",
}
ACCESS_COLUMNS = {
    "service_type": "Service type",
    "standard": "Standard",
    "share_before": "Share within, now",
    "share_after": "Share within, after",
    "target_share": "Share required",
    "largest_increase_minutes": "Largest rise in minutes to the nearest (zones its rule protects)",
    "mode": "Mean minutes by",
    "mean_minutes_before": "Mean minutes, now",
    "mean_minutes_after": "Mean minutes, after",
    "buildings_before": "Buildings, now",
    "buildings_after": "Buildings, after",
    "standard_met": "Standard met",
}
CASH_COLUMNS = {
    "year": "Year",
    "baseline_gbp": "Baseline cost (£)",
    "scenario_gbp": "Scenario cost (£)",
    "saving_gbp": "Net saving (£)",
    "cumulative_saving_gbp": "Cumulative net saving (£)",
    "discount_factor": "Discount factor",
    "present_value_saving_gbp": "Present value of saving (£)",
    "cumulative_present_value_gbp": "Cumulative present value (£)",
}
CATEGORY_LABELS = {
    "running_fixed": "running costs, fixed part",
    "running_occupancy": "running costs, per occupied m²",
    "backlog": "maintenance backlog",
    "carbon": "carbon",
    "dilapidations": "dilapidations",
    "receipts": "capital receipts",
    "moves": "moves",
    "conversions": "fit-out",
}
CASH_COLUMNS |= {f"saving: {c}": f"Saving: {CATEGORY_LABELS.get(c, c)} (£)" for c in CATEGORIES}
CONVENTIONS = (
    "All money is in real terms (base-year prices, no inflation); year t runs from "
    "base_date + (t - 1) years to base_date + t years.",
    "Present values use HM Treasury Green Book discount factors d_t = 1/(1+r)^t: "
    "discount_rate for years 1-30, long_discount_rate after.",
    "NPV saving = present cost of the baseline (every building kept, nothing moved) minus "
    "the present cost of the scenario.",
    "Payback year = first year whose cumulative undiscounted net saving is zero or more.",
    "Annual revenue saving = the yearly running cost of the buildings disposed of, once exited.",
    "Running costs = a fixed part, saved only when a building goes, plus an occupancy cost "
    "per m2 its services use (cleaning, energy, soft FM), which moves with them: a host pays "
    "it for what it takes in.",
    "Capital receipts = disposal value minus disposal cost of freeholds sold, in the exit year "
    "(freehold: after the disposal lag; leasehold: at the first break or the lease end).",
    "One-off costs = moves (per-desk rate or the service's own cost) plus fit-out per desk "
    "moved in, plus fitting out space a building lacks (£/m2 of the space type), uplifted "
    "by optimism bias, plus dilapidations on lease exits.",
    "A service moving into space still to be fitted out moves when the works are done (the "
    "lead time); its building is held until then.",
    "Attribution: a building's running costs, backlog, receipts and dilapidations fall to the "
    "agency that holds it; the cost of a move falls to the agency whose service moves.",
)


@dataclass(frozen=True)
class ReportTables:
    """Every table of the report, with plain column names (see the *_COLUMNS maps)."""

    headline: pd.DataFrame  # figure, value, unit
    agencies: pd.DataFrame  # per agency, then a "Total" row
    cash_by_year: pd.DataFrame  # one row a year, all agencies
    saving_by_agency_year: pd.DataFrame  # year x agency net saving
    buildings: pd.DataFrame
    moves: pd.DataFrame
    access: pd.DataFrame
    assumptions: pd.DataFrame  # section, item, value, note
    disposals: pd.DataFrame  # one row a building disposed of, with the reasons
    # Written by `estate share` (sharing.json) and `estate plan` (plan.json), when present.
    sharing: pd.DataFrame | None = None  # per agency, then a "Total" row
    coalitions: pd.DataFrame | None = None
    sharing_note: str = ""
    plan_years: pd.DataFrame | None = None
    plan_actions: pd.DataFrame | None = None
    plan_note: str = ""


def finance_settings(folder: RunFolder) -> FinanceSettings:
    try:
        return FinanceSettings(**folder.finance)
    except ValidationError as exc:
        raise InputDataError(
            [CellIssue(str(folder.path / "summary.json"), None, "settings.finance", "", str(exc))],
            "the run's finance settings cannot be read",
        ) from exc


def report_tables(folder: RunFolder) -> ReportTables:
    s = folder.summary
    headline = pd.DataFrame(
        [(label, s.get(key), unit) for key, label, unit in MONEY_KEYS]
        + [
            ("Payback year", s.get("payback_year"), "first year the cumulative saving is >= 0"),
            (
                "Buildings kept",
                s.get("buildings", {}).get("kept"),
                "of " + str(s.get("buildings", {}).get("total")),
            ),
            ("Buildings disposed", s.get("buildings", {}).get("disposed"), ""),
            ("Buildings hosting moved services", s.get("buildings", {}).get("hosting"), ""),
            ("Services moved", s.get("services_moved"), f"{s.get('desks_moved', 0):g} desks"),
        ],
        columns=["figure", "value", "unit"],
    )
    return ReportTables(
        headline=headline,
        agencies=_agency_table(folder),
        cash_by_year=_cash_by_year(folder),
        saving_by_agency_year=_saving_by_agency_year(folder),
        buildings=_pick(
            folder.buildings.sort_values(["agency", "building_id"]), BUILDING_COLUMNS
        ).assign(**_estimated_described(folder)),
        moves=_pick(folder.moves.sort_values("service_id"), MOVE_COLUMNS),
        disposals=_pick(
            folder.buildings.loc[folder.buildings["decision"] == "dispose"].sort_values(
                ["agency", "building_id"]
            ),
            DISPOSAL_COLUMNS,
        ),
        access=_pick(pd.DataFrame(s.get("access", [])), ACCESS_COLUMNS),
        assumptions=_assumptions(folder),
        **_sharing_tables(folder),
        **_plan_tables(folder),
    )


def _estimated_described(folder: RunFolder) -> dict[str, Any]:
    """The buildings' ``estimated`` marks in words ("floor area, running cost")."""
    if "estimated" not in folder.buildings:
        return {}
    ordered = folder.buildings.sort_values(["agency", "building_id"])["estimated"]
    return {"estimated": [describe_estimated(m) for m in ordered]}


def _pick(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    return frame[[c for c in columns if c in frame.columns]].reset_index(drop=True)


def _agency_table(folder: RunFolder) -> pd.DataFrame:
    table = _pick(folder.agencies.sort_values("agency"), AGENCY_COLUMNS)
    total: dict[str, Any] = {"agency": "Total"}
    for col in table.columns:
        if col == "agency":
            continue
        if col == "payback_year":
            total[col] = folder.summary.get("payback_year")
        elif col in folder.summary and not isinstance(folder.summary[col], dict):
            total[col] = folder.summary[col]
        else:
            total[col] = float(table[col].sum())
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def _cash_by_year(folder: RunFolder) -> pd.DataFrame:
    cash = folder.cash_flows
    discount = discount_factors(finance_settings(folder))
    by_cat = cash.pivot_table(
        index="year", columns="category", values="saving_gbp", aggfunc="sum", fill_value=0.0
    )
    categories = [c for c in CATEGORIES if c in by_cat.columns] + sorted(
        set(by_cat.columns) - set(CATEGORIES)
    )
    table = by_cat[categories].rename(columns=lambda c: f"saving: {c}")
    totals = cash.groupby("year")[["baseline_gbp", "scenario_gbp", "saving_gbp"]].sum()
    table = table.join(totals)
    table["cumulative_saving_gbp"] = table["saving_gbp"].cumsum()
    years = table.index.to_numpy(dtype=int)
    table["discount_factor"] = discount[years]
    table["present_value_saving_gbp"] = table["saving_gbp"] * table["discount_factor"]
    table["cumulative_present_value_gbp"] = table["present_value_saving_gbp"].cumsum()
    return table.reset_index().round(6)


def _saving_by_agency_year(folder: RunFolder) -> pd.DataFrame:
    table = folder.cash_flows.pivot_table(
        index="year", columns="agency", values="saving_gbp", aggfunc="sum", fill_value=0.0
    )
    table["Total"] = table.sum(axis=1)
    # Not rounded to pence: the workbook's NPV per agency is a formula over these cells.
    return table.reset_index().rename_axis(columns=None).round(6)


def _assumptions(folder: RunFolder) -> pd.DataFrame:
    s = folder.summary
    settings = s.get("settings", {})
    notes = {
        "horizon_years": "years appraised",
        "discount_rate": "years 1-30 (Green Book)",
        "long_discount_rate": "years 31-75 (Green Book)",
        "base_date": "start of year 1",
        "optimism_bias": "uplift on one-off capital costs (moves, fit-out, backlog)",
        "move_cost_per_desk": "£ per desk moved, where a service has no move cost of its own",
        "fit_out_per_desk": "£ per desk moved in",
        "disposal_lag_years": "years a vacated freehold costs before it sells",
        "carbon_value_per_t": "£ per tCO2e a year (0 = carbon not priced)",
    }
    rows: list[tuple[str, Any, Any, str]] = []  # conventions are numbered, not named
    for key, value in settings.get("finance", {}).items():
        rows.append(("Finance", key, value, notes.get(key, "")))
    for key, value in settings.get("policy", {}).items():
        rows.append(("Policy", key, value, ""))
    for a in s.get("access", []):
        source = {"default": "the default: the scenario names no standard", "none": ""}.get(
            a.get("source", ""), "the scenario"
        )
        rows.append(("Access standard", a["service_type"], a.get("standard", ""), source))
    for mode, detail in s.get("travel_times", {}).items():
        rows.append(("Travel times", mode, detail.get("method"), detail.get("note", "")))
    for key, value in settings.get("solver", {}).items():
        rows.append(("Solver", key, value, ""))
    rows.append(("Solver", "status", s.get("status"), s.get("solver_detail") or ""))
    check = s.get("solver_check") or {}
    if check:
        verdict = "passed" if check.get("passed", True) else "FAILED"
        rows.append(("Solver", "check", verdict, check.get("message", "")))
    rows.append(("Solver", "gap", s.get("gap"), "relative gap to the proven bound"))
    for i, text in enumerate(CONVENTIONS, start=1):
        rows.append(("Convention", i, text, ""))
    if folder.notice:
        rows.append(("Data", "notice", folder.notice, ""))
    if estimates_note(folder):
        counts = Counter(
            c for marks in folder.buildings.get("estimated", []) for c in estimated_columns(marks)
        )
        detail = ", ".join(f"{ESTIMATED_LABELS.get(k, k)} {n}" for k, n in sorted(counts.items()))
        rows.append(("Data", "estimates", estimates_note(folder), f"estimated values: {detail}"))
    if folder.redaction is not None:
        rows.append(("Data", "redaction", folder.redaction.note, ""))
    for key, value in s.get("input_hashes", {}).items():
        rows.append(("Input hash", key, value, "SHA-256 of the canonical CSV"))
    for key, value in s.get("versions", {}).items():
        rows.append(("Version", key, value, ""))
    frame = pd.DataFrame(rows, columns=["section", "item", "value", "note"])
    frame["value"] = frame["value"].map(lambda v: "" if v is None else v)
    return frame


def solver_failure(summary: Mapping[str, Any]) -> str:
    """The solver check's message when the solver's claim failed it, else ""."""
    check = summary.get("solver_check") or {}
    return "" if check.get("passed", True) else str(check.get("message", ""))


# -- who pays, who gains (estate share) and the year-by-year plan (estate plan) ----------

SHARING_JSON = "sharing.json"
PLAN_JSON = "plan.json"
SHARING_COLUMNS = {
    "agency": "Agency",
    "lands": "Where the money lands (£)",
    "shapley": "Fair share: Shapley value (£)",
    "transfer": "Transfer to the agency (£)",
    "standard_error": "Sampling standard error (£)",
    "uncertainty": "Most the solver gaps could move it (£)",
}
COALITION_COLUMNS = {
    "coalition": "Coalition",
    "size": "Agencies",
    "value": "NPV saving (£)",
    "upper_bound": "Solver's upper bound (£)",
    "plan_from": "Plan of",
    "status": "Status",
    "solver_gap": "Solver gap",
    "buildings_disposed": "Disposed",
}
PLAN_YEAR_COLUMNS = {
    "year": "Year",
    "spent": "One-off costs paid (£)",
    "budget": "Annual budget (£)",
    "recycled_in": "Receipts recycled in (£)",
    "available": "Pot could pay (£)",
    "headroom": "Headroom (£)",
    "receipts": "Capital receipts (£)",
    "buildings_sold": "Sold",
    "leases_exited": "Leases exited",
    "services_moved": "Services moved",
}
PLAN_ACTION_COLUMNS = {
    "year": "Year",
    "action": "Action",
    "agency": "Agency",
    "building_id": "Building",
    "name": "Name",
    "service_id": "Service",
    "to_building": "To",
    "exit_year": "Exit year",
    "one_off_cost_gbp": "One-off cost (£)",
    "receipt_gbp": "Net receipt (£)",
}


def _sharing_tables(folder: RunFolder) -> dict[str, Any]:
    doc = read_document(folder, SHARING_JSON)
    if doc is None:
        return {}
    table = pd.DataFrame(doc.get("agencies", []), columns=list(SHARING_COLUMNS))
    if doc.get("method") != "sampled":
        table = table.drop(columns="standard_error")
    total: dict[str, Any] = {"agency": "Total"}
    for col in ("lands", "shapley", "transfer"):
        total[col] = float(table[col].sum())
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    coalitions = _pick(pd.DataFrame(doc.get("coalitions", [])), COALITION_COLUMNS)
    return {"sharing": table, "coalitions": coalitions, "sharing_note": _sharing_note(doc)}


def _sharing_note(doc: dict[str, Any]) -> str:
    core = doc.get("core", {})
    n = len(doc.get("agencies_in_game", []))
    if doc.get("method") == "sampled":
        how = (
            f"estimated from {doc.get('samples')} random orders of the {n} agencies (seed "
            f"{doc.get('seed')}); each share carries its sampling standard error"
        )
    else:
        how = f"exact, from all {2**n - 1} coalitions of the {n} agencies"
    if doc.get("in_core"):
        core_text = (
            f"No coalition would do better alone than its members' fair shares "
            f"({core.get('coalitions_checked')} coalitions checked): the sharing is in the core."
        )
    else:
        worst = core.get("worst") or {}
        core_text = (
            f"{' + '.join(worst.get('coalition', []))} would do {gbp(worst.get('excess', 0))} "
            "better alone than its members' fair shares: the Shapley sharing is not in the core"
            + (
                " (no sharing is: the core is empty)"
                if (core.get("least_core_epsilon") or 0) > 1
                else " (another sharing would be)"
            )
            + "."
        )
    plan_from = doc.get("plan_from") or []
    source = (
        f" The grand coalition's plan is the plan of {' + '.join(plan_from)}, which did better "
        "than the grand coalition's own solve."
        if plan_from and len(plan_from) < n
        else ""
    )
    return (
        f"The saving of all {n} agencies pooling their estates, "
        f"{gbp(doc.get('grand_coalition_saving', 0))}, shared by each agency's Shapley value: "
        "its average added saving over every order in which the agencies could join. "
        f"Computed {how}; each coalition solved to a relative gap of "
        f"{doc.get('mip_rel_gap')}. Where the money lands is each agency's own NPV saving "
        "under the plan (receipts and running costs to the building's holder, move costs to "
        "the agency whose service moves); the transfer takes it to its fair share, and "
        f"transfers add up to zero. {core_text}{source}"
    )


def _plan_tables(folder: RunFolder) -> dict[str, Any]:
    doc = read_document(folder, PLAN_JSON)
    if doc is None or "years" not in doc:
        return {}
    years = _pick(pd.DataFrame(doc["years"]), PLAN_YEAR_COLUMNS)
    years = years.drop(columns=[c for c in years.columns if years[c].isna().all()])
    actions = _plan_actions(folder)
    return {"plan_years": years, "plan_actions": actions, "plan_note": _plan_note(doc)}


def _plan_actions(folder: RunFolder) -> pd.DataFrame | None:
    """The plan's actions from the run folder's own tables (so a published copy shows
    withheld sites as they are withheld everywhere else)."""
    b, m = folder.buildings, folder.moves
    if "vacate_year" not in b.columns or "year" not in m.columns:
        return None
    gone = b.loc[b["decision"] == "dispose"]
    disposals = pd.DataFrame(
        {
            "year": pd.to_numeric(gone["vacate_year"]),
            "action": np.where(gone["tenure"] == "leasehold", "exit lease", "sell"),
            "agency": gone["agency"],
            "building_id": gone["building_id"],
            "name": gone["name"],
            "service_id": "",
            "to_building": "",
            "exit_year": gone["exit_year"],
            "one_off_cost_gbp": gone["dilapidations_gbp"],
            "receipt_gbp": gone["capital_receipt_gbp"],
        }
    )
    moves = pd.DataFrame(
        {
            "year": pd.to_numeric(m["year"]),
            "action": "move",
            "agency": m["agency"],
            "building_id": m["from_building"],
            "name": m["name"],
            "service_id": m["service_id"],
            "to_building": m["to_building"],
            "exit_year": pd.NA,
            "one_off_cost_gbp": m["cost"],
            "receipt_gbp": np.nan,
        }
    )
    out = pd.concat([f for f in (moves, disposals) if len(f)] or [disposals], ignore_index=True)
    out["order"] = (out["action"] != "move").astype(int)
    out = out.sort_values(["year", "order", "building_id", "service_id"], kind="stable")
    return out.drop(columns="order").reset_index(drop=True)


def _plan_note(doc: dict[str, Any]) -> str:
    phasing = doc.get("phasing", {})
    budget = phasing.get("annual_budget")
    if budget is None:
        pot = "no annual limit on the Total Capital pot"
    elif isinstance(budget, list):
        pot = "a Total Capital pot receiving " + ", ".join(gbp(b) for b in budget)
        pot += " in years 1, 2, ... (the last amount every year after)"
    else:
        pot = f"a Total Capital pot receiving {gbp(budget)} a year"
    if budget is not None:
        pot += (
            "; unspent money carried forward"
            if phasing.get("carry_forward")
            else "; each year's budget lapses if unspent"
        )
        if phasing.get("recycle_receipts"):
            pot += "; capital receipts recycled into the pot from the year after the sale"
    return (
        f"Each change happens in a year 1 to {doc.get('plan_years')}: a building's services "
        "move out in the year it is vacated; a freehold is sold the disposal lag after, a "
        "lease is exited only at its next break or its end; a service that leaves a building "
        f"that is kept moves in year 1. One-off costs (moves, fit-out, dilapidations) are paid "
        f"from {pot}. Figures below are priced with these years."
    )


# -- HTML -------------------------------------------------------------------------------


def estimates_note(folder: RunFolder) -> str:
    """The first screen's line on estimates ("" when every figure is the bodies' own)."""
    if "estimated" not in folder.buildings:
        return ""
    marks = folder.buildings["estimated"].map(estimated_columns)
    n = int(marks.map(bool).sum())
    if not n:
        return ""
    return (
        f"{n} of {len(folder.buildings)} buildings' figures are estimates from unit rates, "
        "not the bodies' own (the 'Estimated values' column names them): replace them "
        "before a decision."
    )


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _cell(value: Any, column: str = "") -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "<td></td>"
    if isinstance(value, bool | np.bool_):
        return f"<td>{'yes' if value else ''}</td>"
    if isinstance(value, int | float | np.integer | np.floating):
        v = float(value)
        # Money first: "Fair share: Shapley value (£)" is pounds, not a proportion.
        if "(£" in column or column.endswith("_gbp") or column.startswith("saving"):
            return f"<td class='n'>{0.0 if abs(v) < 0.5 else v:,.0f}</td>"  # never "-0"
        if "share" in column:
            return f"<td class='n'>{v:.1%}</td>"
        if column == "Discount factor":
            return f"<td class='n'>{v:.4f}</td>"
        return f"<td class='n'>{v:,.6g}</td>" if v != int(v) else f"<td class='n'>{int(v):,}</td>"
    return f"<td>{_e(value)}</td>"


def html_table(
    frame: pd.DataFrame, headers: dict[str, str] | None = None, total: bool = False
) -> str:
    headers = headers or {}
    head = "".join(f"<th>{_e(headers.get(c, c))}</th>" for c in frame.columns)
    body = []
    for i, row in enumerate(frame.itertuples(index=False)):
        cls = " class='total'" if total and i == len(frame) - 1 else ""
        cells = "".join(
            _cell(v, headers.get(c, c)) for c, v in zip(frame.columns, row, strict=True)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    # A wide table scrolls inside its own box; the page itself never scrolls sideways.
    return (
        f"<div class='wide'><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


STYLE = """
body{font:14px/1.45 Arial,Helvetica,sans-serif;color:#222;max-width:1100px;margin:24px auto;
padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ccc}
div.wide{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:8px 0;font-size:12px}
th,td{border:1px solid #ddd;padding:3px 6px;vertical-align:top}
th{background:#f1f3f5;text-align:left}
td.n{text-align:right;white-space:nowrap}tr.total td{font-weight:bold;background:#f8f9fa}
.notice{color:#b00;font-weight:bold}.muted{color:#666;font-size:12px}
.figures{display:flex;flex-wrap:wrap;gap:10px}
.figure{border:1px solid #ccc;border-radius:4px;padding:8px 12px;min-width:170px}
.figure b{display:block;font-size:18px}
"""


_money = gbp  # one money format everywhere (estate.money)


def render_report(folder: RunFolder) -> str:
    """``report.html``: one self-contained page (inline CSS and SVG, no scripts)."""
    t = report_tables(folder)
    s = folder.summary
    cash = t.cash_by_year
    payback = s.get("payback_year")
    figures = "".join(
        f"<div class='figure'>{_e(label)}<b class='n'>{_e(_money(s.get(key)))}</b>"
        f"<span class='muted'>{_e(unit)}</span></div>"
        for key, label, unit in MONEY_KEYS[:6]
    ) + (
        "<div class='figure'>Payback year"
        f"<b class='n'>{_e(payback if payback is not None else 'none')}</b>"
        "<span class='muted'>cumulative saving &ge; 0</span></div>"
    )
    notices = "".join(
        f"<p class='notice'>{_e(text)}</p>"
        for text in (
            folder.notice,
            folder.redaction.note if folder.redaction else "",
            solver_failure(s),
            estimates_note(folder),
        )
        if text
    )
    agencies = t.agencies
    body = [
        f"<h1>{_e(folder.scenario)}</h1>",
        notices,
        f"<p class='muted'>Solver status {_e(s.get('status'))}"
        + (
            f", within {s['gap']:.2%} of the proven bound"
            if isinstance(s.get("gap"), int | float)
            else ""
        )
        + f". Horizon {_e(folder.finance.get('horizon_years'))} years from "
        f"{_e(folder.finance.get('base_date'))}, discount rate "
        f"{float(folder.finance.get('discount_rate', 0)):.1%}, optimism bias "
        f"{float(folder.finance.get('optimism_bias', 0)):.0%}.</p>",
        f"<div class='figures'>{figures}</div>",
        "<h2>Cash flow over the horizon</h2>",
        cash_flow_chart(
            list(cash["year"].astype(int)),
            list(cash["saving_gbp"]),
            list(cash["cumulative_saving_gbp"]),
            payback,
            "Net saving by year, all agencies (undiscounted, real £)",
        ),
        "<h2>By agency</h2>",
        bar_chart(
            [str(a) for a in agencies["agency"].iloc[:-1]],
            [float(v) for v in agencies["npv_saving"].iloc[:-1]],
            "NPV saving by agency (£)",
        ),
        html_table(agencies, AGENCY_COLUMNS, total=True),
        "<p class='muted'>Per-agency rows add up to the totals. Money falls where it lands: "
        "receipts and running costs to the building's holder, move costs to the agency whose "
        "service moves.</p>",
        *_sharing_html(t),
        *_plan_html(folder, t),
        "<h2>Cash flow by year</h2>",
        html_table(cash, CASH_COLUMNS),
        "<h3>Net saving by agency and year (£)</h3>",
        html_table(t.saving_by_agency_year),
        "<h2>Access to public-facing services</h2>",
        html_table(t.access, ACCESS_COLUMNS),
        _standards_note(s),
        "<h2>Disposals: why each building goes</h2>",
        (
            html_table(t.disposals, DISPOSAL_COLUMNS)
            + "<p class='muted'>The saving of giving a building up is its own costs less what "
            "its services cost where they go (moves, fit-outs, occupancy). The price of keeping "
            "it is the NPV saving given up if the Board kept it and the rest were planned "
            "around it (one solve each, within the run's gap).</p>"
            if len(t.disposals)
            else "<p>No building is disposed of.</p>"
        ),
        "<h2>Buildings</h2>",
        html_table(t.buildings, BUILDING_COLUMNS),
        "<h2>Service moves</h2>",
        html_table(t.moves, MOVE_COLUMNS) if len(t.moves) else "<p>No service moves.</p>",
        "<h2>Assumptions</h2>",
        html_table(t.assumptions),
        f"<p class='muted'>Made from the run folder alone ({_e(folder.path.name)}); "
        "reproduce it with <code>estate report RUN_DIR</code>.</p>",
    ]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(folder.scenario)} — finance report</title><style>{STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def _standards_note(s: Mapping[str, Any]) -> str:
    """Which public-facing types have the default standard, and which have none."""
    info = s.get("access_standards", {})
    parts = []
    if info.get("defaulted"):
        parts.append(
            "The scenario names no standard for "
            + ", ".join(_e(k) for k in info["defaulted"])
            + ": they have the default, nobody further from their nearest than today (by "
            + _e("/".join(info.get("modes", [])))
            + ")."
        )
    if info.get("none"):
        parts.append(
            "No standard (the scenario says none) for "
            + ", ".join(_e(k) for k in info["none"])
            + ": their minutes are shown but nothing holds them."
        )
    return "".join(f"<p class='notice'>{text}</p>" for text in parts)


def _sharing_html(t: ReportTables) -> list[str]:
    if t.sharing is None:
        return []
    shares = t.sharing.iloc[:-1]
    out = [
        "<h2>Who pays, who gains: a fair share for each agency</h2>",
        f"<p>{_e(t.sharing_note)}</p>",
        bar_chart(
            [str(a) for a in shares["agency"]],
            [float(v) for v in shares["transfer"]],
            "Transfer that takes each agency from where the money lands to its fair share (£)",
        ),
        html_table(t.sharing, SHARING_COLUMNS, total=True),
    ]
    if t.coalitions is not None and len(t.coalitions):
        out += [
            "<h3>What each coalition would save alone</h3>",
            "<p class='muted'>NPV saving when only these agencies pool their estates (the "
            "others' buildings stay as they are). A coalition may always take the plan of "
            "one of its parts, so where the solver found less, that plan is used.</p>",
            html_table(t.coalitions, COALITION_COLUMNS),
        ]
    return out


def agency_cash_flows(cash_flows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Each agency's net saving by year (baseline minus plan) and its running total."""
    out = {}
    for agency, rows in cash_flows.groupby("agency", sort=True):
        by_year = rows.groupby("year")["saving_gbp"].sum().sort_index()
        out[str(agency)] = pd.DataFrame(
            {
                "year": by_year.index.astype(int),
                "saving_gbp": by_year.to_numpy(dtype=float),
                "cumulative_saving_gbp": by_year.cumsum().to_numpy(dtype=float),
            }
        )
    return out


def agency_chart(agency: str, table: pd.DataFrame, payback: int | None) -> str:
    """One agency's cash-flow chart (SVG), as the report draws it."""
    return cash_flow_chart(
        list(table["year"]),
        list(table["saving_gbp"]),
        list(table["cumulative_saving_gbp"]),
        payback,
        f"{agency}: net saving by year under the plan (undiscounted, real £)",
    )


def _plan_html(folder: RunFolder, t: ReportTables) -> list[str]:
    if t.plan_years is None:
        return []
    out = [
        "<h2>Year-by-year plan</h2>",
        f"<p>{_e(t.plan_note)}</p>",
        "<h3>The Total Capital pot by year</h3>",
        html_table(t.plan_years, PLAN_YEAR_COLUMNS),
    ]
    if t.plan_actions is not None:
        out += [
            "<h3>What happens each year</h3>",
            html_table(t.plan_actions, PLAN_ACTION_COLUMNS)
            if len(t.plan_actions)
            else "<p>Nothing changes.</p>",
        ]
    payback = dict(zip(folder.agencies["agency"], folder.agencies["payback_year"], strict=True))
    out.append("<h3>Cash flow by agency</h3>")
    for agency, table in agency_cash_flows(folder.cash_flows).items():
        year = payback.get(agency)
        out.append(
            agency_chart(agency, table, None if year is None or pd.isna(year) else int(year))
        )
    return out


def write_report_html(folder: RunFolder, path: str | Path) -> Path:
    return write_text(path, render_report(folder))
