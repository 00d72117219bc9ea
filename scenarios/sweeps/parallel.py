"""Run many scenario points: one by one in this process, or in parallel on Dask.

A point is solved by :func:`solve_point`, which never raises: a failure comes back
as a :class:`PointOutcome` with its error, so one bad point does not stop a sweep.
Each place's data are sent to the cluster once, and its travel times are computed
once per mode and shared by every point that uses them.  The run folder of a point
is rendered on the worker and returned as bytes, so a cluster on other machines
needs no shared disk: the client writes every file.

By default a :class:`distributed.LocalCluster` is started with one worker process a
core and one thread a worker (HiGHS's branch and bound is mostly serial, so
parallelism pays across points, not within one solve).  ``scheduler`` connects to an
existing cluster instead and leaves it as it is.  Scripts that start a local cluster
need the ``if __name__ == "__main__":`` guard, as worker processes are spawned.
"""

from __future__ import annotations

import os
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from geodata.traveltime import TravelTimes
from optimise.model import GivenPlan
from optimise.settings import Mode
from scenarios.running.run import mode_travel_times, solve_inputs
from scenarios.scenario.file import ScenarioFile
from scenarios.scenario.inputs import PlaceData, run_inputs


@dataclass(frozen=True)
class PointJob:
    """One point to solve: its scenario, the place it uses, and its output layout."""

    key: str
    label: str
    scenario: ScenarioFile
    place_id: str
    modes: tuple[Mode, ...]
    presentation: bool = True  # the GeoPackage, map and reports (False: tables only)
    plans: tuple[GivenPlan, ...] = ()  # plans from other solves to start from


@dataclass(frozen=True)
class PointOutcome:
    """A solved (or failed) point: the files of its run folder, or its error."""

    key: str
    files: Mapping[str, bytes] = field(default_factory=dict)
    status: str = ""
    error: str = ""
    seconds: float = 0.0
    worker: str = ""
    cpu_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.error


def place_travel_times(place: PlaceData, mode: Mode) -> TravelTimes:
    """Travel times of a place by one mode (a task shared by every point)."""
    return mode_travel_times(place.register, place.zones, place.network, mode)


def solve_point(job: PointJob, place: PlaceData, *times: TravelTimes) -> PointOutcome:
    """Solve one point and render its run folder; never raises."""
    from scenarios.outputs.writer import write_run

    start, cpu = time.perf_counter(), time.process_time()
    worker = f"{os.uname().nodename}:{os.getpid()}"
    try:
        inputs = replace(run_inputs(job.scenario, place), name=job.label)
        travel = dict(zip(job.modes, times, strict=True))
        instance, result = solve_inputs(inputs, travel=travel, started=start, plans=job.plans)
        with tempfile.TemporaryDirectory(prefix="estate-point-") as tmp:
            folder = Path(tmp)
            write_run(folder, inputs, instance, result, presentation=job.presentation)
            files = {
                str(p.relative_to(folder)): p.read_bytes()
                for p in sorted(folder.rglob("*"))
                if p.is_file()
            }
        wall, used = time.perf_counter() - start, time.process_time() - cpu
        return PointOutcome(job.key, files, result.status.value, "", wall, worker, used)
    except Exception as exc:  # one failing point is reported, never fatal to a sweep
        return PointOutcome(
            job.key,
            {"error.txt": traceback.format_exc().encode("utf-8")},
            "",
            f"{type(exc).__name__}: {exc}",
            time.perf_counter() - start,
            worker,
        )


def write_point(folder: Path, outcome: PointOutcome) -> Path:
    """Put a point's files in ``folder`` all at once: built beside it, then swapped in
    (:func:`scenarios.outputs.folders.staged`; the sweep holds the lock of the folder above)."""
    from scenarios.outputs.folders import staged

    with staged(folder) as staging:
        for name, data in outcome.files.items():
            path = staging.path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return folder


# --- executors ---------------------------------------------------------------------------

OnDone = Callable[[PointOutcome], None]


@dataclass(frozen=True)
class Execution:
    """How a sweep ran: ``serial``, a ``local`` cluster, or a ``scheduler`` address."""

    kind: str
    workers: int
    address: str = ""


def default_workers() -> int:
    """One worker a core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def run_serial(
    jobs: Sequence[PointJob], places: Mapping[str, PlaceData], on_done: OnDone
) -> Execution:
    """Solve every job here, one after another (travel times computed once a place)."""
    cache: dict[tuple[str, Mode], TravelTimes] = {}
    for job in jobs:
        place = places[job.place_id]
        try:
            for mode in job.modes:
                if (job.place_id, mode) not in cache:
                    cache[(job.place_id, mode)] = place_travel_times(place, mode)
        except Exception as exc:  # reported for each point that needs it
            on_done(_failed(job, exc))
            continue
        on_done(solve_point(job, place, *(cache[(job.place_id, m)] for m in job.modes)))
    return Execution("serial", 1)


def _failed(job: PointJob, exc: BaseException) -> PointOutcome:
    text = "".join(traceback.format_exception(exc))
    return PointOutcome(
        job.key, {"error.txt": text.encode("utf-8")}, "", f"{type(exc).__name__}: {exc}"
    )


@contextmanager
def dask_client(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """A client of the cluster at ``scheduler``, or of a new local cluster of processes."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler, timeout="30s", set_as_default=False) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=workers or default_workers(),
            threads_per_worker=1,
            processes=True,
            # Without an address the scheduler's HTTP server asks for port 8787 and, when
            # another cluster holds it, prints a raw warning: a free loopback port instead.
            dashboard_address="127.0.0.1:0",
            host="127.0.0.1",
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        yield client


@contextmanager
def local_cluster(workers: int | None) -> Iterator[str]:
    """A local cluster of worker processes (one thread each) for several sweeps in a
    row; yields its scheduler's address (for ``scheduler=``)."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=workers or default_workers(),
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    ) as cluster:
        yield str(cluster.scheduler_address)


def run_dask(
    jobs: Sequence[PointJob],
    places: Mapping[str, PlaceData],
    on_done: OnDone,
    scheduler: str | None = None,
    workers: int | None = None,
) -> Execution:
    """Solve every job on a Dask cluster; outcomes arrive in completion order."""
    from distributed import as_completed

    with dask_client(scheduler, workers) as client:
        used = {job.place_id for job in jobs}
        place_futures = {
            pid: client.scatter(places[pid], broadcast=False, hash=False) for pid in sorted(used)
        }
        travel: dict[tuple[str, Mode], Any] = {}
        futures = []
        job_of: dict[str, PointJob] = {}
        for job in jobs:
            for mode in job.modes:
                if (job.place_id, mode) not in travel:
                    travel[(job.place_id, mode)] = client.submit(
                        place_travel_times,
                        place_futures[job.place_id],
                        mode,
                        key=f"travel-{job.place_id}-{mode}",
                    )
            future = client.submit(
                solve_point,
                job,
                place_futures[job.place_id],
                *(travel[(job.place_id, m)] for m in job.modes),
                key=f"point-{job.key}",
                retries=0,
            )
            futures.append(future)
            job_of[future.key] = job
        for future in as_completed(futures, loop=client.loop):
            job = job_of[future.key]
            try:
                outcome = future.result()
            except Exception as exc:  # a lost worker or a task that could not run
                outcome = _failed(job, exc)
            on_done(outcome)
            future.release()
        n_workers = len(client.scheduler_info(n_workers=-1)["workers"])
    address = scheduler or "local"
    return Execution("scheduler" if scheduler else "local", n_workers, address)
