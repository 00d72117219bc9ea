"""Trust but verify: a solver's claim is checked against plans known to be feasible.

The case that made this necessary is recorded in ``tests/data/highspy-1.16.0-demo/``:
highspy 1.16.0 returns the demo's warm start (the baseline, a £0 saving) as "optimal"
with bound = objective, and "infeasible" without the start, although a plan £21m
cheaper is feasible.  The tests below replay that answer (``highspy_116``) where the
whole pipeline must notice it: the model, summary.json, the terminal, the report,
compare, sweep, share and plan.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from numpy.typing import NDArray

from cli import main
from optimise import EstateModel, PolicySettings, SolverSettings, SolveStatus
from optimise.formulation import LinearProgram
from optimise.solve import SolverOutput, read_mps, solve
from optimise.verify import check_claim, is_feasible, known_plan
from scenarios.scenario.file import load_scenario
from scenarios.scenario.template import init_folder, render_scenario
from tests.test_bruteforce import brute_force, random_instance
from tests.toy import building, instance, service

RECORDED = Path(__file__).parent / "data" / "highspy-1.16.0-demo"
DEMO_GAP = 0.005
EXACT = SolverSettings(mip_rel_gap=0.0, time_limit_seconds=30)


# --- the recorded model ----------------------------------------------------------------


@pytest.fixture(scope="module")
def recorded() -> tuple[LinearProgram, dict[str, Any]]:
    lp = read_mps(RECORDED / "demo.mps.gz")
    record = json.loads((RECORDED / "record.json").read_text(encoding="utf-8"))
    return lp, record


def _columns(n: int, at_one: list[int] | None = None, values: dict[str, float] | None = None):  # type: ignore[no-untyped-def]
    x = np.zeros(n)
    for j in at_one or []:
        x[j] = 1.0
    for j, v in (values or {}).items():
        x[int(j)] = v
    return x


def test_the_recorded_baseline_and_optimum_are_feasible_plans(
    recorded: tuple[LinearProgram, dict[str, Any]],
) -> None:
    lp, record = recorded
    assert lp.shape == (record["model"]["rows"], record["model"]["columns"])
    base = _columns(len(lp.c), record["model"]["baseline_columns_at_one"])
    best = _columns(len(lp.c), values=record["optimum"]["plan_nonzero_columns"])
    assert is_feasible(lp, base) and is_feasible(lp, best)
    assert float(lp.c @ base + lp.constant) == pytest.approx(record["model"]["baseline_objective"])
    assert float(lp.c @ best + lp.constant) == pytest.approx(record["optimum"]["objective"])
    # The saving the 1.16.0 answer hides: £21.04m.
    saving = record["model"]["baseline_objective"] - record["optimum"]["objective"]
    assert saving == pytest.approx(21_042_358.5, abs=1.0)


def test_the_installed_highs_solves_the_recorded_model_to_its_optimum(
    recorded: tuple[LinearProgram, dict[str, Any]],
) -> None:
    """Fails with highspy 1.16.0 installed: it says optimal at the baseline."""
    lp, record = recorded
    base = _columns(len(lp.c), record["model"]["baseline_columns_at_one"])
    optimum = record["optimum"]["objective"]
    out = solve(lp, SolverSettings(mip_rel_gap=DEMO_GAP, backend="pulp"), base)
    assert out.status is SolveStatus.OPTIMAL
    assert out.objective is not None and out.bound is not None
    assert optimum - 1.0 <= out.objective <= optimum * (1 + DEMO_GAP)
    assert out.bound <= optimum + 1.0


@pytest.mark.parametrize("warm_start", [True, False])
def test_the_recorded_highspy_116_claims_are_solver_errors(
    recorded: tuple[LinearProgram, dict[str, Any]], warm_start: bool
) -> None:
    lp, record = recorded
    base = _columns(len(lp.c), record["model"]["baseline_columns_at_one"])
    claim = next(c for c in record["claims"]["1.16.0"] if c["warm_start"] is warm_start)
    if warm_start:
        # It returned its start: objective = bound = the baseline's present cost.
        assert claim["model_status"] == "kOptimal"
        assert claim["objective"] == pytest.approx(record["model"]["baseline_objective"])
        assert claim["mip_dual_bound"] == pytest.approx(claim["objective"])
        output = SolverOutput(
            SolveStatus.OPTIMAL, base, claim["objective"], claim["mip_dual_bound"], 0.0, 0.2,
            "HiGHS", "Optimal",
        )  # fmt: skip
    else:
        assert claim["model_status"] == "kInfeasible"
        output = SolverOutput(
            SolveStatus.INFEASIBLE, None, None, None, None, 0.1, "HiGHS", "Infeasible"
        )
    optimum = _columns(len(lp.c), values=record["optimum"]["plan_nonzero_columns"])
    plans = [known_plan(lp, "baseline", base), known_plan(lp, "recorded optimum", optimum)]
    checked, check = check_claim(lp, output, [p for p in plans if p], DEMO_GAP)
    assert checked.status is SolveStatus.SOLVER_ERROR
    assert not check.passed and check.plan == "recorded optimum"
    assert checked.objective == pytest.approx(record["optimum"]["objective"], abs=0.01)
    assert checked.bound is None and checked.gap is None
    assert check.claimed_status == ("optimal" if warm_start else "infeasible")
    if warm_start:
        assert "£21,042,358 less" in check.message


# --- the same failure, replayed where the whole pipeline must notice it -------------------


def replay_highspy_116(
    lp: LinearProgram,
    settings: SolverSettings,
    start: NDArray[np.float64] | None = None,
    *_: Any,
    **__: Any,
) -> SolverOutput:
    """What highspy 1.16.0 answered on the demo: its warm start as "optimal" with
    bound = objective; "infeasible" without one."""
    start = start if settings.warm_start else None
    if start is None:
        return SolverOutput(SolveStatus.INFEASIBLE, None, None, None, None, 0.1, "HiGHS", "")
    objective = float(lp.c @ start + lp.constant)
    return SolverOutput(
        SolveStatus.OPTIMAL, start.copy(), objective, objective, 0.0, 0.1, "HiGHS", "Optimal"
    )


@pytest.fixture
def highspy_116(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for module in (
        "optimise.model",
        "optimise.phasing",
        "optimise.heuristics",
        "optimise.sorted_distance",
    ):
        monkeypatch.setattr(f"{module}.solve", replay_highspy_116)
    yield


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo-scenario")
    init_folder(folder, demo_seed=2026)
    return folder


@pytest.fixture(scope="module")
def demo_model(demo_folder: Path) -> EstateModel:
    from scenarios.running.run import travel_times
    from scenarios.scenario.inputs import load_inputs

    inputs = load_inputs(load_scenario(demo_folder / "scenario.yaml"))
    from optimise import EstateInstance

    inst = EstateInstance.build(
        inputs.register,
        inputs.zones,
        travel_times(inputs),
        inputs.access,
        inputs.finance,
        inputs.policy,
    )
    return EstateModel(inst)


@pytest.mark.parametrize("warm_start", [True, False])
def test_the_demo_with_the_116_answer_is_a_solver_error_with_a_checked_plan(
    demo_model: EstateModel, highspy_116: None, warm_start: bool
) -> None:
    settings = SolverSettings(mip_rel_gap=DEMO_GAP, warm_start=warm_start)
    result = demo_model.solve(settings)
    assert result.status is SolveStatus.SOLVER_ERROR
    assert not result.ok and result.diagnosis is None
    assert result.check is not None and not result.check.passed
    assert result.check.plan == "greedy heuristic"
    assert result.evaluation is not None and result.evaluation.feasible
    assert result.evaluation.npv_saving > 10e6  # the greedy plan; the optimum saves £16m
    assert result.gap is None and result.bound is None


def test_the_demo_passes_the_check_with_the_installed_highs(demo_model: EstateModel) -> None:
    result = demo_model.solve(SolverSettings(mip_rel_gap=DEMO_GAP))
    assert result.status is SolveStatus.OPTIMAL and result.ok
    assert result.check is not None and result.check.passed and result.check.plan == "solver"
    assert result.check.reference == "greedy heuristic"
    assert result.objective is not None and result.check.reference_objective is not None
    assert result.objective <= result.check.reference_objective


@pytest.fixture(scope="module")
def failed_demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp("demo-116") / "run"
    with pytest.MonkeyPatch.context() as patch:
        for module in ("optimise.model", "optimise.phasing", "optimise.heuristics"):
            patch.setattr(f"{module}.solve", replay_highspy_116)
        result = CliRunner().invoke(main, ["demo", "--out", str(out)])
    return out, result


def test_demo_exits_1_and_says_why_everywhere(failed_demo_run: tuple[Path, Any]) -> None:
    out, result = failed_demo_run
    assert result.exit_code == 1, result.output
    assert "status solver_error" in result.output
    assert "Solver failure: the solver said its plan" in " ".join(result.output.split())
    doc = json.loads((out / "summary.json").read_text())
    assert doc["status"] == "solver_error" and doc["plan_status"] == "feasible"
    assert doc["solver_check"]["passed"] is False
    assert doc["solver_check"]["claimed_status"] == "optimal"
    assert doc["solver_check"]["claimed_bound"] == pytest.approx(doc["baseline_present_cost"])
    assert doc["npv_saving"] > 10e6 and doc["gap"] is None and doc["bound"] is None
    assert (out / "buildings.csv").is_file()  # the checked plan is kept
    report = (out / "report.html").read_text()
    assert "Solver failure" in report and "solver_error" in report
    assert "Solver failure" in (out / "map.html").read_text()
    from openpyxl import load_workbook

    sheet = load_workbook(out / "report.xlsx", read_only=True)["assumptions"]
    rows = [tuple(r) for r in sheet.iter_rows(values_only=True)]
    assert any(r[1] == "check" and r[2] == "FAILED" and "Solver failure" in r[3] for r in rows)


def test_compare_flags_a_run_whose_solver_failed(
    failed_demo_run: tuple[Path, Any], tmp_path: Path
) -> None:
    out, _ = failed_demo_run
    result = CliRunner().invoke(main, ["compare", str(out), "--out", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    assert "solver_error" in result.output and "not a proven optimum" in result.output
    assert "not a proven optimum" in (tmp_path / "cmp" / "comparison.html").read_text()


def _fast_scenario(folder: Path, **sets: str) -> Path:
    fast = load_scenario(folder / "scenario.yaml", {"policy.k_nearest": "3", **sets})
    path = folder / f"fast-{len(sets)}.yaml"
    path.write_text(render_scenario(fast.scenario), encoding="utf-8")
    return path


def test_run_exits_1_on_a_solver_error(
    demo_folder: Path, highspy_116: None, tmp_path: Path
) -> None:
    scenario = _fast_scenario(demo_folder)
    args = [
        "run",
        str(scenario),
        "--out",
        str(tmp_path / "run"),
        "--no-sharing-value",
        "--no-price-of-keeping",
    ]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["status"] == "solver_error" and doc["plan_status"] == "feasible"


def test_a_sweep_reports_solver_errors_and_solves_them_again_on_resume(
    demo_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = _fast_scenario(demo_folder)
    args = ["sweep", str(scenario), "--set", "access.library.drive=15,20"]
    args += ["--out", str(tmp_path / "sweep"), "--serial"]
    with monkeypatch.context() as patch:
        for module in ("optimise.model", "optimise.heuristics"):
            patch.setattr(f"{module}.solve", replay_highspy_116)
        failed = CliRunner().invoke(main, args)
    assert failed.exit_code == 1, failed.output
    assert "solver_error" in failed.output and "2 solver error(s)" in failed.output
    table = (tmp_path / "sweep" / "results.csv").read_text()
    assert table.count("solver_error") == 2 and "Solver failure" in table
    again = CliRunner().invoke(main, args)  # the real solver: both points solved again
    assert again.exit_code == 0, again.output
    assert "2 computed, 0 reused" in again.output
    assert "solver_error" not in (tmp_path / "sweep" / "results.csv").read_text()


def test_share_refuses_values_from_a_failed_solver(highspy_116: None, tmp_path: Path) -> None:
    from tests.test_sharing import write_toy

    scenario = write_toy(tmp_path / "toy")
    args = ["share", str(scenario), "--out", str(tmp_path / "share"), "--serial", "--gap", "0"]
    # The strong form, where every coalition goes to the (broken) MIP solver: in the
    # sorted-distance form this toy's plans are proven by the Lagrangian bound alone.
    args += ["--set", "solver.formulation=strong"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert "A + B + C: solver_error: Solver failure" in message
    assert "the solver failed to prove" in message


def test_plan_exits_1_on_a_solver_error(
    demo_folder: Path, highspy_116: None, tmp_path: Path
) -> None:
    scenario = _fast_scenario(demo_folder)
    args = ["plan", str(scenario), "--out", str(tmp_path / "plan"), "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["status"] == "solver_error" and doc["plan_status"] == "feasible"
    assert doc["solver_check"]["plan"].startswith("greedy heuristic")
    assert doc["npv_saving"] > 0
    summary = json.loads((tmp_path / "plan" / "summary.json").read_text())
    assert summary["status"] == "solver_error"


# --- the rules of the check, on tiny estates ------------------------------------------


def _toy_model(**policy: Any) -> EstateModel:
    buildings = [
        building("A", running_cost=5_000, disposal_value=20_000),
        building("B", running_cost=3_000),
        building("C", running_cost=4_000, disposal_value=10_000),
    ]
    services = [service("s1", "A", desks=2), service("s2", "B", desks=3), service("s3", "C")]
    return EstateModel(instance(buildings, services, policy=PolicySettings(**policy)))


def test_an_early_stop_worse_than_a_known_plan_reports_the_known_plan() -> None:
    model = _toy_model()
    lp = model.formulation.lp
    plans = model.known_plans(EXACT)
    base = next(p for p in plans if p.name == "baseline")
    best = min(plans, key=lambda p: p.objective)
    assert best.objective < base.objective - 1_000
    early = SolverOutput(SolveStatus.FEASIBLE, base.x, base.objective, 0.0, 1.0, 1.0, "t", "")
    checked, check = check_claim(lp, early, plans, 1e-4)
    assert checked.status is SolveStatus.FEASIBLE and check.passed
    assert checked.objective == best.objective and check.plan == best.name
    none = SolverOutput(SolveStatus.NO_SOLUTION, None, None, None, None, 1.0, "t", "")
    checked, check = check_claim(lp, none, plans, 1e-4)
    assert checked.status is SolveStatus.FEASIBLE and checked.objective == best.objective


def test_a_bound_above_a_known_plan_is_a_solver_error_whatever_the_status() -> None:
    model = _toy_model()
    lp = model.formulation.lp
    plans = model.known_plans(EXACT)
    best = min(plans, key=lambda p: p.objective)
    wrong = SolverOutput(
        SolveStatus.FEASIBLE, best.x, best.objective, best.objective + 500, 0.0, 1.0, "t", ""
    )
    checked, check = check_claim(lp, wrong, plans, 1e-4)
    assert checked.status is SolveStatus.SOLVER_ERROR and "bound" in check.message
    assert check.plan == "solver"  # its plan is as good as any known: kept


def test_an_optimal_within_the_gap_of_a_known_plan_stands() -> None:
    model = _toy_model()
    lp = model.formulation.lp
    plans = model.known_plans(EXACT)
    best = min(plans, key=lambda p: p.objective)
    gap = 0.01
    claimed = best.objective * (1 + gap * 0.9)
    close = SolverOutput(SolveStatus.OPTIMAL, best.x, claimed, best.objective, gap, 1, "t", "")
    assert check_claim(lp, close, plans, gap)[1].passed
    far = SolverOutput(SolveStatus.OPTIMAL, best.x, claimed, claimed, 0.0, 1.0, "t", "")
    assert not check_claim(lp, far, plans, gap * 0.5)[1].passed


def test_forced_closures_are_checked_against_the_baseline_with_the_forced_moves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = _toy_model(force_dispose=("C",))
    assert model.baseline_start() is None
    plans = model.known_plans(EXACT)
    assert [p.name for p in plans] == ["baseline with the forced moves"]
    x = plans[0].x
    keep, alloc = model.decision(x)
    assert not keep[2] and keep[0] and keep[1]
    assert model.instance.service_ids[alloc.service[-1]] == "s3"
    monkeypatch.setattr("optimise.model.solve", replay_highspy_116)  # no start: "infeasible"
    result = model.solve(EXACT.model_copy(update={"formulation": "strong"}))
    assert result.status is SolveStatus.SOLVER_ERROR
    assert result.evaluation is not None and result.evaluation.feasible


@pytest.mark.parametrize("seed", range(16))
def test_an_honest_solver_always_passes_the_check(seed: int) -> None:
    """No false alarms: on random tiny estates HiGHS's answers (checked against brute
    force) pass, and every known plan costs at least the brute-force optimum."""
    inst = random_instance(np.random.default_rng(1000 + seed), easy=seed % 2 == 0)
    expected = brute_force(inst)
    model = EstateModel(inst)
    result = model.solve(EXACT, diagnose=False)
    assert result.check is not None and result.check.passed
    assert result.status is not SolveStatus.SOLVER_ERROR
    for plan in model.known_plans(EXACT):
        assert expected is not None and plan.objective >= expected - 1e-6
