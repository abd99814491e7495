"""The real `huggingface_hub` client against a live test server; nothing may reach the internet.

The client reads its environment at import time, so it is set here, before any test module
imports it: no telemetry, online mode, a throwaway HF_HOME, and a default endpoint that
refuses connections (every call in the tests passes `endpoint=` the live server).
"""

import os
import tempfile

os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_OFFLINE"] = "0"
os.environ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ["HF_HUB_DISABLE_XET"] = "1"
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="accessgate-hf-home-")
os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"  # the discard port: a call without endpoint= fails fast
os.environ.pop("HF_TOKEN", None)


import pytest  # noqa: E402

from accessgate.access import services as access_services  # noqa: E402
from accessgate.accounts.services import token_create  # noqa: E402
from tests.support.applications import application, make_policy
from tests.support.hf import FILES

from .. import factories  # noqa: E402


@pytest.fixture
def hf_model(settings, licence, reviewer):
    settings.ACCESSGATE_STORAGE_BACKEND = "local"
    model = factories.ModelFactory(namespace="demo-lab", name="tiny-demo-1b", reviewers=[reviewer])
    make_policy(model, licence)
    factories.make_release(model, version="1.0", files={"config.json": b"{}", "model.safetensors": b"old"})
    release = factories.make_release(model, version="1.1", files=FILES)
    return model, release


@pytest.fixture
def hf_holder(hf_model, researcher, reviewer):
    model, _ = hf_model
    request = access_services.access_request_submit(actor=researcher, **application(model))
    access_services.access_request_approve(actor=reviewer, access_request=request)
    _, secret = token_create(actor=researcher, name="hf")
    return researcher, secret


@pytest.fixture
def review_token(reviewer):
    _, secret = token_create(actor=reviewer, name="bot", scopes=["review"], mfa_passed=True)
    return secret


@pytest.fixture
def cache_dir(tmp_path):
    return str(tmp_path / "hf-cache")
