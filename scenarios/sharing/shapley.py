"""Cooperative-game arithmetic for sharing the saving: Shapley values, the core.

A *game* gives every coalition of players (agencies) a value: here the NPV saving
when only those agencies pool their estates (MODEL.md §7), with ``v(empty) = 0``.
Coalitions are bit masks over the players in their given order: player ``i`` is in
coalition ``S`` when ``S >> i & 1``.

Each value is known only within the solver's gap, as an interval ``[lo, hi]``: ``lo``
is the saving of the decision found, ``hi`` the saving the solver's bound allows.
Two facts of the estate model tighten those intervals before anything is shared
(:func:`repair`): a coalition may always do what any sub-coalition does (the others'
buildings simply stay as they are), so ``v`` is monotone and ``lo(S)`` may be raised
to the best ``lo`` of its sub-coalitions; and ``hi(S)`` may be lowered to the least
``hi`` of its super-coalitions.  The Shapley value is linear in ``v``, so the gap each
value carries bounds the error of each share (:attr:`Shares.uncertainty`).

The exact Shapley value needs all ``2^n - 1`` coalitions; beyond :data:`EXACT_UP_TO`
players it is estimated from random orders of the players (seeded), with its
standard error.  Both give shares that add up exactly to the grand coalition's value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

EXACT_UP_TO = 10
CORE_TOL_GBP = 1.0


def members(mask: int, players: Sequence[str]) -> list[str]:
    """The players in coalition ``mask``, in player order."""
    return [p for i, p in enumerate(players) if mask >> i & 1]


def mask_of(names: Sequence[str], players: Sequence[str]) -> int:
    """The bit mask of the coalition of ``names``."""
    index = {p: i for i, p in enumerate(players)}
    return sum(1 << index[n] for n in set(names))


def all_coalitions(n: int) -> list[int]:
    """Every non-empty coalition of ``n`` players, smallest first, then by mask."""
    return sorted(range(1, 1 << n), key=lambda m: (m.bit_count(), m))


def sample_orders(n: int, samples: int, seed: int) -> NDArray[np.int64]:
    """``samples`` random orders of ``n`` players (one a row), from ``seed``."""
    rng = np.random.default_rng(seed)
    return np.array([rng.permutation(n) for _ in range(samples)], dtype=np.int64).reshape(
        samples, n
    )


def prefix_coalitions(orders: NDArray[np.int64]) -> list[int]:
    """Every non-empty coalition that is a prefix of one of ``orders``, sorted as
    :func:`all_coalitions` sorts them."""
    found: set[int] = set()
    for order in orders:
        mask = 0
        for player in order:
            mask |= 1 << int(player)
            found.add(mask)
    return sorted(found, key=lambda m: (m.bit_count(), m))


@dataclass(frozen=True)
class Values:
    """Known coalition values as intervals, and which coalition's decision gives ``lo``.

    ``source[S]`` is ``S`` itself unless a sub-coalition's decision did better (see
    :func:`repair`).
    """

    lo: dict[int, float]
    hi: dict[int, float]
    source: dict[int, int]

    def value(self, mask: int) -> float:
        return 0.0 if mask == 0 else self.lo[mask]


def repair(lo: Mapping[int, float], hi: Mapping[int, float]) -> Values:
    """Make the known values consistent with the game's monotonicity.

    ``lo(S)`` becomes the best ``lo`` of any known sub-coalition (its decision is one
    ``S`` may take), and ``hi(S)`` the least ``hi`` of any known super-coalition; ``hi``
    is never below ``lo``.  The empty coalition is worth exactly 0.
    """
    masks = np.array(sorted(lo), dtype=np.int64)
    lo_arr = np.array([lo[m] for m in masks], dtype=float)
    hi_arr = np.array([max(hi[m], lo[m]) for m in masks], dtype=float)
    new_lo: dict[int, float] = {}
    new_hi: dict[int, float] = {}
    source: dict[int, int] = {}
    for k, mask in enumerate(masks):
        subsets = (masks & ~mask) == 0
        best = int(np.argmax(np.where(subsets, lo_arr, -np.inf)))
        # A sub-coalition counts only if it beats S's own value (ties keep S's decision).
        if lo_arr[best] > max(lo_arr[k], 0.0):
            new_lo[int(mask)], source[int(mask)] = float(lo_arr[best]), int(masks[best])
        elif lo_arr[k] < 0.0:
            new_lo[int(mask)], source[int(mask)] = 0.0, 0  # the baseline: change nothing
        else:
            new_lo[int(mask)], source[int(mask)] = float(lo_arr[k]), int(mask)
        supersets = (masks & mask) == mask
        new_hi[int(mask)] = float(np.min(hi_arr[supersets]))
    for mask in new_hi:
        new_hi[mask] = max(new_hi[mask], new_lo[mask])
    return Values(new_lo, new_hi, source)


@dataclass(frozen=True)
class Shares:
    """Each player's share of the grand coalition's value.

    ``uncertainty[i]`` bounds how far ``shapley[i]`` could move if every coalition's
    value were anywhere in its solver interval; ``standard_error`` is the sampling
    error (zero when exact).
    """

    players: tuple[str, ...]
    shapley: NDArray[np.float64]
    standard_error: NDArray[np.float64]
    uncertainty: NDArray[np.float64]
    method: str  # "exact" or "sampled"
    samples: int = 0

    @property
    def total(self) -> float:
        return float(self.shapley.sum())


def exact_shapley(players: Sequence[str], values: Values) -> Shares:
    """The Shapley value from every coalition's value.

    ``phi_i = sum over S not holding i of |S|! (n-|S|-1)! / n! x (v(S+i) - v(S))``.
    """
    n = len(players)
    weight = [math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)]
    phi = np.zeros(n)
    spread = np.zeros(n)
    width = {m: values.hi[m] - values.lo[m] for m in values.lo}
    for mask in range(1 << n):
        size = mask.bit_count()
        for i in range(n):
            if mask >> i & 1:
                continue
            w = weight[size]
            with_i = mask | 1 << i
            phi[i] += w * (values.value(with_i) - values.value(mask))
            spread[i] += w * (width[with_i] + (width[mask] if mask else 0.0))
    return Shares(tuple(players), phi, np.zeros(n), spread, "exact")


def sampled_shapley(players: Sequence[str], values: Values, orders: NDArray[np.int64]) -> Shares:
    """The Shapley value estimated from random orders of the players.

    Each order gives every player its marginal value on joining the players before it;
    the estimate is the mean over orders, its standard error the sample standard
    deviation over the square root of the number of orders.  Every order's marginals
    add up to the grand coalition's value, so the estimates do too.
    """
    n = len(players)
    m = len(orders)
    marginal = np.zeros((m, n))
    spread = np.zeros((m, n))
    for k, order in enumerate(orders):
        mask = 0
        for player in order:
            joined = mask | 1 << int(player)
            marginal[k, player] = values.value(joined) - values.value(mask)
            spread[k, player] = (values.hi[joined] - values.lo[joined]) + (
                values.hi[mask] - values.lo[mask] if mask else 0.0
            )
            mask = joined
    error = marginal.std(axis=0, ddof=1) / math.sqrt(m) if m > 1 else np.full(n, np.inf)
    return Shares(tuple(players), marginal.mean(axis=0), error, spread.mean(axis=0), "sampled", m)


@dataclass(frozen=True)
class CoreCheck:
    """Whether any coalition would do better alone than its members' shares.

    ``excess[S] = v(S) - sum of its members' shares``.  A coalition *blocks* when its
    excess is above the tolerance even at the low end of its value; it *may block*
    when only the high end of its value (the solver's bound) gets there.
    ``least_core_epsilon`` is the smallest ``e`` for which some sharing gives every
    coalition at least ``v(S) - e``: the core is empty exactly when it is positive.
    ``checked`` is how many coalitions were checked (all, or those solved when sampled).
    """

    in_core: bool
    blocking: list[tuple[int, float]]  # (coalition, excess), worst first
    may_block: list[tuple[int, float]]
    worst: tuple[int, float] | None
    least_core_epsilon: float | None
    checked: int


def core_check(values: Values, shares: NDArray[np.float64], n: int) -> CoreCheck:
    """Check ``shares`` against every known coalition's value (see :class:`CoreCheck`)."""
    grand = (1 << n) - 1
    blocking, may_block = [], []
    worst: tuple[int, float] | None = None
    for mask in sorted(values.lo):
        if mask == grand:
            continue
        allotted = float(sum(shares[i] for i in range(n) if mask >> i & 1))
        excess = values.lo[mask] - allotted
        if worst is None or excess > worst[1] + 1e-9:
            worst = (mask, excess)
        if excess > CORE_TOL_GBP:
            blocking.append((mask, excess))
        elif values.hi[mask] - allotted > CORE_TOL_GBP:
            may_block.append((mask, values.hi[mask] - allotted))
    blocking.sort(key=lambda t: -t[1])
    may_block.sort(key=lambda t: -t[1])
    return CoreCheck(
        not blocking,
        blocking,
        may_block,
        worst,
        least_core_epsilon(values, n),
        len(values.lo),
    )


def least_core_epsilon(values: Values, n: int) -> float | None:
    """min e such that some x with x(N) = v(N) has x(S) >= v(S) - e for every known S.

    A linear programme (HiGHS through scipy); ``None`` if it cannot be solved.
    """
    from scipy.optimize import linprog

    grand = (1 << n) - 1
    others = [m for m in sorted(values.lo) if m != grand]
    if grand not in values.lo:
        return None
    if not others:
        return 0.0
    # Variables x_0..x_{n-1}, e.  Minimise e; -x(S) - e <= -v(S); x(N) = v(N).
    c = np.zeros(n + 1)
    c[-1] = 1.0
    a_ub = np.zeros((len(others), n + 1))
    for row, mask in enumerate(others):
        a_ub[row, :n] = [-(mask >> i & 1) for i in range(n)]
        a_ub[row, -1] = -1.0
    b_ub = np.array([-values.lo[m] for m in others])
    a_eq = np.concatenate([np.ones(n), [0.0]])[None, :]
    scale = max(1.0, abs(values.lo[grand]))
    # In units of the grand coalition's value, so HiGHS sees numbers near 1.
    result = linprog(
        c,
        A_ub=a_ub,
        b_ub=b_ub / scale,
        A_eq=a_eq,
        b_eq=[values.lo[grand] / scale],
        bounds=[(None, None)] * (n + 1),
        method="highs",
    )
    if result.status != 0:
        return None
    return float(result.x[-1] * scale)
