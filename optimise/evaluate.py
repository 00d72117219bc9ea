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
    CONVERSIONS,
    DILAPIDATIONS,
    MOVES,
    OCCUPANCY,
    ONE_OFF_CATEGORIES,
    RECEIPTS,
    discount_factors,
    exit_year_after,
    instance_cash_flows,
    lease_event_years,
    move_costs,
)
from optimise.formulation import ACCESS_TOL_MINUTES, reachable
from optimise.instance import EstateInstance
from optimise.reasons import disposal_reasons
from optimise.settings import AccessStandard, Mode
from optimise.space import SPACE_TOL_M2

MONEY_DP = 2
SHARE_DP = 6
MINUTES_DP = 3
SHARE_EPS = 1e-9


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


@dataclass(frozen=True)
class Allocation:
    """Where each service ends up: (service, building, share) triplets.

    A service that is not ``divisible`` has one triplet with share 1; a divisible one
    may be split across buildings (shares summing to 1).
    """

    service: NDArray[np.int64]
    building: NDArray[np.int64]
    share: NDArray[np.float64]

    @classmethod
    def single(cls, assign: NDArray[np.int64]) -> Allocation:
        assign = np.asarray(assign, dtype=np.int64)
        return cls(np.arange(len(assign), dtype=np.int64), assign, np.ones(len(assign)))

    def main_building(self, n_services: int) -> NDArray[np.int64]:
        """The building holding the largest share of each service."""
        order = np.lexsort((self.building, -self.share, self.service))
        first = np.unique(self.service[order], return_index=True)[1]
        out = np.full(n_services, -1, dtype=np.int64)
        out[self.service[order][first]] = self.building[order][first]
        return out


def evaluate(
    instance: EstateInstance,
    keep: NDArray[np.bool_],
    assign: NDArray[np.int64] | Allocation,
    exit_years: NDArray[np.int64] | None = None,
    move_years: NDArray[np.int64] | None = None,
) -> Evaluation:
    """Price and check a decision.

    Parameters
    ----------
    keep
        One flag per building (row order of ``instance.buildings``).
    assign
        Index of the building each service is in after the change, or an
        :class:`Allocation` when divisible services are split.
    exit_years, move_years
        For a phased plan (:mod:`optimise.phasing`): the last year each building costs
        money if disposed of, and the year each service that moves moves (and pays for
        it).  By default the single-period timing: every move in year 1, except a move
        into space that must first be fitted out, in the year after its lead time; a
        disposed building is vacated when its last service has left and exits as
        :func:`optimise.finance.exit_year_after` says.
    """
    keep = np.asarray(keep, dtype=bool)
    alloc = assign if isinstance(assign, Allocation) else Allocation.single(assign)
    finance = instance.finance
    discount = discount_factors(finance)
    horizon = finance.horizon_years
    home = instance.home_index()
    moved = alloc.building != home[alloc.service]
    placed = _placements(instance, alloc, home)
    if move_years is None:
        arrive = np.where(moved, 1 + placed.lead, 1)
    else:
        paid = np.asarray(move_years, dtype=np.int64)
        if paid.shape != (len(instance.services),) or (paid < 1).any() or (paid > horizon).any():
            raise ValueError("move_years needs one year within the horizon a service")
        arrive = np.where(moved, paid[alloc.service], 1)
    if exit_years is None:
        exit_years = single_period_exits(instance, keep, alloc, arrive)
    flows = instance_cash_flows(instance, exit_years)
    scenario = np.where(keep[:, None, None], flows.keep, flows.dispose)
    scenario[:, OCCUPANCY, :] = _occupancy(instance, alloc, home, arrive, horizon)

    move_one_off = move_costs(instance.services, finance)
    placement = _placement_costs(instance, alloc)
    per_move = np.where(moved, move_one_off[alloc.service], 0.0) * alloc.share + placement
    n_s, n_y = len(instance.services), len(discount)
    service_flows = np.zeros((n_s, len(CATEGORIES), n_y))
    at_year = alloc.service * n_y + np.minimum(arrive, horizon)
    service_flows[:, MOVES, :] = np.bincount(at_year, per_move, n_s * n_y).reshape(n_s, n_y)
    service_flows[:, CONVERSIONS, 1] = np.bincount(alloc.service, placed.conversion_cost, n_s)
    baseline_pv = float((flows.keep.sum(axis=1) @ discount).sum())
    scenario_pv = float(
        (scenario.sum(axis=1) @ discount).sum() + (service_flows.sum(axis=1) @ discount).sum()
    )

    cash = _cash_flow_table(instance, flows.keep, scenario, service_flows)
    buildings = _building_table(
        instance, keep, alloc, home, flows.exit_years, scenario, discount, placed
    )
    moves = _moves_table(instance, alloc, home, move_one_off, placement, placed, arrive)
    access, summary, increase_broken = _access_tables(instance, alloc, home)
    buildings = _with_reasons(
        instance,
        alloc,
        home,
        arrive,
        flows.keep,
        scenario,
        service_flows,
        discount,
        buildings,
        moves,
        access,
    )
    agencies = _agency_table(instance, cash, buildings, moves, discount)
    one_off = np.asarray(
        np.bincount(alloc.service, weights=per_move + placed.conversion_cost, minlength=n_s),
        dtype=float,
    )
    violations = _violations(instance, keep, alloc, home, summary, one_off, scenario)
    violations += _space_violations(instance, keep, alloc, home, placed, arrive)
    violations += [message for _, message in increase_broken]
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


