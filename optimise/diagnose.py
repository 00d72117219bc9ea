"""Why is a scenario infeasible?  Re-solve with penalised slack and say it in words.

Slack is allowed on the rows a Board can act on, grouped in families: each access
standard (people short), building capacity (desks over) and floor space (m2 over),
each capital budget (pounds over), the count of kept buildings, exclusivity, and a
service's need for somewhere to go.  A first re-solve minimises the total slack (each
family normalised to its scale) and names the families that needed some.  That alone
can mislead: the
cheapest mix may take a little slack from a family that is no obstacle at all (an
over-full building that lets one more zone reach a surgery when the standard cannot
be met anyway).  So every family named is checked again before it is reported:

- ``alone``: with slack on that family only, every other rule holding, a plan
  exists.  The amount is the least relaxation that does it.
- ``always``: with every other family relaxed freely (but no more services left
  without a building than must be), that family still needs slack: it is an obstacle
  whatever else changes.  The amount is the least it needs.
- ``jointly``: no family is enough alone; a smallest set of families that together
  restore feasibility is found (dropping any one of them leaves no plan) and its
  members are reported as one joint finding each, naming the others.
- ``together``: as ``jointly``, when the re-checks (which share the solver's time
  limit) ran out of time: the set is known to restore feasibility, not to be smallest.

A family that is none of these is not reported.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from estate.errors import SolverError
from estate.money import gbp
from optimise.formulation import LinearProgram, within_standard
from optimise.settings import SolverSettings
from optimise.solve import SolverOutput, SolveStatus, solve_with_highspy

if TYPE_CHECKING:
    from optimise.model import EstateModel

SLACK_TOL = 1e-6
# A family is an obstacle "whatever else changes" only if the solver proves its least
# (scaled) slack above this.
NECESSARY_TOL = 1e-7
SCOPES = ("alone", "always", "jointly", "together")
UNPLACED = "unplaced"
ORDER = {
    "unplaced": 0,
    "access": 1,
    "capacity": 2,
    "space": 2,
    "exclusive": 3,
    "budget": 4,
    "keep_count": 5,
}


@dataclass(frozen=True)
class Finding:
    """One reason the scenario cannot be met.

    ``scope`` says what was checked (see the module notes): ``alone`` (relaxing this
    family alone restores feasibility), ``always`` (it needs relaxing whatever else is
    relaxed), ``jointly`` (only together with the families in ``together_with``) or
    ``together`` (with them; whether fewer would do was not settled in time).
    """

    kind: str  # access | capacity | space | budget | keep_count | exclusive | unplaced
    subject: str  # service type, building id, budget name, service id
    amount: float  # people short, desks over, GBP over, buildings, ...
    message: str
    zones: tuple[str, ...] = ()
    buildings: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    scope: str = "alone"
    together_with: tuple[str, ...] = ()


@dataclass(frozen=True)
class Diagnosis:
    """The findings of a slack re-solve, each checked again, most important first."""

    findings: tuple[Finding, ...] = field(default=())
    status: str = ""

    @property
    def messages(self) -> list[str]:
        return [f.message for f in self.findings]

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "findings": [dataclasses.asdict(f) for f in self.findings],
        }


def family_of(row_name: str) -> str | None:
    """The family of a row a Board can relax, or None for a structural row.

    Each access standard and each budget is its own family; capacity, floor space,
    exclusivity, the count of kept buildings and services' places are one family each.
    """
    head = row_name.split("[", 1)[0]
    if head in ("access", "budget"):
        return row_name
    if head in ("capacity", "space", "exclusive", "keep_count"):
        return head
    if head == "desks_kept":  # the kept buildings' desks between them: capacity too
        return "capacity"
    if head == "assign_once":
        return "unplaced"
    return None


def family_label(family: str) -> str:
    """A family in words."""
    head, _, rest = family.partition("[")
    subject = rest.rstrip("]")
    if head == "access":
        return f"the {subject} access standard"
    if head == "budget":
        return "the pooled Total Capital budget" if subject == "pooled" else f"the {subject} budget"
    return {
        "capacity": "building capacities",
        "space": "floor space",
        "exclusive": "exclusivity",
        "keep_count": "the limit on buildings kept",
        "unplaced": "every service having a place",
    }[family]


@dataclass(frozen=True)
class SoftRow:
    """A row that may take slack: its family, the weight of a unit of its slack, and
    the sides it may be relaxed on (+1: activity may fall short of its lower bound;
    -1: overrun its upper bound)."""

    row: int
    family: str
    scale: float
    sides: tuple[int, ...]


def soft_rows(model: EstateModel) -> list[SoftRow]:
    """Every row a Board can relax, with its family and scale."""
    lp = model.formulation.lp
    instance = model.instance
    weight_total = max(float(instance.zone_weight().sum()), 1.0)
    desk_total = max(float(instance.services["desks"].sum()), 1.0)
    out = []
    for i, name in enumerate(lp.row_names):
        family = family_of(name)
        if family is None:
            continue
        kind = family.split("[", 1)[0]
        scale = {
            "access": 1.0 / weight_total,
            "capacity": 1.0 / desk_total,
            "space": 1.0 / max(float(instance.spaces.floor_m2.sum()), 1.0),
            "budget": 1.0 / max(abs(float(lp.row_hi[i])), 1.0),
            "keep_count": 1.0,
            "exclusive": 1.0,
            "unplaced": 10.0,
        }[kind]
        sides = []
        if np.isfinite(lp.row_lo[i]):
            sides.append(1)
        # A service placed twice is no relaxation anyone would make: unplaced is one-sided.
        if np.isfinite(lp.row_hi[i]) and kind != "unplaced":
            sides.append(-1)
        out.append(SoftRow(i, family, scale, tuple(sides)))
    return out


@dataclass(frozen=True)
class SlackSolve:
    """One re-solve with slack: the output, the model's columns, and each soft row's
    slack (both sides together), by row index."""

    output: SolverOutput
    x: NDArray[np.float64]
    slack: dict[int, float]

    def total(self, soft: list[SoftRow], family: str) -> float:
        """The family's slack, unscaled, summed over its rows."""
        return sum(self.slack.get(r.row, 0.0) for r in soft if r.family == family)

    def families(self, soft: list[SoftRow], lp: LinearProgram) -> dict[str, float]:
        """Families with slack beyond tolerance, and their scaled slack."""
        out: dict[str, float] = {}
        for r in soft:
            value = self.slack.get(r.row, 0.0)
            side = lp.row_lo[r.row] if np.isfinite(lp.row_lo[r.row]) else lp.row_hi[r.row]
            if value > SLACK_TOL * max(1.0, abs(float(side))) and value > SLACK_TOL:
                out[r.family] = out.get(r.family, 0.0) + value * r.scale
        return out


