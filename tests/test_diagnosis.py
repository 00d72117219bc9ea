"""Infeasible scenarios are explained: the right zone, service type, building or budget."""

from __future__ import annotations

import pytest

from optimise import AccessStandard, EstateModel, PolicySettings, SolverSettings, SolveStatus
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