@dataclass(frozen=True)
class Placements:
    """Per triplet of an allocation: whether space allows it, whether the space must be
    fitted out (and from which type, at what lead time and cost)."""

    allowed: NDArray[np.bool_]
    fitted: NDArray[np.bool_]
    source: NDArray[np.int64]  # space type the m2 come out of (its own type if not fitted)
    lead: NDArray[np.int64]
    conversion_cost: NDArray[np.float64]  # GBP one-off, with optimism bias


def _placements(instance: EstateInstance, alloc: Allocation, home: NDArray[np.int64]) -> Placements:
    """Read the space each triplet takes from the space model's own tables."""
    space = instance.spaces
    n = len(alloc.service)
    need = space.need_type[alloc.service]
    allowed = np.ones(n, dtype=bool)
    fitted = np.zeros(n, dtype=bool)
    source = need.copy()
    lead = np.zeros(n, dtype=np.int64)
    cost = np.zeros(n)
    options = {(o.building, o.to): o for o in space.conversions}
    uplift = 1.0 + instance.finance.optimism_bias
    for i in range(n):
        b, s = int(alloc.building[i]), int(alloc.service[i])
        if b == home[s] or not space.ruled[b] or space.area_m2[b, need[i]] > SPACE_TOL_M2:
            continue
        option = options.get((b, int(need[i])))
        if option is None:
            allowed[i] = False
            continue
        fitted[i] = True
        source[i] = option.source
        lead[i] = option.lead_years
        cost[i] = space.floor_m2[s] * alloc.share[i] * option.cost_per_m2 * uplift
    return Placements(allowed, fitted, source, lead, cost)


def single_period_exits(
    instance: EstateInstance,
    keep: NDArray[np.bool_],
    alloc: Allocation,
    arrive: NDArray[np.int64],
) -> NDArray[np.int64]:
    """The exit year of each building if disposed of: vacated in the year its last
    service leaves (year 1 unless one waits for a fit-out elsewhere)."""
    b = instance.buildings
    finance = instance.finance
    home = instance.home_index()
    vacate = np.ones(len(b), dtype=np.int64)
    leaving = alloc.building != home[alloc.service]
    np.maximum.at(vacate, home[alloc.service[leaving]], arrive[leaving])
    exits = []
    for i, (t, brk, end) in enumerate(
        zip(b["tenure"], b["lease_break"], b["lease_end"], strict=True)
    ):
        events = lease_event_years(t, brk, end, finance)
        exits.append(exit_year_after(events, int(vacate[i]) if not keep[i] else 1, finance))
    return np.asarray(exits, dtype=np.int64)


