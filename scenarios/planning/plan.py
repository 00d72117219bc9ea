"""The year-by-year plan of a scenario (``estate plan``): when each change happens.

Solves the phased model (:mod:`optimise.phasing`) with the scenario's ``phasing``
settings and writes a run folder like ``estate run``'s, priced with the plan's own
years (buildings exit when the plan exits them; each move is paid in its year), plus:

- ``plan.json``: the plan's headline figures, the Total Capital pot year by year
  (spent, budget, receipts, recycled receipts, what the pot could pay, headroom) and
  every action with its year;
- ``plan.csv``: one row an action (a building vacated and sold or its lease exited, a
  service moved), in year order;
- ``charts/cash_flow_<agency>.svg``: each agency's net saving by year and cumulative.

``report.html`` and ``report.xlsx`` gain a "Year-by-year plan" section.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from estate.io import write_csv, write_json, write_text
from optimise.instance import EstateInstance
from optimise.phasing import PhasedModel, PhasedResult
from scenarios.outputs.report import agency_cash_flows, agency_chart
from scenarios.running.run import travel_times
from scenarios.scenario.file import ScenarioFile
from scenarios.scenario.runinputs import RunInputs

PLAN_JSON = "plan.json"
PLAN_CSV = "plan.csv"
CHARTS_DIR = "charts"
PLAN_FILES = (PLAN_JSON, PLAN_CSV)

Progress = Callable[[str], None]


def _silent(_: str) -> None:
    return None


@dataclass(frozen=True)
class PlanOutcome:
    """A solved (or failed) plan, its run folder and its ``plan.json`` document."""

    inputs: RunInputs
    instance: EstateInstance
    phased: PhasedResult
    doc: dict[str, Any]
    out_dir: Path
    files: tuple[Path, ...]


def plan_scenario(
    sf: ScenarioFile, out_dir: str | Path, progress: Progress = _silent, *, force: bool = False
) -> PlanOutcome:
    """Solve the phased model of ``sf`` and write its run folder to ``out_dir``, whole
    (:func:`scenarios.outputs.folders.writing_folder`; ``force`` replaces a folder that is not a
    run folder)."""
    from scenarios.outputs.folders import writing_folder
    from scenarios.outputs.writer import write_run
    from scenarios.scenario.inputs import load_inputs

    protect = list(sf.input_paths().values())
    with writing_folder(out_dir, force=force, protect=protect) as staging:
        inputs = load_inputs(sf)
        times = travel_times(inputs, progress)
        instance = EstateInstance.build(
            inputs.register,
            inputs.zones,
            times,
            inputs.access,
            inputs.finance,
            inputs.policy,
            space=inputs.space,
        )
        progress("building the phased model")
        model = PhasedModel(instance, inputs.phasing)
        progress("solving")
        phased = model.solve(inputs.solver)
        doc = plan_doc(inputs, phased)
        progress("writing outputs")
        out = staging.path
        files = [write_json(out / PLAN_JSON, doc)]
        if phased.actions is not None:
            files.append(write_csv(out / PLAN_CSV, phased.actions))
        files += write_cash_flow_charts(out, phased)
        headline = {k: doc[k] for k in ("plan_years", "phasing", "npv_saving") if k in doc}
        files += write_run(out, inputs, instance, phased.result, extra={"plan": headline})
    return PlanOutcome(inputs, instance, phased, doc, staging.given, staging.finals(files))


def plan_doc(inputs: RunInputs, phased: PhasedResult) -> dict[str, Any]:
    """``plan.json``: headline figures, the pot by year and every action with its year."""
    result = phased.result
    doc: dict[str, Any] = {
        "scenario": inputs.name,
        "status": result.status.value,
        "gap": None if result.gap is None else round(float(result.gap), 8),
        "plan_years": phased.plan_years,
        "phasing": phased.phasing.model_dump(mode="json"),
    }
    from scenarios.outputs.writer import check_fields

    doc.update(check_fields(result))
    evaluation = phased.evaluation
    if evaluation is None or phased.years is None or phased.actions is None:
        return doc
    agencies = evaluation.agencies
    doc["npv_saving"] = round(float(agencies["npv_saving"].sum()), 2)
    doc["one_off_costs"] = round(float(agencies["one_off_costs"].sum()), 2)
    doc["capital_receipts"] = round(float(agencies["capital_receipts"].sum()), 2)
    actions = phased.actions
    years = phased.years.copy()
    counts = actions.groupby(["year", "action"]).size().unstack(fill_value=0)
    for action, column in (
        ("sell", "buildings_sold"),
        ("exit lease", "leases_exited"),
        ("move", "services_moved"),
    ):
        years[column] = (
            years["year"].map(counts[action]).fillna(0).astype(int)
            if action in counts.columns
            else 0
        )
    doc["years"] = _records(years)
    doc["actions"] = _records(actions)
    doc["agencies"] = _records(
        agencies[["agency", "npv_saving", "one_off_costs", "capital_receipts", "payback_year"]]
    )
    return doc


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.astype(object).to_dict(orient="records"):
        out.append({k: (None if v is None or v is pd.NA or v != v else v) for k, v in row.items()})
    return out


def slug(agency: str) -> str:
    """A file-name-safe form of an agency's name."""
    return re.sub(r"[^A-Za-z0-9]+", "-", agency).strip("-").lower() or "agency"


def write_cash_flow_charts(out: Path, phased: PhasedResult) -> list[Path]:
    """``charts/cash_flow_<agency>.svg`` for every agency (none without a plan)."""
    evaluation = phased.evaluation
    if evaluation is None:
        return []
    agencies = evaluation.agencies
    payback = {
        str(a): (None if pd.isna(y) else int(y))
        for a, y in zip(agencies["agency"], agencies["payback_year"], strict=True)
    }
    files = []
    for agency, table in agency_cash_flows(evaluation.cash_flows).items():
        chart = agency_chart(agency, table, payback.get(agency))
        files.append(write_text(out / CHARTS_DIR / f"cash_flow_{slug(agency)}.svg", chart + "\n"))
    return files
