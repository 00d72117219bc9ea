"""Published copies of a run, redacted by construction.

A building flagged ``sensitive`` in the register (refuges, some police sites) must not
be found from anything published.  The published copy of a run is therefore *built*
from an allow-list before any file is written, never copied and then cleaned:

- **tables**: only the listed columns of each table are published.  A sensitive building
  becomes ``withheld-N`` everywhere (its own row, moves to or from it, policy lists),
  with no name, address, lease dates or coordinates; services at it become
  ``withheld-service-N`` with no name.  Money and decisions are kept, so totals add up.
- **summary.json and the run's other documents** (``plan.json``, ``sharing.json``):
  only listed keys are published; each is kept as it is (numbers, the code's own
  words), pseudonymised (lists or keys of building ids: ``policy.force_keep``,
  ``policy.force_dispose``) or, for free text from the user (the scenario's name and
  notice), published with every withheld site's id and name replaced.  Keys not on the
  list are left out and named in ``REDACTION.txt`` (a new setting is withheld until
  someone decides how to publish it: :data:`SETTINGS`).
- **where**: nothing published says where a withheld site is, not even roughly: only
  how many there are.  (On the demo, a count per zone let the refuge be placed within
  250 m, and a count per 10 km square let the centre of the square's roads place a
  town-centre site within 850 m.)
- **travel times**: a service type that a withheld site provides, before or after the
  change, has no minutes per zone published (``access.csv`` rows, the map's access and
  catchment layers), no mean minutes and no shares of people within the standard
  (only whether the standard is met): from each zone's minutes to its nearest service
  and the road network a reader could triangulate the site (within 250 m on the demo),
  and the shares alone placed a town-centre site within 500 m
  (``tests/test_publish_privacy.py``, ``tests/triangulate.py``).

Published files go to ``RUN_DIR/published/``; the private originals in ``RUN_DIR`` are
never touched.  Every published set carries ``REDACTION.txt``, buildings and moves a
``redacted`` column, ``summary.json`` a ``redaction`` entry, and the map and reports a
visible notice.  After writing, every file is scanned (:mod:`scenarios.outputs.leakscan`) for
the withheld ids, names and coordinates, and publishing fails if one is found.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from estate.coords import bng_to_lonlat
from estate.errors import EstateError
from estate.io import write_csv, write_json, write_text
from optimise.reasons import services_go_to
from scenarios.outputs.geopackage import write_gpkg
from scenarios.outputs.leakscan import Site, Terms, scan
from scenarios.outputs.runfolder import (
    ACCESS,
    AGENCIES,
    BUILDINGS_IN,
    BUILDINGS_OUT,
    CASH_FLOWS,
    MOVES,
    Redaction,
    RunFolder,
    catchments,
    read_document,
)

PUBLISHED_DIR = "published"
WITHHELD_NAME = "Withheld sensitive site"
WITHHELD_SERVICE = "Service at a withheld site"


class PublishError(EstateError, RuntimeError):
    """A published file would have disclosed a sensitive site."""


def published_dir(run_dir: str | Path) -> Path:
    return Path(run_dir) / PUBLISHED_DIR


# -- what may be published: the allow-list ----------------------------------------------

KEEP = "keep"  # published as it is: numbers, flags, the code's own words, public names
TEXT = "text"  # free text from the user: withheld ids and names replaced
IDS = "ids"  # a list of building ids: withheld ones replaced by their pseudonyms
ID_KEYS = "id_keys"  # a mapping keyed by building id: keys replaced likewise
PRIVATE = "private"  # never published (REDACTION.txt says so in general terms)
FOLDER_NAME = "folder_name"  # a path: only its last part (a private path names people)


@dataclass(frozen=True)
class Each:
    """A list of items (or a mapping with any keys) whose items follow ``rule``."""

    rule: Any


def _keep(*keys: str) -> dict[str, Any]:
    return dict.fromkeys(keys, KEEP)


FINANCE = _keep(
    "horizon_years",
    "discount_rate",
    "long_discount_rate",
    "base_date",
    "optimism_bias",
    "move_cost_per_desk",
    "fit_out_per_desk",
    "disposal_lag_years",
    "carbon_value_per_t",
)
POLICY = _keep(
    "sharing",
    "utilisation",
    "move_radius_km",
    "k_nearest",
    "agencies",
    "keep_at_most",
    "keep_exactly",
    "capital_budget",
    "agency_budgets",  # keyed by agency
) | {"force_keep": IDS, "force_dispose": IDS}
SOLVER = _keep(
    "solver",
    "backend",
    "strategy",
    "formulation",
    "time_limit_seconds",
    "mip_rel_gap",
    "threads",
    "warm_start",
    "watchdog_grace_seconds",
    "random_seed",
)
PHASING = _keep("years", "annual_budget", "carry_forward", "recycle_receipts")
ACCESS_STANDARD = _keep(
    "drive",
    "walk",
    "min_share",
    "max_loss",
    "max_increase_minutes",
    "modes",
    "max_minutes",  # the older form, read into drive/walk
    "mode",
)
# Space settings are keyed by building and service type and hold shares, costs and
# lead times: nothing that names or places a building.
SPACE = _keep("building_types", "service_types")
# Every setting a run saves, and how it is published.  A setting not listed here is
# left out of published copies (and named in REDACTION.txt) until it is classified.
SETTINGS: dict[str, Any] = {
    "finance": FINANCE,
    "policy": POLICY,
    "solver": SOLVER,
    "phasing": PHASING,
    "space": SPACE,
    "access": Each(ACCESS_STANDARD),
}
MONEY = _keep(
    "baseline_present_cost",
    "scenario_present_cost",
    "npv_saving",
    "annual_revenue_saving",
    "capital_receipts",
    "one_off_costs",
    "backlog_avoided",
    "backlog_optimism_bias",
)
ACCESS_SUMMARY = _keep(
    "service_type",
    "mode",
    "max_minutes",
    "share_before",
    "share_after",
    "target_share",
    "mean_minutes_before",
    "mean_minutes_after",
    "buildings_before",
    "buildings_after",
    "max_increase_minutes",
    "largest_increase_minutes",  # hidden with the minutes where a withheld site serves
    "modes",
    "source",
    "standard",
)
SUMMARY: dict[str, Any] = {
    "scenario": TEXT,
    "notice": TEXT,
    **_keep("status", "gap", "objective", "bound", "solver", "build_seconds", "solve_seconds"),
    "solver_detail": TEXT,
    "settings": SETTINGS,
    "travel_times": Each(_keep("method", "note")),
    "counts": _keep("buildings", "services", "zones", "population", "agencies"),
    # The register's own fingerprints are left out: they would let a reader confirm a
    # guess of the private register.
    "input_hashes": _keep("zones", "network_nodes", "network_edges")
    | {"buildings": PRIVATE, "services": PRIVATE},
    "versions": Each(KEEP),
    **MONEY,
    **_keep("payback_year", "services_moved", "desks_moved"),
    "buildings": _keep("total", "kept", "retained", "hosting", "disposed"),
    "agencies": Each(_keep("agency", *MONEY, *AGENCIES)),
    "access": Each(ACCESS_SUMMARY),
    "value_of_sharing": {
        "other_run": FOLDER_NAME,
        "shared": Each(KEEP),
        "siloed": Each(KEEP),
        "difference": Each(KEEP),
    },
    "plan": {"plan_years": KEEP, "phasing": PHASING, "npv_saving": KEEP},
    "diagnosis": PRIVATE,  # infeasibility findings name buildings; no decision to publish
    "place_checks": PRIVATE,  # points far from the roads or the zones, by building and row
    # Keys other branches add (estate estimate, the solver check, default access
    # standards and the instance's notes), classified here ahead of their merge.
    "estimates": _keep("buildings", "buildings_with_estimates", "services_with_estimates")
    | {"by_column": Each(KEEP), "by_building": ID_KEYS},
    "plan_status": KEEP,
    "solver_check": _keep(
        "passed",
        "claimed_status",
        "claimed_objective",
        "claimed_bound",
        "reference",
        "reference_objective",
        "plan",
        "started_from",
    )
    | {"message": TEXT},
    "access_standards": Each(KEEP),
    "notes": Each(TEXT),
}
PLAN_DOC: dict[str, Any] = {"plan_years": KEEP, "phasing": PHASING, "years": Each(Each(KEEP))}
SHARING_DOC: dict[str, Any] = {
    "scenario": TEXT,
    **_keep("agencies_in_game", "method", "samples", "seed", "mip_rel_gap"),
    **_keep("grand_coalition_saving", "grand_coalition_upper_bound", "plan_from", "in_core"),
    "core": Each(KEEP),
    "agencies": Each(Each(KEEP)),
    "coalitions": Each(Each(KEEP)),
}
# The columns of each published table; anything else a run folder holds stays private.
BUILDING_COLUMNS = [*BUILDINGS_OUT, "vacate_year"]
# Space and fit-out figures of a move (what space it needs, what is fitted out for it).
MOVE_COLUMNS = [
    "year",
    *MOVES,
    "share",
    "space_type",
    "floor_m2",
    "fitted_out_from",
    "fit_out_cost",
]
TABLES = {
    "agencies": list(AGENCIES),
    "access": [*ACCESS, "weight"],
    "cash_flows": list(CASH_FLOWS),
}


# -- building the published copy --------------------------------------------------------


@dataclass
class _Context:
    """The pseudonyms and terms of one redaction, and what it left out."""

    pseudonym: dict[str, str]
    terms: Terms
    withheld_fields: list[str] = field(default_factory=list)

    def rename(self, value: Any) -> Any:
        return self.pseudonym.get(str(value), value) if isinstance(value, str) else value

    def scrub(self, value: Any) -> Any:
        return self.terms.scrub(value) if isinstance(value, str) else value


def _allowed(value: Any, rule: Any, path: str, ctx: _Context) -> Any:
    """``value`` as published under ``rule`` (see :data:`SUMMARY`)."""
    if rule == KEEP:
        return value
    if rule == TEXT:
        return ctx.scrub(value)
    if rule == FOLDER_NAME:
        return Path(str(value)).name if value is not None else None
    if rule == IDS and isinstance(value, list | tuple):
        return [ctx.rename(v) for v in value]
    if rule == ID_KEYS and isinstance(value, dict):
        return {ctx.rename(k): v for k, v in value.items()}
    if rule == ACCESS_STANDARD and value == "none":  # a type exempt from access standards
        return value
    if isinstance(rule, Each) and isinstance(value, list):
        return [_allowed(v, rule.rule, f"{path}[]", ctx) for v in value]
    if isinstance(rule, Each) and isinstance(value, dict):
        return {ctx.scrub(k): _allowed(v, rule.rule, f"{path}.*", ctx) for k, v in value.items()}
    if isinstance(rule, dict) and isinstance(value, dict):
        out = {}
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if rule.get(key) == PRIVATE:
                continue
            if key in rule:
                out[key] = _allowed(item, rule[key], where, ctx)
            elif where not in ctx.withheld_fields:
                ctx.withheld_fields.append(where)
        return out
    if value is None:
        return None
    ctx.withheld_fields.append(f"{path} (not in the expected form)")
    return None


def pseudonyms(folder: RunFolder) -> dict[str, str]:
    """Each sensitive building's id -> ``withheld-N`` (numbered in id order)."""
    b = folder.buildings.sort_values("building_id")
    ids = b.loc[b["sensitive"].astype(bool), "building_id"]
    return {bid: f"withheld-{i + 1}" for i, bid in enumerate(ids)}