def _occupancy(
    instance: EstateInstance,
    alloc: Allocation,
    home: NDArray[np.int64],
    arrive: NDArray[np.int64],
    horizon: int,
) -> NDArray[np.float64]:
    """Occupancy costs by building and year: each service at home until it arrives at
    its new building, there after."""
    space = instance.spaces
    out = np.zeros((len(instance.buildings), horizon + 1))
    years = np.arange(horizon + 1)
    floor = space.floor_m2[alloc.service] * alloc.share
    origin = home[alloc.service]
    at_home = (years[None, :] >= 1) & (years[None, :] < arrive[:, None])
    there = years[None, :] >= arrive[:, None]
    np.add.at(out, origin, at_home * (floor * space.occupancy_rate[origin])[:, None])
    np.add.at(out, alloc.building, there * (floor * space.occupancy_rate[alloc.building])[:, None])
    return out


def _placement_costs(instance: EstateInstance, alloc: Allocation) -> NDArray[np.float64]:
    """Per triplet: the instance's assignment cost of that placement, times its share."""
    if instance.assignment_cost is None:
        return np.zeros(len(alloc.service))
    return instance.assignment_cost[alloc.service, alloc.building] * alloc.share


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
    alloc: Allocation,
    home: NDArray[np.int64],
    exit_years: NDArray[np.int64],
    scenario: NDArray[np.float64],
    discount: NDArray[np.float64],
    placed: Placements,
) -> pd.DataFrame:
    b = instance.buildings
    space = instance.spaces
    n = len(b)
    moved = (alloc.building != home[alloc.service]) & (alloc.share > SHARE_EPS)
    desks = instance.services["desks"].to_numpy(dtype=float)
    arriving = np.bincount(alloc.building[moved], minlength=n)
    leaving_services = np.unique(alloc.service[moved])
    leaving = np.bincount(home[leaving_services], minlength=n)
    decision = np.where(~keep, "dispose", np.where(arriving > 0, "host", "retain"))
    leasehold = (b["tenure"] == "leasehold").to_numpy()
    disposed = ~keep
    horizon = instance.finance.horizon_years
    receipt = np.where(
        disposed & ~leasehold & (exit_years <= horizon),
        scenario[:, RECEIPTS].sum(axis=1) * -1.0,
        0.0,
    )
    floor = space.floor_m2
    fitted = np.bincount(
        alloc.building[placed.fitted],
        weights=floor[alloc.service[placed.fitted]] * alloc.share[placed.fitted],
        minlength=n,
    )
    b_type = b["building_type"] if "building_type" in b.columns else pd.Series([""] * n)
    return pd.DataFrame(
        {
            "building_id": b["building_id"].to_numpy(dtype=object),
            "agency": b["agency"].to_numpy(dtype=object),
            "name": b["name"].to_numpy(dtype=object),
            "building_type": b_type.fillna("").to_numpy(dtype=object),
            "decision": decision,
            "tenure": b["tenure"].to_numpy(dtype=object),
            "exit_year": np.where(disposed, exit_years, 0),
            "capacity_desks": b["capacity_desks"].to_numpy(dtype=float),
            "desks_before": np.bincount(home, weights=desks, minlength=n),
            "desks_after": np.bincount(
                alloc.building, weights=desks[alloc.service] * alloc.share, minlength=n
            ).round(6),
            "floor_m2_before": np.bincount(home, weights=floor, minlength=n).round(2),
            "floor_m2_after": np.bincount(
                alloc.building, weights=floor[alloc.service] * alloc.share, minlength=n
            ).round(2),
            "fitted_out_m2": fitted.round(2),
            "services_in": arriving,
            "services_out": leaving,
            "running_cost_gbp": b["running_cost"].to_numpy(dtype=float),
            "running_cost_fixed_gbp": space.fixed_running.round(MONEY_DP),
            "occupancy_cost_per_m2": space.occupancy_rate.round(4),
            "backlog_cost_gbp": b["backlog_cost"].to_numpy(dtype=float),
            "capital_receipt_gbp": receipt.round(MONEY_DP),
            "dilapidations_gbp": scenario[:, DILAPIDATIONS].sum(axis=1).round(MONEY_DP),
            "scenario_present_cost_gbp": (scenario.sum(axis=1) @ discount).round(MONEY_DP),
        }
    )


