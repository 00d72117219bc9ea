"""Infeasible scenarios are explained: the right zone, service type, building or budget."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from optimise import (
    AccessStandard,
    EstateInstance,
    EstateModel,
    PolicySettings,
    SolverSettings,
    SolveStatus,
)
from optimise.diagnose import soft_rows
from tests.toy import building, instance, service

SETTINGS = SolverSettings(mip_rel_gap=0.0, time_limit_seconds=30)


def _buildings() -> list[dict[str, object]]:
    return [
        building("A", running_cost=5_000, disposal_value=20_000),
        building("B", running_cost=3_000),
        building("C", running_cost=4_000, disposal_value=10_000),
    ]


def test_unreachable_zone_is_named_with_its_service_type() -> None:
    """Z3 is 40 minutes from every building; a library standard of 15 minutes for all
    cannot be met there, whatever is kept.  And the one library can serve Z1 (near A)
    or Z2 (near B and C), not both: 150 people short, Z3 named first as unreachable."""
    services = [
        service("s1", "A", desks=2, service_type="library", public_facing=True),
        service("s2", "B", desks=3, service_type="gp", public_facing=True),
    ]
    inst = instance(
        _buildings(),
        services,
        minutes=[[5, 20, 20], [20, 5, 8], [40, 40, 40]],
        population=[100, 100, 50],
        access={
            "library": AccessStandard(max_minutes=15, min_share=1.0),
            "gp": AccessStandard(max_minutes=30, min_share=0.5),
        },
    )
    result = EstateModel(inst).solve(SETTINGS)
    assert result.status is SolveStatus.INFEASIBLE
    assert result.diagnosis is not None
    findings = result.diagnosis.findings  # type: ignore[attr-defined]
    access = [f for f in findings if f.kind == "access"]
    assert [f.subject for f in access] == ["library"]
    assert access[0].zones[0] == "Z3"
    assert access[0].amount == pytest.approx(150, abs=1e-3)
    assert "Z3" in access[0].message and "1 library service" in access[0].message


def test_over_full_building_is_named() -> None:
    """Two immovable services of 6 desks each in B, which holds 10."""
    services = [
        service("s1", "B", desks=6, movable=False),
        service("s2", "B", desks=6, movable=False),
    ]
    result = EstateModel(instance(_buildings(), services)).solve(SETTINGS)
    assert result.status is SolveStatus.INFEASIBLE
    findings = result.diagnosis.findings  # type: ignore[union-attr]
    assert [(f.kind, f.subject) for f in findings] == [("capacity", "B")]
    assert abs(findings[0].amount - 2.0) < 1e-6
    assert "s1" in findings[0].services and "s2" in findings[0].services


def test_budget_too_small_for_a_forced_closure() -> None:
    """C must close, so s3 (2 desks, 2,000 to move) must move; the pot holds 500."""
    services = [service("s3", "C", desks=2)]
    policy = PolicySettings(force_dispose=("C",), capital_budget=500.0)
    result = EstateModel(instance(_buildings(), services, policy=policy)).solve(SETTINGS)
    assert result.status is SolveStatus.INFEASIBLE
    findings = result.diagnosis.findings  # type: ignore[union-attr]
    assert [(f.kind, f.subject) for f in findings] == [("budget", "pooled")]
    assert abs(findings[0].amount - 1_500.0) < 1e-3


def test_service_with_nowhere_to_go_is_named() -> None:
    """C must close and s3 cannot move."""
    services = [service("s3", "C", desks=2, movable=False)]
    policy = PolicySettings(force_dispose=("C",))
    result = EstateModel(instance(_buildings(), services, policy=policy)).solve(SETTINGS)
    findings = result.diagnosis.findings  # type: ignore[union-attr]
    assert [(f.kind, f.subject) for f in findings] == [("unplaced", "s3")]


# --- every finding is true: checked against brute force on tiny estates ----------------


def test_a_finding_says_what_was_checked() -> None:
    """s1 cannot move and B is too small for it, and the library standard needs a
    library within 10 minutes of Z2, which only C is, and C must close: two obstacles,
    each needing relaxing whatever else is relaxed."""
    services = [
        service("s1", "B", desks=12, movable=False),
        service("s2", "A", desks=1, service_type="library", public_facing=True),
    ]
    inst = instance(
        _buildings(),
        services,
        minutes=[[5, 5, 5], [30, 30, 8]],
        access={"library": AccessStandard(max_minutes=10, min_share=1.0)},
        policy=PolicySettings(force_dispose=("C",)),
    )
    diagnosis = EstateModel(inst).solve(SETTINGS).diagnosis
    findings = diagnosis.findings  # type: ignore[union-attr]
    assert sorted((f.kind, f.scope) for f in findings) == [
        ("access", "always"),
        ("capacity", "always"),
    ]
    assert all(
        "holds even with every other standard, capacity and budget" in f.message for f in findings
    )


def test_when_the_checks_run_out_of_time_nothing_more_is_claimed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same two obstacles; every re-check after the first slack solve stops at its
    time limit without an answer: the two are reported only as a set that restores
    feasibility together, not as each being an obstacle."""
    import optimise.diagnose as diagnose

    real = diagnose.slack_solve
    calls = []

    def out_of_time(*args: object, **kwargs: object) -> object:
        calls.append(args)
        if len(calls) == 1:
            return real(*args, **kwargs)  # type: ignore[arg-type]
        return SolveStatus.NO_SOLUTION

    monkeypatch.setattr(diagnose, "slack_solve", out_of_time)
    services = [
        service("s1", "B", desks=12, movable=False),
        service("s2", "A", desks=1, service_type="library", public_facing=True),
    ]
    inst = instance(
        _buildings(),
        services,
        minutes=[[5, 5, 5], [30, 30, 8]],
        access={"library": AccessStandard(max_minutes=10, min_share=1.0)},
        policy=PolicySettings(force_dispose=("C",)),
    )
    findings = EstateModel(inst).solve(SETTINGS).diagnosis.findings  # type: ignore[union-attr]
    assert sorted((f.kind, f.scope, f.together_with) for f in findings) == [
        ("access", "together", ("capacity",)),
        ("capacity", "together", ("access[library]",)),
    ]
    assert all("not settled within the time limit" in f.message for f in findings)