def sites(private: RunFolder) -> list[Site]:
    """What must not appear in a published file, per sensitive site."""
    names = pseudonyms(private)
    b = private.buildings.loc[private.buildings["sensitive"].astype(bool)]
    return [
        Site(
            str(r.building_id),
            names[r.building_id],
            "" if pd.isna(r.name) else str(r.name),
            r.lat,
            r.lon,
            r.easting,
            r.northing,
        )
        for r in b.itertuples()
    ]


def terms(private: RunFolder) -> Terms:
    """The withheld sites' ids and names, and the public names and ids published as they
    are (so the scan and the scrubbing know which occurrences are someone else's)."""
    b, s = private.buildings, private.services
    public = b.loc[~b["sensitive"].astype(bool)]
    touched = _withheld_services(private, set(pseudonyms(private)))
    names = [
        *public["name"].astype(str),
        *s.loc[~s["service_id"].isin(touched), "name"].astype(str),
        *private.zones["name"].astype(str),
        *b["agency"].astype(str),
        *private.access["service_type"].astype(str),
    ]
    ids = [
        *public["building_id"].astype(str),
        *private.zones["zone_id"].astype(str),
        *s.loc[~s["service_id"].isin(touched), "service_id"].astype(str),
    ]
    return Terms.build(sites(private), names, ids, *_public_places(private))