def _with_reasons(
    instance: EstateInstance,
    alloc: Allocation,
    home: NDArray[np.int64],
    arrive: NDArray[np.int64],
    baseline: NDArray[np.float64],
    scenario: NDArray[np.float64],
    service_flows: NDArray[np.float64],
    discount: NDArray[np.float64],
    buildings: pd.DataFrame,
    moves: pd.DataFrame,
    access: pd.DataFrame,
) -> pd.DataFrame:
    """The buildings table with the reasons for each disposal (:mod:`optimise.reasons`)."""
    space = instance.spaces
    n_b = len(instance.buildings)
    own_pv = (baseline.sum(axis=1) - scenario.sum(axis=1)) @ discount
    leaving = alloc.building != home[alloc.service]
    origin = home[alloc.service[leaving]]
    dest = alloc.building[leaving]
    yearly = (
        space.floor_m2[alloc.service[leaving]] * alloc.share[leaving] * space.occupancy_rate[dest]
    )
    cumulative = np.cumsum(discount)
    there = cumulative[-1] - cumulative[np.minimum(arrive[leaving], len(discount)) - 1]
    moved_services = np.unique(alloc.service[leaving])
    one_off_pv = np.zeros(len(instance.services))
    one_off_pv[moved_services] = service_flows[moved_services].sum(axis=1) @ discount
    service_pv = np.asarray(np.bincount(origin, weights=yearly * there, minlength=n_b), float)
    service_pv += np.bincount(
        home[moved_services], weights=one_off_pv[moved_services], minlength=n_b
    )
    annual_elsewhere = np.asarray(np.bincount(origin, weights=yearly, minlength=n_b), float)
    reasons = disposal_reasons(
        instance, buildings, moves, access, own_pv, service_pv, annual_elsewhere
    )
    return pd.concat([buildings.reset_index(drop=True), reasons], axis=1)


def _moves_table(
    instance: EstateInstance,
    alloc: Allocation,
    home: NDArray[np.int64],
    move_one_off: NDArray[np.float64],
    placement: NDArray[np.float64],
    placed: Placements,
    arrive: NDArray[np.int64],
) -> pd.DataFrame:
    """One row per service (or share of a divisible service) that moves."""
    s = instance.services
    space = instance.spaces
    b_ids = np.asarray(instance.building_ids, dtype=object)
    moved = np.flatnonzero((alloc.building != home[alloc.service]) & (alloc.share > SHARE_EPS))
    sv = alloc.service[moved]
    share = alloc.share[moved]
    types = np.asarray(space.types, dtype=object)
    return pd.DataFrame(
        {
            "year": arrive[moved].astype(np.int64),
            "service_id": s["service_id"].to_numpy(dtype=object)[sv],
            "agency": s["agency"].to_numpy(dtype=object)[sv],
            "name": s["name"].to_numpy(dtype=object)[sv],
            "service_type": s["service_type"].to_numpy(dtype=object)[sv],
            "from_building": b_ids[home[sv]],
            "to_building": b_ids[alloc.building[moved]],
            "desks": (s["desks"].to_numpy(dtype=float)[sv] * share).round(6),
            "share": share.round(6),
            "space_type": types[space.need_type[sv]],
            "floor_m2": (space.floor_m2[sv] * share).round(2),
            "fitted_out_from": np.where(placed.fitted[moved], types[placed.source[moved]], ""),
            "fit_out_cost": placed.conversion_cost[moved].round(MONEY_DP),
            "cost": (
                move_one_off[sv] * share + placement[moved] + placed.conversion_cost[moved]
            ).round(MONEY_DP),
        }
    )


