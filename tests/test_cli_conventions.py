"""One set of command-line conventions (issue 17).

The same flags mean the same on every command (``-o/--out``, ``--json``, ``--quiet``,
``--time-limit``, ``--gap``), a scenario's outputs go beside it, no library prints a
raw warning, and the README's table of commands is the commands' own help.
"""

from __future__ import annotations

import errno
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import cli
from cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
WRITES_TO_A_FOLDER = {"demo", "report", "estimate", "access", "run", "compare", "sweep", "share"}
WRITES_TO_A_FILE = {"map", "mapping", "geocode"}
SOLVES = {"demo", "run", "plan", "sweep", "share"}


def _options(name: str) -> set[str]:
    command = main.commands[name]
    return {o for p in command.params if isinstance(p, click.Option) for o in p.opts}


def test_the_readme_lists_every_command_as_its_help_says() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index(cli.README_START) + len(cli.README_START) + 1
    end = text.index(cli.README_END)
    assert text[start:end] == cli.commands_table(), (
        "README.md's commands table is out of date: run python -c 'import cli; cli.write_readme()'"
    )
    for name in main.commands:
        assert f"| `estate {name} " in text or f"| `estate {name}` |" in text, name


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_takes_json_and_quiet(name: str) -> None:
    assert {"--json", "--quiet"} <= _options(name), name


@pytest.mark.parametrize("name", sorted(WRITES_TO_A_FOLDER | WRITES_TO_A_FILE | {"plan"}))
def test_every_command_that_writes_takes_o_and_out(name: str) -> None:
    assert {"-o", "--out"} <= _options(name), name


@pytest.mark.parametrize("name", sorted(SOLVES))
def test_every_command_that_solves_takes_time_limit_and_gap(name: str) -> None:
    assert {"--time-limit", "--gap"} <= _options(name), name


def test_outputs_go_beside_the_scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scenarios.api import default_out

    place = tmp_path / "place"
    result = CliRunner().invoke(main, ["init", str(place), "--demo", "--json"])
    assert result.exit_code == 0, result.output
    written = json.loads(result.output)["files"]
    assert str(place / "scenario.yaml") in written
    assert default_out(place / "scenario.yaml") == place / "runs" / "place"
    assert default_out(place / "scenario.yaml", "plan-") == place / "runs" / "plan-place"
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.chdir(other)
    args = ["run", str(place / "scenario.yaml"), "--no-sharing-value", "--quiet"]
    result = CliRunner().invoke(main, [*args, "--time-limit", "30", "--gap", "0.01"])
    assert result.exit_code == 0, result.output
    assert list(other.iterdir()) == [], "wrote into the current folder"
    summary = json.loads((place / "runs" / "place" / "summary.json").read_text())
    assert summary["settings"]["solver"]["time_limit_seconds"] == 30
    assert summary["settings"]["solver"]["mip_rel_gap"] == 0.01
    # A run folder's own scenario.yaml: the rerun goes beside the run folder.
    run = place / "runs" / "place"
    assert default_out(run / "scenario.yaml") == place / "runs" / "place-rerun"
    assert default_out(run / "scenario.yaml", "sweep-") == place / "runs" / "sweep-place"


def test_map_and_report_write_elsewhere_with_out(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = CliRunner().invoke(main, ["demo", "-o", str(run), "--quiet"])
    assert result.exit_code == 0, result.output
    before = {p.name: p.stat().st_mtime_ns for p in run.iterdir()}
    out = json.loads(
        CliRunner().invoke(main, ["map", str(run), "-o", str(tmp_path / "m.html"), "--json"]).output
    )
    assert out["files"] == [str(tmp_path / "m.html")]
    result = CliRunner().invoke(main, ["report", str(run), "--out", str(tmp_path / "r"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["report.html", "report.xlsx"]
    assert {p.name: p.stat().st_mtime_ns for p in run.iterdir()} == before


def test_mapping_prints_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("b.csv").write_text("Property Name,UPRN\nTown Hall,1\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["mapping", "b.csv", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"files": ["b.mapping.yaml"]}
    assert CliRunner().invoke(main, ["mapping", "b.csv", "--quiet", "--force"]).output == ""


@pytest.fixture
def busy_dashboard_port() -> Iterator[None]:
    """Port 8787 (Dask's dashboard) held, as another user's cluster would hold it."""
    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", 8787))
        holder.listen()
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
    try:
        yield
    finally:
        holder.close()


def test_a_sweep_prints_no_library_warning(busy_dashboard_port: None, tmp_path: Path) -> None:
    """Dask printed "UserWarning: Port 8787 is already in use" on the terminal when
    another cluster held it.  Run as a user runs it: a process with a terminal's stderr."""
    place = tmp_path / "place"
    assert CliRunner().invoke(main, ["init", str(place), "--demo"]).exit_code == 0
    command = [sys.executable, "-m", "cli", "sweep", str(place / "scenario.yaml")]
    command += ["--set", "policy.sharing=shared", "--workers", "1", "--time-limit", "60"]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "8787" not in result.stderr, result.stderr
    assert (place / "runs" / "sweep-place" / "results.csv").is_file()
