"""Price and check any decision (which buildings to keep, where each service goes).

Independent of the solver: it is how results are reported, and how tests check the
MILP's answer against brute force.  Money attribution: a building's running costs,
backlog, receipts and dilapidations fall to the agency that holds it; the cost of a
move falls to the agency whose service moves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from optimise.finance import (
    CATEGORIES,
    DILAPIDATIONS,
    MOVES,
    RECEIPTS,
    building_cash_flows,
    discount_factors,
    move_costs,
)
from optimise.formulation import reachable
from optimise.instance import EstateInstance

MONEY_DP = 2
SHARE_DP = 6
MINUTES_DP = 3


@dataclass(frozen=True)
class Evaluation:
    """A decision priced and checked.

    ``cash_flows`` is a long table (agency, year, category, baseline_gbp,
    scenario_gbp); its discounted sum is ``baseline_cost - present_cost``.
    ``violations`` is empty when the decision satisfies every constraint.
    """

    present_cost: float
    baseline_cost: float
    buildings: pd.DataFrame
    moves: pd.DataFrame
    agencies: pd.DataFrame
    access: pd.DataFrame
    access_summary: pd.DataFrame
    cash_flows: pd.DataFrame
    violations: tuple[str, ...]

    @property
    def npv_saving(self) -> float:
        return self.baseline_cost - self.present_cost

    @property
    def feasible(self) -> bool:
        return not self.violations


def evaluate(
    instance: EstateInstance, keep: NDArray[np.bool_], assign: NDArray[np.int64]
) -> Evaluation:
    """Price and check a decision.

    Parameters
    ----------
    keep
        One flag per building (row order of ``instance.buildings``).
    assign
        Index of the building each service is in after the change.
    """
    keep = np.asarray(keep, dtype=bool)
    assign = np.asarray(assign, dtype=np.int64)
    finance = instance.finance
    discount = discount_factors(finance)
    flows = building_cash_flows(instance.buildings, finance)
    home = instance.home_index()
    moved = assign != home
    move_one_off = move_costs(instance.services, finance)

    scenario = np.where(keep[:, None, None], flows.keep, flows.dispose)
    service_flows = np.zeros((len(instance.services), len(CATEGORIES), len(discount)))
    service_flows[moved, MOVES, 1] = move_one_off[moved]
    baseline_pv = float((flows.keep.sum(axis=1) @ discount).sum())
    scenario_pv = float(
        (scenario.sum(axis=1) @ discount).sum() + (service_flows[:, MOVES] @ discount).sum()
    )

    cash = _cash_flow_table(instance, flows.keep, scenario, service_flows)
    buildings = _building_table(instance, keep, assign, home, flows.exit_years, scenario, discount)
    moves = _moves_table(instance, assign, home, move_one_off)
    access, summary = _access_tables(instance, assign, home)
    agencies = _agency_table(instance, cash, buildings, moves, discount)
    violations = _violations(instance, keep, assign, home, summary)
    return Evaluation(
        present_cost=scenario_pv,
        baseline_cost=baseline_pv,
        buildings=buildings,
        moves=moves,
        agencies=agencies,
        access=access,
        access_summary=summary,
        cash_flows=cash,
        violations=tuple(violations),
    )


def _cash_flow_table(
    instance: EstateInstance,
    baseline: NDArray[np.float64],
    scenario: NDArray[np.float64],
    service_flows: NDArray[np.float64],
) -> pd.DataFrame:
    b_agency = instance.buildings["agency"].to_numpy(dtype=object)
    s_agency = instance.services["agency"].to_numpy(dtype=object)
    agencies = sorted(set(b_agency) | set(s_agency))
    horizon = baseline.shape[2] - 1
    records = []
    for agency in agencies:
        mine_b = b_agency == agency
        mine_s = s_agency == agency
        base = baseline[mine_b].sum(axis=0)
        scen = scenario[mine_b].sum(axis=0) + service_flows[mine_s].sum(axis=0)
        for k, category in enumerate(CATEGORIES):
            for year in range(1, horizon + 1):
                records.append((agency, year, category, base[k, year], scen[k, year]))
    frame = pd.DataFrame(
        records, columns=["agency", "year", "category", "baseline_gbp", "scenario_gbp"]
    )
    frame["saving_gbp"] = frame["baseline_gbp"] - frame["scenario_gbp"]
    return frame


def _building_table(
    instance: EstateInstance,
    keep: NDArray[np.bool_],
    assign: NDArray[np.int64],
    home: NDArray[np.int64],
    exit_years: NDArray[np.int64],
    scenario: NDArray[np.float64],
    discount: NDArray[np.float64],
) -> pd.DataFrame:
    b = instance.buildings
    n = len(b)
    moved = assign != home
    desks = instance.services["desks"].to_numpy(dtype=float)
    arriving = np.bincount(assign[moved], minlength=n)
    leaving = np.bincount(home[moved], minlength=n)
    decision = np.where(~keep, "dispose", np.where(arriving > 0, "host", "retain"))
    leasehold = (b["tenure"] == "leasehold").to_numpy()
    disposed = ~keep
    receipt = np.where(
        disposed & ~leasehold & (exit_years <= instance.finance.horizon_years),
        scenario[:, RECEIPTS].sum(axis=1) * -1.0,
        0.0,
    )
    return pd.DataFrame(
        {
            "building_id": b["building_id"].to_numpy(dtype=object),
            "agency": b["agency"].to_numpy(dtype=object),
            "name": b["name"].to_numpy(dtype=object),
            "decision": decision,
            "tenure": b["tenure"].to_numpy(dtype=object),
            "exit_year": np.where(disposed, exit_years, 0),
            "capacity_desks": b["capacity_desks"].to_numpy(dtype=float),
            "desks_before": np.bincount(home, weights=desks, minlength=n),
            "desks_after": np.bincount(assign, weights=desks, minlength=n),
            "services_in": arriving,
            "services_out": leaving,
            "running_cost_gbp": b["running_cost"].to_numpy(dtype=float),
            "backlog_cost_gbp": b["backlog_cost"].to_numpy(dtype=float),
            "capital_receipt_gbp": receipt.round(MONEY_DP),
            "dilapidations_gbp": scenario[:, DILAPIDATIONS].sum(axis=1).round(MONEY_DP),
            "scenario_present_cost_gbp": (scenario.sum(axis=1) @ discount).round(MONEY_DP),
        }
    )


def _moves_table(
    instance: EstateInstance,
    assign: NDArray[np.int64],
    home: NDArray[np.int64],
    move_one_off: NDArray[np.float64],
) -> pd.DataFrame:
    s = instance.services
    b_ids = np.asarray(instance.building_ids, dtype=object)
    moved = np.flatnonzero(assign != home)
    return pd.DataFrame(
        {
            "service_id": s["service_id"].to_numpy(dtype=object)[moved],
            "agency": s["agency"].to_numpy(dtype=object)[moved],
            "name": s["name"].to_numpy(dtype=object)[moved],
            "service_type": s["service_type"].to_numpy(dtype=object)[moved],
            "from_building": b_ids[home[moved]],
            "to_building": b_ids[assign[moved]],
            "desks": s["desks"].to_numpy(dtype=float)[moved],
            "cost": move_one_off[moved].round(MONEY_DP),
        }
    )


def nearest_minutes(
    instance: EstateInstance, service_type: str, where: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Minutes from each zone to the nearest building holding ``service_type``."""
    standard = instance.access[service_type]
    is_type = (instance.services["service_type"] == service_type).to_numpy()
    hosts = np.unique(where[is_type])
    minutes = instance.travel[standard.mode].minutes
    if len(hosts) == 0:
        return np.full(minutes.shape[0], np.inf)
    return np.asarray(minutes[:, hosts].min(axis=1), dtype=float)