def slack_solve(
    model: EstateModel,
    soft: list[SoftRow],
    relax: set[str],
    settings: SolverSettings,
    cost_on: set[str] | None = None,
    cap: tuple[str, float] | None = None,
) -> SlackSolve | SolveStatus:
    """Re-solve with slack on the rows of the ``relax`` families (every other row holds);
    minimise the scaled slack of the ``cost_on`` families (default: ``relax``); ``cap``
    (family, amount) limits one family's total slack.  Without a plan, the status says
    whether there is none (``infeasible``) or none was found in time."""
    lp = model.formulation.lp
    cost_on = relax if cost_on is None else cost_on
    rows, coefs, costs, capped = [], [], [], []
    for r in soft:
        if r.family not in relax:
            continue
        for sign in r.sides:
            rows.append(r.row)
            coefs.append(float(sign))
            costs.append(r.scale if r.family in cost_on else 0.0)
            capped.append(cap is not None and r.family == cap[0])
    n = len(rows)
    extra = sparse.csr_matrix(
        (np.asarray(coefs), (np.asarray(rows, dtype=np.int64), np.arange(n))),
        shape=(lp.shape[0], n),
    )
    matrix = sparse.hstack([lp.matrix, extra], format="csr")
    row_lo, row_hi, row_names = lp.row_lo, lp.row_hi, lp.row_names
    if cap is not None:
        limit = sparse.csr_matrix(np.concatenate([np.zeros(len(lp.c)), capped]).reshape(1, -1))
        matrix = sparse.vstack([matrix, limit], format="csr")
        row_lo = np.append(row_lo, -np.inf)
        row_hi = np.append(row_hi, cap[1] + SLACK_TOL)
        row_names = [*row_names, f"slack_cap[{cap[0]}]"]
    relaxed = LinearProgram(
        c=np.concatenate([np.zeros(len(lp.c)), np.asarray(costs)]),
        constant=0.0,
        matrix=matrix,
        row_lo=row_lo,
        row_hi=row_hi,
        col_lo=np.concatenate([lp.col_lo, np.zeros(n)]),
        col_hi=np.concatenate([lp.col_hi, np.full(n, np.inf)]),
        integer=np.concatenate([lp.integer, np.zeros(n, dtype=bool)]),
        col_names=lp.col_names + [f"slack[{lp.row_names[i]}]" for i in rows],
        row_names=row_names,
    )
    output = solve_with_highspy(
        relaxed, settings.model_copy(update={"mip_rel_gap": max(settings.mip_rel_gap, 1e-6)})
    )
    if output.x is None:
        return output.status
    slack: dict[int, float] = {}
    for row, value in zip(rows, output.x[len(lp.c) :], strict=True):
        slack[row] = slack.get(row, 0.0) + float(value)
    return SlackSolve(output, output.x[: len(lp.c)], slack)


