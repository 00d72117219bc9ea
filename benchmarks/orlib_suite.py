"""Every OR-Library pmed and cap instance against its published optimum, and spopt on
the p-median ones, side by side in one run.  Each solve runs in its own process.

    python -m benchmarks.orlib_suite [--only pmed|cap] [--match REGEX] [--no-spopt]
                                     [--time-limit 300] [--resume]
                                     [--formulation auto|strong|sorted]

Each finished instance is appended to ``benchmarks/results/orlib[-pmed|-cap].jsonl``
as it ends, with the load average before and after it, so a long run can be stopped
and continued with ``--resume`` (instances already in the log are not solved again).
Writes ``orlib[-pmed|-cap].csv`` and ``.md`` (the table pasted into BENCHMARKS.md)
beside it from the log, and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
from pathlib import Path

import pandas as pd

from benchmarks.orlib import ORLIB

RESULTS = Path(__file__).resolve().parent / "results"
REL_TOL = 1e-6


def optima() -> dict[str, float]:
    """Published optima: pmedN, capNN, and capX-C for capa/b/c at capacity C."""
    out: dict[str, float] = {}
    for line in (ORLIB / "pmed" / "pmedopt.txt").read_text().splitlines()[1:]:
        name, value = line.split()[:2]
        out[name] = float(value)
    current = ""
    for line in (ORLIB / "cap" / "capopt.txt").read_text().splitlines()[1:]:
        m = re.match(r"^(\S+)?\s+([\d.]+)(?:\s+\(capacity (\d+)\))?", line)
        if not m:
            continue
        if m.group(1):
            current = m.group(1)
        name = current + (f"-{int(m.group(3))}" if m.group(3) else "")
        out[name] = float(m.group(2))
    return out


def jobs(only: str | None) -> list[tuple[str, Path, float | None]]:
    found: list[tuple[str, Path, float | None]] = []
    if only in (None, "pmed"):
        for k in range(1, 41):
            found.append((f"pmed{k}", ORLIB / "pmed" / f"pmed{k}.txt", None))
    if only in (None, "cap"):
        published = optima()
        for path in sorted((ORLIB / "cap").glob("cap*.txt"), key=_cap_order):
            if path.stem in ("capopt",):
                continue
            if path.stem in ("capa", "capb", "capc"):
                for name in sorted(n for n in published if n.startswith(path.stem + "-")):
                    found.append((name, path, float(name.split("-")[1])))
            else:
                found.append((path.stem, path, None))
    return found


def _cap_order(path: Path) -> tuple[int, str]:
    digits = re.sub(r"\D", "", path.stem)
    return (int(digits) if digits else 10_000, path.stem)


def run(
    module: str,
    path: Path,
    time_limit: float,
    capacity: float | None,
    extra: list[str] | None = None,
) -> dict[str, object]:
    cmd = [sys.executable, "-m", module, str(path), "--json", "--time-limit", str(time_limit)]
    if capacity is not None:
        cmd += ["--capacity", str(capacity)]
    cmd += extra or []
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=time_limit * 2 + 120, check=False
        )
    except subprocess.TimeoutExpired:
        return {"status": "killed", "seconds": time_limit * 2 + 120}
    if proc.returncode != 0:
        return {"status": "error", "error": proc.stderr.strip().splitlines()[-1:] or ["?"]}
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["pmed", "cap"], default=None)
    parser.add_argument("--no-spopt", action="store_true")
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--match", default=None, help="only instances whose name matches")
    parser.add_argument("--resume", action="store_true", help="keep the log, skip its rows")
    parser.add_argument(
        "--formulation", choices=["auto", "strong", "sorted"], default="auto", help="ours"
    )
    args = parser.parse_args(argv)
    published = optima()
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = f"-{args.only}" if args.only else ""
    log = RESULTS / f"orlib{suffix}.jsonl"
    done: dict[str, dict[str, object]] = {}
    if args.resume and log.exists():
        for line in log.read_text().splitlines():
            if line.strip():
                logged = json.loads(line)
                done[str(logged["instance"])] = logged
    else:
        log.write_text("")
    order = [name for name, _, _ in jobs(args.only)]
    for name, path, capacity in jobs(args.only):
        if name in done or (args.match and not re.search(args.match, name)):
            continue
        load_before = round(os.getloadavg()[0], 2)
        ours = run(
            "benchmarks.orlib",
            path,
            args.time_limit,
            capacity,
            ["--formulation", args.formulation],
        )
        row: dict[str, object] = {
            "instance": name,
            "published": published.get(name),
            "objective": ours.get("objective"),
            "bound": ours.get("bound"),
            "status": ours.get("status"),
            "seconds": ours.get("seconds"),
            "build_seconds": ours.get("build_seconds"),
            "solver": ours.get("solver"),
            "load_before": load_before,
        }
        if ours.get("error"):  # keep why a solve failed, not just that it did
            row["error"] = ours["error"]
        opt, obj = row["published"], row["objective"]
        row["matches"] = (
            isinstance(opt, float)
            and isinstance(obj, float)
            and abs(obj - opt) <= REL_TOL * abs(opt) + 1e-3
        )
        if name.startswith("pmed") and not args.no_spopt:
            theirs = run("benchmarks.spopt_pmed", path, args.time_limit, None)
            row["spopt_objective"] = theirs.get("objective")
            row["spopt_status"] = theirs.get("status")
            row["spopt_seconds"] = theirs.get("seconds")
            if theirs.get("error"):
                row["spopt_error"] = theirs["error"]
            mine, spopt_seconds = row["seconds"], theirs.get("seconds")
            if isinstance(spopt_seconds, float) and isinstance(mine, float):
                row["ratio_ours_to_spopt"] = round(mine / spopt_seconds, 3)
        row["load_after"] = round(os.getloadavg()[0], 2)
        done[name] = row
        with log.open("a") as handle:
            handle.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)
    rows = [done[name] for name in order if name in done]
    if not rows:
        print("no instance run")
        return 1
    table = pd.DataFrame(rows)
    table.to_csv(RESULTS / f"orlib{suffix}.csv", index=False)
    text = _markdown(table)
    (RESULTS / f"orlib{suffix}.md").write_text(text)
    print(text)
    return 0


def _markdown(table: pd.DataFrame) -> str:
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; load average at the end "
        f"{os.getloadavg()[0]:.2f}.",
        "",
        table.to_markdown(index=False, floatfmt=".6g"),
        "",
        f"Published optimum reached (within {REL_TOL:g} relative): "
        f"{int(table['matches'].sum())} of {len(table)}; "
        f"slowest {table['seconds'].max():.1f} s.",
    ]
    if "ratio_ours_to_spopt" in table:
        ratios = table["ratio_ours_to_spopt"].dropna()
        if len(ratios):
            lines.append(
                f"Time ratio ours/spopt on pmed: median {statistics.median(ratios):.3f}, "
                f"max {ratios.max():.3f} over {len(ratios)} instances."
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
