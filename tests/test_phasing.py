"""The year-by-year plan (`estate plan`, :mod:`optimise.phasing`).

Checked three ways: hand-worked toys (a lease exited only at its break; a budget that
spreads the closures over years; a recycled receipt paying a later move); brute force
over random tiny estates, which enumerates every end state and every vacate year,
prices them with the finance module's cash flows and keeps only the plans whose
yearly spending fits the pot; and the phasing rules re-checked on the written
output (``buildings.csv``, ``cash_flows.csv``, ``plan.csv``) of the demo place.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from optimise import (
    AccessStandard,
    EstateModel,
    FinanceSettings,
    PolicySettings,
    SolverSettings,
    SolveStatus,
)
from optimise.finance import (
    DILAPIDATIONS,
    building_cash_flows,
    discount_factors,
    exit_year_after,
    lease_event_years,
    move_costs,
    years_until,
)
from optimise.phasing import PhasedModel
from optimise.settings import PhasingSettings
from tests.toy import building, instance, service

EXACT = SolverSettings(mip_rel_gap=0.0, time_limit_seconds=60)
BASE = dt.date(2026, 4, 1)


def on(year: int) -> str:
    """The date in appraisal year ``year`` (its last day: the anniversary)."""
    return BASE.replace(year=BASE.year + year).isoformat()


# --- hand-worked toys -----------------------------------------------------------------


def test_lease_is_exited_at_its_break_not_before() -> None:
    """A leasehold (running 10,000 a year, break in year 3, end in year 8) whose one
    desk can move into a freehold with room.  Vacating it in year 1, 2 or 3 all exit at
    the break (year 3), so the plan pays three years' rent, never fewer; vacating later
    only adds rent.  Saving against keeping for 10 years: 7 x 10,000 - 1,000 (move)
    = 69,000, and the lease's exit year in the output is 3."""
    buildings = [
        building("F", running_cost=1_000),
        building("L", running_cost=10_000, tenure="leasehold", lease_break=on(3), lease_end=on(8)),
    ]
    services = [service("s1", "F"), service("s2", "L")]
    inst = instance(buildings, services)
    phased = PhasedModel(inst, PhasingSettings()).solve(EXACT)
    assert phased.status is SolveStatus.OPTIMAL
    assert phased.evaluation is not None
    b = phased.evaluation.buildings.set_index("building_id")
    assert b.loc["L", "decision"] == "dispose"
    assert int(b.loc["L", "exit_year"]) == 3
    assert 1 <= int(b.loc["L", "vacate_year"]) <= 3
    assert phased.evaluation.npv_saving == pytest.approx(69_000, abs=0.01)


def test_budget_spreads_closures_over_years() -> None:
    """Three freeholds (running 5,000 a year) each with a 1-desk service that can move
    into the hub H (room for all).  Each move costs 1,000; the pot gets 1,000 a year, so
    one closure a year: vacate in years 1, 2 and 3.  A building vacated in year t costs
    running in years 1..t (lag 1 year), so the saving is
    sum over t=1..3 of (10 - t) x 5,000 - 1,000 = 45,000 + 40,000 + 35,000 - 3,000
    = 117,000, against 132,000 with no budget (all in year 1)."""
    buildings = [building("H", running_cost=100, capacity_desks=10)]
    buildings += [building(f"B{i}", running_cost=5_000) for i in range(1, 4)]
    services = [service("h", "H")] + [service(f"s{i}", f"B{i}") for i in range(1, 4)]
    inst = instance(buildings, services)
    unlimited = PhasedModel(inst, PhasingSettings()).solve(EXACT)
    assert unlimited.evaluation is not None
    assert unlimited.evaluation.npv_saving == pytest.approx(132_000, abs=0.01)
    tight = PhasedModel(inst, PhasingSettings(annual_budget=1_000)).solve(EXACT)
    assert tight.status is SolveStatus.OPTIMAL and tight.evaluation is not None
    assert tight.evaluation.npv_saving == pytest.approx(117_000, abs=0.01)
    vacated = tight.evaluation.buildings.set_index("building_id")["vacate_year"]
    assert sorted(int(vacated[f"B{i}"]) for i in range(1, 4)) == [1, 2, 3]
    assert tight.years is not None
    assert (tight.years["spent"] <= tight.years["available"] + 0.01).all()
    # Carrying unspent budget forward changes nothing here (every year spends it all),
    # but 3,000 in year 1 alone, carried, lets all three go at once.
    carried = PhasedModel(
        inst, PhasingSettings(annual_budget=[3_000, 0], carry_forward=True)
    ).solve(EXACT)
    assert carried.evaluation is not None
    assert carried.evaluation.npv_saving == pytest.approx(132_000, abs=0.01)


