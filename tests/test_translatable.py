"""User-facing strings in Python go through gettext, so `makemessages` finds them.

An AST walk over accessgate/ (migrations and management commands aside: operators' terminal
output stays English) that lists, file:line, every string a person reads that is still a plain
literal: flash messages, form and model field labels and help texts, choice labels, and the
messages of domain errors, validation errors, 403s and 404s. Also: no f-string inside a gettext
call (the catalogue needs a fixed msgid) and no positional `%s` in a msgid (translators reorder
words; name the placeholders).
"""

import ast
import re
from pathlib import Path

from accessgate.core import errors

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "accessgate"

GETTEXT = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}
LEVELS = {"debug", "info", "success", "warning", "error"}
LABEL_KEYWORDS = {"label", "help_text", "verbose_name", "verbose_name_plural", "empty_label", "description"}
REFUSALS = {cls.__name__ for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, Exception)}
REFUSALS |= {"ValidationError", "PermissionDenied", "Http404"}
# The API's schema (serializer help texts, OpenAPI descriptions) is reference text for
# developers, kept in English like the HF protocol's own phrases under api/hf/.
ENGLISH_ON_PURPOSE = ("accessgate/api/",)
POSITIONAL = re.compile(r"%(?!%|\()[#0 +-]?\d*(?:\.\d+)?[sdioxXeEfFgGcr]")
# A literal "%" that reads like a placeholder is declared so, for xgettext as for this check.
NO_FORMAT = "xgettext:no-python-format"


def _name(func) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _plain(node) -> bool:
    """A literal a person reads (not wrapped in gettext): words, or an f-string or %-format of them."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _plain(node.left)
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and re.search(r"[A-Za-z]{2}", v.value) for v in node.values)
    return (
        isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(re.search(r"[A-Za-z]{2}", node.value))
    )


def _is_choices(cls: ast.ClassDef) -> bool:
    return any(_name(base) in ("TextChoices", "IntegerChoices") for base in cls.bases)


def _found(tree: ast.Module) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and _is_choices(node):
            for member in node.body:
                value = member.value if isinstance(member, ast.Assign) else None
                if isinstance(value, ast.Tuple) and len(value.elts) == 2 and _plain(value.elts[1]):
                    found.append((member.lineno, "choice label"))
        if not isinstance(node, ast.Call):
            continue
        name, args = _name(node.func), node.args
        owner = getattr(node.func, "value", None)
        if name in GETTEXT:
            if args and isinstance(args[0], ast.JoinedStr):
                found.append((node.lineno, "f-string inside gettext"))
            elif args and isinstance(args[0], ast.Constant) and POSITIONAL.search(str(args[0].value)):
                found.append((node.lineno, "positional placeholder in a msgid"))
            continue
        if name in LEVELS and getattr(owner, "id", None) == "messages" and len(args) > 1 and _plain(args[1]):
            found.append((node.lineno, f"messages.{name}"))
        if name in ("message_user", "add_error") and len(args) > 1 and _plain(args[1]):
            found.append((node.lineno, name))
        if name in REFUSALS and args and _plain(args[0]):
            found.append((node.lineno, name))
        for keyword in node.keywords:
            if keyword.arg in LABEL_KEYWORDS and _plain(keyword.value):
                found.append((node.lineno, f"{keyword.arg}="))
            if keyword.arg == "error_messages" and isinstance(keyword.value, ast.Dict):
                found += [(node.lineno, "error_messages") for value in keyword.value.values if _plain(value)]
            if keyword.arg == "choices" and isinstance(keyword.value, ast.List | ast.Tuple):
                pairs = [e for e in keyword.value.elts if isinstance(e, ast.Tuple) and len(e.elts) == 2]
                found += [(node.lineno, "choices") for pair in pairs if _plain(pair.elts[1])]
        # A model field's first argument is its verbose name (relations take the model first).
        if getattr(owner, "id", None) == "models" and name.endswith("Field") and args and _plain(args[0]):
            if name not in ("ForeignKey", "OneToOneField", "ManyToManyField"):
                found.append((node.lineno, "verbose name"))
    return found


def unmarked(paths, root: Path = ROOT) -> list[str]:
    listing = []
    for path in paths:
        relative = path.relative_to(root).as_posix()
        if "/migrations/" in relative or "/management/" in relative or relative.startswith(ENGLISH_ON_PURPOSE):
            continue
        source = path.read_text()
        lines = source.splitlines()
        for line, what in sorted(set(_found(ast.parse(source, filename=relative)))):
            if what.startswith("positional") and line > 1 and NO_FORMAT in lines[line - 2]:
                continue
            listing.append(f"{relative}:{line}: {what}")
    return listing


def test_user_facing_strings_are_marked_for_translation():
    paths = sorted(PACKAGE.rglob("*.py"))
    listing = unmarked(paths)
    assert not listing, "Wrap these in gettext / gettext_lazy (named placeholders):\n" + "\n".join(listing)


def test_the_check_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "accessgate" / "sample" / "views.py"
    sample.parent.mkdir(parents=True)
    sample.write_text(
        "from django.contrib import messages\n"
        "from django.utils.translation import gettext as _\n"
        "class Kind(models.TextChoices):\n"
        "    A = 'a', 'Plain label'\n"
        "    B = 'b', _('Marked label')\n"
        "def view(request, pk):\n"
        "    messages.success(request, f'Request #{pk} saved.')\n"
        "    messages.info(request, _('Saved.'))\n"
        "    field = forms.CharField(label='Name', help_text=_('As on your passport.'))\n"
        "    raise PolicyNotMet('Verify your identity first.')\n"
        "    raise Conflict(_(f'Request #{pk} is taken.'))\n"
        "    raise NotFound(_('No request %s.') % pk)\n"
        "    raise ValidationFailed(_('No request %(pk)s.') % {'pk': pk})\n"
        "    # xgettext:no-python-format\n"
        "    score = models.IntegerField(help_text=_('Quiz: % right'))\n"
        "    mark = models.IntegerField(_('pass mark (% of questions right)'))\n"
    )
    assert unmarked([sample], root=tmp_path) == [
        "accessgate/sample/views.py:4: choice label",
        "accessgate/sample/views.py:7: messages.success",
        "accessgate/sample/views.py:9: label=",
        "accessgate/sample/views.py:10: PolicyNotMet",
        "accessgate/sample/views.py:11: f-string inside gettext",
        "accessgate/sample/views.py:12: positional placeholder in a msgid",
        "accessgate/sample/views.py:16: positional placeholder in a msgid",
    ]
