"""The import graph keeps its shape: layers point down and apps form no cycle.

Layers, lowest first (docs/architecture.md, "Layers"):

    core < audit < accounts, catalog, notifications < access, identity, downloads < api < project

A module of an app's *domain* (models, services, selectors, rules, tasks…) may import its own
app, any app in a lower layer, and an app of its own layer as long as the apps' graph stays
free of cycles. The *interface* modules (views, URLconfs, admin, forms, management commands,
template tags, middleware) sit on top of every app: they may import any app's domain, but
never another app's views or URLconfs. The project modules (settings, root URLconf, Celery,
WSGI, the error middleware) are above everything; nothing but the project imports them.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "accessgate"

LAYERS = {
    "core": 0,
    "audit": 1,
    "accounts": 2,
    "catalog": 2,
    "notifications": 2,
    "access": 3,
    "identity": 3,
    "downloads": 3,
    "training": 3,
    "api": 4,
    "publishing": 4,
    "project": 5,
}
PROJECT_MODULES = {
    "settings",
    "urls",
    "wsgi",
    "celery",
    "middleware",
    "__init__",
    # request guards, logging, health endpoints, gunicorn's access logger
    "http_guards",
    "logs",
    "health",
    "gunicorn_logger",
    # pieces of the settings: the beat schedule, the API's and logging's settings
    "beat",
    "api_settings",
    "logging_config",
}
# The last part of a module's path that makes it an interface module.
INTERFACE = {
    "views",
    "urls",  # a URLconf module, or any module of a `urls/` package
    "admin",
    "admin_site",
    "admin_config",
    "forms",
    "commands",
    "templatetags",
    "middleware",
    "context_processors",
}
FORBIDDEN_ACROSS_APPS = {"views", "urls"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every `accessgate.*` module this file imports, at any depth (function-local too)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # `from x import y` may name a submodule y; count both.
            names = [prefix] + [f"{prefix}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name for name in names if name.startswith("accessgate"))
    return found


def _component(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in PROJECT_MODULES and len(parts) == 2:
        return "project"
    return parts[1]


def _is_interface(module: str) -> bool:
    return bool(INTERFACE & set(module.split(".")[2:]))


def _sources():
    return [p for p in sorted(PACKAGE.rglob("*.py")) if "migrations" not in p.parts]


def _edges():
    """(importer module, imported module) pairs between different components."""
    known = {_module_name(p) for p in _sources()}
    for path in _sources():
        importer = _module_name(path)
        for imported in _imports(path):
            if imported not in known:
                continue  # a name imported from a module, not a module
            if _component(imported) != _component(importer):
                yield importer, imported


def test_every_component_has_a_layer():
    components = {_component(_module_name(p)) for p in _sources()}
    assert components <= set(LAYERS), f"Give these a layer in tests/test_layers.py: {components - set(LAYERS)}"


def test_imports_point_down():
    wrong = []
    for importer, imported in _edges():
        source, target = _component(importer), _component(imported)
        if _is_interface(importer) and source != "project":
            if target == "project":
                wrong.append(f"{importer} imports the project module {imported}")
            elif _is_interface(imported) and FORBIDDEN_ACROSS_APPS & set(imported.split(".")[2:]):
                wrong.append(f"{importer} imports another app's views or URLs: {imported}")
            continue
        if LAYERS[target] > LAYERS[source] or (_is_interface(imported) and target != "project"):
            wrong.append(f"{importer} ({source}) imports {imported} ({target}), which is above it")
    assert not wrong, "Imports pointing up the layers:\n" + "\n".join(sorted(wrong))


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_apps_form_no_cycle():
    graph: dict[str, set[str]] = {}
    for importer, imported in _edges():
        if not _is_interface(importer) and _component(importer) != "project":
            graph.setdefault(_component(importer), set()).add(_component(imported))
    cycle = _cycle(graph)
    assert cycle is None, "The apps import each other in a cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize(
    "graph, cycle",
    [
        ({"a": {"b"}, "b": {"a"}}, ["a", "b", "a"]),
        ({"a": {"b"}, "b": {"c"}}, None),
    ],
)
def test_the_cycle_finder_finds_cycles(graph, cycle):
    assert _cycle(graph) == cycle


def test_a_lower_app_importing_a_higher_one_is_caught(monkeypatch):
    # The rule itself, on a made-up edge: audit's services importing access's services.
    monkeypatch.setattr(
        "tests.test_layers._edges", lambda: iter([("accessgate.audit.services", "accessgate.access.services")])
    )
    with pytest.raises(AssertionError, match="above it"):
        test_imports_point_down()


# --- no two modules import each other ------------------------------------------------------


def _imported_modules(path: Path, known: set[str]) -> set[str]:
    """The `accessgate` modules this file imports, at any depth (function-local too).

    Relative imports are resolved; `from pkg import name` is an import of `pkg.name` when that
    is a module, and of `pkg` otherwise."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            for alias in node.names:
                found.add(f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in known else prefix)
    return {name for name in found if name in known and name != module}


def _mutual_imports(imports: dict[str, set[str]]) -> set[frozenset[str]]:
    return {frozenset((a, b)) for a, targets in imports.items() for b in targets if a in imports.get(b, ())}


def test_no_two_modules_import_each_other():
    known = {_module_name(p) for p in _sources()}
    imports = {_module_name(p): _imported_modules(p, known) for p in _sources()}
    pairs = _mutual_imports(imports)
    assert not pairs, "These modules import each other:\n" + "\n".join(
        " <-> ".join(sorted(pair)) for pair in sorted(pairs, key=sorted)
    )


def test_mutual_imports_are_found_through_relative_and_function_level_imports(tmp_path, monkeypatch):
    package = tmp_path / "accessgate" / "app"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "one.py").write_text("from . import two\n")
    (package / "two.py").write_text("def f():\n    from .one import thing\n")
    (package / "three.py").write_text("from accessgate.app import two\n")
    monkeypatch.setattr("tests.test_layers.ROOT", tmp_path)
    names = {"accessgate.app", "accessgate.app.one", "accessgate.app.two", "accessgate.app.three"}
    imports = {_module_name(p): _imported_modules(p, names) for p in sorted(package.glob("*.py"))}
    assert imports["accessgate.app.three"] == {"accessgate.app.two"}
    assert _mutual_imports(imports) == {frozenset({"accessgate.app.one", "accessgate.app.two"})}