def _public_places(
    private: RunFolder,
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Places published as they are: public buildings, zones and the cells drawn around
    them, and the road network's nodes ((lat, lon) pairs, then grid points)."""
    from scenarios.outputs.maps import zone_cells

    b, z = private.buildings, private.zones
    public = b.loc[~b["sensitive"].astype(bool)]
    latlon = [*zip(public["lat"], public["lon"], strict=True)]
    latlon += [*zip(z["lat"], z["lon"], strict=True)]
    latlon += [(a, o) for ring in zone_cells(z.reset_index(drop=True)) for a, o in ring]
    if private.network is not None:
        nodes = private.network.nodes
        lon, lat = bng_to_lonlat(nodes["x"].to_numpy(float), nodes["y"].to_numpy(float))
        latlon += [*zip(lat, lon, strict=True)]
    grid = [*zip(public["easting"], public["northing"], strict=True)]
    grid += [*zip(z["easting"], z["northing"], strict=True)]
    return latlon, grid


def _withheld_services(folder: RunFolder, withheld: set[str]) -> list[str]:
    """Services at a withheld site before the change or moved (in part) to one."""
    s, m = folder.services, folder.moves
    at = set(s.loc[s["building_id"].isin(withheld), "service_id"])
    at |= set(m.loc[m["to_building"].isin(withheld), "service_id"])
    at |= set(m.loc[m["from_building"].isin(withheld), "service_id"])
    return sorted(at)


def withheld_access(folder: RunFolder, withheld: set[str]) -> list[str]:
    """Service types with an access standard that a withheld site provides, before the
    change or after it: their per-zone minutes would place the site."""
    s = folder.services
    touched = set(_withheld_services(folder, withheld))
    moved_in = folder.moves.loc[folder.moves["to_building"].isin(withheld), "service_type"]
    types = set(s.loc[s["service_id"].isin(touched), "service_type"]) | set(moved_in)
    return sorted(types & set(folder.access["service_type"]))


def redact(folder: RunFolder) -> RunFolder:
    """The published copy of ``folder``, built from the allow-list (module notes)."""
    if folder.redaction is not None:
        return folder
    pseudonym = pseudonyms(folder)
    withheld = set(pseudonym)
    ctx = _Context(pseudonym, terms(folder))
    buildings = _buildings(folder, pseudonym, ctx)
    moves, services = _moves_and_services(folder, withheld, ctx)
    hidden_types = withheld_access(folder, withheld)
    if "services_go_to" in buildings.columns:  # rebuilt from the redacted tables
        names = dict(zip(buildings["building_id"], buildings["name"], strict=True))
        buildings["services_go_to"] = [
            services_go_to(str(bid), moves, names) for bid in buildings["building_id"]
        ]
    # Who a building served and how far they go after are travel times in another form:
    # published only where no service type is withheld, and never for a withheld site.
    for col in _ACCESS_REASONS:
        if col in buildings.columns:
            hide = buildings["withheld"] | bool(hidden_types)
            buildings[col] = buildings[col].where(~hide, "" if col == "access_change" else np.nan)
    access = _table(folder.access, TABLES["access"], "access.csv", ctx)
    access = access.loc[~access["service_type"].isin(hidden_types)].reset_index(drop=True)
    private_catchments = catchments(folder)
    published_catchments = pd.DataFrame(columns=["service_type", "zone_id", "building_id"])
    if private_catchments is not None:
        keep = ~private_catchments["service_type"].isin(hidden_types)
        published_catchments = private_catchments.loc[keep].reset_index(drop=True)
    count = len(pseudonym)
    note = (
        f"Published copy: {count} sensitive site{'s' if count != 1 else ''} withheld — "
        "names and locations removed (not even an area is shown); moves to or from them "
        "are not drawn"
        + (f"; travel times not published for {', '.join(hidden_types)}." if hidden_types else ".")
    )
    summary = _allowed(dict(folder.summary), SUMMARY, "", ctx)
    for row in summary.get("access", []):
        if row.get("service_type") in hidden_types:
            _hide_access_figures(row)
    # plan.json and sharing.json are not published as files: the reports draw a few of
    # their figures, so only those are kept (and what is left out is not listed).
    quiet = _Context(pseudonym, ctx.terms)
    documents = {
        name: _allowed(doc, rule, name, quiet)
        for name, rule in (("plan.json", PLAN_DOC), ("sharing.json", SHARING_DOC))
        if (doc := read_document(folder, name)) is not None
    }
    redaction = Redaction(
        withheld_sites=count,
        note=note,
        access_withheld=tuple(hidden_types),
        fields_withheld=tuple(ctx.withheld_fields),
        warnings=tuple(ctx.terms.warnings()),
    )
    summary["redaction"] = {
        "withheld_sites": count,
        "access_withheld": hidden_types,
        "fields_withheld": list(ctx.withheld_fields),
        "note": note,
    }
    return folder.with_(
        summary=summary,
        buildings=buildings,
        moves=moves,
        services=services,
        agencies=_table(folder.agencies, TABLES["agencies"], "agencies.csv", ctx),
        access=access,
        cash_flows=_table(folder.cash_flows, TABLES["cash_flows"], "cash_flows.csv", ctx),
        catchments=published_catchments,
        redaction=redaction,
        documents=documents,
    )


# Figures of a service type that a withheld site provides that depend on where the site
# is.  Even shares of people within the standard narrow it down: tried on the demo, the
# shares alone placed a town-centre site within 500 m (tests/test_publish_privacy.py).
HIDDEN_ACCESS_FIGURES = (
    "share_before",
    "share_after",
    "target_share",
    "mean_minutes_before",
    "mean_minutes_after",
    "largest_increase_minutes",
)


def _hide_access_figures(row: dict[str, Any]) -> None:
    """Replace the location-dependent figures by whether the standard is met."""
    share, target = row.get("share_after"), row.get("target_share")
    row["standard_met"] = None if share is None or target is None else share >= target - 1e-9
    for key in HIDDEN_ACCESS_FIGURES:
        row[key] = None
    row["withheld"] = "figures withheld: a withheld site provides this service"


def _table(frame: pd.DataFrame, columns: list[str], name: str, ctx: _Context) -> pd.DataFrame:
    for col in frame.columns:
        if col not in columns:
            ctx.withheld_fields.append(f"{name}: {col}")
    return frame[[c for c in columns if c in frame.columns]].copy()


def _buildings(folder: RunFolder, pseudonym: dict[str, str], ctx: _Context) -> pd.DataFrame:
    b = folder.buildings.sort_values("building_id").reset_index(drop=True)
    sensitive = b["sensitive"].astype(bool).to_numpy()
    for col in b.columns:  # buildings.csv's own columns (the register's are in inputs/)
        if col not in BUILDING_COLUMNS and col not in BUILDINGS_IN and col not in _SPACE_COLUMNS:
            ctx.withheld_fields.append(f"buildings.csv: {col}")
    published = (*BUILDING_COLUMNS, *_REGISTER_COLUMNS, *_SPACE_COLUMNS)
    out = b[[c for c in published if c in b.columns]].copy()
    out["withheld"] = sensitive
    out["redacted"] = sensitive
    out.loc[sensitive, "building_id"] = [pseudonym[x] for x in b["building_id"][sensitive]]
    out.loc[sensitive, "name"] = WITHHELD_NAME
    for col in ("lease_end", "lease_break", "building_type"):  # a refuge's type says much
        if col in out.columns:
            out.loc[sensitive, col] = ""
    for col in ("lat", "lon", "easting", "northing"):
        out.loc[sensitive, col] = np.nan
    return out


_ACCESS_REASONS = ("people_served", "largest_increase_minutes", "access_change")
# Space and running-cost figures of each building (issue 14): areas and money.
_SPACE_COLUMNS = [
    "building_type",
    "floor_m2_before",
    "floor_m2_after",
    "fitted_out_m2",
    "running_cost_fixed_gbp",
    "occupancy_cost_per_m2",
]

# Register columns the map and reports show for public buildings (locations for the map
# and the GeoPackage, disposal figures and lease dates for the report).
_REGISTER_COLUMNS = [
    "estimated",  # which figures are estimates (estate estimate): shown on every copy
    "disposal_value",
    "disposal_cost",
    "lease_end",
    "lease_break",
    "lat",
    "lon",
    "easting",
    "northing",
]


def _moves_and_services(
    folder: RunFolder, withheld: set[str], ctx: _Context
) -> tuple[pd.DataFrame, pd.DataFrame]:
    touched = _withheld_services(folder, withheld)
    service_names = {s: f"withheld-service-{i + 1}" for i, s in enumerate(touched)}

    def rename_service(ids: pd.Series) -> pd.Series:
        return ids.map(lambda x: service_names.get(x, x))

    moves = folder.moves.copy()
    hidden = moves["service_id"].isin(service_names).to_numpy()
    moves["service_id"] = rename_service(moves["service_id"])
    moves["from_building"] = moves["from_building"].map(ctx.rename)
    moves["to_building"] = moves["to_building"].map(ctx.rename)
    moves.loc[hidden, "name"] = WITHHELD_SERVICE
    moves["redacted"] = hidden
    moves = _table(moves, [*MOVE_COLUMNS, "redacted"], "moves.csv", ctx)

    services = folder.services.copy()
    inside = services["service_id"].isin(service_names).to_numpy()
    services.loc[inside, "name"] = WITHHELD_SERVICE
    services["service_id"] = rename_service(services["service_id"])
    services["building_id"] = services["building_id"].map(ctx.rename)
    return moves, services


# -- writing ----------------------------------------------------------------------------


def fingerprint(shown: RunFolder) -> str:
    """A digest of what a published copy shows: equal for copies of the same run, so a
    partial publish (``estate map --publish``) can tell whether ``published/`` is stale.
    Made from the published content only, so it confirms nothing private."""
    assert shown.redaction is not None
    digest = hashlib.sha256()
    digest.update(json.dumps(shown.summary, sort_keys=True, default=str).encode())
    for frame in (shown.buildings, shown.moves, shown.agencies, shown.access):
        digest.update(frame.to_csv(index=False).encode())
    return digest.hexdigest()[:32]


FINGERPRINT_LINE = "Fingerprint of the published content: "


def redaction_text(folder: RunFolder) -> str:
    """``REDACTION.txt``: what was withheld, and why the files differ from the private run."""
    red = folder.redaction
    assert red is not None
    lines = [
        f"Published copy of the run {folder.scenario!r}.",
        "",
        red.note,
        "",
        "Sensitive sites (the register's `sensitive` flag) appear in buildings.csv as",
        "`withheld-N` with no name, address, lease dates or coordinates and `redacted` =",
        "True.  Nothing published says where they are, not even an area: only how many",
        "there are.  Their money and decisions are kept, so the totals equal the private",
        "run's.  Moves to or from them keep their desks and cost but not the service's",
        "name or id (moves.csv `redacted` = True, service `withheld-service-N`).  Settings",
        "that name a building (policy.force_keep, policy.force_dispose) show the",
        "pseudonyms, and the scenario's name and notice have withheld ids and names",
        "replaced by them too.",
        "",
        "Travel times: a service type a withheld site provides (before or after the",
        "change) has no minutes per zone here (access.csv, the map's access and catchment",
        "layers), no mean minutes and no shares of people within the standard",
        "(summary.json, the reports): only whether the standard is met.  From each zone's",
        "minutes to its nearest service and the road network a reader could otherwise work",
        "out where the site is.",
        "",
        "Not published: inputs/ (the register with every site's address and location), the",
        "SHA-256 fingerprints of the buildings and services registers, and any field the",
        "publication allow-list does not name.",
    ]
    if red.access_withheld:
        lines += ["", "Service types whose travel times are not published:"]
        lines += [f"  {t}" for t in red.access_withheld]
    if red.fields_withheld:
        lines += ["", "Fields left out (not on the publication allow-list):"]
        lines += [f"  {f}" for f in red.fields_withheld]
    lines += ["", FINGERPRINT_LINE + fingerprint(folder)]
    return "\n".join(lines) + "\n"


def published_fingerprint(out_dir: Path) -> str | None:
    """The fingerprint written in ``out_dir/REDACTION.txt``, if there is one."""
    path = out_dir / "REDACTION.txt"
    if not path.is_file():
        return None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith(FINGERPRINT_LINE):
            return line[len(FINGERPRINT_LINE) :].strip()
    return None


def write_published_tables(folder: RunFolder, out_dir: Path) -> list[Path]:
    """The redacted tables, summary, GeoPackage and REDACTION.txt."""
    assert folder.redaction is not None
    b = folder.buildings
    buildings = b[[c for c in (*BUILDING_COLUMNS, "redacted") if c in b.columns]]
    return [
        write_json(out_dir / "summary.json", dict(folder.summary)),
        write_csv(out_dir / "buildings.csv", buildings),
        write_csv(out_dir / "moves.csv", folder.moves),
        write_csv(out_dir / "agencies.csv", folder.agencies),
        write_csv(out_dir / "access.csv", folder.access),
        write_csv(out_dir / "cash_flows.csv", folder.cash_flows),
        write_gpkg(folder, out_dir / "results.gpkg"),
        write_text(out_dir / "REDACTION.txt", redaction_text(folder)),
    ]


# -- the second line: the scan ------------------------------------------------------------


def check_published(files: list[Path], private: RunFolder) -> None:
    """Raise :class:`PublishError` (and delete the files) if any discloses a sensitive site."""
    problems = scan(files, terms(private))
    if problems:
        for f in files:
            f.unlink(missing_ok=True)
        shown = "\n  - ".join(problems[:20])
        more = f"\n  (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        raise PublishError(
            f"refusing to publish: files would disclose sensitive sites:\n  - {shown}{more}"
        )
