"""The layout holds: no import cycles, scenarios/ imports one way, cli.py stays thin.

The import graph is read from the source with :mod:`ast` (nothing is imported): every
``import`` counts, inside functions too (a function-level import that closes a cycle
is still a cycle, only a later one), except under ``if TYPE_CHECKING:`` (never run).
Importing ``a.b.c`` runs ``a/__init__.py`` and ``a/b/__init__.py`` first, so those
packages count as imported too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("estate", "geodata", "optimise", "scenarios")

# scenarios/ bottom to top: a module may import scenarios modules of its own
# sub-package and of sub-packages in lower layers only.  The top-level modules
# (``__init__``, ``api``, ``display``) are the front doors over all of them.
SCENARIO_LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"places"}),  # generated places: register, zones, network
    frozenset({"scenario"}),  # what a run is given: scenario file, schema, inputs, template
    frozenset({"outputs"}),  # the run folder written and read back; maps, reports, GIS
    frozenset({"running"}),  # one run end to end (and its preflight)
    frozenset({"sweeps"}),  # many runs, in parallel; comparisons
    frozenset({"sharing", "planning"}),  # built on sweeps: who pays; when; price of keeping
)

# cli.py parses options and prints; the work is done in the packages.
CLI_HEAVY = {
    "folium",
    "geopandas",
    "highspy",
    "networkx",
    "numpy",
    "openpyxl",
    "osmnx",
    "pandas",
    "pulp",
    "pyogrio",
    "pyproj",
    "scipy",
    "shapely",
}
# What cli.py may import at module level (by top-level name; of our own: errors only).
CLI_TOP_LEVEL = {"__future__", "collections", "functools", "json", "math", "sys", "typing"}
CLI_TOP_LEVEL |= {"click", "rich"}
CLI_OWN_TOP_LEVEL = {"estate.errors"}
CLI_MAX_FUNCTION_LINES = 60


def module_files(root: Path) -> dict[str, Path]:
    """Every module of the project's packages and ``cli.py``, by dotted name."""
    out: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    if (root / "cli.py").exists():
        out["cli"] = root / "cli.py"
    return out


def _type_checking_only(tree: ast.Module) -> set[int]:
    """The ids of the nodes in the bodies of ``if TYPE_CHECKING:`` blocks."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", "")
            if name == "TYPE_CHECKING":
                skip |= {id(inner) for stmt in node.body for inner in ast.walk(stmt)}
    return skip


def imported_names(module: str, path: Path) -> Iterator[str]:
    """Every dotted name ``module`` imports (absolute), TYPE_CHECKING blocks skipped."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skip = _type_checking_only(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the project's modules it imports (packages whose ``__init__`` runs
    included; a module's own packages, already running when it is imported, left out)."""
    modules = module_files(root)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        for imported in imported_names(name, path):
            # the longest prefix that is a module: `from a.b import f` imports a.b
            target = imported
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if not target:
                continue
            prefixes = target.split(".")
            for i in range(1, len(prefixes) + 1):
                dep = ".".join(prefixes[:i])
                if dep in modules and dep != name and dep not in own:
                    graph[name].add(dep)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Tarjan's algorithm (iterative): the components of more than one module, and
    single modules that import themselves."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph.get(node, ()):
                        found.append(frozenset(component))
    return found


def cycles(root: Path) -> list[frozenset[str]]:
    return strongly_connected(import_graph(root))


def describe(component: frozenset[str]) -> str:
    return " <-> ".join(sorted(component))


def test_no_import_cycles() -> None:
    found = [describe(c) for c in cycles(ROOT)]
    assert not found, "import cycles: " + "; ".join(found)


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_check_finds_a_cycle_closed_inside_a_function(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "estate/__init__.py": "",
            "estate/a.py": "from estate.b import g\n\ndef f():\n    return g()\n",
            "estate/b.py": "def g():\n    from estate import a\n\n    return a\n",
            "geodata/__init__.py": "",
            "geodata/c.py": "from . import d\n",
            "geodata/d.py": "import geodata.c\n",
            "optimise/__init__.py": "",
            "scenarios/__init__.py": "",
            "cli.py": "import estate.a\n",
        },
    )
    assert sorted(map(describe, cycles(root))) == [
        "estate.a <-> estate.b",
        "geodata.c <-> geodata.d",
    ]


