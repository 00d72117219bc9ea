"""Side-by-side comparison of finished run folders.

:func:`compare_runs` reads each folder's ``summary.json`` and ``buildings.csv`` and
returns two tables: the headline figures (money, access, counts, and the settings that
differ) with one column a run, and the buildings whose decision differs between runs.
:func:`write_comparison` writes them as CSV and as one self-contained HTML page.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from estate.errors import CellIssue, InputDataError
from estate.io import write_csv, write_text
from estate.money import gbp
from estate.textsafe import unprotect_frame
from optimise.solve import SolveStatus

NO_DECISION = "no decision"
SOLVER_FAILED = (
    "the solver's claim failed the check (solver_error): its figures are those of a "
    "feasible plan, not a proven optimum"
)

MONEY = (
    ("npv_saving", "NPV saving"),
    ("annual_revenue_saving", "Annual revenue saving"),
    ("capital_receipts", "Capital receipts"),
    ("one_off_costs", "One-off costs"),
    ("backlog_avoided", "Backlog avoided"),
    ("backlog_optimism_bias", "Optimism bias on the backlog avoided"),
    ("baseline_present_cost", "Baseline present cost"),
    ("scenario_present_cost", "Scenario present cost"),
)


@dataclass(frozen=True)
class Comparison:
    """``figures``: one row a figure (``figure``, ``unit``, then one column a run);
    ``decisions``: one row a building whose decision differs (``building_id``,
    ``agency``, ``name``, then the decision in each run)."""

    runs: tuple[str, ...]
    folders: tuple[Path, ...]
    figures: pd.DataFrame
    decisions: pd.DataFrame
    notices: tuple[str, ...] = ()


def read_run(folder: Path) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """A run folder's summary and its buildings table (None when no decision was found)."""
    path = folder / "summary.json"
    if not path.is_file():
        raise InputDataError(
            [CellIssue(str(folder), None, "", "", "not a run folder: no summary.json")],
            "cannot compare",
        )
    doc = json.loads(path.read_text(encoding="utf-8"))
    buildings = folder / "buildings.csv"
    table = None
    if buildings.is_file():
        table = unprotect_frame(
            pd.read_csv(buildings, dtype={"building_id": str}, keep_default_na=False)
        )
    return doc, table


def run_labels(folders: Sequence[Path]) -> list[str]:
    """Short unique labels: folder names, or longer paths where names repeat."""
    names = [f.name or str(f) for f in folders]
    if len(set(names)) == len(names):
        return names
    paths = [str(f) for f in folders]
    if len(set(paths)) == len(paths):
        return paths
    return [f"{i + 1}: {p}" for i, p in enumerate(paths)]


def compare_runs(folders: Sequence[str | Path]) -> Comparison:
    """Compare run folders (at least one)."""
    paths = [Path(f) for f in folders]
    labels = run_labels(paths)
    read = [read_run(p) for p in paths]
    docs = [doc for doc, _ in read]
    figures = _figures(docs, labels)
    decisions = _decisions([table for _, table in read], labels)
    notices = [d["notice"] for d in docs if d.get("notice")]
    notices += [
        f"{label}: {SOLVER_FAILED}. {(d.get('solver_check') or {}).get('message', '')}".strip()
        for label, d in zip(labels, docs, strict=True)
        if d.get("status") == SolveStatus.SOLVER_ERROR.value
    ]
    return Comparison(
        tuple(labels), tuple(paths), figures, decisions, tuple(dict.fromkeys(notices))
    )