def test_recycled_receipt_pays_a_later_move() -> None:
    """Two freeholds (running 5,000) with a 1-desk service each (move 1,000) and a hub.
    The pot has nothing of its own.  B1 is worth 2,000: with receipts recycled, nothing
    can move in year 1 (nothing in the pot)... so nothing ever happens: a plan needs
    money first.  With 1,000 in year 1 only, B1 goes in year 1, sells in year 1 (lag
    1), its 2,000 receipt reaches the pot for year 2 and pays B2's move then."""
    buildings = [building("H", running_cost=100, capacity_desks=10)]
    buildings += [
        building("B1", running_cost=5_000, disposal_value=2_000),
        building("B2", running_cost=5_000),
    ]
    services = [service("h", "H"), service("s1", "B1"), service("s2", "B2")]
    inst = instance(buildings, services)
    none = PhasedModel(inst, PhasingSettings(annual_budget=0, recycle_receipts=True)).solve(EXACT)
    assert none.evaluation is not None and none.evaluation.npv_saving == pytest.approx(0.0)
    seeded = PhasingSettings(annual_budget=[1_000, 0], recycle_receipts=True)
    plan = PhasedModel(inst, seeded).solve(EXACT)
    assert plan.evaluation is not None
    vacated = plan.evaluation.buildings.set_index("building_id")["vacate_year"]
    assert int(vacated["B1"]) == 1 and int(vacated["B2"]) == 2
    # 9 x 5,000 + 2,000 - 1,000 for B1; 8 x 5,000 - 1,000 for B2.
    assert plan.evaluation.npv_saving == pytest.approx(46_000 + 39_000, abs=0.01)
    without = PhasedModel(inst, PhasingSettings(annual_budget=[1_000, 0])).solve(EXACT)
    assert without.evaluation is not None
    assert without.evaluation.npv_saving == pytest.approx(46_000, abs=0.01)  # B2 stays


# --- brute force ----------------------------------------------------------------------


def random_case(seed: int, leases: bool = True, discount: bool = True):  # type: ignore[no-untyped-def]
    """A random tiny estate (2-3 buildings, 2-4 services, leases with breaks unless not
    ``leases``) and random phasing settings: plan years, a yearly budget (or none),
    carry-forward."""
    rng = np.random.default_rng(seed)
    n_b, n_s = int(rng.integers(2, 4)), int(rng.integers(2, 5))
    buildings = []
    for i in range(n_b):
        row = building(
            f"B{i}",
            capacity_desks=int(rng.integers(3, 9)),
            running_cost=int(rng.integers(1, 12)) * 1_000,
            backlog_cost=int(rng.integers(0, 10)) * 1_000,
        )
        if rng.random() < 0.5 and leases:
            row["tenure"] = "leasehold"
            row["lease_end"] = on(int(rng.integers(2, 9)))
            if rng.random() < 0.6:
                row["lease_break"] = on(int(rng.integers(1, 5)))
            row["dilapidations"] = int(rng.integers(0, 4)) * 1_000
        else:
            row["disposal_value"] = int(rng.integers(0, 30)) * 1_000
        buildings.append(row)
    services = [
        service(f"S{j}", f"B{int(rng.integers(0, n_b))}", desks=int(rng.integers(1, 4)))
        for j in range(n_s)
    ]
    finance = FinanceSettings(
        horizon_years=8,
        discount_rate=float(rng.choice([0.0, 0.035])) if discount else 0.0,
        long_discount_rate=0.03 if discount else 0.0,
        optimism_bias=float(rng.choice([0.0, 0.2])),
        move_cost_per_desk=1_000.0,
        fit_out_per_desk=float(rng.choice([0.0, 500.0])),
        disposal_lag_years=int(rng.integers(1, 3)),
    )
    budget = None if rng.random() < 0.3 else float(rng.integers(0, 6)) * 1_000
    phasing = PhasingSettings(
        years=int(rng.integers(1, 4)), annual_budget=budget, carry_forward=bool(rng.random() < 0.4)
    )
    return instance(buildings, services, finance=finance), phasing


