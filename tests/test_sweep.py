"""`estate sweep`: grids, Dask (local processes and an existing scheduler), resuming,
failures, and the Pareto frontier.

The base is the demo place with 3 candidate buildings a service, which solves in a
fraction of a second, so a sweep's time is mostly starting workers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from scenarios.scenario.file import load_scenario
from scenarios.scenario.template import init_folder, render_scenario
from scenarios.sweeps.pareto import frontier
from scenarios.sweeps.sweep import parse_axis, point_key, point_versions, split_values

GRID = ["--set", "access.library.drive=10,15,20"]
TIMING = ("build_seconds", "solve_seconds")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sweep-base")
    init_folder(folder, demo_seed=2026)
    fast = load_scenario(folder / "scenario.yaml", {"policy.k_nearest": "3"})
    path = folder / "fast.yaml"
    path.write_text(render_scenario(fast.scenario), encoding="utf-8")
    return path


def sweep(*args: str) -> str:
    result = CliRunner().invoke(main, ["sweep", *args, "--quiet"])
    assert result.exit_code == 0, result.output
    return result.output


def without_timing(path: Path) -> dict[str, object]:
    doc = json.loads(path.read_text())
    for key in TIMING:
        doc.pop(key)
    return doc


@pytest.fixture(scope="module")
def local_and_serial(base: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("sweeps")
    sweep(str(base), *GRID, "--out", str(folder / "local"), "--workers", "2")
    sweep(str(base), *GRID, "--out", str(folder / "serial"), "--serial")
    return folder / "local", folder / "serial"


def test_a_local_cluster_of_processes_gives_the_one_by_one_results(
    local_and_serial: tuple[Path, Path],
) -> None:
    local, serial = local_and_serial
    assert (local / "results.csv").read_bytes() == (serial / "results.csv").read_bytes()
    results = pd.read_csv(local / "results.csv", dtype={"point": str})
    assert len(results) == 3
    assert (results["status"] == "optimal").all()
    run = json.loads((local / "sweep.json").read_text())
    assert run["execution"] == {"kind": "local", "workers": 2, "address": "local"}
    pids = {p["worker"].split(":")[1] for p in run["points"]}
    assert str(os.getpid()) not in pids  # solved in worker processes, not here
    for point in results["point"]:
        for name in ("buildings.csv", "moves.csv", "access.csv", "cash_flows.csv"):
            a = (local / "points" / point / name).read_bytes()
            assert a == (serial / "points" / point / name).read_bytes(), (point, name)
        summaries = [without_timing(d / "points" / point / "summary.json") for d in (local, serial)]
        assert summaries[0] == summaries[1]
    assert (local / "pareto.svg").stat().st_size > 0
    assert (local / "pareto.png").stat().st_size > 0


def test_a_point_equals_the_same_scenario_run_alone(
    base: Path, local_and_serial: tuple[Path, Path], tmp_path: Path
) -> None:
    local, _ = local_and_serial
    results = pd.read_csv(local / "results.csv", dtype={"point": str})
    row = results.iloc[-1]
    out = tmp_path / "alone"
    args = ["run", str(base), "--out", str(out), "--no-sharing-value", "--quiet"]
    args.append("--no-price-of-keeping")  # a sweep point prices no keeping either
    args += ["--set", f"access.library.drive={row['access.library.drive']}"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    point = local / "points" / str(row["point"])
    for name in ("buildings.csv", "moves.csv", "agencies.csv"):
        assert (point / name).read_bytes() == (out / name).read_bytes(), name
    # The point's own scenario file (with its copy of the inputs) is the same point.
    again = load_scenario(point / "scenario.yaml")
    assert point_key(again.key(), point_versions()) == row["point"]


def test_a_second_invocation_recomputes_nothing(
    base: Path, local_and_serial: tuple[Path, Path]
) -> None:
    local, _ = local_and_serial
    before = {p: p.stat().st_mtime_ns for p in (local / "points").glob("*/summary.json")}
    results = (local / "results.csv").read_bytes()
    start = time.perf_counter()
    sweep(str(base), *GRID, "--out", str(local), "--workers", "2")
    assert time.perf_counter() - start < 10  # no cluster is started for nothing
    run = json.loads((local / "sweep.json").read_text())
    assert (run["computed"], run["cached"], run["execution"]) == (0, 3, None)
    after = {p: p.stat().st_mtime_ns for p in (local / "points").glob("*/summary.json")}
    assert after == before
    assert (local / "results.csv").read_bytes() == results
    # A widened grid computes only its new points.
    sweep(str(base), "--set", "access.library.drive=10,15,20,25", "--serial",
          "--out", str(local))  # fmt: skip
    run = json.loads((local / "sweep.json").read_text())
    assert (run["computed"], run["cached"]) == (1, 3)


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[str]:
    """A Dask scheduler and one worker, as separate processes on the loopback."""
    file = tmp_path / "scheduler.json"
    python = sys.executable
    common = ["--no-dashboard"]
    scheduler_cmd = ["-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [
        subprocess.Popen([python, *scheduler_cmd, "--scheduler-file", str(file), *common], **quiet)
    ]
    try:
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert file.exists(), "the scheduler did not start"
        time.sleep(0.2)
        address = json.loads(file.read_text())["address"]
        worker_cmd = ["-m", "distributed.cli.dask_worker", address, "--nthreads", "1"]
        worker_cmd += ["--nworkers", "1", "--host", "127.0.0.1", *common]
        procs.append(subprocess.Popen([python, *worker_cmd], **quiet))
        from distributed import Client

        with Client(address, set_as_default=False) as client:
            client.wait_for_workers(1, timeout=60)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_an_existing_scheduler_is_used_and_left_as_it_is(
    base: Path, scheduler: str, local_and_serial: tuple[Path, Path], tmp_path: Path
) -> None:
    _, serial = local_and_serial
    out = tmp_path / "remote"
    sweep(str(base), "--set", "finance.discount_rate=0.035,0.05", "--out", str(out),
          "--scheduler", scheduler)  # fmt: skip
    run = json.loads((out / "sweep.json").read_text())
    assert run["execution"]["kind"] == "scheduler"
    assert run["execution"]["address"] == scheduler
    assert run["execution"]["workers"] == 1
    assert run["computed"] == 2
    assert all(p["worker"].split(":")[1] != str(os.getpid()) for p in run["points"])
    # The point with the base discount rate is also in the serial sweep (library at 10).
    same = [p for p in run["points"] if (serial / "points" / p["point"]).exists()]
    assert len(same) == 1
    theirs = serial / "points" / same[0]["point"] / "buildings.csv"
    assert (out / same[0]["folder"] / "buildings.csv").read_bytes() == theirs.read_bytes()
    from distributed import Client

    with Client(scheduler, set_as_default=False) as client:
        assert len(client.scheduler_info(n_workers=-1)["workers"]) == 1  # still running


def test_a_failing_point_is_reported_and_the_others_finish(base: Path, tmp_path: Path) -> None:
    out = tmp_path / "fails"
    args = ["sweep", str(base), "--set", "policy.force_keep=[B001],[NOPE]", "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--serial"], terminal_width=200)
    assert result.exit_code == 1, result.output
    assert "NOPE" in result.output
    results = pd.read_csv(out / "results.csv", keep_default_na=False)
    assert list(results["status"]) == ["optimal", "failed"]
    assert "no building_id 'NOPE'" in results["error"].iloc[1]
    failed = out / "points" / results["point"].iloc[1]
    assert "ScenarioError" in (failed / "error.txt").read_text()
    assert not (failed / "summary.json").exists()
    again = CliRunner().invoke(main, [*args, "--serial", "--quiet"])
    assert again.exit_code == 1
    run = json.loads((out / "sweep.json").read_text())
    assert (run["computed"], run["cached"], run["failed"]) == (0, 1, 1)


def test_an_invalid_value_fails_its_point_only(base: Path, tmp_path: Path) -> None:
    out = tmp_path / "invalid"
    args = ["sweep", str(base), "--set", "policy.k_nearest=0,3", "--out", str(out), "--serial"]
    result = CliRunner().invoke(main, [*args, "--quiet"])
    assert result.exit_code == 1
    results = pd.read_csv(out / "results.csv", keep_default_na=False)
    assert list(results["status"]) == ["invalid", "optimal"]
    assert "--set policy.k_nearest=0" in results["error"].iloc[0]


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["--set", "policy.k_nearst=3,5"], "policy.k_nearst: unknown key"),
        (["--set", "policy.k_nearest=0,-1"], "greater than or equal to 1"),
        (["--set", "policy.k_nearest"], "expected KEY=V1,V2"),
        (["--set", "policy.k_nearest=3,3"], "a value is repeated"),
    ],
)
def test_an_unusable_sweep_exits_2_and_writes_nothing(
    base: Path, tmp_path: Path, sets: list[str], message: str
) -> None:
    out = tmp_path / "nothing"
    result = CliRunner().invoke(main, ["sweep", str(base), *sets, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not out.exists()


def test_values_split_on_commas_outside_brackets() -> None:
    assert split_values("a,[b,c],{d: 1, e: 2}") == ["a", "[b,c]", "{d: 1, e: 2}"]
    axis = parse_axis("policy.agencies=[council,nhs],null")
    assert axis.key == "policy.agencies"
    assert axis.values == ("[council,nhs]", "null")
    with pytest.raises(ValueError, match="empty value"):
        parse_axis("finance.discount_rate=0.03,")


def test_the_frontier_keeps_exactly_the_undominated_points() -> None:
    saving = [10.0, 8.0, 12.0, 9.0, 12.0, 7.0]
    access = [0.90, 0.95, 0.80, 0.85, 0.80, 0.95]
    assert frontier(saving, access).tolist() == [True, True, True, False, True, False]
    assert frontier([], []).tolist() == []
