"""Every user-facing text in templates/ is marked for translation, and `makemessages` runs clean.

The first test reads each template with Django's own lexer and an HTML parser and lists every
text (and every attribute a person reads or hears: aria-label, title, alt, placeholder, the
labels of stacked table cells, submit buttons' values, labels passed to includes) that has
letters and sits outside `{% translate %}`/`{% blocktranslate %}`. The second runs the real
`manage.py makemessages` on a copy of the project, so a template or a string that gettext
cannot extract fails here instead of on a translator's desk.
"""

import html
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

from django.template.base import DebugLexer, TokenType

from tests.support.services import need_service

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"

# Texts that stay as they are in every language.
ALLOWED = {
    "accessgate",  # the product's name
    "SHA-256",  # the name of a hash function, like a unit
    "#",  # a column of numbers
}
# Literal machine text: commands people copy, hashes, code. The sentence around such an
# element is translated; its own contents are not.
LITERAL_ELEMENTS = {"code", "pre", "kbd", "samp", "script", "style"}
READ_ATTRIBUTES = {
    "title",
    "alt",
    "aria-label",
    "aria-description",
    "aria-roledescription",
    "aria-valuetext",
    "placeholder",
    "data-label",  # shown by the stacked-card layout of tables at phone widths
    "data-confirm",  # the confirmation dialog's question
}
BUTTON_TYPES = {"submit", "button", "reset"}
# Keyword arguments of `{% include … with %}` that components show to people.
READ_INCLUDE_KEYS = {"label", "placeholder", "title", "heading", "legend", "caption", "help_text", "empty"}
HOLE = " "  # stands for a template tag or variable (a space, so tags such as <details{% if o %} open{% endif %}> still parse)
LETTER = re.compile(r"[^\W\d_]")
ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
LITERAL_ARG = re.compile(r"""(\w+)=(["'])(.*?)\2""")


def _wording(text: str) -> str | None:
    """The words of `text` that need translating, or None."""
    text = " ".join(ENTITY.sub(" ", text.replace(HOLE, " ")).split())
    if not LETTER.search(text) or text.strip(":.,;·— ") in ALLOWED:
        return None
    return text


class _Reader(HTMLParser):
    def __init__(self, found: list[tuple[int, str]]):
        super().__init__(convert_charrefs=False)
        self.found = found
        self.literal_depth = 0

    def _add(self, text: str | None) -> None:
        words = _wording(html.unescape(text or ""))
        if words:
            self.found.append((self.getpos()[0], words))

    def handle_starttag(self, tag, attrs):
        if tag in LITERAL_ELEMENTS:
            self.literal_depth += 1
        values = dict(attrs)
        for name, value in attrs:
            if name in READ_ATTRIBUTES or (
                name == "value" and tag == "input" and (values.get("type") or "").lower() in BUTTON_TYPES
            ):
                self._add(value)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in LITERAL_ELEMENTS:
            self.literal_depth -= 1

    def handle_endtag(self, tag):
        if tag in LITERAL_ELEMENTS and self.literal_depth:
            self.literal_depth -= 1

    def handle_data(self, data):
        if not self.literal_depth:
            self._add(data)

    def handle_entityref(self, name):
        pass

    def handle_charref(self, name):
        pass


def untranslated(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every text with letters outside translate tags in one template."""
    source = path.read_text()
    found: list[tuple[int, str]] = []
    pieces: list[str] = []
    skip_until = None
    for token, (start, end) in ((t, t.position) for t in DebugLexer(source).tokenize()):
        raw = source[start:end]
        hole = HOLE + "\n" * raw.count("\n")
        if skip_until:
            pieces.append(hole)
            if token.token_type == TokenType.BLOCK and token.contents.split()[0] in skip_until:
                skip_until = None
            continue
        if token.token_type == TokenType.TEXT:
            pieces.append(raw)
            continue
        pieces.append(hole)
        if token.token_type != TokenType.BLOCK:
            continue
        name = token.contents.split()[0]
        if name in ("blocktranslate", "blocktrans"):
            skip_until = {"endblocktranslate", "endblocktrans"}
        elif name == "comment":
            skip_until = {"endcomment"}
        elif name == "include":
            for key, _quote, value in LITERAL_ARG.findall(token.contents):
                if key in READ_INCLUDE_KEYS and _wording(value):
                    found.append((token.lineno, f"{key}={value!r} in {{% include %}}"))
    text = "".join(pieces)
    if path.suffix == ".txt":
        for number, line in enumerate(text.splitlines(), start=1):
            if words := _wording(line):
                found.append((number, words))
    else:
        reader = _Reader(found)
        reader.feed(text)
        reader.close()
    return sorted(found)


def test_every_template_text_is_marked_for_translation():
    paths = sorted(p for p in TEMPLATES.rglob("*") if p.suffix in (".html", ".txt"))
    assert len(paths) > 100  # the walk found the templates
    report = [f"{path.relative_to(ROOT)}:{line}: {text[:70]}" for path in paths for line, text in untranslated(path)]
    assert not report, f"{len(report)} texts are not marked for translation:\n" + "\n".join(report)


def test_the_checker_sees_untranslated_text_and_passes_translated_text(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        '{% load i18n %}<h1>{% translate "Models" %}</h1>\n'
        "<p>{% blocktranslate trimmed %}Hello {{ name }}{% endblocktranslate %} &mdash; {{ n }}</p>\n"
        '<a aria-label="Close" href="{% url \'x\' %}">×</a> <code>make demo</code> accessgate\n'
        '{% include "c.html" with label="Filed" status="active" %}<p>Plain words</p>\n'
        '<input type="submit" value="Save"><input type="hidden" value="approve">\n'
    )
    assert untranslated(page) == [
        (3, "Close"),
        (4, "Plain words"),
        (4, "label='Filed' in {% include %}"),
        (5, "Save"),
    ]


def test_makemessages_extracts_without_warnings(tmp_path):
    need_service(shutil.which("xgettext") is not None, "GNU gettext (apt-get install gettext)")
    project = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "locale")
    for name in ("accessgate", "templates"):
        shutil.copytree(ROOT / name, project / name, ignore=ignore)
    shutil.copy2(ROOT / "manage.py", project / "manage.py")
    (project / "locale").mkdir()
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "xx", "--no-obsolete"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr
    catalogue = (project / "locale" / "xx" / "LC_MESSAGES" / "django.po").read_text()
    assert 'msgid "Models"' in catalogue  # templates were read