@pytest.fixture(scope="module")
def gp_within_one_minute() -> EstateModel:
    """The demo with a standard nobody can meet: every zone within 1 minute of a GP."""
    from pathlib import Path
    from tempfile import TemporaryDirectory

    from optimise import EstateInstance
    from scenarios.inputs import load_inputs
    from scenarios.run import travel_times
    from scenarios.scenario import load_scenario
    from scenarios.template import init_folder

    sets = {
        "access.gp.drive": "1",
        "access.gp.walk": "1",
        "access.gp.min_share": "1.0",
        "access.gp.max_loss": "null",
        "access.gp.max_increase_minutes": "null",
    }
    with TemporaryDirectory() as tmp:
        init_folder(Path(tmp), demo_seed=2026)
        inputs = load_inputs(load_scenario(Path(tmp) / "scenario.yaml", sets))
    inst = EstateInstance.build(
        inputs.register,
        inputs.zones,
        travel_times(inputs),
        inputs.access,
        inputs.finance,
        inputs.policy,
        space=inputs.space,
    )
    return EstateModel(inst)


def test_the_demo_with_an_impossible_gp_standard_gets_only_the_true_finding(
    gp_within_one_minute: EstateModel,
) -> None:
    """Before, two capacity findings came with it: the slack solve had over-filled two
    fire stations to reach a few more zones, although capacity is no obstacle."""
    model = gp_within_one_minute
    result = model.solve(SolverSettings(mip_rel_gap=0.005, time_limit_seconds=60))
    assert result.status is SolveStatus.INFEASIBLE
    findings = result.diagnosis.findings  # type: ignore[union-attr]
    assert [(f.kind, f.subject, f.scope) for f in findings] == [("access", "gp", "alone")]
    assert "relaxing the gp access standard alone would make" in findings[0].message
    # The amount is the shortfall with every other rule holding: with the gp standard
    # lowered to the share it reports, the scenario is feasible; a little above, not.
    weight = model.instance.zone_weight()
    best = 1.0 - findings[0].amount / float(weight.sum())
    for share, expected in ((best - 1e-6, SolveStatus.OPTIMAL), (best + 2e-3, None)):
        standard = model.instance.access["gp"].model_copy(update={"min_share": share})
        inst = dataclasses.replace(model.instance, access={**model.instance.access, "gp": standard})
        relaxed = EstateModel(inst).solve(SolverSettings(mip_rel_gap=0.005), diagnose=False)
        if expected is None:
            assert relaxed.status is SolveStatus.INFEASIBLE
        else:
            assert relaxed.status is expected


