"""The documentation holds together: its links resolve, the README stays short, settings are documented.

Links are read from README.md and every docs/**/*.md outside code (fenced blocks and inline
code are skipped). A relative link must name a file of the repository, never one outside it;
a `#fragment` must be the slug of a heading of the linked file, made by GitHub's rule
(lower-case, punctuation dropped, each space a `-`, `-1`, `-2`… on repeats).
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_LINES = 150

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)
# [text](target) and ![alt](target), the target up to a space or the closing parenthesis.
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.M)
SETTING = re.compile(r"\bACCESSGATE_[A-Z][A-Z0-9_]*[A-Z0-9]\b")
_NAME = r"(ACCESSGATE_[A-Z][A-Z0-9_]*[A-Z0-9])\b"
PYTHON_READ = re.compile(r"(?:\benv\.\w+\(\s*|environ\.get\(\s*|environ\[\s*|getenv\(\s*)[\"']" + _NAME + "[\"']")
SHELL_READ = [re.compile(r"\$\{?" + _NAME), re.compile(r"^\s*(?:export\s+)?" + _NAME + "=", re.M)]


def documents():
    return [README, *sorted(DOCS.rglob("*.md"))]


def prose(text):
    """The text outside code blocks and inline code."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def slug(heading):
    """GitHub's anchor for a heading's text."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text stays
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)  # punctuation (backticks, dots, slashes…) dropped
    return text.replace(" ", "-")


def anchors(path):
    seen: dict[str, int] = {}
    found = set()
    for _level, heading in HEADING.findall(FENCE.sub("", path.read_text())):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def relative_links(text):
    for target in LINK.findall(prose(text)):
        if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
            continue  # http:, https:, mailto: …
        yield target


def link_problem(source, target):
    """Why `target`, linked from `source`, does not resolve (None when it does)."""
    name, _, fragment = target.partition("#")
    linked = (source.parent / name).resolve() if name else source
    if ROOT.resolve() not in (linked, *linked.parents):
        return "points outside the repository"
    if not linked.exists():
        return "names no file"
    if fragment:
        if linked.suffix != ".md":
            return "has a fragment on a file that is not Markdown"
        if fragment not in anchors(linked):
            return f"names no heading of {linked.relative_to(ROOT.resolve())}"
    return None


def broken_links(path, text=None):
    """Every link of `path` (or of `text`, as if it were that file's) that does not resolve."""
    return [
        f"{path.relative_to(ROOT)}: ({target}) {problem}"
        for target in relative_links(path.read_text() if text is None else text)
        if (problem := link_problem(path, target))
    ]


def test_every_relative_link_resolves():
    assert [problem for path in documents() for problem in broken_links(path)] == []


@pytest.mark.parametrize(
    "target",
    ["missing.md", "architecture.md#no-such-heading", "../../shared/DESIGN.md", "../README.md#nowhere", "#nowhere"],
)
def test_a_broken_link_is_caught(target):
    page = DOCS / "README.md"
    text = page.read_text()
    assert broken_links(page, text) == []
    assert len(broken_links(page, f"{text}\n[broken]({target})\n")) == 1


def test_links_that_resolve_and_links_inside_code():
    page = DOCS / "README.md"
    good = "[a](architecture.md#layers) [b](../README.md) [c](#documentation) [d](https://example.org/x.md)"
    assert broken_links(page, good) == []
    assert broken_links(page, "`[x](missing.md)`\n```\n[y](missing.md)\n```\n") == []


def test_slugs_follow_github():
    assert slug("REST API (`/api/v1/`)") == "rest-api-apiv1"
    assert slug("Decisions: questions, two reviewers, conflicts") == "decisions-questions-two-reviewers-conflicts"
    assert slug("The publisher's console") == "the-publishers-console"
    assert slug("Health, logs, errors") == "health-logs-errors"


def test_the_readme_is_short():
    lines = README.read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move detail into docs/"


def test_no_document_reaches_outside_the_repository():
    outside = [
        f"{path.relative_to(ROOT)}: {match}"
        for path in documents()
        for match in re.findall(r"\.\./shared/\S*", path.read_text())
    ]
    assert outside == []


def test_every_docs_page_is_in_the_index():
    index = (DOCS / "README.md").read_text()
    pages = {p.name for p in DOCS.glob("*.md")} - {"README.md"}
    listed = {Path(t.partition("#")[0]).name for t in relative_links(index)}
    assert pages - listed == set(), index


def read_settings():
    """Every ACCESSGATE_* variable read from the environment: by the settings module's `env`,
    by `os.environ`/`os.getenv` in Python, or by the shell scripts, Makefile and CI."""
    python = [ROOT / "accessgate" / "settings.py"]
    for folder in ("accessgate", "scripts", "bench", "tests"):
        python += sorted((ROOT / folder).rglob("*.py"))
    shell = [ROOT / "Makefile", ROOT / ".ci" / "run", *sorted((ROOT / "scripts").glob("*.sh"))]
    names = set()
    for path in python:
        names |= set(PYTHON_READ.findall(path.read_text()))
    for path in shell:
        names |= {name for pattern in SHELL_READ for name in pattern.findall(path.read_text())}
    return names


def test_every_setting_is_documented():
    """Each variable has a row in docs/configuration.md."""
    documented = set(SETTING.findall((DOCS / "configuration.md").read_text()))
    used = read_settings()
    assert "ACCESSGATE_DEBUG" in used and "ACCESSGATE_BIND" in used  # the readers find both kinds
    assert sorted(used - documented) == []


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_a_long_page_opens_with_its_contents(page):
    text = (DOCS / page).read_text()
    if len(text.splitlines()) > 150:
        assert re.search(r"^(\*\*Contents\*\*|## Contents)", text, re.M), f"{page} needs a Contents list"
