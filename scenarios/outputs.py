"""The run folder of MODEL.md section 6.

Every file is written atomically.  CSV and JSON outputs are byte-identical for the
same inputs and settings, except the timing fields of ``summary.json``
(``build_seconds``, ``solve_seconds``).
"""

from __future__ import annotations

import hashlib
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from estate.estimate import estimates_summary
from estate.io import write_csv, write_json, write_text
from optimise.evaluate import MONEY_DP, Evaluation, payback_year
from optimise.instance import EstateInstance
from optimise.model import Result
from optimise.solve import SolveStatus
from optimise.version import MODEL_VERSION
from scenarios.run import RunInputs
from scenarios.schema import InputFiles, Scenario

CASH_FLOW_DP = 4  # cash_flows.csv (see write_run)
SUMMARY_MONEY_KEYS = (
    "baseline_present_cost",
    "scenario_present_cost",
    "npv_saving",
    "annual_revenue_saving",
    "capital_receipts",
    "one_off_costs",
    "backlog_avoided",
    "backlog_optimism_bias",
)
DECISION_FILES = (
    "buildings.csv",
    "moves.csv",
    "agencies.csv",
    "access.csv",
    "cash_flows.csv",
    "results.gpkg",
    "map.html",
    "report.html",
    "report.xlsx",
)
PACKAGES = ("public-estate", "numpy", "pandas", "scipy", "pulp", "highspy", "geopandas", "folium")


def versions() -> dict[str, str]:
    """Versions of Python, the packages that shape the numbers, and the model."""
    out = {"python": platform.python_version(), "model": MODEL_VERSION}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def frame_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's CSV form: a stable fingerprint of an input."""
    text = frame.to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def input_hashes(inputs: RunInputs) -> dict[str, str]:
    """SHA-256 of each input table in canonical form: the bytes of ``inputs/NAME.csv``."""
    return {name: frame_hash(frame) for name, frame in canonical_inputs(inputs).items()}


def canonical_inputs(inputs: RunInputs) -> dict[str, pd.DataFrame]:
    """The register, zones and network the run used, as the tables written to ``inputs/``."""
    from estate.validate import FILE_COLUMN, ROW_COLUMN

    def canonical(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.drop(columns=[c for c in (FILE_COLUMN, ROW_COLUMN) if c in frame.columns])
        for col in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[col]):
                frame[col] = frame[col].dt.strftime("%Y-%m-%d").fillna("")
        return frame

    out = {
        "buildings": canonical(inputs.register.buildings),
        "services": canonical(inputs.register.services),
        "zones": canonical(inputs.zones),
    }
    if inputs.network is not None:
        out["network_nodes"] = inputs.network.nodes
        out["network_edges"] = inputs.network.edges
    return out


def _clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/NA to None."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else float(value)
    return value


def totals(evaluation: Evaluation, discount_years: pd.Series | None = None) -> dict[str, Any]:
    """Headline figures: sums of the per-agency figures, so the two always agree."""
    agencies = evaluation.agencies
    out: dict[str, Any] = {
        key: round(float(agencies[key].sum()), MONEY_DP) for key in SUMMARY_MONEY_KEYS
    }
    net = evaluation.cash_flows.groupby("year")["saving_gbp"].sum().sort_index()
    out["payback_year"] = payback_year(net)
    decisions = evaluation.buildings["decision"].value_counts()
    out["buildings"] = {
        "total": len(evaluation.buildings),
        "kept": int(decisions.get("retain", 0) + decisions.get("host", 0)),
        "retained": int(decisions.get("retain", 0)),
        "hosting": int(decisions.get("host", 0)),
        "disposed": int(decisions.get("dispose", 0)),
    }
    out["services_moved"] = len(evaluation.moves)
    out["desks_moved"] = float(evaluation.moves["desks"].sum())
    return out


