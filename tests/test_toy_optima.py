"""Tiny estates whose optimum is worked out by hand in each docstring.

All use ``tests.toy.SIMPLE_FINANCE``: no discounting, 10-year horizon, moves cost
1,000 per desk.  Three council buildings A, B, C with capacity 10 unless stated:

==========  =======  ==========  ============  =================  ==================
building    running  keep cost   receipt       dispose cost        saving if disposed
==========  =======  ==========  ============  =================  ==================
A           5,000    50,000      20,000        5,000-20,000=-15k   65,000
B           3,000    30,000      0             3,000               27,000
C           4,000    40,000      10,000        4,000-10,000=-6k    46,000
==========  =======  ==========  ============  =================  ==================

Services: s1 in A (2 desks), s2 in B (3), s3 in C (2), s4 in C (1); moving costs
2,000, 3,000, 2,000 and 1,000.  Baseline (keep all, move nothing): 120,000.
"""

from __future__ import annotations

import pytest

from optimise import AccessStandard, EstateModel, SolverSettings, SolveStatus
from tests.toy import building, instance, service

EXACT = SolverSettings(mip_rel_gap=0.0, time_limit_seconds=30)


def _buildings(capacity_b: float = 10) -> list[dict[str, object]]:
    return [
        building("A", running_cost=5_000, disposal_value=20_000),
        building("B", running_cost=3_000, capacity_desks=capacity_b),
        building("C", running_cost=4_000, disposal_value=10_000),
    ]


def _services(
    s1_type: str = "back_office", s2_type: str = "back_office"
) -> list[dict[str, object]]:
    return [
        service("s1", "A", desks=2, service_type=s1_type, public_facing=s1_type != "back_office"),
        service("s2", "B", desks=3, service_type=s2_type, public_facing=s2_type != "back_office"),
        service("s3", "C", desks=2),
        service("s4", "C", desks=1),
    ]


def _solve(inst):  # type: ignore[no-untyped-def]
    result = EstateModel(inst).solve(EXACT)
    assert result.status is SolveStatus.OPTIMAL
    assert result.evaluation is not None and result.keep is not None
    return result


def test_cheapest_closure_when_nothing_stops_it() -> None:
    """All 8 desks fit in any one building, so keep one and dispose of two.

    - keep A only: save 27,000 + 46,000, move s2, s3, s4 (6,000): net 67,000
    - keep B only: save 65,000 + 46,000, move s1, s3, s4 (5,000): net 106,000
    - keep C only: save 65,000 + 27,000, move s1, s2 (5,000): net 87,000
    Keeping two buildings saves less.  Optimum: keep B; cost 120,000 - 106,000 = 14,000.
    """
    result = _solve(instance(_buildings(), _services()))
    assert result.objective == pytest.approx(14_000)
    assert result.evaluation.npv_saving == pytest.approx(106_000)
    assert list(result.keep[result.keep].index) == ["B"]
    assert set(result.assignment) == {"B"}


def test_access_standard_forbids_the_cheapest_closure() -> None:
    """s1 (in A) and s2 (in B) are libraries; nobody may lose 10-minute access.

    Drive minutes to A, B, C: Z1 5/20/20, Z2 20/5/8, Z3 20/8/5.  Today Z1 reaches A,
    Z2 and Z3 reach B: everyone is covered, so everyone must stay covered.  Z1 is
    only near A, so A must keep a library: "keep B only" (net 106,000) and "keep C
    only" are out.  "Keep A only" leaves Z2 and Z3 without a library.  Left:

    - keep A, B, dispose C: save 46,000, move s3, s4 (3,000): net 43,000
    - keep A, C, dispose B: save 27,000, move s2 to C (3,000): net 24,000
    Optimum: keep A and B; cost 120,000 - 43,000 = 77,000.
    """
    inst = instance(
        _buildings(),
        _services("library", "library"),
        minutes=[[5, 20, 20], [20, 5, 8], [20, 8, 5]],
        access={"library": AccessStandard(max_minutes=10, max_loss=0.0)},
    )
    result = _solve(inst)
    assert result.objective == pytest.approx(77_000)
    assert sorted(result.keep[result.keep].index) == ["A", "B"]
    summary = result.evaluation.access_summary.set_index("service_type")
    assert summary.loc["library", "share_after"] == pytest.approx(1.0)


def test_capacity_forbids_the_cheapest_closure() -> None:
    """B holds only 5 desks, so "keep B only" (8 desks) is out.

    - keep C only (capacity 10): net 87,000
    - keep A only: net 67,000
    - keep B and C, dispose A: save 65,000, move s1 (2,000): net 63,000
    - keep A and B, dispose C: save 46,000, move s3, s4 (3,000): net 43,000
    Optimum: keep C; cost 120,000 - 87,000 = 33,000.
    """
    result = _solve(instance(_buildings(capacity_b=5), _services()))
    assert result.objective == pytest.approx(33_000)
    assert list(result.keep[result.keep].index) == ["C"]


def test_must_retain_and_immovable_services_are_respected() -> None:
    """C must be retained and s2 cannot move, so B stays too.

    Keep B and C (both forced), dispose A: save 65,000, move s1 (2,000):
    net 63,000; cost 120,000 - 63,000 = 57,000.
    """
    buildings = _buildings()
    buildings[2]["must_retain"] = True
    services = _services()
    services[1]["movable"] = False
    result = _solve(instance(buildings, services))
    assert result.objective == pytest.approx(57_000)
    assert sorted(result.keep[result.keep].index) == ["B", "C"]


def test_infeasible_access_standard_is_reported_not_raised() -> None:
    """A 100% share within 1 minute cannot be met by any building (all are 5+ min)."""
    inst = instance(
        _buildings(),
        _services("library"),
        minutes=[[5, 20, 20], [20, 5, 8], [20, 8, 5]],
        access={"library": AccessStandard(max_minutes=1, min_share=1.0)},
    )
    result = EstateModel(inst).solve(EXACT)
    assert result.status is SolveStatus.INFEASIBLE
    assert result.evaluation is None
