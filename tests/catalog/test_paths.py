"""The one grammar of a stored file path (docs/paths.md), the same character rules for
namespaces, names and versions, and every place that stores a path calling it."""

import ast
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from accessgate.access.management.commands import _demo_content as demo
from accessgate.audit.models import AuditEvent
from accessgate.catalog.models import Release, WeightFile
from accessgate.catalog.names import (
    PATH_MAX_BYTES,
    PATH_SEGMENT_MAX_BYTES,
    character_name,
    file_path_problem,
    shown,
    validate_name_part,
    validate_namespace,
    validate_version,
)
from accessgate.catalog.services import FileSpec, release_create
from accessgate.core.errors import ValidationFailed

from .. import factories

ROOT = Path(__file__).resolve().parents[2]
INJECTION = "weights.bin\n  dir=~/.ssh\n  out=authorized_keys"

# (path, what the refusal names)
BAD_PATHS = [
    (INJECTION, "U+000A LINE FEED"),
    ("weights\x1b[2J.bin", "U+001B ESCAPE"),
    ("evil\u202enib.exe", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("a\x00b.bin", "U+0000 NULL"),
    ("a\rb.bin", "U+000D CARRIAGE RETURN"),
    ("a\tb.bin", "U+0009 CHARACTER TABULATION"),
    ("a\x7f.bin", "U+007F DELETE"),
    ("a\x85.bin", "U+0085"),
    ("zero\u200bwidth.bin", "U+200B ZERO WIDTH SPACE"),
    ("\ufeffbom.bin", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
    ("iso\u2066late.bin", "U+2066 LEFT-TO-RIGHT ISOLATE"),
    ("line\u2028sep.bin", "U+2028 LINE SEPARATOR"),
    ("no\u00a0break.bin", "U+00A0 NO-BREAK SPACE"),
    ("half\ud800.bin", "U+D800"),
    ("../weights.bin", "'..'"),
    ("a/../../b.bin", "'..'"),
    ("./x", "'.'"),
    ("a//b", "empty"),
    ("a/", "empty"),
    ("/abs/weights.bin", "starts with '/'"),
    ("\\\\win\\share.bin", "backslash"),
    ("dir\\x.bin", "backslash"),
    ("x" * (PATH_SEGMENT_MAX_BYTES + 1), f"{PATH_SEGMENT_MAX_BYTES} bytes"),
    ("é" * 128, f"{PATH_SEGMENT_MAX_BYTES} bytes"),  # 128 characters, 256 bytes
    ("/".join(["d" * 99] * 5) + "/w.bin", f"{PATH_MAX_BYTES} bytes"),
    ("cafe\u0301.bin", "U+0301 COMBINING ACUTE ACCENT"),  # NFD: refused, never silently changed
    ("\u212b.bin", "U+212B ANGSTROM SIGN"),
    (" lead.bin", "space"),
    ("trail.bin ", "space"),
    ("dir /w.bin", "space"),
    ("", "empty"),
]
BAD_IDS = [repr(path)[:30] for path, _ in BAD_PATHS]

GOOD_PATHS = [
    "config.json",
    "tokenizer/vocab.json",
    "shards/00001/model-00001-of-00002.safetensors",
    "modèles/café.bin",  # NFC
    "Модель/вага.bin",
    "模型/权重.bin",
    "with space/and-[brackets] (1).bin",
    "x" * PATH_SEGMENT_MAX_BYTES,
    "/".join(["d" * 99] * 5) + "w",  # exactly PATH_MAX_BYTES
]


@pytest.mark.parametrize(("path", "says"), BAD_PATHS, ids=BAD_IDS)
def test_a_bad_path_is_refused_naming_what_is_wrong(path, says):
    problem = file_path_problem(path)
    assert problem is not None and says in problem
    # The message itself never carries the character it refuses.
    assert problem.isprintable()


@pytest.mark.parametrize("path", GOOD_PATHS)
def test_a_good_path_is_accepted(path):
    assert file_path_problem(path) is None


def test_the_limits_are_the_documented_ones():
    text = (ROOT / "docs" / "paths.md").read_text()
    assert (PATH_SEGMENT_MAX_BYTES, PATH_MAX_BYTES) == (255, 500)
    assert "255 bytes" in text and "500 bytes" in text
    assert len("/".join(["d" * 99] * 5) + "w") == PATH_MAX_BYTES


def test_characters_are_named_by_code_point():
    assert character_name("\n") == "U+000A LINE FEED"
    assert character_name("\u202e") == "U+202E RIGHT-TO-LEFT OVERRIDE"
    assert character_name("\U000e0001") == "U+E0001 LANGUAGE TAG"
    assert shown("a\nb\x1b\u202e") == "'a\\nb\\x1b\\u202e'"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("acme\n", "U+000A LINE FEED"),  # `$` would have matched before the newline
        ("\u0430cme", "U+0430 CYRILLIC SMALL LETTER A"),  # looks like "acme"
        ("acme\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("ac\x00me", "U+0000 NULL"),
        ("ac me", "U+0020 SPACE"),
        ("acmé", "U+00E9 LATIN SMALL LETTER E WITH ACUTE"),
        ("ａcme", "U+FF41 FULLWIDTH LATIN SMALL LETTER A"),
        ("-acme", "starting and ending"),
        ("ac--me", "'--'"),
        ("a" * 97, "at most 96"),
    ],
)
def test_names_are_ascii_and_name_the_character_they_refuse(value, says):
    for validate in (validate_name_part, validate_namespace):
        with pytest.raises(ValidationError) as refused:
            validate(value)
        assert says in " ".join(refused.value.messages)


def test_the_demo_names_stay_valid():
    names = [demo.NAME, demo.OPEN_NAME, demo.SECURE_NAME, demo.COUNCIL_NAME, "frontier-family"]
    validate_namespace(demo.NAMESPACE)
    for name in names:
        validate_name_part(name)
    validate_version(demo.VERSION)
    assert all(name.isascii() for name in names)


@pytest.mark.parametrize("version", ["1.0\n", "1.0\n  out=x", "1.\u202e0", "1.0 "])
def test_a_version_with_a_line_break_or_control_is_refused(version):
    with pytest.raises(ValidationError):
        validate_version(version)


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "says"), BAD_PATHS, ids=BAD_IDS)
def test_release_create_refuses_and_changes_nothing(path, says, publisher):
    model = factories.ModelFactory()
    before = AuditEvent.objects.count()
    spec = FileSpec(path=path, storage_key="k", size=1, sha256="a" * 64)
    with pytest.raises(ValidationFailed) as refused:
        release_create(actor=publisher, model=model, version="1.0", files=[spec])
    assert refused.value.field == "files" and says in refused.value.message
    assert not Release.objects.exists() and not WeightFile.objects.exists()
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_release_create_accepts_nested_non_ascii_paths(publisher):
    model = factories.ModelFactory()
    specs = [FileSpec(path=p, storage_key=p, size=1, sha256="a" * 63 + str(i)) for i, p in enumerate(GOOD_PATHS)]
    release = release_create(actor=publisher, model=model, version="1.0", files=specs)
    assert sorted(release.files.values_list("path", flat=True)) == sorted(GOOD_PATHS)


