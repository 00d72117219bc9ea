"""Who pays, who gains: Shapley values, the core, and transfers (`estate share`).

The estate toy (:func:`write_toy`) is worked by hand.  Finance is plain sums: no
discounting, no optimism bias, 1,000 a desk moved, no fit-out, a one-year disposal
lag, a 10-year horizon, no receipts.  Agencies A, B and C each hold one freehold
building (running costs 1,000, 2,000 and 3,000 a year; 10 desks each) with one
1-desk back-office service.  Closing a building and moving its service into a
partner's saves ``10 r - r - 1,000 = 9 r - 1,000`` (nine years' running cost net of
the lag year, less the move).  An agency alone has nowhere to move to:

    v(A) = v(B) = v(C) = 0
    v(AB) = 9 x 2,000 - 1,000 = 17,000          (close B1, move into A1)
    v(AC) = v(BC) = 9 x 3,000 - 1,000 = 26,000  (close C1)
    v(ABC) = 9 x (2,000 + 3,000) - 2,000 = 43,000 (close B1 and C1, all into A1)

Shapley value, the mean of marginal contributions over the 6 orders:

    order:  ABC     ACB     BAC     BCA     CAB     CBA     mean
    A       0       0       17,000  17,000  26,000  17,000  77,000 / 6 = 12,833.33
    B       17,000  17,000  0       0       17,000  26,000  77,000 / 6 = 12,833.33
    C       26,000  26,000  26,000  26,000  0       0      104,000 / 6 = 17,333.33

A and B are symmetric (v(A+S) = v(B+S) for every S holding neither), so equal.  Where
the money lands in the grand plan: A hosts and saves nothing; B banks 18,000 running
cost less its 1,000 move = 17,000; C banks 27,000 - 1,000 = 26,000.  So A is paid
12,833.33 and B and C pay 4,166.67 and 8,666.67.  The game is convex, so the Shapley
value is in the core.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import main
from estate.errors import SettingsError
from scenarios.scenario.file import load_scenario
from scenarios.sharing.shapley import (
    all_coalitions,
    core_check,
    exact_shapley,
    repair,
    sample_orders,
    sampled_shapley,
)
from scenarios.sharing.share import ShareOptions, share_scenario

HAND = {"A": 77_000 / 6, "B": 77_000 / 6, "C": 104_000 / 6}
LANDS = {"A": 0.0, "B": 17_000.0, "C": 26_000.0}

FINANCE = """\
finance:
  horizon_years: 10
  discount_rate: 0.0
  long_discount_rate: 0.0
  optimism_bias: 0.0
  move_cost_per_desk: 1000
  fit_out_per_desk: 0
  disposal_lag_years: 1
solver:
  mip_rel_gap: 0.0