def brute_force_plan(inst, phasing: PhasingSettings) -> float:  # type: ignore[no-untyped-def]
    """Least present cost over every end state and every vacate year whose one-off
    spending fits the pot each year (own implementation of the phasing rules)."""
    b, s, finance = inst.buildings, inst.services, inst.finance
    n_b, horizon = len(b), finance.horizon_years
    years = phasing.years or horizon
    d = discount_factors(finance)
    ids = list(b["building_id"])
    home = [ids.index(h) for h in s["building_id"]]
    desks = s["desks"].to_numpy(float)
    cap = b["capacity_desks"].to_numpy(float)
    one_off = move_costs(s, finance)
    base = pd.Timestamp(finance.base_date)
    events = []
    for i in range(n_b):
        dates = [b["lease_break"].iloc[i], b["lease_end"].iloc[i]]
        leased = b["tenure"].iloc[i] == "leasehold"
        found = [years_until(base, pd.Timestamp(x)) for x in dates if leased and not pd.isna(x)]
        events.append(sorted({max(1, t) for t in found}))

    def exit_after(i: int, t: int) -> int:
        later = [e for e in events[i] if e >= t]
        return later[0] if later else t + finance.disposal_lag_years - 1

    allowance = np.array([phasing.budget_in(y) for y in range(1, horizon + 1)])
    best = np.inf
    for keep in itertools.product([False, True], repeat=n_b):
        gone = [i for i in range(n_b) if not keep[i]]
        for assign in itertools.product(*[[i for i in range(n_b) if keep[i]]] * len(s)):
            used = np.bincount(assign, weights=desks, minlength=n_b)
            if (used > cap + 1e-9).any():
                continue
            for when in itertools.product(range(1, years + 1), repeat=len(gone)):
                vacate = dict(zip(gone, when, strict=True))
                exits = np.array([exit_after(i, vacate.get(i, 1)) for i in range(n_b)])
                flows = building_cash_flows(b, finance, exits)
                cost = sum(
                    (flows.keep[i] if keep[i] else flows.dispose[i]).sum(axis=0) @ d
                    for i in range(n_b)
                )
                spend = np.zeros(horizon + 1)
                for i in gone:
                    spend += flows.dispose[i, DILAPIDATIONS]
                for j in range(len(s)):
                    if assign[j] != home[j]:
                        year = vacate.get(home[j], 1)
                        spend[year] += one_off[j]
                        cost += one_off[j] * d[year]
                if phasing.annual_budget is not None:
                    paid = spend[1:]
                    if phasing.carry_forward:
                        paid, room = np.cumsum(paid), np.cumsum(allowance)
                    else:
                        room = allowance
                    if (paid > room + 1e-6).any():
                        continue
                best = min(best, float(cost))
    return best