# (family, the re-solve its findings come from, scope, the other families of a joint set)
Part = tuple[str, SlackSolve, str, tuple[str, ...]]


class _Rechecks:
    """The re-solves that check the families, sharing one time budget (the solver's
    time limit).  ``settled`` turns False when one ended with neither a plan nor a
    proof that there is none: then no claim rests on it."""

    def __init__(self, model: EstateModel, soft: list[SoftRow], settings: SolverSettings):
        self.model, self.soft, self.settings = model, soft, settings
        self.deadline = time.perf_counter() + settings.time_limit_seconds
        self.settled = True

    def solve(
        self, relax: set[str], cost_on: set[str] | None = None, cap: tuple[str, float] | None = None
    ) -> SlackSolve | None:
        left = self.deadline - time.perf_counter()
        if left <= 0:
            self.settled = False
            return None
        local = self.settings.model_copy(update={"time_limit_seconds": left})
        solved = slack_solve(self.model, self.soft, relax, local, cost_on, cap)
        if isinstance(solved, SlackSolve):
            return solved
        self.settled = self.settled and solved is SolveStatus.INFEASIBLE
        return None


def diagnose_infeasibility(model: EstateModel, settings: SolverSettings) -> Diagnosis:
    """Re-solve ``model`` with slack on the soft rows, check every family that needed
    some (see the module notes), and explain the ones that stand."""
    lp = model.formulation.lp
    soft = soft_rows(model)
    every = {r.family for r in soft}
    first = slack_solve(model, soft, every, settings)
    if not isinstance(first, SlackSolve):
        return Diagnosis(
            (
                Finding(
                    "unknown",
                    "",
                    0.0,
                    "Even with every standard, capacity and budget relaxed no plan exists: "
                    "check buildings that are both forced to stay and forced to go.",
                ),
            ),
            "no plan even with every rule relaxed",
        )
    needing = first.families(soft, lp)
    if not needing:
        return Diagnosis((), "no slack needed")
    if len(needing) == 1:  # the first solve is a plan with slack on that family only
        (family,) = needing
        return _diagnosis(model, soft, [(family, first, "alone", ())])
    checks = _Rechecks(model, soft, settings)
    alone = {}
    for family in sorted(needing):
        solved = checks.solve({family})
        if solved is not None:
            alone[family] = solved
    if alone:
        return _diagnosis(model, soft, [(f, s, "alone", ()) for f, s in alone.items()])
    necessary: dict[str, SlackSolve] = {}
    # Services are placed wherever they can be: letting one vanish would make almost any
    # obstacle disappear, and no Board can do it.  So first the fewest that must go...
    placed = checks.solve(every, cost_on={UNPLACED})
    fewest = 0.0 if placed is None else placed.total(soft, UNPLACED)
    if UNPLACED in needing and placed is not None and _proven(placed):
        necessary[UNPLACED] = placed
    # ... then each other family with every family relaxed but no more services unplaced.
    for family in sorted(set(needing) - {UNPLACED}):
        if placed is None:
            break
        solved = checks.solve(every, cost_on={family}, cap=(UNPLACED, fewest))
        if solved is not None and _proven(solved):
            necessary[family] = solved
    joint, joint_solve = _smallest_joint_set(checks, needing, set(necessary), first)
    scope = "jointly" if checks.settled else "together"
    parts: list[Part] = [(f, s, "always", ()) for f, s in necessary.items()]
    parts += [
        (f, joint_solve, scope, tuple(sorted(joint - {f}))) for f in sorted(joint - set(necessary))
    ]
    return _diagnosis(model, soft, parts)