def _tiny_estate(rng: np.random.Generator) -> EstateInstance:
    """A random 3-building estate with tight rules (most are infeasible)."""
    n_s = int(rng.integers(3, 5))
    agencies = ("council", "police")
    buildings = [
        building(
            f"B{i}",
            agency=agencies[int(rng.integers(0, 2))],
            capacity_desks=int(rng.integers(2, 9)),
            running_cost=int(rng.integers(1, 10)) * 1_000,
            disposal_value=int(rng.integers(0, 20)) * 1_000,
            can_host=bool(rng.random() < 0.8),
            must_retain=bool(rng.random() < 0.15),
        )
        for i in range(3)
    ]
    services = []
    for j in range(n_s):
        public = j == 0 or rng.random() < 0.5
        services.append(
            service(
                f"S{j}",
                f"B{int(rng.integers(0, 3))}",
                agency=agencies[int(rng.integers(0, 2))],
                desks=int(rng.integers(1, 5)),
                service_type="library" if public else "back_office",
                public_facing=public,
                movable=bool(rng.random() < 0.8),
                exclusive=bool(rng.random() < 0.15),
            )
        )
    policy: dict[str, object] = {}
    if rng.random() < 0.3:
        policy["capital_budget"] = float(rng.integers(0, 4)) * 1_000
    if rng.random() < 0.3:
        policy["keep_at_most"] = int(rng.integers(1, 3))
    if rng.random() < 0.3:
        forced = int(rng.integers(0, 3))
        policy["force_dispose"] = (f"B{forced}",)
        buildings[forced]["must_retain"] = False
    minutes = rng.integers(3, 25, size=(3, 3)).astype(float)
    return instance(
        buildings,
        services,
        minutes=minutes.tolist(),
        population=rng.integers(50, 150, size=3).astype(float).tolist(),
        access={
            "library": AccessStandard(max_minutes=10, min_share=float(rng.choice([0.5, 0.8, 1.0])))
        },
        policy=PolicySettings(**policy),  # type: ignore[arg-type]
    )