def _flat(doc: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(doc, dict):
        return {prefix: doc}
    out: dict[str, Any] = {}
    for key, value in doc.items():
        out.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _figures(docs: list[dict[str, Any]], labels: list[str]) -> pd.DataFrame:
    rows: list[tuple[str, str, list[Any]]] = [
        ("scenario", "text", [d.get("scenario") for d in docs]),
        ("status", "text", [d.get("status") for d in docs]),
        ("gap", "share", [d.get("gap") for d in docs]),
    ]
    rows += [(label, "GBP", [d.get(key) for d in docs]) for key, label in MONEY]
    rows.append(("Payback year", "year", [d.get("payback_year") for d in docs]))
    for key in ("kept", "hosting", "disposed"):
        counts = [d.get("buildings", {}).get(key) for d in docs]
        rows.append((f"Buildings {key}", "count", counts))
    rows.append(("Services moved", "count", [d.get("services_moved") for d in docs]))
    rows.append(("Desks moved", "count", [d.get("desks_moved") for d in docs]))
    sharing = [d.get("value_of_sharing", {}).get("difference", {}) for d in docs]
    if any(sharing):
        rows.append(("Value of sharing (NPV)", "GBP", [s.get("npv_saving") for s in sharing]))
    types = sorted({a["service_type"] for d in docs for a in d.get("access", [])})
    for kind in types:
        found = [{a["service_type"]: a for a in d.get("access", [])}.get(kind) for d in docs]
        rows.append(
            (f"Access {kind}: share before", "share", [a and a["share_before"] for a in found])
        )
        rows.append(
            (f"Access {kind}: share after", "share", [a and a["share_after"] for a in found])
        )
        rows.append(
            (
                f"Access {kind}: mean minutes after",
                "minutes",
                [a and a["mean_minutes_after"] for a in found],
            )
        )
    settings = [_flat(d.get("settings", {})) for d in docs]
    for key in sorted(set().union(*settings)):
        values = [s.get(key) for s in settings]
        if len({json.dumps(v, sort_keys=True) for v in values}) > 1:
            rows.append((f"setting {key}", "setting", values))
    frame = pd.DataFrame(
        [[name, unit, *values] for name, unit, values in rows],
        columns=["figure", "unit", *labels],
    )
    return frame


def _decisions(tables: list[pd.DataFrame | None], labels: list[str]) -> pd.DataFrame:
    columns = ["building_id", "agency", "name", *labels]
    with_decision = [t for t in tables if t is not None]
    if not with_decision:
        return pd.DataFrame(columns=columns)
    ids = pd.concat([t[["building_id", "agency", "name"]] for t in with_decision])
    ids = ids.drop_duplicates("building_id").set_index("building_id")
    out = ids.copy()
    for label, table in zip(labels, tables, strict=True):
        if table is None:
            out[label] = NO_DECISION
        else:
            decision = table.set_index("building_id")["decision"]
            out[label] = decision.reindex(out.index).fillna("absent")
    solved = [label for label, t in zip(labels, tables, strict=True) if t is not None]
    differs = out[solved].nunique(axis=1) > 1
    return out.loc[differs].reset_index()[columns].sort_values("building_id", kind="stable")


def fmt(value: Any, unit: str) -> str:
    """A figure as people read it."""
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if unit == "GBP":
        return gbp(value)
    if unit == "share":
        return f"{value:.2%}"
    if unit == "minutes":
        return f"{value:.1f}"
    if unit == "count" and isinstance(value, float) and value.is_integer():
        return f"{value:.0f}"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "[]"
    return str(value)


def formatted(frame: pd.DataFrame, labels: Sequence[str]) -> list[list[str]]:
    """The figures table as text cells: label then one cell a run."""
    return [
        [str(row["figure"]), *(fmt(row[label], str(row["unit"])) for label in labels)]
        for _, row in frame.iterrows()
    ]


def write_comparison(comparison: Comparison, out_dir: str | Path) -> list[Path]:
    """``comparison.csv``, ``decisions.csv`` and ``comparison.html`` in ``out_dir``."""
    out = Path(out_dir)
    figures = comparison.figures.copy()
    for label in comparison.runs:
        figures[label] = [
            json.dumps(v) if isinstance(v, list | dict) else v for v in figures[label]
        ]
    return [
        write_csv(out / "comparison.csv", figures),
        write_csv(out / "decisions.csv", comparison.decisions),
        write_text(out / "comparison.html", comparison_html(comparison)),
    ]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], classes: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return (
        f'<table class="{classes}"><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>'
    )


CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 2em; }
th, td { border: 1px solid #ccc; padding: 4px 10px; }
th { background: #f0f0f0; text-align: left; }
td + td { text-align: right; font-variant-numeric: tabular-nums; }
.decisions td + td + td + td { text-align: left; }
.notice { color: #a00; font-weight: bold; }
"""


def comparison_html(comparison: Comparison) -> str:
    """One self-contained page: the figures, then the buildings whose decision differs."""
    labels = list(comparison.runs)
    figures = _table(["Figure", *labels], formatted(comparison.figures, labels))
    d = comparison.decisions
    decision_rows = [[str(v) for v in row] for row in d.itertuples(index=False)]
    if decision_rows:
        decisions = _table(["Building", "Agency", "Name", *labels], decision_rows, "decisions")
    else:
        decisions = "<p>Every building has the same decision in every run.</p>"
    notices = "".join(f'<p class="notice">{html.escape(n)}</p>' for n in comparison.notices)
    folders = "".join(
        f"<li><b>{html.escape(label)}</b>: {html.escape(str(folder))}</li>"
        for label, folder in zip(labels, comparison.folders, strict=True)
    )
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>Comparison of {len(labels)} runs</title><style>{CSS}</style></head><body>\n"
        f"<h1>Comparison of {len(labels)} runs</h1>\n{notices}<ul>{folders}</ul>\n"
        f"<h2>Figures</h2>\n{figures}\n"
        f"<h2>Buildings whose decision differs ({len(decision_rows)})</h2>\n{decisions}\n"
        "</body></html>\n"
    )