def summary(inputs: RunInputs, instance: EstateInstance, result: Result) -> dict[str, Any]:
    """The ``summary.json`` document."""
    doc: dict[str, Any] = {
        "scenario": inputs.name,
        "notice": inputs.notice,
        "status": result.status.value,
        "gap": result.gap,
        "objective": result.objective,
        "bound": result.bound,
        "solver": result.solver,
        "solver_detail": result.detail,
        "build_seconds": round(result.build_seconds, 3),
        "solve_seconds": round(result.solve_seconds, 3),
        "settings": {
            "finance": inputs.finance.model_dump(mode="json"),
            "policy": inputs.policy.model_dump(mode="json"),
            "solver": inputs.solver.model_dump(mode="json"),
            "access": {
                k: (v.model_dump(mode="json") if v is not None else "none")
                for k, v in sorted(inputs.access.items())
            },
            "space": inputs.space.model_dump(mode="json"),
            "phasing": inputs.phasing.model_dump(mode="json"),
        },
        "access_standards": {
            "defaulted": list(instance.access_defaulted),
            "none": list(instance.access_none),
            "modes": list(instance.report_modes),
        },
        "notes": list(instance.notes),
        "travel_times": {
            mode: {"method": t.method, "note": t.note}
            for mode, t in sorted(instance.travel.items())
        },
        "counts": {
            "buildings": len(instance.buildings),
            "services": len(instance.services),
            "zones": len(instance.zones),
            "population": float(instance.zones["population"].sum()),
            "agencies": sorted(
                set(instance.buildings["agency"]) | set(instance.services["agency"])
            ),
        },
        "estimates": estimates_summary(inputs.register.buildings, inputs.register.services),
        "place_checks": None if inputs.checks is None else inputs.checks.as_dict(),
        "input_hashes": input_hashes(inputs),
        "versions": versions(),
    }
    diagnosis = result.diagnosis
    if diagnosis is not None and hasattr(diagnosis, "as_dict"):
        doc["diagnosis"] = diagnosis.as_dict()
    doc.update(check_fields(result))
    evaluation = result.evaluation
    if evaluation is not None:
        doc["objective"] = round(float(evaluation.present_cost), MONEY_DP)
        doc.update(totals(evaluation))
        doc["agencies"] = evaluation.agencies.to_dict(orient="records")
        doc["access"] = evaluation.access_summary.to_dict(orient="records")
        if "price_of_keeping_gbp" in evaluation.buildings.columns:
            priced = evaluation.buildings.dropna(subset=["price_of_keeping_gbp"])
            doc["price_of_keeping"] = {
                "folder": "price_of_keeping",
                "buildings": len(priced),
                "statuses": priced["price_of_keeping_status"].value_counts().sort_index().to_dict(),
            }
    if doc["objective"] is not None:
        doc["objective"] = round(float(doc["objective"]), MONEY_DP)
    if doc["bound"] is not None:
        doc["bound"] = round(float(doc["bound"]), MONEY_DP)
    if doc["gap"] is not None:
        doc["gap"] = round(float(doc["gap"]), 8)
    return dict(_clean(doc))


def check_fields(result: Result) -> dict[str, Any]:
    """``solver_check`` (the solver's claim checked against plans known to be feasible)
    and ``plan_status``: what the plan in the folder is (``optimal``, ``feasible``, or
    None without one; a ``solver_error`` run keeps a checked plan as ``feasible``)."""
    plan_status = None
    if result.has_solution:
        failed = result.status is SolveStatus.SOLVER_ERROR
        plan_status = SolveStatus.FEASIBLE.value if failed else result.status.value
    out: dict[str, Any] = {"plan_status": plan_status}
    if result.check is not None:
        out["solver_check"] = result.check.as_dict()
    return out


