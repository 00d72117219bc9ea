"""The finance report of a run: ``report.html`` and ``report.xlsx`` from the run folder.

Both are built from one set of tables (:func:`report_tables`), so the page a Board reads
and the workbook a finance lead pastes into a business case hold the same numbers, and
those numbers are the run's own: headline totals from ``summary.json``, per-agency rows
from ``agencies.csv`` (they sum to the totals), years from ``cash_flows.csv`` (their
discounted sum is the NPV saving).  Every assumption behind them is stated.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from estate.errors import CellIssue, InputDataError
from estate.io import write_text
from optimise.finance import CATEGORIES, discount_factors
from optimise.settings import FinanceSettings
from scenarios.charts import bar_chart, cash_flow_chart
from scenarios.runfolder import RunFolder

MONEY_KEYS = (
    ("npv_saving", "NPV saving", "present value over the horizon, £"),
    ("annual_revenue_saving", "Annual revenue saving", "£ a year once the buildings are exited"),
    ("capital_receipts", "Capital receipts", "£, net of disposal costs"),
    ("one_off_costs", "One-off costs", "£: moves, fit-out and dilapidations, with optimism bias"),
    ("backlog_avoided", "Backlog avoided", "£ of maintenance backlog not incurred"),
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
    "zone_id": "Zone",
    "redacted": "Redacted",
}
MOVE_COLUMNS = {
    "service_id": "Service",
    "name": "Name",
    "agency": "Agency",
    "service_type": "Type",
    "from_building": "From",
    "to_building": "To",
    "desks": "Desks",
    "cost": "One-off cost (£)",
    "redacted": "Redacted",
}
ACCESS_COLUMNS = {
    "service_type": "Service type",
    "mode": "Mode",
    "max_minutes": "Standard (min)",
    "share_before": "Share within, now",
    "share_after": "Share within, after",
    "target_share": "Share required",
    "mean_minutes_before": "Mean minutes, now",
    "mean_minutes_after": "Mean minutes, after",
    "buildings_before": "Buildings, now",
    "buildings_after": "Buildings, after",
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
CASH_COLUMNS |= {f"saving: {c}": f"Saving: {c} (£)" for c in CATEGORIES}
CONVENTIONS = (
    "All money is in real terms (base-year prices, no inflation); year t runs from "
    "base_date + (t - 1) years to base_date + t years.",
    "Present values use HM Treasury Green Book discount factors d_t = 1/(1+r)^t: "
    "discount_rate for years 1-30, long_discount_rate after.",
    "NPV saving = present cost of the baseline (every building kept, nothing moved) minus "
    "the present cost of the scenario.",
    "Payback year = first year whose cumulative undiscounted net saving is zero or more.",
    "Annual revenue saving = the yearly running cost of the buildings disposed of, once exited.",
    "Capital receipts = disposal value minus disposal cost of freeholds sold, in the exit year "
    "(freehold: after the disposal lag; leasehold: at the first break or the lease end).",
    "One-off costs = moves (per-desk rate or the service's own cost) plus fit-out per desk "
    "moved in, uplifted by optimism bias, plus dilapidations on lease exits.",
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
        buildings=_pick(folder.buildings.sort_values(["agency", "building_id"]), BUILDING_COLUMNS),
        moves=_pick(folder.moves.sort_values("service_id"), MOVE_COLUMNS),
        access=_pick(pd.DataFrame(s.get("access", [])), ACCESS_COLUMNS),
        assumptions=_assumptions(folder),
    )


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
    return table.reset_index().rename_axis(columns=None).round(2)


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
    rows: list[tuple[str, str, Any, str]] = []
    for key, value in settings.get("finance", {}).items():
        rows.append(("Finance", key, value, notes.get(key, "")))
    for key, value in settings.get("policy", {}).items():
        rows.append(("Policy", key, value, ""))
    for service_type, standard in settings.get("access", {}).items():
        target = (
            f"at least {standard['min_share']:.0%} of people within"
            if standard.get("min_share") is not None
            else f"share within may fall by at most {standard.get('max_loss') or 0:.0%}"
        )
        rows.append(
            (
                "Access standard",
                service_type,
                f"{standard['max_minutes']:g} min {standard['mode']}",
                target,
            )
        )
    for mode, detail in s.get("travel_times", {}).items():
        rows.append(("Travel times", mode, detail.get("method"), detail.get("note", "")))
    for key, value in settings.get("solver", {}).items():
        rows.append(("Solver", key, value, ""))
    rows.append(("Solver", "status", s.get("status"), s.get("solver_detail") or ""))
    rows.append(("Solver", "gap", s.get("gap"), "relative gap to the proven bound"))
    for i, text in enumerate(CONVENTIONS, start=1):
        rows.append(("Convention", str(i), text, ""))
    if folder.notice:
        rows.append(("Data", "notice", folder.notice, ""))
    if folder.redaction is not None:
        rows.append(("Data", "redaction", folder.redaction.note, ""))
    for key, value in s.get("input_hashes", {}).items():
        rows.append(("Input hash", key, value, "SHA-256 of the canonical CSV"))
    for key, value in s.get("versions", {}).items():
        rows.append(("Version", key, value, ""))
    frame = pd.DataFrame(rows, columns=["section", "item", "value", "note"])
    frame["value"] = frame["value"].map(lambda v: "" if v is None else v)
    return frame


# -- HTML -------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _cell(value: Any, column: str = "") -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "<td></td>"
    if isinstance(value, bool | np.bool_):
        return f"<td>{'yes' if value else ''}</td>"
    if isinstance(value, int | float | np.integer | np.floating):
        v = float(value)
        if "share" in column:
            return f"<td class='n'>{v:.1%}</td>"
        if "(£" in column or column.endswith("_gbp") or column.startswith("saving"):
            return f"<td class='n'>{v:,.0f}</td>"
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
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


STYLE = """
body{font:14px/1.45 Arial,Helvetica,sans-serif;color:#222;max-width:1100px;margin:24px auto;
padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:8px 0;font-size:12px}
th,td{border:1px solid #ddd;padding:3px 6px;vertical-align:top}
th{background:#f1f3f5;text-align:left}
td.n{text-align:right;white-space:nowrap}tr.total td{font-weight:bold;background:#f8f9fa}
.notice{color:#b00;font-weight:bold}.muted{color:#666;font-size:12px}
.figures{display:flex;flex-wrap:wrap;gap:10px}
.figure{border:1px solid #ccc;border-radius:4px;padding:8px 12px;min-width:170px}
.figure b{display:block;font-size:18px}
"""


def _money(value: Any) -> str:
    if value is None:
        return "—"
    return f"£{float(value):,.0f}"


def render_report(folder: RunFolder) -> str:
    """``report.html``: one self-contained page (inline CSS and SVG, no scripts)."""
    t = report_tables(folder)
    s = folder.summary
    cash = t.cash_by_year
    payback = s.get("payback_year")
    figures = "".join(
        f"<div class='figure'>{_e(label)}<b>{_e(_money(s.get(key)))}</b>"
        f"<span class='muted'>{_e(unit)}</span></div>"
        for key, label, unit in MONEY_KEYS[:5]
    ) + (
        f"<div class='figure'>Payback year<b>{_e(payback if payback is not None else 'none')}</b>"
        "<span class='muted'>cumulative saving &ge; 0</span></div>"
    )
    notices = "".join(
        f"<p class='notice'>{_e(text)}</p>"
        for text in (folder.notice, folder.redaction.note if folder.redaction else "")
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
        "<h2>Cash flow by year</h2>",
        html_table(cash, CASH_COLUMNS),
        "<h3>Net saving by agency and year (£)</h3>",
        html_table(t.saving_by_agency_year),
        "<h2>Access to public-facing services</h2>",
        html_table(t.access, ACCESS_COLUMNS),
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


def write_report_html(folder: RunFolder, path: str | Path) -> Path:
    return write_text(path, render_report(folder))
