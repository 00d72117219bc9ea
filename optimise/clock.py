"""The time limit is a promise: one deadline for a whole solve, shared by every phase.

A run's ``time_limit_seconds`` covers everything from when it starts (reading the
inputs, building the model) to its answer: heuristics, bounds, the MIP, checking the
solver's claim and pricing the plan.  Each phase asks the :class:`Deadline` how long
it has left instead of taking the whole limit for itself, and the MIP solver is told
to stop early enough that the work after it (pricing, writing) fits too.

The promise: wall time never exceeds the limit by more than :func:`tolerance`
(5% of the limit or 10 s, whichever is more).  The watchdog that interrupts a solver
which overruns its own limit steps in within that tolerance.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

# The share of the limit, at most RESERVE_MAX_SECONDS, kept back from the MIP solver for
# what follows it (checking the claim, pricing the plan, writing the folder).
RESERVE_SHARE = 0.03
RESERVE_MAX_SECONDS = 5.0
# Below this many seconds a phase is not worth starting.
MIN_PHASE_SECONDS = 0.05


def tolerance(limit_seconds: float) -> float:
    """How far past its limit a run may end: 5% of the limit or 10 s, whichever is more."""
    return max(0.05 * limit_seconds, 10.0)


def watchdog_grace(limit_seconds: float, setting: float) -> float:
    """Seconds after the solver's own limit before the watchdog interrupts it: the
    setting, but never so long that the interruption falls outside the promise."""
    return max(0.5, min(setting, 0.5 * tolerance(limit_seconds)))


@dataclass(frozen=True)
class Deadline:
    """A point in time (``time.perf_counter``) by which a solve must answer.

    ``limit`` is the whole allowance in seconds and ``started`` when it began, so
    that ``at = started + limit``.
    """

    started: float
    limit: float

    @classmethod
    def start(cls, limit_seconds: float, started: float | None = None) -> Deadline:
        """A deadline ``limit_seconds`` after ``started`` (default: now)."""
        return cls(time.perf_counter() if started is None else started, float(limit_seconds))

    @property
    def at(self) -> float:
        return self.started + self.limit

    def left(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self.at - time.perf_counter())

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def passed(self) -> bool:
        return self.left() <= MIN_PHASE_SECONDS

    def reserve(self) -> float:
        """Seconds kept back for the work after the MIP solver."""
        return min(RESERVE_SHARE * self.limit, RESERVE_MAX_SECONDS)

    def for_solver(self) -> float:
        """Seconds the MIP solver may take now: what is left less the reserve (at least
        a little, so that the solver can hand back the start it was given)."""
        return max(MIN_PHASE_SECONDS, self.left() - self.reserve())

    def share(self, fraction: float) -> float:
        """An absolute time (perf_counter) ``fraction`` of the way to the solver's end."""
        end = self.at - self.reserve()
        now = time.perf_counter()
        return now + max(0.0, end - now) * fraction
