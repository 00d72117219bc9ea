"""YAML read safely: plain data only, bounded in size, every error with its line.

``yaml.safe_load`` already refuses to build Python objects from tags, but it still
lets a small file grow without bound (an alias bomb: ten lines of anchors and
aliases stand for millions of values once expanded, and every walk over the data
expands them), recurse until Python gives up (deep nesting, or an alias inside its
own anchor), or hand back types no setting takes (``!!binary``, ``!!set``, ...).
:func:`load` checks the parsed document before anything walks it:

- at most :data:`MAX_BYTES` of text and :data:`MAX_DEPTH` levels of nesting;
- aliases are expanded as they would be, and the document may hold at most
  :data:`MAX_VALUES` values once expanded; an alias inside its own anchor is refused;
- only the plain tags (text, numbers, booleans, null, dates, lists, mappings and
  ``<<`` merge keys) are allowed, written or implied;
- numbers with an exponent are numbers (``1e9``, ``2.5E-3``), as in YAML 1.2 and JSON,
  not the text that YAML 1.1 makes of them.

Every problem raises :class:`UnsafeYamlError` (a :class:`yaml.YAMLError`) with the
line it is on; :class:`NotYamlError`, its subclass, when the text is not YAML at all.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

MAX_BYTES = 1_000_000
MAX_VALUES = 100_000
MAX_DEPTH = 64
_CORE = "tag:yaml.org,2002:"
ALLOWED_TAGS = {
    f"{_CORE}{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq", "merge")
}
# YAML 1.2 / JSON numbers with an exponent and no dot (YAML 1.1 reads them as text).
EXPONENT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")


class UnsafeYamlError(yaml.YAMLError):
    """A YAML document that cannot be read as plain, bounded data (``line`` is 1-based)."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        self.problem = problem
        self.line = line
        super().__init__(f"line {line}: {problem}" if line is not None else problem)


class NotYamlError(UnsafeYamlError):
    """Text that is not valid YAML at all (as opposed to valid YAML that is refused)."""


class Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that reads numbers with an exponent as numbers."""


# Copied, not shared: adding a resolver must not change yaml.SafeLoader itself.
Loader.yaml_implicit_resolvers = {
    key: list(value) for key, value in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


Loader.add_implicit_resolver(f"{_CORE}float", EXPONENT, list("-+0123456789."))


def _line(node_or_error: Any) -> int | None:
    mark = getattr(node_or_error, "start_mark", None) or getattr(
        node_or_error, "problem_mark", None
    )
    mark = mark or getattr(node_or_error, "context_mark", None)
    return None if mark is None else int(mark.line) + 1


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def check_document(root: yaml.Node) -> int:
    """Raise :class:`UnsafeYamlError` unless ``root`` is plain, bounded data; return how
    many values it holds with its aliases expanded."""
    size: dict[int, int] = {}  # node id -> values below it, aliases expanded
    open_nodes: set[int] = set()

    def visit(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in size:
            return size[key]
        if key in open_nodes:
            raise UnsafeYamlError("an alias refers to the value that holds it", _line(node))
        if depth > MAX_DEPTH:
            raise UnsafeYamlError(f"nested more than {MAX_DEPTH} levels deep", _line(node))
        if node.tag not in ALLOWED_TAGS:
            raise UnsafeYamlError(
                f"the tag {node.tag.replace(_CORE, '!!')} is not allowed (plain text, numbers, "
                "true/false, null, dates, lists and mappings only)",
                _line(node),
            )
        open_nodes.add(key)
        total = 1
        for child in _children(node):
            total += visit(child, depth + 1)
            if total > MAX_VALUES:
                raise UnsafeYamlError(
                    f"more than {MAX_VALUES:,} values once its aliases (*name) are expanded",
                    _line(node),
                )
        open_nodes.discard(key)
        size[key] = total
        return total

    return visit(root, 0)


def compose(text: str) -> yaml.Node | None:
    """The checked node tree of ``text`` (None for an empty document)."""
    if len(text) > MAX_BYTES:
        raise UnsafeYamlError(f"longer than {MAX_BYTES:,} characters")
    try:
        root = yaml.compose(text, Loader=Loader)
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or exc.context or "not valid YAML"
        raise NotYamlError(problem, _line(exc)) from None
    except yaml.YAMLError as exc:
        raise NotYamlError(str(exc)) from None
    except RecursionError:
        raise UnsafeYamlError(f"nested more than {MAX_DEPTH} levels deep") from None
    if root is not None:
        check_document(root)
    return root


def load(text: str) -> Any:
    """The data of a YAML document, read as described in the module notes."""
    if compose(text) is None:
        return None
    try:
        return yaml.load(text, Loader=Loader)  # a SafeLoader, on a document checked above
    except yaml.MarkedYAMLError as exc:  # e.g. a list as a mapping key
        problem = exc.problem or exc.context or "not valid YAML"
        raise NotYamlError(problem, _line(exc)) from None
    except yaml.YAMLError as exc:
        raise NotYamlError(str(exc)) from None
    except ValueError as exc:  # a date that does not exist, a number of 5,000 digits
        problem = (
            "a number with more digits than Python reads (4,300)"
            if "integer string conversion" in str(exc)
            else f"a value that cannot be read ({exc})"
        )
        raise NotYamlError(problem) from None