def _proven(solved: SlackSolve) -> bool:
    """Whether the solver proved the least slack it was minimising above zero."""
    bound = solved.output.bound
    return bound is not None and bound > NECESSARY_TOL


def _smallest_joint_set(
    checks: _Rechecks, needing: dict[str, float], necessary: set[str], first: SlackSolve
) -> tuple[set[str], SlackSolve]:
    """A set of families that together restore feasibility and from which none can be
    dropped, holding every family that is necessary; and a plan relaxing only them."""
    if necessary:
        solved = checks.solve(necessary)
        if solved is not None:
            return set(necessary), solved
    joint, plan = set(needing), first
    for family in sorted(set(needing) - necessary, key=lambda f: (needing[f], f)):
        solved = checks.solve(joint - {family})
        if solved is not None:
            joint, plan = joint - {family}, solved
    return joint, plan


def _diagnosis(
    model: EstateModel,
    soft: list[SoftRow],
    parts: list[Part],
) -> Diagnosis:
    """Findings, one a row with slack, of each (family, solve, scope, partners)."""
    lp = model.formulation.lp
    findings: list[Finding] = []
    for family, solved, scope, partners in parts:
        for r in soft:
            if r.family != family:
                continue
            value = solved.slack.get(r.row, 0.0)
            side = lp.row_lo[r.row] if np.isfinite(lp.row_lo[r.row]) else lp.row_hi[r.row]
            if value > SLACK_TOL * max(1.0, abs(float(side))) and value > SLACK_TOL:
                finding = _explain(model, lp.row_names[r.row], value, solved.x, scope, partners)
                findings.append(finding)
    findings.sort(key=lambda f: (ORDER.get(f.kind, 9), -f.amount, f.subject))
    return Diagnosis(tuple(findings), SolveStatus.INFEASIBLE.value)


def _scope_clause(family: str, scope: str, partners: tuple[str, ...]) -> str:
    """What was checked about a finding, as the end of its message."""
    if scope == "alone":
        return f"relaxing {family_label(family)} alone would make the scenario feasible"
    if scope == "always":
        return "this holds even with every other standard, capacity and budget relaxed"
    others = " and ".join(family_label(p) for p in partners)
    together = f"relaxing {family_label(family)} together with {others} makes the scenario feasible"
    if scope == "jointly":
        return f"{together}, and no one of them alone does"
    return f"{together} (whether fewer would do was not settled within the time limit)"


def _explain(
    model: EstateModel,
    row_name: str,
    amount: float,
    x: NDArray[np.float64],
    scope: str,
    partners: tuple[str, ...],
) -> Finding:
    family = family_of(row_name)
    assert family is not None
    clause = _scope_clause(family, scope, partners)
    head, _, rest = row_name.partition("[")
    subject = rest.rstrip("]")
    instance = model.instance
    if head == "access":
        finding = _explain_access(model, subject, amount, x, scope)
    elif head == "capacity":
        finding = _explain_capacity(model, subject, amount, x)
    elif head == "desks_kept":
        desks = float(instance.services["desks"].sum())
        finding = Finding(
            "capacity",
            "all buildings",
            amount,
            f"The buildings that may be kept hold {desks - amount:,.0f} desks between them "
            f"(at the utilisation allowed); the services need {desks:,.0f}",
        )
    elif head == "space":
        building, space_type = subject.split(",", 1)
        finding = Finding(
            "space",
            building,
            amount,
            f"Building {building} would need {amount:,.0f} m2 more {space_type} space than it "
            "has (fit-outs included)",
            buildings=(building,),
        )
    elif head == "budget":
        who = "the pooled Total Capital budget" if subject == "pooled" else f"the {subject} budget"
        finding = Finding(
            "budget",
            subject,
            amount,
            f"One-off costs (moves, fit-out, dilapidations) exceed {who} by "
            f"{'at least ' if scope in ('alone', 'always') else ''}{gbp(amount)}",
        )
    elif head == "keep_count":
        finding = Finding(
            "keep_count",
            "keep_count",
            amount,
            f"The limit on the number of buildings kept is off by {amount:g}: the retained "
            "buildings and services cannot fit it",
        )
    elif head == "exclusive":
        service_id, agency, building = subject.split(",")
        finding = Finding(
            "exclusive",
            service_id,
            amount,
            f"Exclusive service {service_id} cannot avoid sharing building {building} with "
            f"{agency}",
            buildings=(building,),
            services=(service_id,),
        )
    elif head == "assign_once":
        j = instance.service_ids.index(subject)
        home = instance.services["building_id"].iloc[j]
        finding = Finding(
            "unplaced",
            subject,
            amount,
            f"Service {subject} ({instance.services['name'].iloc[j]}) has nowhere to go: its "
            f"building {home} cannot stay and no building it may move into can take it",
            buildings=(str(home),),
            services=(subject,),
        )
    else:
        raise SolverError(f"no explanation for slack on row {row_name}")
    return dataclasses.replace(
        finding, message=f"{finding.message}; {clause}.", scope=scope, together_with=partners
    )


