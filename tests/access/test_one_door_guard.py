"""The guard of the one door: only `access/services/door.py` makes a grant usable.

An AST scan of every module under accessgate/ (migrations aside) for the moves that make a
grant usable: creating a grant (its default status is active), moving one to active with the
transition table, `.update(status=…active)`, assigning `status = GrantStatus.ACTIVE`, and
changing a grant's `expires_at` (an extension). The scanner itself is tested on planted code.
"""

import ast
from pathlib import Path

import accessgate

ROOT = Path(accessgate.__file__).parent
DOOR = ROOT / "access" / "services" / "door.py"


def _is_active(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute) and node.attr == "ACTIVE":
        return isinstance(node.value, ast.Name) and node.value.id == "GrantStatus"
    return isinstance(node, ast.Constant) and node.value == "active"


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def violations(source: str, filename: str = "<planted>") -> list[str]:
    """Each line of `source` that makes a grant usable, as "file:line what"."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name in {"Grant", "Grant.objects.create", "Grant.objects.bulk_create", "Grant.objects.get_or_create"}:
                found.append(f"{where} creates a grant ({name})")
            if name.endswith("GRANT_TRANSITIONS.move") and len(node.args) >= 2 and _is_active(node.args[1]):
                found.append(f"{where} moves a grant to active")
            updating = isinstance(node.func, ast.Attribute) and node.func.attr == "update"
            if updating and any(k.arg == "status" and _is_active(k.value) for k in node.keywords):
                found.append(f"{where} updates a status to active")
            if name == "setattr" and len(node.args) == 3 and _is_active(node.args[2]):
                found.append(f"{where} sets a status to active")
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if not isinstance(target, ast.Attribute):
                    continue
                if target.attr == "status" and _is_active(node.value):
                    found.append(f"{where} assigns status = active")
                if target.attr == "expires_at" and "grant" in _dotted(target.value).lower():
                    found.append(f"{where} changes a grant's expiry")
    return sorted(found, key=lambda line: int(line.split(" ", 1)[0].rsplit(":", 1)[1]))


def test_only_the_door_makes_a_grant_usable():
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts or path == DOOR:
            continue
        found += violations(path.read_text(), str(path.relative_to(ROOT)))
    assert found == [], "Only access/services/door.py may make a grant usable:\n" + "\n".join(found)


def test_the_door_itself_is_seen_by_the_scanner():
    # The scan is not blind: the door's own moves are found when it is scanned.
    found = violations(DOOR.read_text(), "door.py")
    assert any("creates a grant" in line for line in found)
    assert any("moves a grant to active" in line for line in found)
    assert any("changes a grant's expiry" in line for line in found)


PLANTED = """
from accessgate.access.models import GRANT_TRANSITIONS, Grant, GrantStatus

def sneaky(user, model, request, grant, now):
    Grant.objects.create(user=user, model=model, request=request, expires_at=now)
    Grant(user=user, model=model)
    GRANT_TRANSITIONS.move(grant, GrantStatus.ACTIVE)
    Grant.objects.filter(pk=grant.pk).update(status=GrantStatus.ACTIVE)
    Grant.objects.filter(pk=grant.pk).update(status="active")
    grant.status = GrantStatus.ACTIVE
    setattr(grant, "status", "active")
    grant.expires_at = now
    GRANT_TRANSITIONS.move(grant, GrantStatus.REVOKED)  # ending a grant is not guarded
    grant.status = GrantStatus.SUSPENDED
"""


def test_every_planted_violation_is_found():
    found = violations(PLANTED)
    assert [line.split(" ", 1)[1] for line in found] == [
        "creates a grant (Grant.objects.create)",
        "creates a grant (Grant)",
        "moves a grant to active",
        "updates a status to active",
        "updates a status to active",
        "assigns status = active",
        "sets a status to active",
        "changes a grant's expiry",
    ]