def _access_tables(
    instance: EstateInstance, assign: NDArray[np.int64], home: NDArray[np.int64]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    weight = instance.zone_weight()
    total = weight.sum()
    zone_ids = instance.zones["zone_id"].to_numpy(dtype=object)
    population = instance.zones["population"].to_numpy(dtype=float)
    parts, summary = [], []
    for k in sorted(instance.access):
        standard = instance.access[k]
        before = nearest_minutes(instance, k, home)
        after = nearest_minutes(instance, k, assign)
        in_before = reachable(before, standard.max_minutes)
        in_after = reachable(after, standard.max_minutes)
        parts.append(
            pd.DataFrame(
                {
                    "service_type": k,
                    "zone_id": zone_ids,
                    "population": population,
                    "mode": standard.mode,
                    "max_minutes": standard.max_minutes,
                    "minutes_before": np.where(np.isfinite(before), before, np.nan).round(
                        MINUTES_DP
                    ),
                    "minutes_after": np.where(np.isfinite(after), after, np.nan).round(MINUTES_DP),
                    "within_before": in_before,
                    "within_after": in_after,
                }
            )
        )
        share_before = float(weight[in_before].sum() / total) if total > 0 else 1.0
        share_after = float(weight[in_after].sum() / total) if total > 0 else 1.0
        summary.append(
            {
                "service_type": k,
                "mode": standard.mode,
                "max_minutes": standard.max_minutes,
                "share_before": round(share_before, SHARE_DP),
                "share_after": round(share_after, SHARE_DP),
                "target_share": round(standard.target_share(share_before), SHARE_DP),
                "mean_minutes_before": _weighted_mean(before, weight),
                "mean_minutes_after": _weighted_mean(after, weight),
                "buildings_before": len(np.unique(home[_of_type(instance, k)])),
                "buildings_after": len(np.unique(assign[_of_type(instance, k)])),
            }
        )
    access = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return access, pd.DataFrame(summary)


def _of_type(instance: EstateInstance, service_type: str) -> NDArray[np.bool_]:
    return (instance.services["service_type"] == service_type).to_numpy()


def _weighted_mean(minutes: NDArray[np.float64], weight: NDArray[np.float64]) -> float | None:
    finite = np.isfinite(minutes) & (weight > 0)
    if not finite.any():
        return None
    return round(float(np.average(minutes[finite], weights=weight[finite])), MINUTES_DP)


def _agency_table(
    instance: EstateInstance,
    cash: pd.DataFrame,
    buildings: pd.DataFrame,
    moves: pd.DataFrame,
    discount: NDArray[np.float64],
) -> pd.DataFrame:
    cash = cash.assign(
        baseline_pv=cash["baseline_gbp"] * discount[cash["year"].to_numpy()],
        scenario_pv=cash["scenario_gbp"] * discount[cash["year"].to_numpy()],
    )
    rows = []
    for agency, mine in cash.groupby("agency", sort=True):
        net = mine.groupby("year")["saving_gbp"].sum().sort_index()
        own = buildings.loc[buildings["agency"] == agency]
        disposed = own.loc[own["decision"] == "dispose"]
        one_off = mine.loc[mine["category"].isin(["moves", "dilapidations"]), "scenario_gbp"].sum()
        backlog = mine.loc[mine["category"] == "backlog"]
        rows.append(
            {
                "agency": agency,
                "baseline_present_cost": round(float(mine["baseline_pv"].sum()), MONEY_DP),
                "scenario_present_cost": round(float(mine["scenario_pv"].sum()), MONEY_DP),
                "npv_saving": round(
                    float(mine["baseline_pv"].sum() - mine["scenario_pv"].sum()), MONEY_DP
                ),
                "annual_revenue_saving": round(float(disposed["running_cost_gbp"].sum()), MONEY_DP),
                "capital_receipts": round(float(disposed["capital_receipt_gbp"].sum()), MONEY_DP),
                "one_off_costs": round(float(one_off), MONEY_DP),
                "backlog_avoided": round(
                    float(backlog["baseline_gbp"].sum() - backlog["scenario_gbp"].sum()), MONEY_DP
                ),
                "buildings_before": len(own),
                "buildings_disposed": len(disposed),
                "services_moved": int((moves["agency"] == agency).sum()),
                "payback_year": payback_year(net),
            }
        )
    table = pd.DataFrame(rows)
    table["payback_year"] = table["payback_year"].astype("Int64")
    return table


def payback_year(net_saving_by_year: pd.Series) -> int | None:
    """First year whose cumulative net saving (undiscounted, real) is >= 0.

    ``None`` when nothing changes (every year saves exactly nothing) or when the
    cumulative saving is still negative at the horizon.
    """
    values = net_saving_by_year.to_numpy(dtype=float)
    if np.allclose(values, 0.0, atol=0.005):
        return None
    cumulative = np.cumsum(values)
    ok = np.flatnonzero(cumulative >= -0.005)
    return int(net_saving_by_year.index[ok[0]]) if len(ok) else None


def _violations(
    instance: EstateInstance,
    keep: NDArray[np.bool_],
    assign: NDArray[np.int64],
    home: NDArray[np.int64],
    summary: pd.DataFrame,
) -> list[str]:
    b = instance.buildings
    s = instance.services
    ids = instance.building_ids
    out = []
    for i in np.flatnonzero(b["must_retain"].to_numpy(dtype=bool) & ~keep):
        out.append(f"building {ids[i]} must be retained")
    for j in np.flatnonzero(~keep[assign]):
        out.append(f"service {s['service_id'].iloc[j]} is in disposed building {ids[assign[j]]}")
    for j in np.flatnonzero(~s["movable"].to_numpy(dtype=bool) & (assign != home)):
        out.append(f"service {s['service_id'].iloc[j]} cannot move")
    used = np.bincount(assign, weights=s["desks"].to_numpy(dtype=float), minlength=len(b))
    cap = b["capacity_desks"].to_numpy(dtype=float) * instance.policy.utilisation
    for i in np.flatnonzero(used > cap + 1e-6):
        if keep[i]:
            out.append(f"building {ids[i]} over capacity: {used[i]:g} > {cap[i]:g} desks")
    agency = s["agency"].to_numpy(dtype=object)
    b_agency = b["agency"].to_numpy(dtype=object)
    foreign = (assign != home) & (b_agency[assign] != agency)
    siloed = instance.policy.sharing == "siloed"
    for j in np.flatnonzero(foreign & (siloed | ~b["can_host"].to_numpy(dtype=bool)[assign])):
        out.append(f"service {s['service_id'].iloc[j]} may not move into {ids[assign[j]]}")
    for j in np.flatnonzero(s["exclusive"].to_numpy(dtype=bool)):
        others = set(agency[assign == assign[j]]) - {agency[j]}
        if others:
            out.append(f"exclusive service {s['service_id'].iloc[j]} shares with {sorted(others)}")
    for row in summary.itertuples():
        if row.share_after + 1e-6 < row.target_share:
            out.append(
                f"access to {row.service_type}: {row.share_after:.4f} of population within "
                f"{row.max_minutes:g} min, below the required {row.target_share:.4f}"
            )
    return out