def _explain_access(
    model: EstateModel, k: str, amount: float, x: NDArray[np.float64], scope: str
) -> Finding:
    instance = model.instance
    f = model.formulation
    standard = instance.access[k]
    weight = instance.zone_weight()
    total = float(weight.sum())
    zone_ids = instance.zones["zone_id"].to_numpy(dtype=object)
    block = next(b for b in f.access_blocks if b.service_type == k)
    possible = within_standard(instance, standard, block.present_building).any(axis=1)
    within = " or ".join(f"{m:g} minutes by {mode}" for mode, m in standard.thresholds().items())
    unreachable = np.flatnonzero(~possible & (weight > 0))
    covered = np.zeros(len(zone_ids), dtype=bool)
    covered[block.covered_zone] = x[block.covered_col] > 0.5
    uncovered = np.flatnonzero(~covered & (weight > 0))
    ranked = uncovered[np.argsort(-weight[uncovered], kind="stable")]
    need = f.target_share[k]
    best = need - amount / total if total > 0 else 0.0

    def listed(zones: NDArray[np.int64]) -> str:
        shown = ", ".join(f"{zone_ids[z]} ({weight[z]:,.0f})" for z in zones[:10])
        return shown + (f" and {len(zones) - 10} more" if len(zones) > 10 else "")

    parts = []
    named = unreachable[np.argsort(-weight[unreachable], kind="stable")]
    if len(named):
        parts.append(
            f"no building that could hold a {k} service is within {within} "
            f"of zones {listed(named)} "
            f"({float(weight[named].sum()):,.0f} people)"
        )
    reachable_left = np.setdiff1d(ranked, named, assume_unique=False)
    reachable_left = reachable_left[np.argsort(-weight[reachable_left], kind="stable")]
    if amount > float(weight[named].sum()) + 0.5 and len(reachable_left):
        count = int((instance.services["service_type"] == k).sum())
        which = "that plan" if scope == "jointly" else "the best plan"
        parts.append(
            f"with the {count} {k} service(s) there are to place, {which} also leaves "
            f"zones {listed(reachable_left)} outside it"
        )
    why = "; ".join(parts) if parts else "the standard is just out of reach"
    zones = tuple(str(zone_ids[z]) for z in np.concatenate([named, reachable_left]))
    share = f"{max(best, 0):.1%}"
    reach = f"that plan reaches {share}" if scope == "jointly" else f"at best {share} can be"
    return Finding(
        "access",
        k,
        amount,
        f"Access to {k}: the standard needs {need:.1%} of people within "
        f"{within}, but {reach} ({amount:,.0f} people short): {why}",
        zones=zones,
    )


def _explain_capacity(
    model: EstateModel, building_id: str, amount: float, x: NDArray[np.float64]
) -> Finding:
    instance = model.instance
    f = model.formulation
    i = instance.building_ids.index(building_id)
    b = instance.buildings.iloc[i]
    chosen = (f.pair_building == i) & (x[f.pair_col] > 1e-6)
    services = instance.services.iloc[f.pair_service[chosen]]
    fixed = services.loc[~services["movable"], "service_id"].tolist()
    cap = float(b["capacity_desks"]) * instance.policy.utilisation
    names = ", ".join(services["service_id"].tolist()[:10])
    return Finding(
        "capacity",
        building_id,
        amount,
        f"Building {building_id} ({b['name']}) would need {cap + amount:g} desks for its "
        f"services ({names}) but may hold {cap:g}"
        + (f"; {', '.join(fixed)} cannot move" if fixed else ""),
        buildings=(building_id,),
        services=tuple(services["service_id"].tolist()),
    )