def write_run(
    out_dir: Path,
    inputs: RunInputs,
    instance: EstateInstance,
    result: Result,
    extra: dict[str, Any] | None = None,
    presentation: bool = True,
) -> list[Path]:
    """Write the run folder; returns the files written.

    The inputs are copied into ``inputs/`` (the map and reports are drawn from them)
    and ``scenario.yaml``, the scenario that was run, points there, so that ``estate run
    OUT_DIR/scenario.yaml`` runs it again.  ``extra`` adds keys to ``summary.json``.
    Without ``presentation`` the GeoPackage, map and reports are left out (``estate map``
    and ``estate report`` draw them later from the folder alone).
    """
    from scenarios.presentation import write_presentation

    out_dir.mkdir(parents=True, exist_ok=True)
    doc = summary(inputs, instance, result)
    doc.update(_clean(extra or {}))
    files = [write_json(out_dir / "summary.json", doc)]
    files += _write_inputs(out_dir / "inputs", inputs)
    files.append(write_scenario(out_dir / "scenario.yaml", inputs, copied_input_files(inputs)))
    evaluation = result.evaluation
    if evaluation is None:
        # No decision: results of an earlier run in this folder must not stay behind.
        for name in DECISION_FILES:
            (out_dir / name).unlink(missing_ok=True)
        return files
    files.append(write_csv(out_dir / "buildings.csv", evaluation.buildings))
    files.append(write_csv(out_dir / "moves.csv", evaluation.moves))
    files.append(write_csv(out_dir / "agencies.csv", evaluation.agencies))
    files.append(write_csv(out_dir / "access.csv", _access_table(instance, evaluation)))
    cash = evaluation.cash_flows.copy()
    # Four decimals, not pence: the workbook recomputes the NPV as formulas over these
    # cells (about 1,600 for the demo), and pence rounded in each would add up to tens of
    # pence against summary.json.
    for col in ("baseline_gbp", "scenario_gbp", "saving_gbp"):
        cash[col] = cash[col].round(CASH_FLOW_DP)
    files.append(write_csv(out_dir / "cash_flows.csv", cash))
    # The GeoPackage, map and reports are drawn from the folder just written, exactly
    # as `estate map` / `estate report` redraw them later.  The offline basemap (the
    # run's own roads) needs no network; `estate map RUN_DIR` adds online tiles.
    if presentation:
        files += write_presentation(out_dir, basemap="roads")
    return files


def _access_table(instance: EstateInstance, evaluation: Evaluation) -> pd.DataFrame:
    """Minutes before/after per type and zone, with the zone's need ``weight`` so that
    shares can be recomputed from the file alone (against any standard)."""
    access = evaluation.access
    weight = instance.zones.set_index("zone_id")["weight"]
    at = list(access.columns).index("population") + 1
    out = access.copy()
    out.insert(at, "weight", access["zone_id"].map(weight).to_numpy(dtype=float))
    return out


def _write_inputs(folder: Path, inputs: RunInputs) -> list[Path]:
    """The register, zones and network the run used, in canonical CSV form."""
    return [
        write_csv(folder / f"{name}.csv", frame) for name, frame in canonical_inputs(inputs).items()
    ]


def copied_input_files(inputs: RunInputs, folder: str = "inputs") -> InputFiles:
    """Where :func:`write_run` copies the inputs, relative to the run folder."""
    from scenarios.template import network_tables

    return InputFiles(
        buildings=f"{folder}/buildings.csv",
        services=f"{folder}/services.csv",
        zones=f"{folder}/zones.csv",
        network=None if inputs.network is None else network_tables(folder),
        allow_far_from_network=inputs.checks is not None and inputs.checks.allow_far,
    )


def scenario_of(inputs: RunInputs, files: InputFiles) -> Scenario:
    """The scenario file that gives ``inputs`` when loaded."""
    return Scenario(
        name=inputs.name,
        notice=inputs.notice,
        inputs=files,
        access=dict(inputs.access),
        finance=inputs.finance,
        policy=inputs.policy,
        solver=inputs.solver,
        phasing=inputs.phasing,
        space=inputs.space,
    )


def write_scenario_folder(folder: Path, inputs: RunInputs) -> list[Path]:
    """``inputs/`` and ``scenario.yaml`` without solving: a folder ``estate run`` takes."""
    files = _write_inputs(folder / "inputs", inputs)
    files.append(write_scenario(folder / "scenario.yaml", inputs, copied_input_files(inputs)))
    return files


def write_scenario(path: Path, inputs: RunInputs, files: InputFiles) -> Path:
    from scenarios.template import render_scenario

    header = (
        "The scenario of this run, written with its results.  Run it again with:\n"
        "  estate run scenario.yaml --out OTHER_FOLDER"
    )
    return write_text(path, render_scenario(scenario_of(inputs, files), header))