def _brute_force_slack(model: EstateModel) -> tuple[list[str], np.ndarray]:
    """Every decision (keep within its bounds; each service in a candidate or nowhere)
    that keeps the structural rows, and the slack each family of rows needs for it:
    (families, decisions x families), unscaled sums of row slack."""
    lp = model.formulation.lp
    f = model.formulation
    soft = soft_rows(model)
    families = sorted({r.family for r in soft})
    of_row = np.full(lp.shape[0], -1)
    for r in soft:
        of_row[r.row] = families.index(r.family)
    lo, hi = lp.col_lo[f.keep_col], lp.col_hi[f.keep_col]
    keeps = [
        np.array(k, dtype=bool)
        for k in itertools.product((False, True), repeat=len(f.keep_col))
        if all(lo[i] <= k[i] <= hi[i] for i in range(len(k)))
    ]
    options = [
        [-1, *f.pair_building[f.pair_service == s].tolist()]
        for s in range(len(model.instance.services))
    ]
    needs = []
    for keep in keeps:
        for assign in itertools.product(*options):
            x = model.column_values(keep, np.asarray(assign, dtype=np.int64))
            assert x is not None
            act = lp.matrix @ x
            over = np.maximum(0, act - lp.row_hi) + np.maximum(0, lp.row_lo - act)
            broken = over > 1e-6 * np.maximum(
                1, np.abs(np.where(np.isfinite(lp.row_lo), lp.row_lo, lp.row_hi))
            )
            if (broken & (of_row < 0)).any():
                continue  # a structural row: no plan
            need = np.zeros(len(families))
            np.add.at(need, of_row[broken], over[broken])
            needs.append(need)
    return families, np.asarray(needs)


# Seeds 0-31, then every seed up to 399 where the first slack solve alone (the diagnosis
# before findings were re-checked) named a family that is no obstacle: relaxing it alone
# does not help, it is not needed whatever else is relaxed, and it is in no smallest
# set of the families named that restores feasibility.
MISLEADING_BEFORE = (34, 50, 86, 117, 161, 166, 239, 286, 287, 290, 298, 299, 303, 307, 332)
MISLEADING_BEFORE += (337, 340, 396)


@pytest.mark.parametrize("seed", [*range(32), *MISLEADING_BEFORE])
def test_every_finding_is_true_by_brute_force(seed: int) -> None:
    model = EstateModel(_tiny_estate(np.random.default_rng(seed)))
    families, needs = _brute_force_slack(model)
    result = model.solve(SETTINGS)
    if (needs <= 1e-6).all(axis=1).any():  # a plan breaks no rule: nothing to explain
        assert result.status is SolveStatus.OPTIMAL
        return
    assert result.status is SolveStatus.INFEASIBLE
    findings = result.diagnosis.findings  # type: ignore[union-attr]
    assert findings, "an infeasible scenario is explained"

    def feasible(relaxed: set[str]) -> np.ndarray:
        hard = [i for i, fam in enumerate(families) if fam not in relaxed]
        return (needs[:, hard] <= 1e-6).all(axis=1)

    by_family: dict[str, list[object]] = {}
    for finding in findings:
        family = _family(finding)
        by_family.setdefault(family, []).append(finding)
    for family, group in by_family.items():
        j = families.index(family)
        total = sum(g.amount for g in group)  # type: ignore[attr-defined]
        scope = {g.scope for g in group}  # type: ignore[attr-defined]
        assert len(scope) == 1
        if scope == {"alone"}:
            ok = feasible({family})
            assert ok.any(), f"{family}: relaxing it alone leaves no plan"
            assert total == pytest.approx(needs[ok, j].min(), rel=1e-5, abs=1e-4)
        elif scope == {"always"}:
            # Every other family relaxed, but no more services unplaced than must be.
            unplaced = needs[:, families.index("unplaced")]
            placed = unplaced <= unplaced.min() + 1e-6
            least = needs[placed, j].min() if family != "unplaced" else unplaced.min()
            assert least > 1e-6, f"{family}: a plan keeps it, relaxing the others"
            assert total == pytest.approx(least, rel=1e-5, abs=1e-4)
        else:
            assert scope == {"jointly"}
            partners = set(group[0].together_with)  # type: ignore[attr-defined]
            joint = partners | {family}
            assert feasible(joint).any(), f"{joint}: relaxing them together leaves no plan"
            for member in joint:
                assert not feasible({member}).any(), f"{member} alone is enough"
                assert not feasible(joint - {member}).any(), f"{joint} is not the smallest"


def _family(finding: object) -> str:
    kind, subject = finding.kind, finding.subject  # type: ignore[attr-defined]
    if kind in ("access", "budget"):
        return f"{kind}[{subject}]"
    return kind
