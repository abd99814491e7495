import time
from pathlib import Path

import pytest
from django.core.management import call_command

from accessgate.catalog.models import Release
from accessgate.core.storage import get_storage
from tests.support.applications import make_policy
from tests.support.downloads import FILES

from .. import factories

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def storage(backend):
    return get_storage()


def wait_past(seconds: float) -> None:
    time.sleep(seconds)


@pytest.fixture
def release(backend, tmp_path, licence, reviewer):
    model = factories.ModelFactory(reviewers=[reviewer])
    make_policy(model, licence, url_ttl_seconds=300)
    source = tmp_path / "source"
    for path, content in FILES.items():
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        (source / path).write_bytes(content)
    call_command("import_release", model.full_name, "1.0", str(source))
    return Release.objects.get(model=model, version="1.0")
