"""No import cycle between the modules and subpackages of simulator/.

The layers contract in pyproject.toml forbids cycles among the modules it names;
this test also covers modules added later and not yet placed in a layer. Imports
inside functions count: a lazy import is still a dependency.
"""

import sys

import grimp


def package_cycles(package: str) -> list[list[str]]:
    """Cycles among the direct children of ``package`` (strongly connected, size > 1)."""
    graph = grimp.build_graph(package, cache_dir=None)
    depth = package.count(".") + 2

    def child(m: str) -> str:
        return ".".join(m.split(".")[:depth])

    edges: dict[str, set[str]] = {}
    for m in graph.modules:
        if not m.startswith(package + "."):
            continue
        for imported in graph.find_modules_directly_imported_by(m):
            if imported.startswith(package + ".") and child(imported) != child(m):
                edges.setdefault(child(m), set()).add(child(imported))
    # Tarjan's strongly connected components.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_simulator_has_no_import_cycle():
    assert package_cycles("simulator") == []


def test_a_cycle_through_a_function_level_import_is_found(tmp_path, monkeypatch):
    pkg = tmp_path / "cyclepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "low.py").write_text("def f():\n    from cyclepkg import high\n    return high\n")
    (pkg / "high.py").write_text("from cyclepkg import low\n")
    (pkg / "alone.py").write_text("import os\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert package_cycles("cyclepkg") == [["cyclepkg.high", "cyclepkg.low"]]
    finally:
        for name in [m for m in sys.modules if m.split(".")[0] == "cyclepkg"]:
            del sys.modules[name]