# --- every surface that stores a path calls the grammar -------------------------------------

# The functions that construct a WeightFile or UploadedFile row, and whether it is stored:
# the fast path builds an unsaved WeightFile from a row it read.
CONSTRUCTORS = {
    ("accessgate/catalog/services.py", "release_create"): True,
    ("accessgate/downloads/uploads.py", "upload_start"): True,
    ("accessgate/downloads/fast.py", "_issued"): False,
}
# Where paths enter from outside before they reach a constructor: checked where they enter,
# so a refusal comes before any work (a job, hashing, a staged file).
ENTRIES = {
    ("accessgate/downloads/uploads.py", "upload_finish"),
    ("accessgate/downloads/imports.py", "_local_source_files"),
    ("accessgate/downloads/imports.py", "_import_s3"),
}


def _functions():
    for path in sorted((ROOT / "accessgate").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                yield str(path.relative_to(ROOT)), node


def _names_called(function):
    return {
        call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
        for call in ast.walk(function)
        if isinstance(call, ast.Call)
    }


def test_every_function_that_makes_a_file_row_is_known_and_checks_the_path():
    found = {
        (path, function.name)
        for path, function in _functions()
        if {"WeightFile", "UploadedFile"} & _names_called(function)
    }
    assert found == set(CONSTRUCTORS)
    calls = {(path, f.name): _names_called(f) for path, f in _functions()}
    unchecked = [key for key, stores in CONSTRUCTORS.items() if stores and "require_file_path" not in calls[key]] + [
        key for key in ENTRIES if "require_file_path" not in calls[key]
    ]
    assert not unchecked


def test_the_model_fields_validate_with_the_same_grammar():
    with pytest.raises(ValidationError) as refused:
        WeightFile._meta.get_field("path").run_validators(INJECTION)
    assert "U+000A LINE FEED" in " ".join(refused.value.messages)
