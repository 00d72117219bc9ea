"""``estate validate SCENARIO``: every check ``estate run`` makes before it solves.

One code path: the inputs are read by :func:`scenarios.scenario.inputs.account_place` (what
:func:`scenarios.scenario.inputs.load_place` raises from), the scenario's names and the points
are checked by :func:`scenarios.scenario.inputs.run_inputs`, and the problem is built by
:func:`scenarios.running.run.build_instance` on the travel times the run would compute.  What
the run would stop on, this lists (all of it, table by table, instead of stopping at
the first table); what it would warn about, this shows.  Nothing is solved or written
but the rejected and set-aside rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from estate.errors import CellIssue, InputDataError, SettingsError
from estate.load import REASON_COLUMN, LoadResult
from estate.report import load_lines
from estate.validate import FILE_COLUMN, ROW_COLUMN
from geodata.placecheck import FarFromNetworkError, PlaceChecks, check_lines
from scenarios.running.run import build_instance, travel_times
from scenarios.scenario.file import ScenarioError, ScenarioFile
from scenarios.scenario.inputs import PlaceAccount, account_place, run_inputs

Progress = Callable[[str], None]


def _silent(_: str) -> None:
    return None


@dataclass(frozen=True)
class Preflight:
    """What ``estate run`` would find in a scenario's inputs before solving.

    ``place`` accounts for every row of every table; ``checks`` (once the tables are
    accepted) holds the points checked against the zones and the network; ``problems``
    are what stops a run after the tables: points too far from the network, access
    standards or policies that do not fit the register.
    """

    scenario: Path
    place: PlaceAccount
    checks: PlaceChecks | None = None
    problems: tuple[CellIssue, ...] = field(default=())
    why: str = ""  # what the problems mean and the way out, as the run says it

    @property
    def tables(self) -> dict[str, LoadResult]:
        return {
            "buildings": self.place.register.buildings,
            "services": self.place.register.services,
            "zones": self.place.zones.load,
        }

    @property
    def errors(self) -> list[CellIssue]:
        """Everything that would stop ``estate run``."""
        return self.place.errors + list(self.problems)

    @property
    def would_run(self) -> bool:
        return not self.errors

    @property
    def exit_code(self) -> int:
        """0: ``estate run`` would solve it; 1: some row or check fails; 2: a file
        cannot be read or used at all."""
        unreadable = any(t.unreadable for t in self.tables.values()) or self.place.network_issues
        if unreadable:
            return 2
        return 0 if self.would_run else 1

    def rejected(self) -> pd.DataFrame:
        """Every rejected row of every table: file, row, reasons, then its cells."""
        frames = [t.rejected() for t in self.tables.values()]
        frames = [f for f in frames if len(f)]
        if not frames:
            return pd.DataFrame(columns=[FILE_COLUMN, ROW_COLUMN, "reasons"])
        return pd.concat(frames, ignore_index=True).fillna("")

    def set_aside(self) -> pd.DataFrame:
        frames = [t.set_aside() for t in self.tables.values()]
        frames = [f for f in frames if len(f)]
        if not frames:
            return pd.DataFrame(columns=[FILE_COLUMN, ROW_COLUMN, REASON_COLUMN])
        return pd.concat(frames, ignore_index=True).fillna("")

    def summary(self) -> dict[str, Any]:
        """The JSON document of ``estate validate SCENARIO --json``."""
        tables = {name: result.summary() for name, result in self.tables.items()}
        network = self.place.network
        doc: dict[str, Any] = {
            "scenario": str(self.scenario),
            "would_run": self.would_run,
            "tables": tables,
            "network": None
            if network is None
            else {"source": network.name, "nodes": len(network.nodes), "edges": len(network.edges)},
            "network_errors": [i.as_dict() for i in self.place.network_issues],
            "across_tables": [i.as_dict() for i in self.place.register.across],
            "place_checks": None if self.checks is None else self.checks.as_dict(),
            "problems": [i.as_dict() for i in self.problems],
            "problems_summary": self.why or None,
        }
        for key in ("rows_read", "rows_accepted", "rows_rejected", "rows_set_aside"):
            doc[key] = sum(t[key] for t in tables.values())
        return doc

    def lines(self) -> list[str]:
        """The account for the terminal, table by table, then the verdict."""
        out = [f"{self.scenario}: the inputs as estate run reads them"]
        for name, result in self.tables.items():
            out.append(f"{name}:")
            out += [f"  {line}" for line in load_lines(result)]
        network = self.place.network
        if network is not None:
            out.append(
                f"network: {network.name}: {len(network.nodes):,} nodes, "
                f"{len(network.edges):,} edges"
            )
        out += _issues("network errors", list(self.place.network_issues))
        out += _issues("across the tables", list(self.place.register.across))
        if self.checks is not None:
            out += check_lines(self.checks.as_dict())
        out += _issues(
            f"before solving: {self.why}" if self.why else "before solving", list(self.problems)
        )
        errors = len(self.errors)
        rejected = sum(f.rows_rejected for t in self.tables.values() for f in t.files)
        verdict = f"estate run would stop: {errors} problem(s)"
        if rejected:
            verdict += f"; {rejected} rejected row(s) with their cells in the rejected CSV"
        out.append("every input accepted: estate run would solve it" if not errors else verdict)
        return out


def _issues(title: str, issues: list[CellIssue], limit: int = 20) -> list[str]:
    if not issues:
        return []
    lines = [f"{title} ({len(issues)}):"]
    lines += [f"  - {issue}" for issue in issues[:limit]]
    if len(issues) > limit:
        lines.append(f"  ... and {len(issues) - limit} more (all in --json)")
    return lines


def preflight(sf: ScenarioFile, progress: Progress = _silent) -> Preflight:
    """Read and check ``sf``'s inputs exactly as ``estate run`` does, up to the solver.

    A scenario file that cannot be used raises :class:`ScenarioError` (exit 2), as
    the run does.
    """
    progress("reading the inputs")
    place = account_place(sf)
    if place.errors:
        return Preflight(sf.path, place)
    data = place.checked()
    progress("checking the points against the place")
    try:
        inputs = run_inputs(sf, data)
    except FarFromNetworkError as exc:
        return Preflight(sf.path, place, exc.checks, tuple(exc.issues), _head(exc))
    try:
        build_instance(inputs, travel_times(inputs, progress))
    except ScenarioError:
        raise
    except InputDataError as exc:
        return Preflight(sf.path, place, inputs.checks, tuple(exc.issues), _head(exc))
    except SettingsError as exc:
        return Preflight(
            sf.path, place, inputs.checks, (CellIssue(str(sf.path), None, "", "", str(exc)),)
        )
    return Preflight(sf.path, place, inputs.checks)


def _head(exc: Exception) -> str:
    """The first line of an error: its summary, without the listed issues."""
    return str(exc).split(":\n", 1)[0]
