"""Harnesses: `estate run` killed with SIGKILL at random moments, and two runs into one
folder at once.  Either way the folder must be the old run, whole, or a new run, whole.

The commands are real processes (forked from :mod:`tests.fork_server`, which has the
imports done, so a trial costs the run itself, not Python's start-up).  Each folder
is compared file by file with reference run folders written without interference:
``summary.json`` without its timing fields, the GeoPackage without its write
timestamps, every other file byte for byte.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from estate.settings import CACHE_ENV

ROOT = Path(__file__).resolve().parents[1]
TRIALS = 20
# More trials, up to this many, while too few kills have landed mid-write: how long a
# run takes varies with the machine's load, so aiming at the write window can miss it.
MAX_TRIALS = 60
SEED = 15
TIMING = ("build_seconds", "solve_seconds")
STAMP = re.compile(r"'\d{4}-\d\d-\d\dT[0-9:.]+Z'")
BUSY = "is being written by another estate command"


class ForkServer:
    """The client side of :mod:`tests.fork_server`."""

    def __init__(self, cache: Path) -> None:
        env = {**os.environ, CACHE_ENV: str(cache), "OMP_NUM_THREADS": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fork_server"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert "ready" in self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, "the fork server ended"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def spawn(
        self, args: list[str], cwd: Path, log: Path, max_file_bytes: int | None = None
    ) -> int:
        request = {"spawn": args, "cwd": str(cwd), "log": str(log)}
        if max_file_bytes is not None:
            request["max_file_bytes"] = max_file_bytes
        return int(self._ask(request)["pid"])

    def wait(self, pid: int) -> dict[str, Any]:
        return self._ask({"wait": pid})

    def run(self, args: list[str], cwd: Path, log: Path) -> dict[str, Any]:
        return self.wait(self.spawn(args, cwd, log))

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"quit": True}) + "\n")
        self.proc.stdin.close()
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForkServer]:
    fork_server = ForkServer(tmp_path_factory.mktemp("harness-cache"))
    yield fork_server
    fork_server.close()


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny line place (three buildings on one road) as a scenario file."""
    from tests.tiny_places import write_line_scenario, write_tiny_register

    folder = tmp_path_factory.mktemp("harness-place")
    write_tiny_register(folder / "register")
    return write_line_scenario(folder)


def run_args(scenario: Path, rate: str) -> list[str]:
    setting = f"finance.discount_rate={rate}"
    return [
        "run",
        str(scenario),
        "--out",
        "out",
        "--quiet",
        "--no-price-of-keeping",
        "--set",
        setting,
    ]


def contents(folder: Path) -> dict[str, Any]:
    """Every file of a folder, comparable across runs of the same inputs and settings."""
    out: dict[str, Any] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        name = path.relative_to(folder).as_posix()
        if path.name == "summary.json":
            doc = json.loads(path.read_text(encoding="utf-8"))
            out[name] = {k: v for k, v in doc.items() if k not in TIMING}
        elif path.suffix == ".gpkg":
            with sqlite3.connect(path) as db:
                out[name] = [STAMP.sub("'T'", line) for line in db.iterdump()]
            db.close()
        else:
            out[name] = path.read_bytes()
    return out


def written_since(folder: Path, since: float) -> bool:
    """Whether a run has written an output file under ``folder`` since ``since``."""
    for path in folder.rglob("*"):
        if path.suffix in (".txt", ".end", ".lock"):  # the harness's logs, the lock
            continue
        try:
            if path.is_file() and path.stat().st_mtime > since:
                return True
        except FileNotFoundError:  # renamed or deleted while we looked
            continue
    return False


def leftovers(parent: Path) -> list[str]:
    return sorted(n for n in os.listdir(parent) if n.startswith(".out"))


def reference(server: ForkServer, scenario: Path, rate: str, where: Path) -> dict[str, Any]:
    """A run folder written without interference, as :func:`contents`."""
    where.mkdir()
    done = server.run(run_args(scenario, rate), where, where / "log.txt")
    assert done["code"] == 0, (where / "log.txt").read_text()
    return contents(where / "out")