def nearest_minutes(
    instance: EstateInstance, mode: Mode, hosts: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Minutes by ``mode`` from each zone to the nearest of ``hosts``."""
    minutes = instance.travel[mode].minutes
    if len(hosts) == 0:
        return np.full(minutes.shape[0], np.inf)
    return np.asarray(minutes[:, hosts].min(axis=1), dtype=float)


def hosts_of(
    instance: EstateInstance,
    service_type: str,
    service: NDArray[np.int64],
    building: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Buildings holding any part of a service of ``service_type``."""
    is_type = (instance.services["service_type"] == service_type).to_numpy()
    return np.unique(building[is_type[service]])


def reported_types(instance: EstateInstance) -> list[tuple[str, AccessStandard | None, str]]:
    """Every service type access is reported for, with its standard (None: exempt) and
    where the standard comes from (``scenario``, ``default`` or ``none``)."""
    out: list[tuple[str, AccessStandard | None, str]] = []
    for k in sorted(set(instance.access) | set(instance.access_none)):
        if k in instance.access_none:
            out.append((k, None, "none"))
        else:
            source = "default" if k in instance.access_defaulted else "scenario"
            out.append((k, instance.access[k], source))
    return out


def _modes_of(instance: EstateInstance, standard: AccessStandard | None) -> list[Mode]:
    if standard is None:
        return [m for m in instance.report_modes if m in instance.travel]
    return list(standard.travel_modes())


def _access_tables(
    instance: EstateInstance, alloc: Allocation, home: NDArray[np.int64]
) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, str]]]:
    """Minutes to the nearest service of each type, by zone and mode, before and after;
    per type the share within the standard, its target, and the largest rise; and the
    breaches of the per-zone max-increase rule, in words."""
    weight = instance.zone_weight()
    total = weight.sum()
    zone_ids = instance.zones["zone_id"].to_numpy(dtype=object)
    population = instance.zones["population"].to_numpy(dtype=float)
    everyone = np.arange(len(home), dtype=np.int64)
    present = alloc.share > SHARE_EPS
    parts, summary = [], []
    broken: list[tuple[str, str]] = []
    for k, standard, source in reported_types(instance):
        hosts_before = hosts_of(instance, k, everyone, home)
        hosts_after = hosts_of(instance, k, alloc.service[present], alloc.building[present])
        thresholds = standard.thresholds() if standard is not None else {}
        increase = standard.max_increase_minutes if standard is not None else None
        increase_modes = standard.increase_modes() if standard is not None else ()
        any_before = np.zeros(len(zone_ids), dtype=bool)
        any_after = np.zeros(len(zone_ids), dtype=bool)
        largest = -np.inf
        means: dict[str, tuple[float | None, float | None]] = {}
        modes = _modes_of(instance, standard)
        for mode in modes:
            before = nearest_minutes(instance, mode, hosts_before)
            after = nearest_minutes(instance, mode, hosts_after)
            limit = thresholds.get(mode)
            in_before = reachable(before, limit) if limit is not None else np.zeros_like(any_before)
            in_after = reachable(after, limit) if limit is not None else np.zeros_like(any_after)
            any_before |= in_before
            any_after |= in_after
            rise = _rise(before, after)
            people = (weight > 0) & np.isfinite(before)
            # protected by a max-increase rule: zones reaching it today, within the mode's
            # minutes if given; the largest rise is reported over those (or every zone
            # with people, for a type without the rule)
            guarded = people & (reachable(before, limit) if limit is not None else True)
            counted = people if increase is None else (guarded if mode in increase_modes else None)
            if counted is not None and counted.any():
                largest = max(largest, float(rise[counted].max()))
            if increase is not None and mode in increase_modes:
                bad = guarded & (rise > increase + ACCESS_TOL_MINUTES)
                if bad.any():
                    zones = ", ".join(map(str, zone_ids[bad][:5]))
                    broken.append(
                        (
                            k,
                            f"access to {k} by {mode}: {int(bad.sum())} zone(s) ({zones}) "
                            f"more than {increase:g} min further from the nearest than today "
                            f"(worst +{rise[bad].max():.1f} min)",
                        )
                    )
            means[mode] = (_weighted_mean(before, weight), _weighted_mean(after, weight))
            parts.append(
                pd.DataFrame(
                    {
                        "service_type": k,
                        "zone_id": zone_ids,
                        "population": population,
                        "mode": mode,
                        "max_minutes": np.nan if limit is None else limit,
                        "minutes_before": _finite(before).round(MINUTES_DP),
                        "minutes_after": _finite(after).round(MINUTES_DP),
                        "within_before": in_before,
                        "within_after": in_after,
                        "change_minutes": _finite(rise).round(MINUTES_DP),
                        "max_increase_minutes": (
                            increase if increase is not None and mode in increase_modes else np.nan
                        ),
                    }
                )
            )
        share_rule = bool(thresholds)
        share_before = float(weight[any_before].sum() / total) if total > 0 else 1.0
        share_after = float(weight[any_after].sum() / total) if total > 0 else 1.0
        primary = modes[0] if modes else "drive"
        summary.append(
            {
                "service_type": k,
                "standard": _standard_text(standard, source),
                "source": source,
                "modes": "+".join(modes),
                "mode": primary,
                "max_minutes": thresholds.get(primary) if share_rule else None,
                "share_before": round(share_before, SHARE_DP) if share_rule else None,
                "share_after": round(share_after, SHARE_DP) if share_rule else None,
                "target_share": (
                    round(standard.target_share(share_before), SHARE_DP)
                    if share_rule and standard is not None
                    else None
                ),
                "max_increase_minutes": increase,
                "largest_increase_minutes": (
                    round(largest, MINUTES_DP) if np.isfinite(largest) else None
                ),
                "mean_minutes_before": means.get(primary, (None, None))[0],
                "mean_minutes_after": means.get(primary, (None, None))[1],
                "buildings_before": len(hosts_before),
                "buildings_after": len(hosts_after),
            }
        )
    # With no access standard (no public-facing service) the tables still have their
    # columns, so access.csv is a header a reader can load, not an empty file.
    access = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=ACCESS_COLUMNS)
    return access, pd.DataFrame(summary, columns=ACCESS_SUMMARY_COLUMNS), broken