@pytest.mark.parametrize("seed", range(40))
def test_phased_plan_matches_brute_force(seed: int) -> None:
    inst, phasing = random_case(seed)
    expected = brute_force_plan(inst, phasing)
    phased = PhasedModel(inst, phasing).solve(EXACT)
    if not np.isfinite(expected):  # e.g. an over-full building the budget cannot empty
        assert phased.status is SolveStatus.INFEASIBLE
        return
    assert phased.status is SolveStatus.OPTIMAL
    assert phased.evaluation is not None
    assert phased.evaluation.present_cost == pytest.approx(expected, rel=1e-9, abs=1e-3)
    # The output obeys the rules it was solved under, checked from the tables alone.
    evaluation = phased.evaluation
    check_output(inst.finance, inst.buildings, evaluation.buildings, evaluation.cash_flows, phasing)


@pytest.mark.parametrize("seed", range(20))
def test_unlimited_budget_without_leases_reaches_the_single_period_optimum(seed: int) -> None:
    """Vacating every building in year 1 is the single-period model, so with no budget
    and no lease events the plan is worth at least the single-period optimum, and
    exactly it without discounting (nothing gains from waiting)."""
    inst, _ = random_case(seed, leases=False, discount=False)
    single = EstateModel(inst).solve(EXACT)
    phased = PhasedModel(inst, PhasingSettings()).solve(EXACT)
    assert single.evaluation is not None and phased.evaluation is not None
    assert phased.evaluation.npv_saving == pytest.approx(single.evaluation.npv_saving, abs=1e-3)


def test_phased_plan_never_below_the_single_period_plan_with_discounting() -> None:
    inst, _ = random_case(3)
    single = EstateModel(inst).solve(EXACT)
    phased = PhasedModel(inst, PhasingSettings()).solve(EXACT)
    assert single.evaluation is not None and phased.evaluation is not None
    assert phased.evaluation.npv_saving >= single.evaluation.npv_saving - 1e-3


def check_output(
    finance: FinanceSettings,
    register: pd.DataFrame,
    buildings: pd.DataFrame,
    cash_flows: pd.DataFrame,
    phasing: PhasingSettings,
) -> None:
    """No lease exited before its break or at a date that is not a lease event; no
    year's one-off spending above what the pot holds (without recycled receipts), from
    the register's leases and the plan's ``buildings`` and ``cash_flows`` tables."""
    base = pd.Timestamp(finance.base_date)
    leases = register.set_index("building_id")
    gone = buildings.loc[buildings["decision"] == "dispose"]
    for row in gone.itertuples():
        source = leases.loc[row.building_id]
        if source["tenure"] != "leasehold":
            continue
        dates = [source["lease_break"], source["lease_end"]]
        events = sorted(
            {max(1, years_until(base, pd.Timestamp(x))) for x in dates if not pd.isna(x)}
        )
        if events:
            assert int(row.exit_year) >= events[0], f"{row.building_id} exits before its break"
            if int(row.exit_year) <= events[-1]:
                assert int(row.exit_year) in events, f"{row.building_id} exits between events"
    if phasing.annual_budget is None:
        return
    one_off = cash_flows.loc[cash_flows["category"].isin(["moves", "dilapidations", "conversions"])]
    spent = one_off.groupby("year")["scenario_gbp"].sum()
    years = range(1, int(cash_flows["year"].max()) + 1)
    paid = np.array([float(spent.get(y, 0.0)) for y in years])
    room = np.array([phasing.budget_in(y) for y in years])
    if phasing.carry_forward:
        paid, room = np.cumsum(paid), np.cumsum(room)
    assert (paid <= room + 0.01).all(), f"spending {paid} exceeds the pot {room}"


# --- the command, on the demo place ---------------------------------------------------


