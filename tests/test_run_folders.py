"""Output folders written whole or not at all, one command at a time
(scenarios/outputs/folders.py): the lock, the checks before anything is computed, the swap,
errors of the disk, and the commands that add files to a run folder.

The kill -9 and concurrent-process harnesses are in tests/test_folder_harness.py.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import estate.io as estate_io
from cli import main
from scenarios.outputs import folders
from scenarios.outputs.folders import FolderBusyError, folder_lock, writing_folder
from tests.tiny_places import write_line_scenario, write_tiny_register

FAST = ["--quiet", "--no-sharing-value", "--no-price-of-keeping"]


@pytest.fixture
def place(tmp_path: Path) -> Path:
    """The tiny line place, with no sensitive building (so that it can be published)."""
    folder = tmp_path / "place"
    write_tiny_register(folder / "register")
    buildings = folder / "register" / "buildings.csv"
    buildings.write_text(buildings.read_text().replace(",yes\n", ",no\n"), encoding="utf-8")
    return write_line_scenario(folder)


def estate(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def run(place: Path, out: Path, *extra: str) -> Any:
    return estate("run", str(place), "--out", str(out), *FAST, *extra)


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def hidden(parent: Path) -> list[str]:
    return sorted(n for n in os.listdir(parent) if n.startswith("."))


def one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in output, output
    return lines[0]


# --- the lock ----------------------------------------------------------------------------


def test_a_folder_another_command_is_writing_fails_at_once(place: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(place, out).exit_code == 0
    before = files(out)
    with folder_lock(out, "out"):
        start = time.perf_counter()
        result = run(place, out, "--set", "finance.discount_rate=0.03")
        seconds = time.perf_counter() - start
        # map, report and publish wait for no one either
        mapped = estate("map", str(out), "--offline", "--quiet")
    assert result.exit_code == 2
    line = one_line(result.output)
    assert "is being written by another estate command" in line
    assert f"process {os.getpid()} on" in line  # who holds it
    assert seconds < 2.0  # before loading, solving or writing anything
    assert mapped.exit_code == 2 and "being written" in mapped.output
    assert files(out) == before
    assert hidden(tmp_path) == []  # the lock file goes with its holder
    assert run(place, out, "--set", "finance.discount_rate=0.03").exit_code == 0


def test_a_companion_folder_is_not_redrawn_while_its_run_is_rewritten(
    place: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run = estate("run", str(place), "--out", str(out), "--quiet", "--no-price-of-keeping")
    assert run.exit_code == 0  # with its companion folder, out/siloed
    with folder_lock(out, "out"):
        result = estate("report", str(out / "siloed"), "--quiet")
    assert result.exit_code == 2 and f"{out} is being written" in result.output
    assert estate("report", str(out / "siloed"), "--quiet").exit_code == 0
    assert hidden(out) == [] and hidden(tmp_path) == []


def test_the_lock_is_taken_from_a_holder_that_let_go(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with folder_lock(target, "out"), pytest.raises(FolderBusyError), folder_lock(target, "out"):
        pass
    with folder_lock(target, "out"):  # released, and the file removed, on exit
        assert (tmp_path / ".out.lock").is_file()
    assert not (tmp_path / ".out.lock").exists()


def test_a_sweep_into_a_folder_another_sweep_writes_fails_at_once(
    place: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sweep"
    with folder_lock(out, "sweep"):
        result = estate(
            "sweep", str(place), "--set", "finance.discount_rate=0.03,0.04",
            "--out", str(out), "--serial", "--quiet",
        )  # fmt: skip
    assert result.exit_code == 2 and "being written" in result.output
    assert not out.exists()


# --- what may be replaced ----------------------------------------------------------------


def test_a_folder_no_estate_command_wrote_is_refused_unless_forced(
    place: Path, tmp_path: Path
) -> None:
    out = tmp_path / "documents"
    out.mkdir()
    (out / "budget.xlsx").write_bytes(b"not ours")
    for command in (
        ["run", str(place), *FAST],
        ["plan", str(place), "--quiet"],
        ["share", str(place), "--serial", "--quiet"],
        ["sweep", str(place), "--set", "finance.discount_rate=0.03", "--serial", "--quiet"],
    ):
        result = estate(*command, "--out", str(out))
        assert result.exit_code == 2, (command, result.output)
        line = one_line(result.output)
        assert "holds files that no estate command wrote ('budget.xlsx')" in line, line
        assert "--force" in line
        assert files(out) == {"budget.xlsx": b"not ours"}
    assert run(place, out, "--force").exit_code == 0
    assert not (out / "budget.xlsx").exists()
    assert (out / "summary.json").is_file()


def test_a_run_folder_and_a_sweep_folder_do_not_replace_each_other_unforced(
    place: Path, tmp_path: Path
) -> None:
    runs = tmp_path / "run"
    assert run(place, runs).exit_code == 0
    result = estate(
        "sweep", str(place), "--set", "finance.discount_rate=0.03", "--out", str(runs),
        "--serial", "--quiet",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "is a run folder, not a sweep folder" in one_line(result.output)


def test_force_never_deletes_the_scenarios_own_inputs(place: Path) -> None:
    result = run(place, place.parent, "--force")
    assert result.exit_code == 2
    assert "holds the scenario's own input files" in one_line(result.output)
    assert (place.parent / "register" / "buildings.csv").is_file()


def test_the_current_folder_and_the_home_folder_are_never_replaced(
    place: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert run(place, out).exit_code == 0
    monkeypatch.chdir(out / "inputs")
    for target in (out, out / "inputs"):  # holds the current folder, or is it
        result = run(place, target, "--force")
        assert result.exit_code == 2
        assert "is the current folder or holds it" in one_line(result.output)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    result = run(place, tmp_path / "home", "--force")
    assert result.exit_code == 2 and "cannot be an output folder" in result.output


def test_a_rerun_replaces_the_folder_through_a_link_to_it(place: Path, tmp_path: Path) -> None:
    real = tmp_path / "real"
    link = tmp_path / "link"
    assert run(place, real).exit_code == 0
    link.symlink_to(real, target_is_directory=True)
    assert run(place, link, "--set", "finance.discount_rate=0.03").exit_code == 0
    assert link.is_symlink()
    doc = json.loads((real / "summary.json").read_text())
    assert doc["settings"]["finance"]["discount_rate"] == 0.03


# --- the swap ----------------------------------------------------------------------------


def test_a_rerun_leaves_no_stale_published_copy(place: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(place, out).exit_code == 0
    published = estate("publish", str(out), "--offline", "--quiet")
    assert published.exit_code == 0, published.output
    assert (out / "published" / "summary.json").is_file()
    assert run(place, out, "--set", "finance.discount_rate=0.03").exit_code == 0
    assert not (out / "published").exists()
    assert hidden(tmp_path) == []


def test_a_failed_run_leaves_the_previous_folder_as_it_was(
    place: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert run(place, out).exit_code == 0
    before = files(out)
    _fail_on_write(monkeypatch, "agencies.csv", errno.ENOSPC)
    result = run(place, out, "--set", "finance.discount_rate=0.03")
    assert result.exit_code == 2
    line = one_line(result.output)
    assert line == (
        f"Error: cannot write {out}: No space left on device ({out}/agencies.csv); "
        f"nothing in {out} was changed"
    )
    assert files(out) == before
    assert hidden(tmp_path) == []


def test_a_refused_permission_is_one_line_and_changes_nothing(
    place: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert run(place, out).exit_code == 0
    before = files(out)
    _fail_on_write(monkeypatch, "moves.csv", errno.EACCES)
    result = run(place, out, "--set", "finance.discount_rate=0.03")
    assert result.exit_code == 2
    assert "Permission denied" in one_line(result.output)
    assert files(out) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to any folder")
def test_a_folder_whose_parent_may_not_be_written_is_one_line(place: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = run(place, locked / "out")
    finally:
        locked.chmod(0o755)
    assert result.exit_code == 2
    assert "Permission denied" in one_line(result.output)


def test_without_an_atomic_exchange_the_old_folder_is_set_aside_then_restored(
    place: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert run(place, out).exit_code == 0
    monkeypatch.setattr(folders, "_exchange", lambda a, b: False)
    assert run(place, out, "--set", "finance.discount_rate=0.03").exit_code == 0
    assert json.loads((out / "summary.json").read_text())["settings"]["finance"][
        "discount_rate"
    ] == pytest.approx(0.03)
    assert hidden(tmp_path) == []
    # Killed between setting the old folder aside and renaming the new one into place:
    # the next command to lock the folder puts the old one back before anything else.
    before = files(out)
    aside = tmp_path / ".out.estate-killed"
    aside.mkdir()
    os.rename(out, aside / folders.PREVIOUS)
    (tmp_path / ".out.estate-unfinished" / "out").mkdir(parents=True)
    with writing_folder(out) as staging:
        assert files(out) == before
        assert staging.path.name == "out"
    assert files(out) == {}  # nothing was written into the new folder
    assert hidden(tmp_path) == []


def _fail_on_write(monkeypatch: pytest.MonkeyPatch, name: str, code: int) -> None:
    """Make writing the file ``name`` fail with ``code``, as the disk would."""
    real = estate_io.atomic_write

    def failing(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
        def broken(tmp: Path) -> None:
            write(tmp)
            if Path(path).name == name:
                raise OSError(code, os.strerror(code))

        return real(path, broken)

    monkeypatch.setattr(estate_io, "atomic_write", failing)


# --- commands that add files to a run folder ---------------------------------------------


def test_report_adds_both_files_or_neither(
    place: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert run(place, out).exit_code == 0
    for name in ("report.html", "report.xlsx"):
        (out / name).unlink()
    before = files(out)

    def full_disk(*args: object, **kwargs: object) -> Path:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out / "report.xlsx"))

    monkeypatch.setattr("scenarios.outputs.presentation.write_workbook", full_disk)
    result = estate("report", str(out), "--quiet")
    assert result.exit_code == 2
    assert "No space left on device" in one_line(result.output)
    assert files(out) == before  # no report.html without its workbook
    monkeypatch.undo()
    result = estate("report", str(out), "--json")
    assert result.exit_code == 0, result.output
    written = json.loads(result.output)["files"]
    assert written == [str(out / "report.html"), str(out / "report.xlsx")]
    assert set(files(out)) == set(before) | {"report.html", "report.xlsx"}
    assert hidden(tmp_path) == []


def test_publish_replaces_the_published_copy_whole(place: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(place, out).exit_code == 0
    assert estate("publish", str(out), "--offline", "--quiet").exit_code == 0
    stray = out / "published" / "from-an-older-publication.csv"
    stray.write_text("old\n")
    private = {k: v for k, v in files(out).items() if not k.startswith("published/")}
    assert estate("publish", str(out), "--offline", "--quiet").exit_code == 0
    assert not stray.exists()
    assert (out / "published" / "REDACTION.txt").is_file()
    assert {k: v for k, v in files(out).items() if not k.startswith("published/")} == private


def test_a_sweep_point_is_replaced_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scenarios.sweeps.parallel import PointOutcome, write_point

    folder = tmp_path / "points" / "0123456789abcdef"
    write_point(folder, PointOutcome("k", {"summary.json": b"{}", "a.csv": b"1\n"}, "optimal"))
    real = Path.write_bytes

    def full(self: Path, data: bytes) -> int:
        if self.name == "b.csv":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(OSError):
        write_point(folder, PointOutcome("k", {"summary.json": b"[]", "b.csv": b"2\n"}, "x"))
    monkeypatch.undo()
    assert files(folder) == {"a.csv": b"1\n", "summary.json": b"{}"}
    assert hidden(folder.parent) == []


def test_folder_kinds(tmp_path: Path) -> None:
    assert folders.folder_kind(tmp_path / "nothing") == "missing"
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".x.lock").write_text("")  # a leftover of ours is not content
    assert folders.folder_kind(tmp_path / "empty") == "empty"
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "summary.json").write_text('{"status": "optimal"}')
    assert folders.folder_kind(run_dir) == "run"
    (run_dir / "summary.json").write_text('{"something": "else"}')
    assert folders.folder_kind(run_dir) == "other"
    sweep = tmp_path / "sweep" / "points" / "0123456789abcdef"
    sweep.mkdir(parents=True)
    assert folders.folder_kind(tmp_path / "sweep") == "sweep"  # stopped before sweep.json
    (tmp_path / "sweep" / "points" / "notes").mkdir()
    assert folders.folder_kind(tmp_path / "sweep") == "other"
    share = tmp_path / "share" / "coalitions" / "points" / "0123456789abcdef"
    share.mkdir(parents=True)
    assert folders.folder_kind(tmp_path / "share") == "run"  # a share before its summary


def test_an_error_about_a_file_names_the_run_folder_not_the_staging_copy(
    place: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert run(place, out).exit_code == 0
    (out / "moves.csv").write_text("service_id\nnot,a,table\n")
    result = estate("map", str(out), "--offline")
    assert result.exit_code != 0
    assert str(out / "moves.csv") in result.output
    assert ".estate-" not in result.output
    shutil.rmtree(out)
