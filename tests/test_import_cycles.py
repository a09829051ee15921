"""The package's import graph has no cycles, counting imports made inside functions too.

A cycle hidden behind a function-level import is still a cycle: the two modules cannot be read,
tested or moved apart. Fix a new one by moving what both need into a leaf module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import voicebot

ROOT = Path(voicebot.__file__).parent


def _modules() -> dict[str, Path]:
    mods = {}
    for f in ROOT.rglob("*.py"):
        parts = list(f.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = f
    return mods


def _targets(mods: dict[str, Path], cur: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The package's modules one import statement depends on."""
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = cur.split(".")
            keep = len(base) - node.level + (1 if mods[cur].name == "__init__.py" else 0)
            name = ".".join(base[:keep] + ([node.module] if node.module else []))
        else:
            name = node.module or ""
        submodules = [f"{name}.{a.name}" for a in node.names if f"{name}.{a.name}" in mods]
        candidates = submodules or [name]  # `from pkg import submodule` depends on the submodule
    else:
        candidates = [a.name for a in node.names]
    out = set()
    for c in candidates:
        while c and c not in mods:
            c = c.rpartition(".")[0]
        if c.startswith("voicebot"):
            out.add(c)
    return out


def import_graph() -> dict[str, set[str]]:
    mods = _modules()
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for m, f in mods.items():
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges[m] |= _targets(mods, m, node) - {m}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == v:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_package_has_no_import_cycles():
    assert cycles(import_graph()) == []


def test_the_check_sees_a_cycle_hidden_in_a_function():
    edges = import_graph()
    assert "voicebot.store.transactions" in edges["voicebot.store.migrations"]
    edges["voicebot.store.transactions"] = edges["voicebot.store.transactions"] | {"voicebot.store.db"}
    assert cycles(edges) == [["voicebot.store.db", "voicebot.store.migrations", "voicebot.store.transactions"]]


def test_a_function_level_import_is_an_edge(tmp_path):
    source = "def f():\n    from voicebot.store.db import open_db\n"
    node = ast.parse(source).body[0].body[0]
    assert _targets(_modules(), "voicebot.config", node) == {"voicebot.store.db"}


# Being rewritten for the village of shops (issue 21): checked once that work has landed.
UNCHECKED = ("channels/web/routes.py",)


def function_level_imports() -> list[tuple[str, int, str]]:
    """(file, line, why) of every import made below module level; ``why`` is its comment, on the same line
    or the one above ("" when there is none)."""
    out = []
    for f in sorted(ROOT.rglob("*.py")):
        lines = f.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and node.col_offset > 0:
                line, above = lines[node.lineno - 1], lines[node.lineno - 2].strip()
                why = line.partition("#")[2] or (above[1:] if above.startswith("#") else "")
                out.append((f.relative_to(ROOT).as_posix(), node.lineno, why.strip()))
    return out


def test_a_function_level_import_says_which_slow_or_optional_dependency_it_waits_for():
    bare = [f"{f}:{line}" for f, line, why in function_level_imports() if not why and not f.startswith(UNCHECKED)]
    assert bare == [], "import these at module top, or say which slow or optional dependency they wait for"


def test_the_check_sees_a_bare_function_level_import(tmp_path, monkeypatch):
    (tmp_path / "voicebot").mkdir()
    (tmp_path / "voicebot" / "m.py").write_text(
        "def f():\n    import json\n\n\ndef g():\n    import numpy  # the optional `kokoro` extra\n", encoding="utf-8"
    )
    monkeypatch.setitem(globals(), "ROOT", tmp_path / "voicebot")
    assert function_level_imports() == [("m.py", 2, ""), ("m.py", 6, "the optional `kokoro` extra")]