"""


def game(values: dict[str, float], players: str) -> tuple[dict[int, float], dict[int, float]]:
    """A game given by coalition names ("AB": 17000) as exact intervals over masks."""
    lo = {}
    for mask in all_coalitions(len(players)):
        name = "".join(p for i, p in enumerate(players) if mask >> i & 1)
        lo[mask] = float(values.get(name, 0.0))
    return lo, dict(lo)


TOY_GAME = {"AB": 17_000, "AC": 26_000, "BC": 26_000, "ABC": 43_000}


# --- the arithmetic of the game -------------------------------------------------------------


def test_exact_shapley_of_the_hand_worked_game() -> None:
    values = repair(*game(TOY_GAME, "ABC"))
    shares = exact_shapley(["A", "B", "C"], values)
    assert shares.shapley == pytest.approx([HAND["A"], HAND["B"], HAND["C"]], abs=1e-6)
    assert shares.total == pytest.approx(43_000, abs=1e-6)
    assert shares.method == "exact"
    assert shares.uncertainty == pytest.approx([0, 0, 0])


def test_majority_game_has_an_empty_core_with_least_core_one_third() -> None:
    # Any two of three agencies make 1m, all three make 1m: every pair would take it all.
    million = 1_000_000.0
    values = repair(*game({"AB": million, "AC": million, "BC": million, "ABC": million}, "ABC"))
    shares = exact_shapley(["A", "B", "C"], values)
    assert shares.shapley == pytest.approx([million / 3] * 3)
    core = core_check(values, shares.shapley, 3)
    assert not core.in_core
    assert {m for m, _ in core.blocking} == {0b011, 0b101, 0b110}
    assert core.blocking[0][1] == pytest.approx(million / 3)
    assert core.least_core_epsilon == pytest.approx(million / 3, rel=1e-7)


def test_convex_game_is_in_the_core() -> None:
    values = repair(*game(TOY_GAME, "ABC"))
    core = core_check(values, exact_shapley(["A", "B", "C"], values).shapley, 3)
    assert core.in_core and not core.blocking
    assert core.least_core_epsilon is not None and core.least_core_epsilon <= 1e-6


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_games_share_exactly_and_treat_nulls_and_twins_alike(seed: int) -> None:
    """Random superadditive-ish games over 5 players with player 4 a null player and
    players 0 and 1 twins: efficiency, symmetry and the null player, exactly."""
    rng = np.random.default_rng(seed)
    n = 5
    drawn: dict[tuple[int, frozenset[int]], float] = {}
    lo: dict[int, float] = {}
    for mask in all_coalitions(n):
        twins = (mask & 1) + (mask >> 1 & 1)  # how many of players 0 and 1
        others = frozenset(i for i in (2, 3) if mask >> i & 1)  # player 4 is ignored
        key = (twins, others)
        if key not in drawn:
            drawn[key] = 0.0 if key == (0, frozenset()) else float(rng.integers(0, 10_000))
        lo[mask] = drawn[key]
    values = repair(lo, dict(lo))
    shares = exact_shapley([f"p{i}" for i in range(n)], values)
    grand = (1 << n) - 1
    assert shares.total == pytest.approx(values.lo[grand], abs=1e-6)
    assert shares.shapley[0] == pytest.approx(shares.shapley[1], abs=1e-6)
    assert shares.shapley[4] == pytest.approx(0.0, abs=1e-6)


def test_sampled_shapley_adds_up_and_converges_to_the_exact_value() -> None:
    values = repair(*game(TOY_GAME, "ABC"))
    orders = sample_orders(3, 4000, seed=7)
    shares = sampled_shapley(["A", "B", "C"], values, orders)
    assert shares.total == pytest.approx(43_000, abs=1e-6)  # every order adds up
    assert shares.method == "sampled" and shares.samples == 4000
    exact = np.array([HAND["A"], HAND["B"], HAND["C"]])
    # Within four standard errors of the truth, and the errors are honest (non-zero).
    assert (shares.standard_error > 0).all()
    assert (np.abs(shares.shapley - exact) <= 4 * shares.standard_error).all()
    again = sampled_shapley(["A", "B", "C"], values, sample_orders(3, 4000, seed=7))
    assert (again.shapley == shares.shapley).all()  # seeded


def test_repair_restores_monotonicity_from_solver_noise() -> None:
    # The solver found less for AB than for A alone: AB may always do what A does.
    lo = {0b001: 100.0, 0b010: 0.0, 0b011: 90.0}
    hi = {0b001: 120.0, 0b010: 10.0, 0b011: 95.0}
    values = repair(lo, hi)
    assert values.lo[0b011] == 100.0 and values.source[0b011] == 0b001
    # A's bound cannot exceed its superset's: A alone can do no better than AB at best.
    assert values.hi[0b001] == pytest.approx(100.0)
    assert values.hi[0b011] >= values.lo[0b011]


# --- the estate toy, solved coalition by coalition -------------------------------------------


def write_toy(folder: Path, null_player: bool = False) -> Path:
    """The three-agency toy of the module notes; with ``null_player`` a fourth agency D
    whose full building must stay and whose one service cannot move, so it adds nothing
    to any coalition."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [("A1", "A", 1000, 10), ("B1", "B", 2000, 10), ("C1", "C", 3000, 10)]
    if null_player:
        rows.append(("D1", "D", 500, 1))
    lines = ["building_id,agency,name,easting,northing,capacity_desks,running_cost,tenure"]
    for k, (b, agency, running, desks) in enumerate(rows):
        lines.append(
            f"{b},{agency},Building {b},{480000 + 500 * k},300000,{desks},{running},freehold"
        )
    (folder / "buildings.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    services = ["service_id,agency,name,building_id,desks,service_type,public_facing,movable"]
    for b, agency, _, _ in rows:
        movable = "no" if agency == "D" else "yes"
        services.append(f"s{agency},{agency},Office {agency},{b},1,back_office,no,{movable}")
    (folder / "services.csv").write_text("\n".join(services) + "\n", encoding="utf-8")
    (folder / "zones.csv").write_text(
        "zone_id,population,easting,northing\nZ1,1000,480500,300500\n", encoding="utf-8"
    )
    policy = "policy:\n  force_keep: [D1]\n" if null_player else ""
    scenario = folder / "scenario.yaml"
    scenario.write_text(
        "name: Sharing toy\n"
        "inputs:\n"
        "  buildings: buildings.csv\n"
        "  services: services.csv\n"
        "  zones: zones.csv\n" + FINANCE + policy,
        encoding="utf-8",
    )
    return scenario


@pytest.fixture(scope="module")
def toy_share(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("share-toy")
    sf = load_scenario(write_toy(folder))
    return share_scenario(sf, folder / "out", ShareOptions(gap=0.0), serial=True)


def test_toy_coalition_values_are_the_hand_worked_ones(toy_share) -> None:  # type: ignore[no-untyped-def]
    table = toy_share.coalitions.set_index("coalition")
    expected = {"A": 0, "B": 0, "C": 0, "A + B": 17_000, "A + C": 26_000, "B + C": 26_000}
    expected["A + B + C"] = 43_000
    assert table["value"].to_dict() == pytest.approx(expected, abs=0.01)
    assert (table["status"] == "optimal").all()


def test_toy_shares_lands_and_transfers(toy_share) -> None:  # type: ignore[no-untyped-def]
    doc = toy_share.doc
    assert doc["method"] == "exact"
    assert doc["grand_coalition_saving"] == pytest.approx(43_000, abs=0.01)
    assert doc["in_core"] is True
    by = {a["agency"]: a for a in doc["agencies"]}
    for agency in "ABC":
        assert by[agency]["shapley"] == pytest.approx(HAND[agency], abs=0.01)
        assert by[agency]["lands"] == pytest.approx(LANDS[agency], abs=0.01)
        assert by[agency]["shapley"] == pytest.approx(
            by[agency]["lands"] + by[agency]["transfer"], abs=0.011
        )
    assert by["A"]["shapley"] == pytest.approx(by["B"]["shapley"], abs=1e-6)  # symmetric
    assert sum(a["shapley"] for a in doc["agencies"]) == pytest.approx(43_000, abs=0.03)
    assert sum(a["transfer"] for a in doc["agencies"]) == pytest.approx(0.0, abs=0.03)
    # The grand coalition's run folder, with the sharing tables and the report section.
    out = toy_share.out_dir
    for name in ("summary.json", "sharing.json", "sharing.csv", "coalitions.csv", "report.html"):
        assert (out / name).is_file(), name
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Who pays, who gains" in report
    # Shares are pounds in the report (12,833), not proportions (1283333.3%).
    assert "<td class='n'>12,833</td>" in report and "1283333" not in report
    summary = json.loads((out / "summary.json").read_text())
    assert summary["npv_saving"] == pytest.approx(43_000, abs=0.01)


def test_an_agency_that_adds_nothing_gets_nothing(tmp_path: Path) -> None:
    sf = load_scenario(write_toy(tmp_path, null_player=True))
    result = share_scenario(sf, tmp_path / "out", ShareOptions(gap=0.0), serial=True)
    by = {a["agency"]: a for a in result.doc["agencies"]}
    assert by["D"]["shapley"] == pytest.approx(0.0, abs=0.01)
    for agency in "ABC":  # a null player changes nobody else's share
        assert by[agency]["shapley"] == pytest.approx(HAND[agency], abs=0.01)
    assert len(result.coalitions) == 15


def test_share_json_on_the_command_line(tmp_path: Path) -> None:
    scenario = write_toy(tmp_path)
    args = ["share", str(scenario), "--out", str(tmp_path / "o"), "--serial", "--json"]
    result = CliRunner().invoke(main, [*args, "--gap", "0"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # progress goes to stderr
    assert set(doc) >= {"grand_coalition_saving", "in_core", "agencies"}
    assert doc["grand_coalition_saving"] == pytest.approx(43_000, abs=0.01)
    for row in doc["agencies"]:
        assert set(row) >= {"agency", "shapley", "lands", "transfer"}
        assert math.isclose(row["shapley"], row["lands"] + row["transfer"], abs_tol=0.011)


def test_forced_disposal_is_refused_for_sharing(tmp_path: Path) -> None:
    scenario = write_toy(tmp_path)
    sf = load_scenario(scenario, {"policy.force_dispose": "[C1]"})
    with pytest.raises(SettingsError, match="C1 \\(C\\)"):
        share_scenario(sf, tmp_path / "out", serial=True)


def test_sampled_path_end_to_end(tmp_path: Path) -> None:
    """Beyond ``exact_up_to`` agencies the shares come from sampled orders: here forced
    at three agencies, so the estimate can be held against the hand-worked value."""
    sf = load_scenario(write_toy(tmp_path))
    options = ShareOptions(gap=0.0, exact_up_to=2, samples=400, seed=3)
    result = share_scenario(sf, tmp_path / "out", options, serial=True)
    doc = result.doc
    assert doc["method"] == "sampled" and doc["samples"] == 400 and doc["seed"] == 3
    assert sum(a["shapley"] for a in doc["agencies"]) == pytest.approx(43_000, abs=0.03)
    for row in doc["agencies"]:
        error = row["standard_error"]
        assert error is not None and error > 0
        assert abs(row["shapley"] - HAND[row["agency"]]) <= 4 * error


# --- coalitions solved once: order, starts, proofs ------------------------------------------


def test_coalitions_are_solved_in_waves_and_started_from_earlier_plans(toy_share) -> None:  # type: ignore[no-untyped-def]
    """The grand coalition and the agencies alone first; then pairs, each given the
    grand coalition's plan cut down to it and its two members' plans side by side."""
    table = toy_share.coalitions.set_index("coalition")
    assert table.loc["A + B + C", "solve_order"] == 1  # the largest benefit first
    assert set(table.loc[["A", "B", "C"], "solve_order"]) == {2, 3, 4}
    assert set(table.loc[["A + B", "A + C", "B + C"], "solve_order"]) == {5, 6, 7}
    assert (table.loc[["A", "B", "C", "A + B + C"], "plans_given"] == 0).all()
    assert (table.loc[["A + B", "A + C", "B + C"], "plans_given"] == 2).all()
    assert table["proven"].all() and set(table["proven_by"]) == {"solver"}
    doc = toy_share.doc
    assert doc["coalitions_proven"] == 7 and doc["all_proven"] is True


def test_the_strong_model_starts_each_pair_from_the_grand_plan_cut_down(tmp_path: Path) -> None:
    """Cut down to A + C, the grand plan (B1 and C1 closed, all into A1) closes C1 into
    A1 and leaves B as it is: the optimum of A + C, known before its solve (in the
    sorted-distance form the greedy and swap plan finds it too, and starts instead)."""
    sf = load_scenario(write_toy(tmp_path / "toy"), {"solver.formulation": "strong"})
    result = share_scenario(sf, tmp_path / "out", ShareOptions(gap=0.0), serial=True)
    table = result.coalitions.set_index("coalition")
    for pair in ("A + B", "A + C", "B + C"):
        assert table.loc[pair, "started_from"] == "grand coalition's plan"
    assert table.loc["A + B + C", "started_from"] == "baseline"
    assert table["proven"].all()


def test_the_same_share_twice_gives_the_same_files(tmp_path: Path) -> None:
    sf = load_scenario(write_toy(tmp_path / "toy"))
    first = share_scenario(sf, tmp_path / "one", ShareOptions(gap=0.0), serial=True)
    second = share_scenario(sf, tmp_path / "two", ShareOptions(gap=0.0), serial=True)
    one = json.loads((first.out_dir / "sharing.json").read_text())
    two = json.loads((second.out_dir / "sharing.json").read_text())
    for doc in (one, two):
        for row in doc["coalitions"]:
            row.pop("seconds")  # wall time, the one thing that may differ
    assert one == two


def test_plans_put_together_and_cut_down() -> None:
    from scenarios.sharing.share import Decision, _Estate

    estate = _Estate(
        {"A1": "A", "B1": "B", "C1": "C"},
        {"sA": "A", "sB": "B", "sC": "C"},
        {"sA": "A1", "sB": "B1", "sC": "C1"},
    )
    grand = Decision(frozenset({"B1", "C1"}), {"sB": "A1", "sC": "A1"})
    # Cut down to A + B: C stays as it is (C1 kept, sC at home).
    cut = estate.plan([(grand, {"A", "B"})], "grand")
    assert cut.disposed == ("B1",) and cut.moves == (("sB", "A1"),)
    # Cut down to B alone: sB may not move into A's building, so it stays and B1 stays.
    alone = estate.plan([(grand, {"B"})], "grand")
    assert alone.disposed == () and alone.moves == ()
    # A's plan and C's plan side by side.
    a = Decision(frozenset(), {})
    c = Decision(frozenset({"C1"}), {"sC": "A1"})  # not C's to do alone: C1 is kept
    both = estate.plan([(a, {"A"}), (c, {"C"})], "A with C")
    assert both.disposed == () and both.moves == ()


def test_a_plan_given_from_elsewhere_is_repaired_where_a_building_overflows() -> None:
    """Cut down to a coalition, a plan may move a service into a building that, in the
    larger coalition, another agency's service had left: over-full here.  The service
    goes back home (and its home stays), and the rest of the plan is kept."""
    from optimise import EstateModel
    from optimise.model import GivenPlan
    from tests.toy import building, instance, service

    inst = instance(
        [building("A", capacity_desks=10), building("B"), building("C")],
        [
            service("a1", "A", desks=6),  # A is 6/10 full
            service("b1", "B", desks=6),
            service("c1", "C", desks=3),
        ],
    )
    model = EstateModel(inst)
    fine = model.given_plan(GivenPlan("fits", ("C",), (("c1", "A"),)))
    assert fine is not None and fine.name == "fits"
    keep, alloc = model.decision(fine.x)
    assert not keep[2] and int(alloc.building[2]) == 0
    # b1 (6 desks) into A (6 of 10 used) overflows: b1 goes home and B stays.
    repaired = model.given_plan(GivenPlan("too full", ("B", "C"), (("b1", "A"), ("c1", "A"))))
    assert repaired is not None
    keep, alloc = model.decision(repaired.x)
    where = dict(zip(alloc.service.tolist(), alloc.building.tolist(), strict=True))
    assert keep.tolist() == [True, True, True]  # both moves into A went back, so C stays too
    assert where == {0: 0, 1: 1, 2: 2}
    assert model.given_plan(GivenPlan("unknown", ("Z",), ())) is None
