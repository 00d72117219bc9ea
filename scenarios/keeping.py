"""The price of keeping each building the plan disposes of.

For a building the run disposes of, the price of keeping it is the NPV saving the Board
gives up if it keeps that building and plans everything else around it: the run's
saving less the saving of the same scenario with the building added to
``policy.force_keep``.  One re-solve per disposed building, each a point of the sweep
engine (:func:`scenarios.sweep.run_sweep`: parallel, resumable, cached by the hash of
its resolved scenario) under the run's own settings, so within the run's gap.  Each
price comes with the range the solvers' gaps leave it in: the run's plan may keep the
building, so the best saving with it kept is also a saving the run could have had
(a re-solve that finds more than the run did shows the run's own gap, and the price
is then 0, not negative).

``estate run`` does this by default when the plan disposes of at most
:data:`DEFAULT_MAX_DISPOSALS` buildings; the points go to ``RUN_DIR/price_of_keeping/``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scenarios.scenario import ScenarioFile
from scenarios.sweep import POINTS, Axis, grid, run_sweep

KEEPING_DIR = "price_of_keeping"
DEFAULT_MAX_DISPOSALS = 50
PRICE_COLUMNS = (
    "price_of_keeping_gbp",
    "price_of_keeping_low_gbp",
    "price_of_keeping_high_gbp",
    "price_of_keeping_status",
)

Progress = Callable[[int, int, str], None]


def _no_progress(done: int, total: int, message: str) -> None:
    return None


def wanted(disposals: int, asked: bool | None) -> bool:
    """Whether to price keeping: as asked, else when there are at most the default."""
    if asked is not None:
        return asked and disposals > 0
    return 0 < disposals <= DEFAULT_MAX_DISPOSALS


def price_of_keeping(
    sf: ScenarioFile,
    main: dict[str, Any],
    disposed: list[str],
    out_dir: str | Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    serial: bool = False,
    progress: Progress = _no_progress,
) -> pd.DataFrame:
    """One row a disposed building: the NPV saving if it were kept, the price of keeping
    it with the range the solvers' gaps leave it in, and the status of its solve.

    ``main`` is the run's ``summary.json``; ``sf`` its scenario (with any overrides).
    """
    policy = sf.scenario.policy
    already = list(policy.force_keep)
    go = [b for b in disposed if b not in policy.force_dispose]
    if not go:
        return pd.DataFrame(columns=["building_id", "npv_saving_if_kept", *PRICE_COLUMNS])
    axis = Axis("policy.force_keep", tuple(json.dumps(sorted({*already, b})) for b in go))
    points = grid(sf, [axis])
    sweep = run_sweep(
        sf,
        [axis],
        Path(out_dir) / KEEPING_DIR,
        scheduler=scheduler,
        workers=workers,
        serial=serial,
        progress=progress,
        points=points,
        presentation=False,
    )
    low, high = _interval(main)
    rows = []
    for building_id, point in zip(go, sweep.points, strict=True):
        doc = _summary(sweep.out_dir / POINTS / point.key / "summary.json")
        if point.scenario is None or point.key in sweep.failed or doc is None:
            rows.append(_row(building_id, None, (None, None, None), "failed"))
            continue
        if "npv_saving" not in doc:
            rows.append(_row(building_id, None, (None, None, None), str(doc.get("status"))))
            continue
        kept = _interval(doc)
        rows.append(_row(building_id, kept[0], price_range((low, high), kept), str(doc["status"])))
    return pd.DataFrame(rows)


def price_range(run: tuple[float, float], kept: tuple[float, float]) -> tuple[float, float, float]:
    """The price of keeping (best estimate, least, most) from the run's saving interval
    and the saving interval with the building kept.  The run may keep the building, so
    its true saving is at least the kept one's plan; the kept one's at most the run's."""
    run_lo, run_hi = max(run[0], kept[0]), run[1]
    kept_lo, kept_hi = kept[0], min(kept[1], run[1])
    return run_lo - kept_lo, max(0.0, run_lo - kept_hi), run_hi - kept_lo


def _row(
    building_id: str,
    kept: float | None,
    price: tuple[float | None, float | None, float | None],
    status: str,
) -> dict[str, Any]:
    def money(value: float | None) -> float:
        return np.nan if value is None or not np.isfinite(value) else round(value, 2)

    return {
        "building_id": building_id,
        "npv_saving_if_kept": money(kept),
        "price_of_keeping_gbp": money(price[0]),
        "price_of_keeping_low_gbp": money(price[1]),
        "price_of_keeping_high_gbp": money(price[2]),
        "price_of_keeping_status": status,
    }


def _summary(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def _interval(doc: dict[str, Any]) -> tuple[float, float]:
    """A run's NPV saving as (plan found, most the solver's bound allows)."""
    low = float(doc["npv_saving"])
    bound = doc.get("bound")
    if bound is None:
        high = low if doc.get("status") == "optimal" else float("inf")
    else:
        high = float(doc["baseline_present_cost"]) - float(bound)
    return low, max(low, high)


def keeping_annotator(
    sf: ScenarioFile,
    folder: Path,
    asked: bool | None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    serial: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Callable[[Any, Any, Any], pd.DataFrame | None]:
    """The hook a run calls after solving (:data:`scenarios.run.Annotate`): the price of
    keeping each disposal, as columns for ``buildings.csv``, when ``asked`` (None: when
    the plan disposes of at most :data:`DEFAULT_MAX_DISPOSALS`).  The re-solves go in
    ``folder/price_of_keeping/``."""

    def annotate(inputs: Any, instance: Any, result: Any) -> pd.DataFrame | None:
        from scenarios.outputs import summary

        if result.evaluation is None:
            return None
        b = result.evaluation.buildings
        disposed = list(b.loc[b["decision"] == "dispose", "building_id"])
        if not wanted(len(disposed), asked):
            return None

        def told(done: int, total: int, _: str) -> None:
            if progress is not None:
                progress(f"price of keeping: {done} of {total} re-solves")

        return price_of_keeping(
            sf,
            summary(inputs, instance, result),
            disposed,
            folder,
            scheduler=scheduler,
            workers=workers,
            serial=serial,
            progress=told,
        )

    return annotate
