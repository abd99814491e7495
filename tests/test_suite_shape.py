"""Every test states what it expects: an `assert`, a `pytest.raises`, or a query count."""

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
        if isinstance(node, ast.Name) and node.id in EXPECTATIONS:
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
