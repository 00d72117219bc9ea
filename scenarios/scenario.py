"""Scenario files: YAML in, validated, every error naming its key and line.

:func:`load_scenario` reads a file with :func:`estate.safeyaml.load` (``yaml.safe_load``
with limits on size, nesting, aliases and tags), checks it against
:class:`scenarios.schema.Scenario` and checks that every input file it names exists.
The line of every key is taken from the YAML parser's node tree, so an error can say
``line 12, finance.discount_rate: ...``.  Problems raise :class:`ScenarioError`
(exit code 2 on the command line) before anything is computed or written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from estate import safeyaml
from estate.errors import SettingsError
from optimise.settings import PhasingSettings, SpaceSettings
from scenarios.schema import Scenario

Key = tuple[str | int, ...]


@dataclass(frozen=True)
class ScenarioIssue:
    """One problem with one key of a scenario (``line`` is 1-based, or None)."""

    key: str
    message: str
    line: int | None = None
    origin: str = ""  # "--set KEY=VALUE" when the value came from the command line

    def __str__(self) -> str:
        where = self.origin or (f"line {self.line}" if self.line is not None else "")
        key = f"{self.key}: " if self.key else ""
        return f"{where}, {key}{self.message}" if where else f"{key}{self.message}"


class ScenarioError(SettingsError):
    """A scenario that cannot be used: bad YAML, unknown keys, values out of range,
    missing input files.  Names the file, and each key with its line."""

    exit_code = 2

    def __init__(self, source: str | Path, issues: Iterable[ScenarioIssue]) -> None:
        self.source = str(source)
        self.issues = list(issues)
        lines = "\n".join(f"  - {issue}" for issue in self.issues)
        super().__init__(f"{self.source}: the scenario cannot be used:\n{lines}")


def dotted(key: Key) -> str:
    """``('access', 'gp', 'max_minutes')`` -> ``access.gp.max_minutes``; indices as [i]."""
    out = ""
    for part in key:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def key_of(text: str) -> Key:
    """``inputs.buildings[1]`` -> ``('inputs', 'buildings', 1)``."""
    out: list[str | int] = []
    for part in text.split("."):
        name, _, index = part.partition("[")
        out.append(name)
        if index:
            out.append(int(index.rstrip("]")))
    return tuple(out)


def parse_key(text: str) -> tuple[str, ...]:
    parts = tuple(text.split("."))
    if not text or any(p == "" for p in parts):
        raise ValueError(f"{text!r} is not a dotted key such as finance.discount_rate")
    return parts


# --- YAML with line numbers ------------------------------------------------------------


def key_lines(text: str, source: str) -> dict[Key, int]:
    """The 1-based line of every key (and list item) in a YAML document, checked first
    to be plain, bounded data (:func:`estate.safeyaml.compose`)."""
    try:
        root = safeyaml.compose(text)
    except safeyaml.UnsafeYamlError as exc:
        raise ScenarioError(source, [_yaml_issue(exc)]) from None
    lines: dict[Key, int] = {}
    issues: list[ScenarioIssue] = []
    if root is not None:
        _walk(root, (), lines, issues)
    if issues:
        raise ScenarioError(source, issues)
    return lines


def _yaml_issue(exc: safeyaml.UnsafeYamlError) -> ScenarioIssue:
    what = "YAML syntax" if isinstance(exc, safeyaml.NotYamlError) else "YAML refused"
    return ScenarioIssue("", f"{what}: {exc.problem}", exc.line)


def _walk(node: yaml.Node, path: Key, lines: dict[Key, int], issues: list[ScenarioIssue]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key: Key = (*path, str(key_node.value))
            line = key_node.start_mark.line + 1
            if key in lines:
                issues.append(
                    ScenarioIssue(dotted(key), f"appears twice (also on line {lines[key]})", line)
                )
            lines[key] = line
            _walk(value_node, key, lines, issues)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            _walk(item, (*path, i), lines, issues)


def line_of(key: Key, lines: Mapping[Key, int]) -> int | None:
    """The line of ``key``, or of its nearest parent that the file has."""
    for n in range(len(key), 0, -1):
        if key[:n] in lines:
            return lines[key[:n]]
    return None


# --- overrides ---------------------------------------------------------------------------


def parse_value(text: str) -> Any:
    """A ``--set`` value as YAML would read it: ``0.03`` or ``1e9`` a number, ``shared``
    text, ``null`` nothing, ``[a, b]`` a list; text that is not YAML is taken as text.

    Raises ``ValueError`` for a value YAML reads but that is not plain, bounded data
    (an alias bomb, a tag such as ``!!python/object``).
    """
    try:
        return safeyaml.load(text)
    except safeyaml.NotYamlError:
        return text
    except safeyaml.UnsafeYamlError as exc:
        raise ValueError(f"YAML: {exc.problem}") from None


def with_override(data: Mapping[str, Any], key: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A deep copy of ``data`` with ``key`` set to ``value`` (parents created)."""
    out: dict[str, Any] = json.loads(json.dumps(data, default=str))
    node = out
    for i, part in enumerate(key[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ValueError(f"{'.'.join(key[: i + 1])} is not a section, so it has no {key[-1]}")
        node = child
    node[key[-1]] = value
    return out


# --- the scenario file -------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioFile:
    """A validated scenario and where it came from.

    ``data`` is the document as read (plus any overrides); ``lines`` the line of each
    key; ``overrides`` the keys set from the command line and their text.
    """

    path: Path
    scenario: Scenario
    data: dict[str, Any]
    lines: dict[Key, int] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, scenario: Scenario, folder: str | Path) -> ScenarioFile:
        """A scenario made in code, its input paths relative to ``folder``."""
        path = (Path(folder) / "scenario.yaml").resolve()
        return _validated(path, scenario.model_dump(mode="json"), {}, {})

    @property
    def folder(self) -> Path:
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        """An input path as the scenario means it: relative to the scenario file."""
        return (self.folder / Path(relative).expanduser()).resolve()

    def input_paths(self) -> dict[str, Path]:
        return {k: self.resolve(v) for k, v in self.scenario.inputs.paths().items()}

    def issue(self, key: Key, message: str) -> ScenarioIssue:
        """An issue about ``key``, placed at its line (or its ``--set``)."""
        name = dotted(key)
        origin = next(
            (
                f"--set {k}={v}"
                for k, v in self.overrides.items()
                if name == k or name.startswith((f"{k}.", f"{k}["))
            ),
            "",
        )
        return ScenarioIssue(name, message, line_of(key, self.lines), origin)

    def error(self, issues: Iterable[ScenarioIssue]) -> ScenarioError:
        return ScenarioError(self.path, issues)

    def with_overrides(self, overrides: Mapping[str, str]) -> ScenarioFile:
        """This scenario with ``{dotted key: value text}`` applied and validated again."""
        data = self.data
        issues = []
        for text_key, text_value in overrides.items():
            try:
                data = with_override(data, parse_key(text_key), parse_value(text_value))
            except ValueError as exc:
                issues.append(ScenarioIssue(text_key, str(exc), None, f"--set {text_key}"))
        if issues:
            raise self.error(issues)
        merged = {**self.overrides, **{k: str(v) for k, v in overrides.items()}}
        return _validated(self.path, data, self.lines, merged)

    def key(self, file_hashes: dict[Path, str] | None = None) -> str:
        """SHA-256 of what determines the results: every setting, and the bytes of
        every input file (not their paths, names or notices).

        ``file_hashes`` caches each file's hash across calls (a sweep hashes the same
        inputs for every point).
        """
        cache = {} if file_hashes is None else file_hashes
        paths = self.input_paths()
        for path in paths.values():
            if path not in cache:
                cache[path] = _file_sha256(path)
        settings = self.scenario.model_dump(mode="json", exclude={"name", "notice", "inputs"})
        if self.scenario.phasing == PhasingSettings():
            del settings["phasing"]  # as before phasing existed: earlier sweeps still resume
        if self.scenario.space == SpaceSettings():
            del settings["space"]  # likewise before space types could be overridden
        files = {k: cache[p] for k, p in sorted(paths.items())}
        text = json.dumps({"settings": settings, "files": files}, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_scenario(path: str | Path, overrides: Mapping[str, str] | None = None) -> ScenarioFile:
    """Read, validate and check a scenario file; raise :class:`ScenarioError` if unusable."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ScenarioError(path, [ScenarioIssue("", "no such file")]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(path, [ScenarioIssue("", f"cannot be read: {exc}")]) from exc
    lines = key_lines(text, str(path))
    try:
        data = safeyaml.load(text)
    except safeyaml.UnsafeYamlError as exc:
        raise ScenarioError(path, [_yaml_issue(exc)]) from None
    if data is None:
        raise ScenarioError(path, [ScenarioIssue("", "the file is empty")])
    if not isinstance(data, dict):
        raise ScenarioError(path, [ScenarioIssue("", "expected a mapping of keys to values", 1)])
    loaded = _validated(path.resolve(), data, lines, {})
    return loaded.with_overrides(overrides) if overrides else loaded


def _validated(
    path: Path, data: dict[str, Any], lines: dict[Key, int], overrides: dict[str, str]
) -> ScenarioFile:
    draft = ScenarioFile(path, Scenario.model_construct(), data, lines, overrides)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise draft.error(_issues(draft, exc)) from exc
    loaded = ScenarioFile(path, scenario, data, lines, overrides)
    missing = [
        loaded.issue(key_of(f"inputs.{name}"), f"no such file: {p}")
        for name, p in loaded.input_paths().items()
        if not p.is_file()
    ]
    if missing:
        raise loaded.error(missing)
    return loaded


def _issues(draft: ScenarioFile, exc: ValidationError) -> list[ScenarioIssue]:
    out = []
    for err in exc.errors(include_url=False):
        key: Key = tuple(err["loc"])
        kind = err["type"]
        if kind == "extra_forbidden":
            message = "unknown key"
        elif kind == "missing":
            message = "required key is missing"
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
            value = err.get("input")
            if not isinstance(value, dict | list):
                message += f" (value {value!r})"
        out.append(draft.issue(key, message))
    return out