@pytest.fixture(scope="module")
def demo_plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    from scenarios.scenario.template import init_folder

    folder = tmp_path_factory.mktemp("plan-demo")
    init_folder(folder, demo_seed=2026)
    out = folder / "plan"
    args = ["plan", str(folder / "scenario.yaml"), "--out", str(out), "--json"]
    args += ["--set", "policy.k_nearest=3", "--set", "phasing.annual_budget=250000"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


def test_plan_command_writes_a_plan_that_keeps_to_its_rules(
    demo_plan: tuple[Path, dict[str, object]],
) -> None:
    from scenarios.scenario.file import load_scenario

    out, doc = demo_plan
    assert doc["status"] in ("optimal", "feasible")
    for name in ("plan.json", "plan.csv", "buildings.csv", "cash_flows.csv", "report.html"):
        assert (out / name).is_file(), name
    assert list((out / "charts").glob("cash_flow_*.svg"))
    assert "Year-by-year plan" in (out / "report.html").read_text(encoding="utf-8")
    buildings = pd.read_csv(out / "buildings.csv")
    cash = pd.read_csv(out / "cash_flows.csv")
    sf = load_scenario(out / "scenario.yaml")
    from scenarios.scenario.inputs import load_inputs

    inputs = load_inputs(sf)
    register = inputs.register.buildings
    check_output(inputs.finance, register, buildings, cash, PhasingSettings(annual_budget=250_000))
    plan = pd.read_csv(out / "plan.csv")
    assert plan["year"].is_monotonic_increasing
    years = doc["years"]
    assert isinstance(years, list) and years
    assert all(y["spent"] <= y["available"] + 0.01 for y in years)


# --- brute force with space types, fit-outs and access in every year -------------------


def rich_case(seed: int):  # type: ignore[no-untyped-def]
    """A random tiny estate with building types and floor areas (fit-outs with a lead
    time, occupancy costs), a public library service with an access standard (or the
    default), and random phasing settings."""
    rng = np.random.default_rng(seed)
    n_b, n_s, n_z = int(rng.integers(2, 4)), int(rng.integers(2, 4)), int(rng.integers(1, 3))
    kinds = ("office", "library", "gp_surgery", "")
    buildings = []
    for i in range(n_b):
        row = building(
            f"B{i}",
            capacity_desks=int(rng.integers(4, 12)),
            running_cost=int(rng.integers(1, 12)) * 10_000,
            backlog_cost=int(rng.integers(0, 10)) * 1_000,
            building_type=kinds[int(rng.integers(0, len(kinds)))],
            gia_m2=int(rng.integers(10, 40)) * 10,
        )
        if rng.random() < 0.3:
            row["tenure"] = "leasehold"
            row["lease_end"] = on(int(rng.integers(2, 9)))
            row["dilapidations"] = int(rng.integers(0, 4)) * 1_000
        else:
            row["disposal_value"] = int(rng.integers(0, 30)) * 1_000
        buildings.append(row)
    services = []
    for j in range(n_s):
        public = rng.random() < 0.6
        services.append(
            service(
                f"S{j}",
                f"B{int(rng.integers(0, n_b))}",
                desks=int(rng.integers(1, 4)),
                service_type="library" if public else "back_office",
                public_facing=public,
            )
        )
    minutes = rng.integers(1, 25, size=(n_z, n_b)).astype(float)
    access: dict[str, AccessStandard | None] = {}
    form = int(rng.integers(0, 4)) if any(x["public_facing"] for x in services) else 0
    if form == 1:
        access["library"] = AccessStandard(max_minutes=12, max_loss=0.0)
    elif form == 2:
        access["library"] = AccessStandard(max_minutes=12, min_share=0.5)
    elif form == 3:
        access["library"] = AccessStandard(max_increase_minutes=6.0)
    finance = FinanceSettings(
        horizon_years=8,
        discount_rate=float(rng.choice([0.0, 0.035])),
        optimism_bias=float(rng.choice([0.0, 0.2])),
        move_cost_per_desk=1_000.0,
        fit_out_per_desk=float(rng.choice([0.0, 500.0])),
        disposal_lag_years=int(rng.integers(1, 3)),
    )
    budget = None if rng.random() < 0.4 else float(rng.integers(0, 8)) * 10_000
    phasing = PhasingSettings(
        years=int(rng.integers(2, 4)), annual_budget=budget, carry_forward=bool(rng.random() < 0.4)
    )
    population = rng.integers(10, 1000, size=n_z).astype(float)
    return instance(buildings, services, minutes, population, access, finance), phasing


def brute_force_rich_plan(inst, phasing: PhasingSettings) -> float:  # type: ignore[no-untyped-def]
    """Least present cost over every end state and every vacate year that keeps the
    phasing rules: fit-outs done before a service's old home closes, the pot each year,
    and every access standard in every year (own implementation)."""
    from tests.test_bruteforce import _access_ok, _space, candidates, forced

    b, s, finance = inst.buildings, inst.services, inst.finance
    n_b, horizon = len(b), finance.horizon_years
    years = phasing.years or horizon
    d = discount_factors(finance)
    area, ruled, fits, need, floor, rate, fixed, _ = _space(inst)
    must = forced(inst)
    options = candidates(inst, area, ruled, fits, need, floor, must)
    ids = list(b["building_id"])
    home = [ids.index(h) for h in s["building_id"]]
    desks = s["desks"].to_numpy(float)
    cap = b["capacity_desks"].to_numpy(float)
    one_off = move_costs(s, finance)
    weight = inst.zone_weight()
    events = [
        lease_event_years(t, x, y, finance)
        for t, x, y in zip(b["tenure"], b["lease_break"], b["lease_end"], strict=True)
    ]
    allowance = np.array([phasing.budget_in(y) for y in range(1, horizon + 1)])
    best = np.inf
    for keep in itertools.product([False, True], repeat=n_b):
        if not all(keep[i] for i in must):
            continue
        gone = [i for i in range(n_b) if not keep[i]]
        for choice in itertools.product(*[[o for o in opts if keep[o[0]]] for opts in options]):
            assign = [c[0] for c in choice]
            load = np.bincount(assign, weights=desks, minlength=n_b)
            if any(load[i] > cap[i] + 1e-9 for i in range(n_b) if keep[i]):
                continue
            m2 = np.zeros_like(area)
            for j, (i, _, fit) in enumerate(choice):
                m2[i, fit[0] if fit else need[j]] += floor[j]
            if any((m2[i] > area[i] + 1e-6).any() for i in range(n_b) if keep[i] and ruled[i]):
                continue
            if any(c[1] > 0 and keep[home[j]] for j, c in enumerate(choice)):
                continue
            if not _access_ok(inst, assign, home, weight):
                continue
            conversion = [
                floor[j] * c[2][1] * (1 + finance.optimism_bias) if c[2] else 0.0
                for j, c in enumerate(choice)
            ]
            for when in itertools.product(range(1, years + 1), repeat=len(gone)):
                vacate = dict(zip(gone, when, strict=True))
                move = [
                    vacate.get(home[j], 1) if assign[j] != home[j] else 1 for j in range(len(s))
                ]
                if any(move[j] < 1 + c[1] for j, c in enumerate(choice) if assign[j] != home[j]):
                    continue  # the new home's fit-out is not done when the old one closes
                if any(
                    not _access_ok(
                        inst,
                        [assign[j] if move[j] <= y else home[j] for j in range(len(s))],
                        home,
                        weight,
                    )
                    for y in range(1, years)
                ):
                    continue
                exits = np.array(
                    [exit_year_after(events[i], vacate.get(i, 1), finance) for i in range(n_b)]
                )
                flows = building_cash_flows(b, finance, exits, fixed)
                cost = sum(
                    (flows.keep[i] if keep[i] else flows.dispose[i]).sum(axis=0) @ d
                    for i in range(n_b)
                )
                spend = np.zeros(horizon + 1)
                for i in gone:
                    spend += flows.dispose[i, DILAPIDATIONS]
                for j in range(len(s)):
                    spend[1] += conversion[j]
                    cost += conversion[j] * d[1]
                    if assign[j] != home[j]:
                        spend[move[j]] += one_off[j]
                        cost += one_off[j] * d[move[j]]
                    for year in range(1, horizon + 1):
                        where = home[j] if year < move[j] else assign[j]
                        cost += rate[where] * floor[j] * d[year]
                if phasing.annual_budget is not None:
                    paid = spend[1:]
                    if phasing.carry_forward:
                        paid, room = np.cumsum(paid), np.cumsum(allowance)
                    else:
                        room = allowance
                    if (paid > room + 1e-6).any():
                        continue
                best = min(best, float(cost))
    return best


@pytest.mark.parametrize("seed", range(60))
def test_phased_plan_with_space_and_access_matches_brute_force(seed: int) -> None:
    inst, phasing = rich_case(seed)
    expected = brute_force_rich_plan(inst, phasing)
    phased = PhasedModel(inst, phasing).solve(EXACT)
    if not np.isfinite(expected):
        assert phased.status is SolveStatus.INFEASIBLE
        return
    assert phased.status is SolveStatus.OPTIMAL
    assert phased.evaluation is not None
    assert phased.evaluation.present_cost == pytest.approx(expected, rel=1e-9, abs=1e-3)


def _two_libraries():  # type: ignore[no-untyped-def]
    """Two libraries, each in a building costing 20,000 a year; each may move only into
    its own agency's cheap hub (siloed).  Zone Z1 is 5 minutes from A and from the nhs
    hub Y, Z2 from B and from the council hub X: after the change X and Y serve them
    crosswise, so whichever library moves first leaves a zone without one until the
    other has moved too."""
    buildings = [
        building("A", agency="council", running_cost=20_000),
        building("B", agency="nhs", running_cost=20_000),
        building("X", agency="council", running_cost=100),
        building("Y", agency="nhs", running_cost=100),
    ]
    services = [
        service("LA", "A", agency="council", service_type="library", public_facing=True),
        service("LB", "B", agency="nhs", service_type="library", public_facing=True),
    ]
    minutes = [[5, 30, 30, 5], [30, 5, 5, 30]]
    access = {"library": AccessStandard(drive=10, max_loss=0.0)}
    policy = PolicySettings(sharing="siloed")
    return instance(buildings, services, minutes, [100, 100], access, policy=policy)


def test_a_library_never_closes_before_its_replacement_opens() -> None:
    """The pot gets 1,000 a year (one move) and carries it forward.  Moving one library
    in year 1 and the other in year 2 would leave a zone without a library within 10
    minutes for year 1, so both move in year 2 (both buildings held a year longer, to
    their sale at the end of year 2): saving 2 x 8 x 20,000 - 2 x 1,000 (moves) =
    318,000, against 9 x 20,000 + 8 x 20,000 - 2,000 = 338,000 if access in year 1 did
    not count."""
    inst = _two_libraries()
    phasing = PhasingSettings(annual_budget=1_000, carry_forward=True)
    plan = PhasedModel(inst, phasing).solve(EXACT)
    assert plan.status is SolveStatus.OPTIMAL and plan.evaluation is not None
    b = plan.evaluation.buildings.set_index("building_id")
    assert list(b.loc[["A", "B"], "vacate_year"]) == [2, 2]
    assert plan.evaluation.npv_saving == pytest.approx(
        2 * 9 * 20_000 - 20_000 * 2 - 2_000, abs=0.01
    )
    assert "access kept in every year" in plan.result.detail


def test_without_the_yearly_rows_the_plan_would_break_access_in_year_1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same estate with the yearly access rows switched off: the plan staggers the
    moves and a zone goes without a library in year 1, which the plan's own check
    refuses to return."""
    import optimise.phasing as phasing_module
    from estate.errors import SolverError

    monkeypatch.setattr(phasing_module, "breached_pairs", lambda *args: [])
    inst = _two_libraries()
    with pytest.raises(SolverError, match="year 1: access to library"):
        PhasedModel(inst, PhasingSettings(annual_budget=1_000, carry_forward=True)).solve(EXACT)


@pytest.fixture(scope="module")
def demo_plan_300k(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """The demo's plan with a 300,000 pot a year: before plans kept access in every year,
    a library closed in year 3 before its replacement opened (8,813 people outside)."""
    from scenarios.scenario.template import init_folder

    folder = tmp_path_factory.mktemp("plan-demo-300k")
    init_folder(folder, demo_seed=2026)
    out = folder / "plan"
    args = ["plan", str(folder / "scenario.yaml"), "--out", str(out), "--json"]
    result = CliRunner().invoke(main, [*args, "--set", "phasing.annual_budget=300000"])
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


def test_every_access_standard_holds_in_every_year_of_the_demo_plan(
    demo_plan_300k: tuple[Path, dict[str, object]],
) -> None:
    """From the plan's own outputs (plan.csv, inputs/, scenario.yaml) and travel times
    recomputed from its inputs: in every year of the budgeted plan, where each service is
    that year keeps every standard (a type without one in the scenario: nobody further
    from it than today, by the scenario's modes)."""
    from scenarios.running.run import mode_travel_times
    from scenarios.scenario.file import load_scenario
    from scenarios.scenario.inputs import load_inputs

    out, doc = demo_plan_300k
    inputs = load_inputs(load_scenario(out / "scenario.yaml"))
    services = inputs.register.services
    zones = inputs.zones
    weight = (zones["population"] * zones["weight"]).to_numpy(float)
    given = dict(inputs.access)
    modes = sorted({m for v in given.values() if v for m in v.travel_modes()}) or ["drive"]
    public = set(services.loc[services["public_facing"], "service_type"])
    standards = {k: v for k, v in given.items() if v is not None}
    for k in public - set(given):
        standards[k] = AccessStandard(max_increase_minutes=0.0, modes=tuple(modes))
    times = {
        m: mode_travel_times(inputs.register, zones, inputs.network, m).frame()
        for m in ("drive", "walk")
    }
    plan = pd.read_csv(out / "plan.csv", dtype={"service_id": str}, keep_default_na=False)
    moved = plan.loc[plan["action"] == "move"].set_index("service_id")
    assert plan["year"].max() > 1, "the budget spreads the plan over several years"
    home = services.set_index("service_id")["building_id"]

    def hosts(k: str, year: int) -> list[str]:
        mine = services.loc[services["service_type"] == k, "service_id"]
        where = [
            moved.at[s, "to_building"]
            if s in moved.index and moved.at[s, "year"] <= year
            else home[s]
            for s in mine
        ]
        return sorted(set(where))

    checked = 0
    for year in range(1, int(doc["plan_years"]) + 1):
        for k, standard in standards.items():
            before, after = hosts(k, 0), hosts(k, year)
            if standard.thresholds():
                within = {y: np.zeros(len(zones), bool) for y in ("before", "after")}
                for mode, limit in standard.thresholds().items():
                    within["before"] |= (times[mode][before].min(axis=1) <= limit + 1e-9).to_numpy()
                    within["after"] |= (times[mode][after].min(axis=1) <= limit + 1e-9).to_numpy()
                share = {y: weight[w].sum() / weight.sum() for y, w in within.items()}
                assert share["after"] >= standard.target_share(share["before"]) - 1e-6, (k, year)
            if standard.max_increase_minutes is not None:
                for mode in standard.increase_modes():
                    was = times[mode][before].min(axis=1).to_numpy()
                    now = times[mode][after].min(axis=1).to_numpy()
                    guard = (weight > 0) & (was <= standard.thresholds().get(mode, np.inf))
                    rise = now - was
                    assert (rise[guard] <= standard.max_increase_minutes + 1e-6).all(), (k, year)
            checked += 1
    assert checked >= 2 * len(standards)
