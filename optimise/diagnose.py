"""Why is a scenario infeasible?  Re-solve with penalised slack and say it in words.

Slack is added to the rows a Board can act on: access standards (people short), building
capacity (desks over) and floor space (m2 over), capital budgets (pounds over), the
count of kept buildings, exclusivity, and a service's need for somewhere to go.  The slack model
minimises the total (each kind normalised to its scale), and every row that still
needs slack is reported, naming the service types, zones, buildings, services and
budgets involved.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from estate.errors import SolverError
from optimise.formulation import LinearProgram, within_standard
from optimise.settings import SolverSettings
from optimise.solve import SolveStatus, solve_with_highspy

if TYPE_CHECKING:
    from optimise.model import EstateModel

SLACK_TOL = 1e-6


@dataclass(frozen=True)
class Finding:
    """One reason the scenario cannot be met."""

    kind: str  # access | capacity | space | budget | keep_count | exclusive | unplaced
    subject: str  # service type, building id, budget name, service id
    amount: float  # people short, desks over, GBP over, buildings, ...
    message: str
    zones: tuple[str, ...] = ()
    buildings: tuple[str, ...] = ()
    services: tuple[str, ...] = ()


@dataclass(frozen=True)
class Diagnosis:
    """The findings of a slack re-solve, most important first."""

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


def _soft(name: str) -> str | None:
    head = name.split("[", 1)[0]
    return (
        head
        if head
        in (
            "access",
            "capacity",
            "space",
            "budget",
            "keep_count",
            "exclusive",
            "assign_once",
        )
        else None
    )


def diagnose_infeasibility(model: EstateModel, settings: SolverSettings) -> Diagnosis:
    """Re-solve ``model`` with slack on the soft rows and explain what needed it."""
    lp = model.formulation.lp
    instance = model.instance
    weight_total = max(float(instance.zone_weight().sum()), 1.0)
    desk_total = max(float(instance.services["desks"].sum()), 1.0)
    rows, coefs, costs, kinds = [], [], [], []
    for i, name in enumerate(lp.row_names):
        kind = _soft(name)
        if kind is None:
            continue
        scale = {
            "access": 1.0 / weight_total,
            "capacity": 1.0 / desk_total,
            "space": 1.0 / max(float(instance.spaces.floor_m2.sum()), 1.0),
            "budget": 1.0 / max(abs(float(lp.row_hi[i])), 1.0),
            "keep_count": 1.0,
            "exclusive": 1.0,
            "assign_once": 10.0,
        }[kind]
        sides = []
        if np.isfinite(lp.row_lo[i]):
            sides.append(1.0)  # the row's activity may fall short of its lower bound
        if np.isfinite(lp.row_hi[i]):
            sides.append(-1.0)  # ... or overrun its upper bound
        for sign in sides:
            rows.append(i)
            coefs.append(sign)
            costs.append(scale)
            kinds.append((i, int(sign)))
    n = len(rows)
    extra = sparse.csr_matrix(
        (np.asarray(coefs), (np.asarray(rows, dtype=np.int64), np.arange(n))),
        shape=(lp.shape[0], n),
    )
    relaxed = LinearProgram(
        c=np.concatenate([np.zeros(len(lp.c)), np.asarray(costs)]),
        constant=0.0,
        matrix=sparse.hstack([lp.matrix, extra], format="csr"),
        row_lo=lp.row_lo,
        row_hi=lp.row_hi,
        col_lo=np.concatenate([lp.col_lo, np.zeros(n)]),
        col_hi=np.concatenate([lp.col_hi, np.full(n, np.inf)]),
        integer=np.concatenate([lp.integer, np.zeros(n, dtype=bool)]),
        col_names=lp.col_names + [f"slack[{lp.row_names[i]}]" for i in rows],
        row_names=lp.row_names,
    )
    output = solve_with_highspy(
        relaxed, settings.model_copy(update={"mip_rel_gap": max(settings.mip_rel_gap, 1e-6)})
    )
    if output.x is None:
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
            output.status.value,
        )
    slack = output.x[len(lp.c) :]
    x = output.x[: len(lp.c)]
    findings: list[Finding] = []
    for (row, _side), value in zip(kinds, slack, strict=True):
        if (
            value
            > SLACK_TOL
            * max(
                1.0, abs(float(lp.row_lo[row] if np.isfinite(lp.row_lo[row]) else lp.row_hi[row]))
            )
            and value > SLACK_TOL
        ):
            findings.append(_explain(model, lp.row_names[row], float(value), x))
    order = {
        "unplaced": 0,
        "access": 1,
        "capacity": 2,
        "space": 2,
        "exclusive": 3,
        "budget": 4,
        "keep_count": 5,
    }
    findings.sort(key=lambda f: (order.get(f.kind, 9), -f.amount, f.subject))
    status = SolveStatus.INFEASIBLE.value if findings else "no slack needed"
    return Diagnosis(tuple(findings), status)


def _explain(model: EstateModel, row_name: str, amount: float, x: NDArray[np.float64]) -> Finding:
    head, _, rest = row_name.partition("[")
    subject = rest.rstrip("]")
    if head == "access":
        return _explain_access(model, subject, amount, x)
    instance = model.instance
    if head == "capacity":
        return _explain_capacity(model, subject, amount, x)
    if head == "space":
        building, space_type = subject.split(",", 1)
        return Finding(
            "space",
            building,
            amount,
            f"Building {building} would need {amount:,.0f} m2 more {space_type} space than it "
            "has (fit-outs included) for any plan that meets the other rules.",
            buildings=(building,),
        )
    if head == "budget":
        who = "the pooled Total Capital budget" if subject == "pooled" else f"the {subject} budget"
        return Finding(
            "budget",
            subject,
            amount,
            f"One-off costs (moves, fit-out, dilapidations) must exceed {who} by at least "
            f"£{amount:,.0f} for any plan that meets the other rules.",
        )
    if head == "keep_count":
        return Finding(
            "keep_count",
            "keep_count",
            amount,
            f"The limit on the number of buildings kept is off by {amount:g}: the retained "
            "buildings and services cannot fit it.",
        )
    if head == "exclusive":
        service_id, agency, building = subject.split(",")
        return Finding(
            "exclusive",
            service_id,
            amount,
            f"Exclusive service {service_id} cannot avoid sharing building {building} with "
            f"{agency}.",
            buildings=(building,),
            services=(service_id,),
        )
    if head == "assign_once":
        j = instance.service_ids.index(subject)
        home = instance.services["building_id"].iloc[j]
        return Finding(
            "unplaced",
            subject,
            amount,
            f"Service {subject} ({instance.services['name'].iloc[j]}) has nowhere to go: its "
            f"building {home} cannot stay and no building it may move into can take it.",
            buildings=(str(home),),
            services=(subject,),
        )
    raise SolverError(f"no explanation for slack on row {row_name}")


def _explain_access(model: EstateModel, k: str, amount: float, x: NDArray[np.float64]) -> Finding:
    instance = model.instance
    f = model.formulation
    standard = instance.access[k]
    weight = instance.zone_weight()
    total = float(weight.sum())
    zone_ids = instance.zones["zone_id"].to_numpy(dtype=object)
    block = next(b for b in f.access_blocks if b.service_type == k)
    possible = within_standard(instance, standard, block.present_building).any(axis=1)
    reach = " or ".join(f"{m:g} minutes by {mode}" for mode, m in standard.thresholds().items())
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
            f"no building that could hold a {k} service is within {reach} "
            f"of zones {listed(named)} "
            f"({float(weight[named].sum()):,.0f} people)"
        )
    reachable_left = np.setdiff1d(ranked, named, assume_unique=False)
    reachable_left = reachable_left[np.argsort(-weight[reachable_left], kind="stable")]
    if amount > float(weight[named].sum()) + 0.5 and len(reachable_left):
        count = int((instance.services["service_type"] == k).sum())
        parts.append(
            f"with the {count} {k} service(s) there are to place, the best plan also leaves "
            f"zones {listed(reachable_left)} outside it"
        )
    why = "; ".join(parts) if parts else "the standard is just out of reach"
    zones = tuple(str(zone_ids[z]) for z in np.concatenate([named, reachable_left]))
    return Finding(
        "access",
        k,
        amount,
        f"Access to {k}: the standard needs {need:.1%} of people within "
        f"{reach}, but at best {max(best, 0):.1%} "
        f"can be ({amount:,.0f} people short): {why}.",
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
        f"Building {building_id} ({b['name']}) would need {cap + amount:g} desks but may hold "
        f"{cap:g}: its services ({names}) have nowhere else to go"
        + (f"; {', '.join(fixed)} cannot move" if fixed else "")
        + ".",
        buildings=(building_id,),
        services=tuple(services["service_id"].tolist()),
    )
