"""An attacker who tries to find a withheld site from a run's published files.

The attacker is given more than a real reader would have, so that a failed attack means
something:

- every published file (``published/``);
- the road network and the zones (OpenStreetMap and ONS data are public): each zone's
  centroid, population and need weight;
- the exact location of every *other* building holding each public-facing service type,
  before and after the change, and which service types the target provides before and
  after (a reader would have to piece these together; here they are handed over).

It then scores every node of the road network as the site's possible location against
everything published that depends on where the site is:

1. **minutes per zone** (``access.csv``) for the service types the site provides:
   multilateration, by least squares against the minutes each candidate would give;
2. **shares within the standard and mean minutes** per service type (``summary.json``);
3. **where the published copy says the withheld sites are** (older copies drew a count
   in the zone whose centroid is nearest each site): candidates elsewhere are ruled out.

The estimate is the candidate that fits best (the centroid of the candidates that fit
equally well).  The error is its distance from the site.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.network import RoadNetwork
from geodata.traveltime import network_travel_times
from geodata.zones import points
from scenarios.runfolder import RunFolder, holders_after

TOLERANCE = 1e-6  # shares are published to 6 decimals


@dataclass(frozen=True)
class Attack:
    estimate: tuple[float, float]  # easting, northing
    error_m: float
    candidates: int  # network nodes consistent with everything published
    evidence: tuple[str, ...]  # what the attacker found to use


def _minutes(network: RoadNetwork, zones: pd.DataFrame, dest: pd.DataFrame) -> np.ndarray:
    times = network_travel_times(network, points(zones, "zone_id"), dest, "drive")
    return np.asarray(times.minutes, dtype=float)


def _holders_before(folder: RunFolder, service_type: str) -> list[str]:
    s = folder.services
    return sorted(set(s.loc[s["service_type"] == service_type, "building_id"]))


def _area_mask(doc: dict, nodes: pd.DataFrame, zones: pd.DataFrame) -> tuple[np.ndarray, str]:
    """Candidates inside the places the published copy says hold withheld sites."""
    red = doc.get("redaction", {})
    x, y = nodes["x"].to_numpy(float), nodes["y"].to_numpy(float)
    if "by_zone" in red:  # older copies: a count in the zone whose centroid is nearest
        zxy = zones[["easting", "northing"]].to_numpy(float)
        nearest = np.argmin(np.hypot(x[:, None] - zxy[:, 0], y[:, None] - zxy[:, 1]), axis=1)
        marked = sorted({str(r["zone_id"]) for r in red["by_zone"]})
        ids = zones["zone_id"].astype(str).to_numpy()[nearest]
        return np.isin(ids, marked), f"{len(marked)} marked zones"
    return np.ones(len(nodes), dtype=bool), ""


def triangulate(private: RunFolder, published: Path, target: str) -> Attack:
    """Estimate where building ``target`` (withheld in ``published``) is."""
    assert private.network is not None, "the attacker needs the road network"
    b = private.buildings.set_index("building_id")
    truth = (float(b.at[target, "easting"]), float(b.at[target, "northing"]))
    doc = json.loads((published / "summary.json").read_text(encoding="utf-8"))
    access = pd.read_csv(published / "access.csv", dtype={"zone_id": str, "service_type": str})
    if "mode" in access.columns:  # one row a zone by each mode: the attack uses driving
        access = access.loc[access["mode"] == "drive"]
    zones = private.zones.reset_index(drop=True)
    need = pd.to_numeric(zones["weight"]) if "weight" in zones.columns else 1.0
    weight = (zones["population"] * need).to_numpy(float)
    nodes = private.network.nodes
    dest = pd.DataFrame({"id": nodes["node_id"].astype(str), "x": nodes["x"], "y": nodes["y"]})
    at_node = _minutes(private.network, zones, dest)  # zone x candidate
    score = np.zeros(len(nodes))
    consistent = np.ones(len(nodes), dtype=bool)
    evidence: list[str] = []
    mask, said = _area_mask(doc, nodes, zones)
    if said:
        evidence.append(said)
    consistent &= mask
    summary = {r["service_type"]: r for r in doc.get("access", [])}
    located = private.buildings.set_index("building_id")
    for service_type, standard in sorted(summary.items()):
        when = {
            "before": _holders_before(private, service_type),
            "after": holders_after(private, service_type),
        }
        if not any(target in holders for holders in when.values()):
            continue
        rows = access.loc[access["service_type"] == service_type].set_index("zone_id")
        for phase, holders in when.items():
            others = [h for h in holders if h != target]
            if others:
                where = located.loc[others].reset_index()
                other = _minutes(private.network, zones, points(where, "building_id")).min(axis=1)
            else:
                other = np.full(len(zones), np.inf)
            predicted = (
                at_node if target in holders else np.repeat(other[:, None], len(nodes), axis=1)
            )
            predicted = np.minimum(predicted, other[:, None])
            column = f"minutes_{phase}"
            if len(rows) and column in rows.columns:
                published_minutes = rows[column].reindex(zones["zone_id"]).to_numpy(float)
                ok = np.isfinite(published_minutes)
                residual = predicted[ok] - published_minutes[ok, None]
                score += np.sqrt(np.mean(residual**2, axis=0))
                evidence.append(f"{service_type} minutes {phase} for {int(ok.sum())} zones")
            share = standard.get(f"share_{phase}")
            if share is not None and standard.get("max_minutes") is not None:
                within = predicted <= float(standard["max_minutes"]) + 1e-6
                predicted_share = (weight[:, None] * within).sum(axis=0) / weight.sum()
                consistent &= np.abs(predicted_share - share) <= TOLERANCE
                evidence.append(f"{service_type} share {phase}")
            mean = standard.get(f"mean_minutes_{phase}")
            if mean is not None:
                finite = np.isfinite(predicted)
                m = (np.where(finite, predicted, 0) * weight[:, None]).sum(axis=0) / (
                    (finite * weight[:, None]).sum(axis=0)
                )
                score += np.abs(m - float(mean))
                evidence.append(f"{service_type} mean minutes {phase}")
    pool = np.flatnonzero(consistent) if consistent.any() else np.arange(len(nodes))
    best = pool[score[pool] <= score[pool].min() + 1e-9]
    x = float(nodes["x"].to_numpy(float)[best].mean())
    y = float(nodes["y"].to_numpy(float)[best].mean())
    error = float(np.hypot(x - truth[0], y - truth[1]))
    return Attack((x, y), error, int(consistent.sum()), tuple(evidence))
