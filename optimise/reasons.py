"""Why a building goes: the reasons a Board reads beside each disposal.

For each building disposed of: what the estate saves each year once it has gone and
over the appraisal (its own costs, less what its services cost where they go), where
each of its services goes (and when, and what is fitted out for it), and how many
minutes further from their nearest service the people it served today end up, by type
and mode.  The price of keeping it (the saving given up if the Board kept it) needs a
re-solve per building and is added by the run (``scenarios/planning/keeping.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from optimise.instance import EstateInstance

REASON_COLUMNS = (
    "annual_saving_gbp",
    "npv_saving_gbp",
    "services_go_to",
    "people_served",
    "largest_increase_minutes",
    "access_change",
)


def disposal_reasons(
    instance: EstateInstance,
    buildings: pd.DataFrame,
    moves: pd.DataFrame,
    access: pd.DataFrame,
    own_pv: NDArray[np.float64],
    service_pv: NDArray[np.float64],
    annual_elsewhere: NDArray[np.float64],
) -> pd.DataFrame:
    """One row a building with :data:`REASON_COLUMNS` (empty unless it is disposed of).

    ``own_pv`` is each building's present saving on its own account (baseline less
    scenario, its services' occupancy while they wait in it included); ``service_pv``
    the present cost of its departing services where they go (moves, fit-outs and
    occupancy there); ``annual_elsewhere`` their yearly occupancy cost there.
    """
    b = instance.buildings
    space = instance.spaces
    names = dict(zip(b["building_id"], b["name"], strict=True))
    gone = (buildings["decision"] == "dispose").to_numpy()
    home = instance.home_index()
    today = np.bincount(home, weights=space.floor_m2 * space.occupancy_rate[home], minlength=len(b))
    annual = space.fixed_running + today - annual_elsewhere
    served = _served(instance, access)
    rows = []
    for i, building_id in enumerate(b["building_id"]):
        if not gone[i]:
            rows.append(
                {
                    "annual_saving_gbp": np.nan,
                    "npv_saving_gbp": np.nan,
                    "services_go_to": "",
                    "people_served": np.nan,
                    "largest_increase_minutes": np.nan,
                    "access_change": "",
                }
            )
            continue
        people, worst, text = _access_text(served.get(building_id))
        rows.append(
            {
                "annual_saving_gbp": round(float(annual[i]), 2),
                "npv_saving_gbp": round(float(own_pv[i] - service_pv[i]), 2),
                "services_go_to": services_go_to(str(building_id), moves, names),
                "people_served": people,
                "largest_increase_minutes": worst,
                "access_change": text,
            }
        )
    return pd.DataFrame(rows, columns=list(REASON_COLUMNS))


def services_go_to(building_id: str, moves: pd.DataFrame, names: dict[str, str]) -> str:
    """Where the services leaving ``building_id`` go, from the moves table and the
    buildings' names (a published copy passes its redacted tables: the text is redacted
    by construction)."""
    out = moves.loc[moves["from_building"] == building_id]
    return "; ".join(_move_text(m, names) for _, m in out.iterrows())


def _move_text(move: pd.Series, names: dict[str, str]) -> str:
    to = str(move["to_building"])
    text = f"{move['name']} → {names.get(to, to)} ({to}), year {move['year']}"
    if str(move.get("fitted_out_from", "")).strip():
        text += f", {float(move['floor_m2']):,.0f} m2 of {move['space_type']} fitted out"
    return text


def _served(instance: EstateInstance, access: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """For each building, the access rows (type, mode, zone) of the zones whose nearest
    building of a type, by a mode, it is today."""
    if access.empty:
        return {}
    b_ids = np.asarray(instance.building_ids, dtype=object)
    home = instance.home_index()
    s_type = instance.services["service_type"].to_numpy(dtype=object)
    parts = []
    for (k, mode), rows in access.groupby(["service_type", "mode"], sort=True):
        hosts = np.unique(home[s_type == k])
        minutes = instance.travel[str(mode)].minutes[:, hosts]  # type: ignore[index]
        nearest = b_ids[hosts[np.argmin(minutes, axis=1)]]
        reached = np.isfinite(minutes.min(axis=1))
        part = rows.assign(nearest_today=np.where(reached, nearest, ""))
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    table = table.loc[table["population"] > 0]
    return {str(k): g for k, g in table.groupby("nearest_today", sort=True) if k}


def _access_text(rows: pd.DataFrame | None) -> tuple[float, float, str]:
    """People it served (nearest today, by any type and mode), the largest rise in their
    minutes, and per type and mode the zones and the largest rise, in words."""
    if rows is None or rows.empty:
        return 0.0, np.nan, "no zone has it as its nearest service"
    people = float(rows.drop_duplicates("zone_id")["population"].sum())
    change = rows["change_minutes"].astype(float)
    worst = float(change.max()) if change.notna().any() else np.nan
    texts = []
    for (k, mode), g in rows.groupby(["service_type", "mode"], sort=True):
        rise = g["change_minutes"].astype(float)
        top = float(rise.max()) if rise.notna().any() else np.nan
        verdict = "no change" if not top > 0.05 else f"up to {top:+.1f} min"
        texts.append(
            f"{k} by {mode}: {len(g)} zone(s), {g['population'].sum():,.0f} people, {verdict}"
        )
    return people, round(worst, 3) if np.isfinite(worst) else np.nan, "; ".join(texts)
