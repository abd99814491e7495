"""Every test states what it expects: an `assert`, a `pytest.raises`, a query count, or a call
of an `assert_…` helper (which asserts itself)."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
EXPECTATIONS = {"raises", "django_assert_num_queries", "django_assert_max_num_queries"}


def _states_an_expectation(function: ast.FunctionDef) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Attribute) and node.attr in EXPECTATIONS:
            return True
        if isinstance(node, ast.Name) and (node.id in EXPECTATIONS or node.id.startswith("assert_")):
            return True
    return False


def test_no_test_without_an_assertion():
    silent = [
        f"{path.relative_to(TESTS)}:{node.lineno} {node.name}"
        for path in sorted(TESTS.rglob("test_*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_") and not _states_an_expectation(node)
    ]
    assert not silent, "These tests assert nothing:\n" + "\n".join(silent)


def _imports_of(path: Path) -> set[str]:
    package = ["tests", *path.parent.relative_to(TESTS).parts]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found.update([module] + [f"{module}.{alias.name}" for alias in node.names])
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_test_module_imports_a_test_module_or_a_conftest():
    # Shared helpers live in tests/support/; fixtures reach tests through conftest.py alone.
    wrong = []
    for path in sorted(TESTS.rglob("*.py")):
        for module in _imports_of(path):
            last = module.rsplit(".", 1)[-1]
            if module.startswith("tests.") and (last == "conftest" or last.startswith("test_")):
                wrong.append(f"{path.relative_to(TESTS)} imports {module}")
    assert not wrong, "\n".join(wrong)
