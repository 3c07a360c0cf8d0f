"""The arrows between packages run one way: no cycle, core imports no domain, views import no models.

Read from the source (imports at module level and inside functions alike), so a new wrong-way import fails here.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api.core", "api.citizens", "api.catalog", "api.applications", "api.certificates", "api.policies",
            "api.codes", "api.admin", "auth", "notifications", "miniapp_handlers")
DOMAINS = tuple(p for p in PACKAGES if p != "api.core")
# The composition root: builds the app and the worker from every package; no package may import it.
ROOT_MODULES = ("server", "worker", "bootstrap", "api.cli", "api.demo")


def _package(module: str) -> str | None:
    for name in sorted(PACKAGES, key=len, reverse=True):
        if module == name or module.startswith(name + "."):
            return name
    return None


def _sources():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in ("tests", "migrations", "bench", "console", "node_modules") or rel.parts[0].startswith("."):
            continue
        module = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        yield module, path


def _imports(tree: ast.AST):
    """(imported module names, line, inside a function) for every import statement."""
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside.update(id(n) for n in ast.walk(node) if n is not node)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield [a.name for a in node.names], node.lineno, id(node) in inside
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield [node.module] + [f"{node.module}.{a.name}" for a in node.names], node.lineno, id(node) in inside


def _above(lines: list[str], line: int) -> str:
    """The first line above `line` that is not itself an import (a comment may head a block of imports)."""
    at = line - 2
    while at >= 0 and lines[at].strip().startswith(("import ", "from ")):
        at -= 1
    return lines[at] if at >= 0 else ""


def _graph() -> tuple[dict[str, set[str]], dict[tuple[str, str], list[str]], list[tuple[str, list[str], int, str]]]:
    edges: dict[str, set[str]] = defaultdict(set)
    where: dict[tuple[str, str], list[str]] = defaultdict(list)
    records = []
    for module, path in _sources():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for names, line, in_function in _imports(ast.parse(source)):
            records.append((module, names, line, _above(lines, line), lines[line - 1], in_function, path))
            src = _package(module)
            for name in names:
                dst = _package(name)
                if src and dst and dst != src:
                    edges[src].add(dst)
                    if f"{path.relative_to(ROOT)}:{line}" not in where[(src, dst)]:
                        where[(src, dst)].append(f"{path.relative_to(ROOT)}:{line}")
    return edges, where, records


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one package (Tarjan)."""
    index, low, stack, on_stack, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for package in PACKAGES:
        if package not in index:
            visit(package)
    return out


def test_no_cycle_between_packages():
    edges, where, _ = _graph()
    cycles = _cycles(edges)
    detail = [f"{a} -> {b}: {where[(a, b)][:3]}" for c in cycles for a in c for b in edges[a] if b in c]
    assert cycles == [], "\n".join(detail)


def test_core_imports_no_domain():
    edges, where, _ = _graph()
    wrong = {d: where[("api.core", d)] for d in edges.get("api.core", ()) if d in DOMAINS}
    assert wrong == {}


def test_no_package_imports_the_composition_root():
    _, _, records = _graph()
    wrong = [f"{path.relative_to(ROOT)}:{line}" for module, names, line, *_, path in records
             if _package(module) and any(n in ROOT_MODULES or n.startswith(tuple(m + "." for m in ROOT_MODULES))
                                         for n in names)]
    assert wrong == []


def test_views_import_no_models():
    _, _, records = _graph()
    wrong = [f"{path.relative_to(ROOT)}:{line}" for module, names, line, *_, path in records
             if module.rsplit(".", 1)[-1].endswith("views") and any(n.rsplit(".", 1)[-1] == "models"
                                                                    or ".models." in n + "." for n in names)]
    assert wrong == []


def test_imports_inside_functions_say_why():
    # Allowed only for start-up cost (or an optional dependency), with a comment on the line or just above it.
    _, _, records = _graph()
    silent = [f"{path.relative_to(ROOT)}:{line}" for module, names, line, above, text, in_function, path in records
              if in_function and "#" not in text and not above.strip().startswith("#")]
    assert silent == []


def test_the_checks_see_a_wrong_way_import(tmp_path):
    # The graph is read from the source: a core module importing a domain makes a cycle the check reports.
    edges = {"api.core": {"auth"}, "auth": {"api.core"}}
    assert _cycles(edges) == [["api.core", "auth"]]