def access_breaches(instance: EstateInstance, alloc: Allocation) -> list[tuple[str, str]]:
    """Every access standard a placement of the services breaks, as (service type, what
    is wrong in words): the share rule against today's share, and the per-zone rule."""
    home = instance.home_index()
    _, summary, broken = _access_tables(instance, alloc, home)
    out = []
    for row in summary.itertuples():
        if row.target_share is None or pd.isna(row.target_share):
            continue
        if row.share_after + 1e-6 < row.target_share:
            out.append(
                (
                    str(row.service_type),
                    f"access to {row.service_type}: {row.share_after:.4f} of population "
                    f"within the standard ({row.standard}), below the required "
                    f"{row.target_share:.4f}",
                )
            )
    return out + broken


def _standard_text(standard: AccessStandard | None, source: str) -> str:
    if standard is None:
        return "none (the scenario sets no standard)"
    text = standard.describe()
    return f"default: {text}" if source == "default" else text


def _rise(before: NDArray[np.float64], after: NDArray[np.float64]) -> NDArray[np.float64]:
    """after - before in minutes; +inf where a zone loses every service it could reach,
    NaN where it reached none before."""
    with np.errstate(invalid="ignore"):
        rise = after - before
    rise = np.where(np.isfinite(before) & ~np.isfinite(after), np.inf, rise)
    return np.where(~np.isfinite(before), np.nan, rise)


