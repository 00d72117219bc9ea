"""Plain-text accounts of a load or a geocoding run, for the terminal.

The CLI prints these lines; the same facts are in the ``--json`` documents.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from estate.colocate import colocation_groups
from estate.errors import CellIssue
from estate.geocode import Geocoded
from estate.load import LoadResult

SHOWN = 20


def _issue_lines(title: str, issues: list[CellIssue], limit: int = SHOWN) -> list[str]:
    if not issues:
        return []
    lines = [f"  {title} ({len(issues)}):"]
    lines += [f"    - {issue}" for issue in issues[:limit]]
    if len(issues) > limit:
        common = Counter(i.message for i in issues).most_common(5)
        lines.append(f"    ... and {len(issues) - limit} more; most common:")
        lines += [f"      {n} x {message}" for message, n in common]
    return lines


def load_lines(result: LoadResult, limit: int = SHOWN) -> list[str]:
    """One block a file: counts, then errors (rejected rows), warnings and notes."""
    lines: list[str] = []
    for issue in result.unreadable:
        lines.append(f"{issue.file}: UNREADABLE: {issue.message}")
    for f in result.files:
        fmt = f" [{f.profile}]" if f.profile else ""
        lines.append(
            f"{f.source}{fmt} ({f.kind}): {f.rows_read} rows read, {f.rows_accepted} accepted, "
            f"{f.rows_rejected} rejected, {f.rows_set_aside} set aside"
            + (f" ({len(f.blank_rows)} blank)" if f.blank_rows else "")
        )
        hint = f.site_list_hint()
        if hint:
            lines.append(f"  hint: {hint}")
        if f.rows_set_aside:
            reasons = Counter(r["reason"].split(" (")[0] for r in f.set_aside_records())
            lines.append(f"  set aside, not buildings ({f.rows_set_aside}):")
            lines += [f"    {n} x {why}" for why, n in reasons.most_common()]
        lines += _issue_lines("errors", f.errors, limit)
        lines += _issue_lines("warnings", f.warnings, limit)
        lines += _issue_lines("notes", f.notes, limit)
    total = result.summary()
    if len(result.files) > 1:
        lines.append(
            f"total: {total['rows_read']} rows read, {total['rows_accepted']} accepted, "
            f"{total['rows_rejected']} rejected, {total['rows_set_aside']} set aside"
        )
    if total["agency_near_duplicates"]:
        lines.append("agency names that may be one body (add an alias to an agencies table):")
        lines += [
            f"  - {d['a']!r} and {d['b']!r}: {d['why']}"
            for d in total["agency_near_duplicates"][:limit]
        ]
    lines += colocation_lines(result.colocations, limit)
    return lines


#: Buildings named for a group of co-located sites before "... and N more".
GROUP_SHOWN = 4


def colocation_lines(members: pd.DataFrame, limit: int = SHOWN) -> list[str]:
    """One line a group of co-located sites (the first ``limit`` groups), then a count
    of the rest: readable however many sites share a point (``--json`` lists all)."""
    groups = colocation_groups(members)
    if not groups:
        return []
    lines = [
        f"co-located already ({len(groups):,} group(s) of sites held by two or more "
        f"agencies, {len(members):,} sites):"
    ]
    for g in groups[:limit]:
        extent = g["extent_m"]
        how = {
            "uprn": "same UPRN",
            "distance": "at one point" if extent == 0 else f"within {extent:g} m",
            "uprn+distance": "same UPRN or near" + ("" if extent is None else f", {extent:g} m"),
        }[g["basis"]]
        named = g["buildings"][:GROUP_SHOWN]
        shown = ", ".join(f"{b['building_id']} ({b['agency']})" for b in named)
        more = g["sites"] - GROUP_SHOWN
        if more > 0:
            by_agency = ", ".join(f"{a} {n:,}" for a, n in sorted(g["agencies"].items()))
            shown += f" ... and {more:,} more ({by_agency})"
        lines.append(f"  - group {g['group']}: {g['sites']:,} sites, {how}: {shown}")
    if len(groups) > limit:
        lines.append(f"  ... and {len(groups) - limit:,} more groups (see --json)")
    return lines


def geocode_lines(geo: Geocoded, limit: int = SHOWN) -> list[str]:
    counts = geo.counts()
    placed = len(geo.buildings) - counts["none"]
    lines = [
        f"geocoded {placed} of {len(geo.buildings)} buildings: "
        + ", ".join(f"{m} {n}" for m, n in counts.items() if n and m != "none")
    ]
    if len(geo.unmatched):
        lines.append(f"unmatched ({len(geo.unmatched)}), kept without a point:")
        for row in geo.unmatched.head(limit).to_dict(orient="records"):
            lines.append(
                f"  - {row.get('source_file', '')}, row {row.get('source_row', '')}, "
                f"{row.get('building_id', '')} {row.get('name', '')!r}: {row['reason']}"
            )
        if len(geo.unmatched) > limit:
            lines.append(f"  ... and {len(geo.unmatched) - limit} more (see --json)")
    outside = geo.outside_gb
    if len(outside):
        lines.append(f"outside Great Britain ({len(outside)}), flagged:")
        for row in outside.head(limit).to_dict(orient="records"):
            point = f"{row['easting']:.0f},{row['northing']:.0f}"
            lines.append(f"  - {row['building_id']} {row['name']!r}: {point}")
    lines += _issue_lines("warnings", geo.warnings, limit)
    return lines


def geocode_summary(geo: Geocoded) -> dict[str, Any]:
    unmatched = geo.unmatched.astype(object).where(geo.unmatched.notna(), None)
    return {
        "buildings": len(geo.buildings),
        "methods": geo.counts(),
        "unmatched": unmatched.to_dict(orient="records"),
        "outside_gb": geo.outside_gb["building_id"].tolist(),
        "warnings": [w.as_dict() for w in geo.warnings],
    }
