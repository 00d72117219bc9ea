"""The merged multi-agency register: buildings and the services that occupy them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from estate.agencies import builtin
from estate.errors import CellIssue, InputDataError
from estate.io import read_csv_text
from estate.load import LoadResult, load_files
from estate.mapping import Mapping
from estate.schema import BUILDINGS, SERVICES
from estate.validate import FILE_COLUMN, ROW_COLUMN, coerce_table, fill_coordinates


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
        *,
        loaded: bool = False,
    ) -> Register:
        """Validate raw frames whose columns already carry canonical names.

        Agency names go through the built-in agencies table (as loading does), so a
        services table that writes "LFRS" joins buildings loaded as "Leicestershire
        Fire and Rescue Service".  With ``loaded``, the frames are what
        :func:`estate.load.load_files` accepted: every problem names each row's own
        file and row number (blank and set-aside rows leave gaps in them).
        """
        buildings, services = _one_name_per_body(buildings), _one_name_per_body(services)
        buildings_source, b_rows = _origin(buildings, buildings_source, loaded)
        services_source, s_rows = _origin(services, services_source, loaded)
        b = coerce_table(buildings, BUILDINGS, buildings_source, b_rows)
        s = coerce_table(services, SERVICES, services_source, s_rows)
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

    @classmethod
    def from_files(
        cls,
        buildings: str | Path | Sequence[str | Path],
        services: str | Path,
        mapping: str | Path | Mapping | Sequence[str | Path | Mapping] | None = None,
    ) -> Register:
        """Read a register as ``estate run`` reads a scenario's: any format ``estate
        validate`` reads (CSV in any common encoding and delimiter, XLSX/XLS/ODS,
        GeoPackage, GeoJSON, Shapefile, PostGIS), column synonyms mapped, every row
        accounted for.

        ``buildings`` is one file or several (merged); ``mapping`` a column-mapping
        YAML (``estate mapping``) for all of them, or one a file.  Raises
        :class:`~estate.errors.InputDataError` listing every rejected row with its file,
        row, column and value.
        """
        from estate.mapping import load_mapping

        files = [str(buildings)] if isinstance(buildings, str | Path) else list(map(str, buildings))
        given = [] if mapping is None else mapping
        if isinstance(given, str | Path | Mapping):
            given = [given]
        mappings = [m if isinstance(m, Mapping) else load_mapping(m) for m in given]
        return account_register(files, str(services), mappings or None).checked()

    @property
    def agencies(self) -> list[str]:
        """Every agency that owns a building or runs a service, sorted."""
        names = set(self.buildings["agency"]) | set(self.services["agency"])
        return sorted(names)

    def occupancy(self) -> pd.Series:
        """Desks in use in each building today (0 for empty buildings)."""
        used = self.services.groupby("building_id")["desks"].sum()
        return used.reindex(self.buildings["building_id"], fill_value=0.0)


def _origin(frame: pd.DataFrame, source: str, loaded: bool) -> tuple[str, list[int] | None]:
    """The file(s) and row numbers a loaded frame carries (else ``source`` and rows
    counted from 2)."""
    if not loaded or FILE_COLUMN not in frame or ROW_COLUMN not in frame or frame.empty:
        return source, None
    files = list(dict.fromkeys(str(f) for f in frame[FILE_COLUMN]))
    return ", ".join(files), [int(r) for r in frame[ROW_COLUMN]]


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


# --- reading a register as estate run reads it ---------------------------------------


@dataclass(frozen=True)
class RegisterAccount:
    """A register's files as loaded, every row accounted for, and the checks across them.

    ``buildings`` and ``services`` are the loads (``estate validate``'s account of each
    file); ``across`` the problems between the tables (a service in a building no file
    holds, a service in a site let to others, ...), checked only when no row of either
    was rejected; ``register`` the validated register when nothing was.
    """

    buildings: LoadResult
    services: LoadResult
    across: tuple[CellIssue, ...] = ()
    register: Register | None = None

    @property
    def errors(self) -> list[CellIssue]:
        """Every problem that stops a run: unreadable files, rejected rows (each with
        its reasons), empty tables, and the problems across the tables."""
        out: list[CellIssue] = []
        for result in (self.buildings, self.services):
            out += result.unreadable
            out += [issue for report in result.files for issue in report.errors]
        return out + list(self.across)

    def checked(self) -> Register:
        """The register, or an :class:`InputDataError` listing every problem."""
        if self.register is not None:
            return self.register
        counts = [
            f"{sum(f.rows_rejected for f in result.files)} row(s) of the {what} rejected"
            for what, result in (("buildings", self.buildings), ("services", self.services))
            if any(f.rows_rejected for f in result.files)
        ]
        unreadable = [i.file for r in (self.buildings, self.services) for i in r.unreadable]
        head = "; ".join(
            counts
            + ([f"cannot read {', '.join(unreadable)}"] if unreadable else [])
            + (["the tables do not fit together"] if self.across else [])
        )
        files = [f.source for r in (self.buildings, self.services) for f in r.files]
        raise InputDataError(
            self.errors,
            f"the register cannot be used as it stands ({head or 'no rows'}; estate "
            f"validate {' '.join(files) or 'FILES'} lists every problem with its cells)",
        )


def account_register(
    buildings: Sequence[str],
    services: str,
    mappings: Sequence[Mapping] | None = None,
) -> RegisterAccount:
    """Read a register as ``estate run`` (and ``estate validate SCENARIO``) read it.

    The buildings files as a full register (``kind="register"``, with ``mappings``)
    and the services file as services, both through :func:`estate.load.load_files`, so
    any format, encoding and delimiter ``estate validate`` reads is read alike; then,
    when no row was rejected, the checks across the two tables
    (:meth:`Register.from_frames`).  A table with no rows at all is an error.
    """
    b = load_files(list(buildings), kind="register", mapping=mappings)
    s = load_files([services], kind="services")
    across: list[CellIssue] = []
    for result, what in ((b, "buildings"), (s, "services")):
        if not result.unreadable and not any(f.rows_read for f in result.files):
            names = ", ".join(f.source for f in result.files)
            across.append(CellIssue(names, None, "", "", f"no rows in the {what} table"))
    account = RegisterAccount(b, s, tuple(across))
    if account.errors:
        return account
    try:
        register = Register.from_frames(
            b.accepted,
            s.accepted,
            ", ".join(buildings),
            services,
            loaded=True,
        )
    except InputDataError as exc:
        return RegisterAccount(b, s, tuple(exc.issues))
    return RegisterAccount(b, s, (), register)
