"""The merged multi-agency register: buildings and the services that occupy them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from estate.agencies import builtin
from estate.errors import CellIssue, InputDataError
from estate.io import read_csv_text
from estate.schema import BUILDINGS, SERVICES
from estate.validate import ROW_COLUMN, coerce_table, fill_coordinates


@dataclass(frozen=True)
class Register:
    """Validated canonical ``buildings`` and ``services`` tables.

    Build one with :meth:`from_frames` or :meth:`from_csv`; both raise
    :class:`~estate.errors.InputDataError` listing every problem found.  ``warnings``
    holds problems that do not stop a run (for example a building already over
    capacity today).
    """

    buildings: pd.DataFrame
    services: pd.DataFrame
    warnings: tuple[CellIssue, ...] = field(default=())

    @classmethod
    def from_frames(
        cls,
        buildings: pd.DataFrame,
        services: pd.DataFrame,
        buildings_source: str = "buildings",
        services_source: str = "services",
    ) -> Register:
        """Validate raw frames whose columns already carry canonical names.

        Agency names go through the built-in agencies table (as loading does), so a
        services table that writes "LFRS" joins buildings loaded as "Leicestershire
        Fire and Rescue Service".
        """
        buildings, services = _one_name_per_body(buildings), _one_name_per_body(services)
        b = coerce_table(buildings, BUILDINGS, buildings_source)
        s = coerce_table(services, SERVICES, services_source)
        issues = b.issues + s.issues
        issues += fill_coordinates(b.accepted, buildings_source)
        issues += check_links(b.accepted, s.accepted, services_source)
        issues += _let_out_occupied(b.accepted, s.accepted, services_source)
        if issues:
            raise InputDataError(issues, "the register cannot be used as it stands")
        warnings = b.warnings + s.warnings + _hold_let_out(b.accepted, buildings_source)
        warnings += _warnings(b.accepted, s.accepted, buildings_source)
        return cls(b.accepted, s.accepted, tuple(warnings))

    @classmethod
    def from_csv(cls, buildings_csv: str | Path, services_csv: str | Path) -> Register:
        """Read canonical CSV files (for example the ``inputs/`` of a demo run)."""
        frames = [read_csv_text(path) for path in (buildings_csv, services_csv)]
        return cls.from_frames(frames[0], frames[1], str(buildings_csv), str(services_csv))

    @property
    def agencies(self) -> list[str]:
        """Every agency that owns a building or runs a service, sorted."""
        names = set(self.buildings["agency"]) | set(self.services["agency"])
        return sorted(names)

    def occupancy(self) -> pd.Series:
        """Desks in use in each building today (0 for empty buildings)."""
        used = self.services.groupby("building_id")["desks"].sum()
        return used.reindex(self.buildings["building_id"], fill_value=0.0)


def check_links(buildings: pd.DataFrame, services: pd.DataFrame, source: str) -> list[CellIssue]:
    known = set(buildings["building_id"])
    issues = []
    for _, row in services.loc[~services["building_id"].isin(known)].iterrows():
        issues.append(
            CellIssue(
                source,
                int(row[ROW_COLUMN]),
                "building_id",
                str(row["building_id"]),
                "no building with this building_id in the buildings table",
            )
        )
    return issues


LET_OUT = "leasehold_out"


def _one_name_per_body(frame: pd.DataFrame) -> pd.DataFrame:
    if "agency" not in frame:
        return frame
    table = builtin()

    def canonical(value: object) -> object:
        if not isinstance(value, str) or not value.strip():
            return value
        return table.canonical(value) or value

    return frame.assign(agency=frame["agency"].map(canonical))


def _let_out_occupied(
    buildings: pd.DataFrame, services: pd.DataFrame, source: str
) -> list[CellIssue]:
    """A site let to others holds none of the body's services."""
    let_out = set(buildings.loc[buildings["tenure"] == LET_OUT, "building_id"])
    return [
        CellIssue(
            source,
            int(row[ROW_COLUMN]),
            "building_id",
            str(row["building_id"]),
            "this building is let to others (tenure leasehold_out): a service of the body "
            "cannot be in it; correct the tenure or the service's building",
        )
        for _, row in services.loc[services["building_id"].isin(let_out)].iterrows()
    ]


def _hold_let_out(buildings: pd.DataFrame, source: str) -> list[CellIssue]:
    """A site let to others is held as it is: kept (must_retain), never a host for a
    service (can_host false), and its running cost is the tenant's, not the body's (0).
    Changes it makes to the row are warned about."""
    warnings: list[CellIssue] = []
    let_out = (buildings["tenure"] == LET_OUT).to_numpy()
    for i in np.flatnonzero(let_out):
        row = buildings.iloc[i]
        row_no = int(row[ROW_COLUMN])
        for column, held, why in (
            ("can_host", False, "no service moves into a site let to others"),
            ("must_retain", True, "a site let to others is held as it is"),
            ("running_cost", 0.0, "its running cost is the tenant's, not the body's"),
        ):
            if row[column] != held:
                warnings.append(
                    CellIssue(
                        source,
                        row_no,
                        column,
                        str(row[column]),
                        f"let to others (tenure leasehold_out): read as {held} ({why})",
                    )
                )
    if let_out.any():
        buildings.loc[let_out, "can_host"] = False
        buildings.loc[let_out, "must_retain"] = True
        buildings.loc[let_out, "running_cost"] = 0.0
    return warnings


def _warnings(buildings: pd.DataFrame, services: pd.DataFrame, source: str) -> list[CellIssue]:
    warnings: list[CellIssue] = []
    used = services.groupby("building_id")["desks"].sum()
    for _, row in buildings.iterrows():
        row_no = int(row[ROW_COLUMN])
        desks = float(used.get(row["building_id"], 0.0))
        if desks > row["capacity_desks"] + 1e-9:
            warnings.append(
                CellIssue(
                    source,
                    row_no,
                    "capacity_desks",
                    f"{row['capacity_desks']:g}",
                    f"already over capacity today: {desks:g} desks in use",
                )
            )
        if row["tenure"] == "leasehold" and row["disposal_value"] > 0:
            warnings.append(
                CellIssue(
                    source,
                    row_no,
                    "disposal_value",
                    f"{row['disposal_value']:g}",
                    "leasehold buildings raise no receipt; the value is ignored",
                )
            )
        if (
            row["tenure"] == "leasehold"
            and pd.isna(row["lease_end"])
            and pd.isna(row["lease_break"])
        ):
            warnings.append(
                CellIssue(
                    source,
                    row_no,
                    "lease_end",
                    "",
                    "leasehold with no lease dates: treated as exitable after the disposal lag",
                )
            )
    return warnings