def test_the_check_skips_type_checking_blocks_and_counts_package_inits(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "estate/__init__.py": "",
            "estate/a.py": "from typing import TYPE_CHECKING\n\n"
            "if TYPE_CHECKING:\n    from estate.b import B\nelse:\n    pass\n",
            "estate/b.py": "import estate.a\n",
            # geodata/__init__ imports x, which imports optimise.y, which imports
            # geodata.z: importing geodata.z runs geodata/__init__ first.
            "geodata/__init__.py": "from geodata.x import X\n",
            "geodata/x.py": "import optimise.y\nX = 1\n",
            "geodata/z.py": "",
            "optimise/__init__.py": "",
            "optimise/y.py": "from geodata.z import *\n",
            "scenarios/__init__.py": "",
        },
    )
    assert [describe(c) for c in cycles(root)] == ["geodata <-> geodata.x <-> optimise.y"]


def _scenarios_part(module: str) -> str | None:
    """The sub-package of a scenarios module, '' for a top-level one, None outside."""
    parts = module.split(".")
    if parts[0] != "scenarios":
        return None
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and is_package(parts[1])) else ""


def is_package(name: str) -> bool:
    return (ROOT / "scenarios" / name / "__init__.py").exists()


def _rank(part: str) -> int:
    if part == "":
        return len(SCENARIO_LAYERS)
    for rank, layer in enumerate(SCENARIO_LAYERS):
        if part in layer:
            return rank
    raise AssertionError(f"scenarios/{part}/ is in no layer of SCENARIO_LAYERS: add it")


def test_scenarios_sub_packages_import_downwards_only() -> None:
    graph = import_graph(ROOT)
    wrong = []
    for module, deps in sorted(graph.items()):
        part = _scenarios_part(module)
        if part is None:
            continue
        for dep in sorted(deps):
            other = _scenarios_part(dep)
            if other is None or other == part or dep == "scenarios":
                continue
            if _rank(other) >= _rank(part):
                wrong.append(f"{module} imports {dep}")
    assert not wrong, "scenarios/ imports upwards or sideways: " + "; ".join(wrong)


def test_every_scenarios_sub_package_is_in_a_layer() -> None:
    parts = {p.name for p in (ROOT / "scenarios").iterdir() if (p / "__init__.py").exists()}
    assert parts == set().union(*SCENARIO_LAYERS)


def test_nothing_imports_cli() -> None:
    graph = import_graph(ROOT)
    assert [m for m, deps in graph.items() if "cli" in deps] == []


def _cli() -> ast.Module:
    return ast.parse((ROOT / "cli.py").read_text(encoding="utf-8"))


def test_cli_leaves_the_work_to_the_packages() -> None:
    """No table, array, geometry or solver library in cli.py, at any level."""
    heavy = sorted(
        {name for name in imported_names("cli", ROOT / "cli.py") if name.split(".")[0] in CLI_HEAVY}
    )
    assert heavy == []


def test_cli_imports_little_at_module_level() -> None:
    """``estate --help`` stays quick: what a command needs is imported when it runs."""
    top = []
    for node in _cli().body:
        if isinstance(node, ast.Import):
            top += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            top.append(node.module or "")
    extra = [n for n in top if n.split(".")[0] not in CLI_TOP_LEVEL and n not in CLI_OWN_TOP_LEVEL]
    assert extra == []


def test_cli_functions_are_short() -> None:
    """Option parsing and printing fit in a screenful; longer is logic that belongs in a
    package (docstrings and decorators not counted)."""
    long = []
    for node in ast.walk(_cli()):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]
            if body:
                lines = (body[-1].end_lineno or body[-1].lineno) - body[0].lineno + 1
                if lines > CLI_MAX_FUNCTION_LINES:
                    long.append(f"{node.name} (line {node.lineno}): {lines} lines")
    assert long == []