def test_a_run_killed_at_any_moment_leaves_the_old_folder_or_the_new_one_whole(
    server: ForkServer, place: Path, tmp_path: Path
) -> None:
    old = reference(server, place, "0.035", tmp_path / "old")
    # The new run into a copy of the old folder, undisturbed: the reference for "new",
    # how long a whole run takes here, and when it starts writing files.
    timing = tmp_path / "timing"
    shutil.copytree(tmp_path / "old", timing)
    since = time.time()
    pid = server.spawn(run_args(place, "0.03"), timing, timing / "log.txt")
    start = time.monotonic()
    writing = None  # when the run writes its first output file
    while writing is None and time.monotonic() - start < 60:
        if written_since(timing, since):
            writing = time.monotonic() - start
        time.sleep(0.005)
    done = server.wait(pid)
    assert done["code"] == 0, (timing / "log.txt").read_text()
    seconds, new = done["seconds"], contents(timing / "out")
    assert old != new and writing is not None and writing < seconds
    rng = random.Random(SEED)
    verdicts = []
    mid_write = 0
    trial = tmp_path / "trial"
    shutil.copytree(tmp_path / "old", trial)
    before = old  # what the folder holds before each trial (checked after the one before)
    i = -1
    while (i := i + 1) < TRIALS or (mid_write < TRIALS // 4 and i < MAX_TRIALS):
        # Half the kills anywhere in the run, half while its files are written.
        delay = rng.uniform(0.0, seconds * 1.3) if i % 2 else rng.uniform(writing, seconds)
        pid = server.spawn(run_args(place, "0.03"), trial, trial / "log.txt")
        time.sleep(delay)
        with contextlib.suppress(ProcessLookupError):  # it may have ended already
            os.kill(pid, signal.SIGKILL)
        ended = server.wait(pid)
        # killed while the new folder's files were being written
        mid_write += any(f.is_file() for n in leftovers(trial) for f in (trial / n).rglob("*"))
        after = contents(trial / "out")
        if after == before:
            verdicts.append("old")
        elif after == new:
            verdicts.append("new")
        else:
            changed = sorted(k for k in set(after) | set(before) if after.get(k) != before.get(k))
            pytest.fail(f"trial {i} (kill after {delay:.3f} s, {ended}): mixed folder: {changed}")
        before = after
        if verdicts[-1] == "new" and i % 2 == 0:
            # Back to the old run, so that later trials replace an old folder again.
            shutil.rmtree(trial / "out")
            shutil.copytree(tmp_path / "old" / "out", trial / "out")
            before = old
    # Many kills landed while the new folder's files were being written (the window in
    # which the code before whole-folder writes left a mixed folder): every verdict
    # above is whole, and enough of them were taken where it matters.
    assert mid_write >= TRIALS // 4, (mid_write, verdicts)
    # The next run clears what the killed ones left beside the folder.
    assert server.run(run_args(place, "0.03"), trial, trial / "log.txt")["code"] == 0
    assert contents(trial / "out") == new
    assert leftovers(trial) == []


def test_two_runs_into_one_folder_at_once_one_fails_at_once_and_the_folder_is_whole(
    server: ForkServer, place: Path, tmp_path: Path
) -> None:
    refs = {
        rate: reference(server, place, rate, tmp_path / f"ref-{rate}") for rate in ("0.03", "0.04")
    }
    for i in range(4):
        trial = tmp_path / f"race-{i}"
        shutil.copytree(tmp_path / "ref-0.03", trial)
        logs = {rate: trial / f"log-{rate}.txt" for rate in refs}
        first, second = ("0.03", "0.04") if i % 2 else ("0.04", "0.03")
        pids = {first: server.spawn(run_args(place, first), trial, logs[first])}
        if i >= 2:  # the second starts once the first holds the folder
            deadline = time.monotonic() + 30
            while not (trial / ".out.lock").exists() and time.monotonic() < deadline:
                time.sleep(0.005)
        pids[second] = server.spawn(run_args(place, second), trial, logs[second])
        ended = {rate: server.wait(pid) for rate, pid in pids.items()}
        codes = sorted(e["code"] for e in ended.values())
        assert codes == [0, 2], (i, ended, {r: p.read_text() for r, p in logs.items()})
        winner = next(r for r, e in ended.items() if e["code"] == 0)
        loser = next(r for r in refs if r != winner)
        message = logs[loser].read_text()
        assert BUSY in message and "Traceback" not in message, message
        assert len(message.strip().splitlines()) == 1, message
        # At once: the loser ended long before the winner had solved and written.
        assert ended[loser]["seconds"] < ended[winner]["seconds"] / 2, ended
        assert contents(trial / "out") == refs[winner]
        assert leftovers(trial) == []


@pytest.mark.parametrize(
    ("max_file_bytes", "reason"),
    [
        (160_000, "File too large (out/siloed/map.html)"),  # the map, written by Python
        (200_000, "GDAL could not write the GeoPackage"),  # the GeoPackage, by GDAL, last
    ],
)
def test_a_disk_that_refuses_a_write_is_one_line_and_changes_nothing(
    server: ForkServer, place: Path, tmp_path: Path, max_file_bytes: int, reason: str
) -> None:
    # Files may not grow beyond max_file_bytes: the kernel refuses the write (EFBIG),
    # as a full disk would (ENOSPC), after the smaller files were written.
    old = reference(server, place, "0.035", tmp_path / "old")
    silo = tmp_path / "old" / "out" / "siloed"
    # The map is written first and the GeoPackage last (scenarios.outputs.presentation).
    assert (silo / "results.gpkg").stat().st_size > 200_000 > (silo / "map.html").stat().st_size
    assert (silo / "map.html").stat().st_size > 160_000
    assert all(
        p.stat().st_size < 160_000
        for p in silo.rglob("*")
        if p.is_file() and p.suffix != ".gpkg" and p.name != "map.html"
    )
    log = tmp_path / "old" / "full.txt"
    pid = server.spawn(run_args(place, "0.03"), tmp_path / "old", log, max_file_bytes)
    ended = server.wait(pid)
    message = log.read_text()
    assert ended["code"] == 2, message
    assert message.startswith(f"Error: cannot write out: {reason}"), message
    assert message.rstrip().endswith("; nothing in out was changed"), message
    assert "Traceback" not in message and len(message.strip().splitlines()) == 1, message
    assert contents(tmp_path / "old" / "out") == old
    assert leftovers(tmp_path / "old") == []