def _finite(minutes: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.where(np.isfinite(minutes), minutes, np.nan)


ACCESS_COLUMNS = [
    "service_type",
    "zone_id",
    "population",
    "mode",
    "max_minutes",
    "minutes_before",
    "minutes_after",
    "within_before",
    "within_after",
    "change_minutes",
    "max_increase_minutes",
]
ACCESS_SUMMARY_COLUMNS = [
    "service_type",
    "standard",
    "source",
    "modes",
    "mode",
    "max_minutes",
    "share_before",
    "share_after",
    "target_share",
    "max_increase_minutes",
    "largest_increase_minutes",
    "mean_minutes_before",
    "mean_minutes_after",
    "buildings_before",
    "buildings_after",
]


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
        one_off = mine.loc[mine["category"].isin(ONE_OFF_CATEGORIES), "scenario_gbp"].sum()
        backlog = mine.loc[mine["category"] == "backlog"]
        # The backlog cash flows carry the optimism-bias uplift; the backlog avoided is
        # the backlog itself, and the uplift on it is reported beside it, not inside it.
        avoided_with_bias = float(backlog["baseline_gbp"].sum() - backlog["scenario_gbp"].sum())
        avoided = round(avoided_with_bias / (1.0 + instance.finance.optimism_bias), MONEY_DP)
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
                "backlog_avoided": avoided,
                "backlog_optimism_bias": round(avoided_with_bias - avoided, MONEY_DP),
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


def _space_violations(
    instance: EstateInstance,
    keep: NDArray[np.bool_],
    alloc: Allocation,
    home: NDArray[np.int64],
    placed: Placements,
    arrive: NDArray[np.int64],
) -> list[str]:
    """Space rules: a service only where its space type is, or may be fitted out; floor
    area by space type within what each kept building has; a service waiting for a
    fit-out only leaves a building that goes, and never moves in before it is done."""
    space = instance.spaces
    ids = instance.building_ids
    sid = instance.service_ids
    types = space.types
    out: list[str] = []
    used = alloc.share > SHARE_EPS
    for i in np.flatnonzero(used & ~placed.allowed):
        s, b = int(alloc.service[i]), int(alloc.building[i])
        out.append(
            f"service {sid[s]} needs {types[space.need_type[s]]} space, which building "
            f"{ids[b]} has not and may not have fitted out"
        )
    m2 = space.floor_m2[alloc.service] * alloc.share
    load = np.zeros_like(space.area_m2)
    ruled = space.ruled[alloc.building] & used
    np.add.at(load, (alloc.building[ruled], placed.source[ruled]), m2[ruled])
    for b, t in zip(*np.nonzero(load > space.area_m2 + 1e-6), strict=True):
        if keep[b]:
            out.append(
                f"building {ids[b]} needs {load[b, t]:,.1f} m2 of {types[t]} space (fit-outs "
                f"included) but has {space.area_m2[b, t]:,.1f} m2"
            )
    waits = used & placed.fitted & (placed.lead > 0)
    for i in np.flatnonzero(waits):
        s, b = int(alloc.service[i]), int(alloc.building[i])
        if keep[home[s]]:
            out.append(
                f"service {sid[s]} waits {placed.lead[i]} year(s) for a fit-out in {ids[b]} "
                f"but its building {ids[home[s]]} is kept: only a building that goes may hold it"
            )
        if arrive[i] < 1 + placed.lead[i]:
            out.append(
                f"service {sid[s]} moves into {ids[b]} in year {arrive[i]}, before its fit-out "
                f"is done (year {1 + placed.lead[i]})"
            )
    return out


def _violations(
    instance: EstateInstance,
    keep: NDArray[np.bool_],
    alloc: Allocation,
    home: NDArray[np.int64],
    summary: pd.DataFrame,
    per_service_one_off: NDArray[np.float64],
    scenario: NDArray[np.float64],
) -> list[str]:
    """Every rule of MODEL.md section 4 the decision breaks, in words."""
    b, s, policy = instance.buildings, instance.services, instance.policy
    ids = instance.building_ids
    sid = s["service_id"].to_numpy(dtype=object)
    out: list[str] = []
    used = alloc.share > SHARE_EPS
    sv, bv, fv = alloc.service[used], alloc.building[used], alloc.share[used]
    total = np.bincount(alloc.service, weights=alloc.share, minlength=len(s))
    for j in np.flatnonzero(np.abs(total - 1.0) > 1e-6):
        out.append(f"service {sid[j]} is placed {total[j]:g} times, not once")
    divisible = s["divisible"].to_numpy(dtype=bool) if "divisible" in s else np.zeros(len(s), bool)
    split = np.bincount(sv, minlength=len(s)) > 1
    for j in np.flatnonzero(split & ~divisible):
        out.append(f"service {sid[j]} is split across buildings but is not divisible")
    forced_keep = (
        b["must_retain"].to_numpy(dtype=bool)
        | b["building_id"].isin(policy.force_keep).to_numpy()
        | (
            ~b["agency"].isin(list(policy.agencies)).to_numpy()
            if policy.agencies is not None
            else np.zeros(len(b), bool)
        )
    )  # restated here, not taken from the instance: the check stays independent
    for i in np.flatnonzero(forced_keep & ~keep):
        out.append(f"building {ids[i]} must be kept")
    for i in np.flatnonzero(b["building_id"].isin(policy.force_dispose).to_numpy() & keep):
        out.append(f"building {ids[i]} must be disposed of")
    for j, i in zip(sv, bv, strict=True):
        if not keep[i]:
            out.append(f"service {sid[j]} is in disposed building {ids[i]}")
    moved = bv != home[sv]
    s_agency = s["agency"].to_numpy(dtype=object)
    b_agency = b["agency"].to_numpy(dtype=object)
    taking_part = (
        np.isin(s_agency, list(policy.agencies))
        if policy.agencies is not None
        else np.ones(len(s), bool)
    )
    for j in np.unique(sv[moved & ~(s["movable"].to_numpy(dtype=bool) & taking_part)[sv]]):
        out.append(f"service {sid[j]} cannot move")
    foreign = moved & (b_agency[bv] != s_agency[sv])
    host_ok = b["can_host"].to_numpy(dtype=bool)
    if policy.agencies is not None:
        host_ok = host_ok & np.isin(b_agency, list(policy.agencies))
    bad_host = foreign & ((policy.sharing == "siloed") | ~host_ok[bv])
    for j, i in zip(sv[bad_host], bv[bad_host], strict=True):
        out.append(f"service {sid[j]} may not move into {ids[i]}")
    if policy.move_radius_km is not None:
        xy = b[["easting", "northing"]].to_numpy(dtype=float)
        km = np.hypot(*(xy[bv] - xy[home[sv]]).T) / 1000.0
        for j, i in zip(
            sv[moved & (km > policy.move_radius_km + 1e-9)],
            bv[moved & (km > policy.move_radius_km + 1e-9)],
            strict=True,
        ):
            out.append(f"service {sid[j]} moves beyond {policy.move_radius_km:g} km to {ids[i]}")
    desks = s["desks"].to_numpy(dtype=float)
    load = np.bincount(bv, weights=desks[sv] * fv, minlength=len(b))
    cap = b["capacity_desks"].to_numpy(dtype=float) * policy.utilisation
    for i in np.flatnonzero(keep & (load > cap + 1e-6)):
        out.append(f"building {ids[i]} over capacity: {load[i]:g} > {cap[i]:g} desks")
    exclusive = s["exclusive"].to_numpy(dtype=bool)
    for j in np.unique(sv[exclusive[sv]]):
        where = set(bv[sv == j])
        others = {s_agency[x] for x, i in zip(sv, bv, strict=True) if i in where} - {s_agency[j]}
        if others:
            out.append(f"exclusive service {sid[j]} shares with {sorted(others)}")
    for row in summary.itertuples():
        if row.target_share is None or pd.isna(row.target_share):
            continue
        if row.share_after + 1e-6 < row.target_share:
            out.append(
                f"access to {row.service_type}: {row.share_after:.4f} of population within "
                f"the standard ({row.standard}), below the required {row.target_share:.4f}"
            )
    kept = int(keep.sum())
    if policy.keep_exactly is not None and kept != policy.keep_exactly:
        out.append(f"{kept} buildings kept, not exactly {policy.keep_exactly}")
    if policy.keep_at_most is not None and kept > policy.keep_at_most:
        out.append(f"{kept} buildings kept, more than {policy.keep_at_most}")
    dilaps = scenario[:, DILAPIDATIONS].sum(axis=1)
    budgets = []
    if policy.capital_budget is not None:
        budgets.append(
            (
                "the pooled budget",
                policy.capital_budget,
                np.ones(len(s), bool),
                np.ones(len(b), bool),
            )
        )
    for agency, amount in sorted((policy.agency_budgets or {}).items()):
        budgets.append((f"the {agency} budget", amount, s_agency == agency, b_agency == agency))
    for name, amount, mine_s, mine_b in budgets:
        spent = float(per_service_one_off[mine_s].sum() + dilaps[mine_b].sum())
        if spent > amount + 1e-6 * max(1.0, amount) + 1e-6:
            out.append(f"one-off costs {spent:,.2f} exceed {name} of {amount:,.2f}")
    return out
