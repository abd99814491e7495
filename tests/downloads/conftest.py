import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from accessgate.catalog.models import Release
from accessgate.core.storage import get_storage

from .. import factories
from ..conftest import make_policy, need_service

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "tests" / "support" / "s3rver-sigv4.js"
BUCKET = "weights"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3rver(tmp_path_factory):
    """A real s3rver process on a free loopback port, with AWS's SigV4 check in front of it."""
    node = shutil.which("node")
    installed = (ROOT / "node_modules" / "s3rver").is_dir() and (ROOT / "node_modules" / "@smithy").is_dir()
    need_service(node is not None and installed, "s3rver (npm ci installs it from package.json)")
    port = _free_port()
    directory = tmp_path_factory.mktemp("s3rver")
    process = subprocess.Popen(
        [node, str(LAUNCHER), str(directory), str(port), BUCKET],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = process.stdout.readline()
        if not line.startswith("listening"):
            pytest.fail(f"s3rver did not start: {line}{process.stdout.read() if process.poll() is not None else ''}")
        yield {
            "bucket": BUCKET,
            "endpoint_url": f"http://127.0.0.1:{port}",
            "region": "us-east-1",
            "access_key_id": "S3RVER",
            "secret_access_key": "S3RVER",
            "addressing_style": "path",
        }
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(params=["local", "s3"])
def backend(request, settings):
    """Run a test once per storage backend."""
    if request.param == "s3":
        settings.ACCESSGATE_STORAGE_BACKEND = "s3"
        settings.ACCESSGATE_S3 = request.getfixturevalue("s3rver")
    else:
        settings.ACCESSGATE_STORAGE_BACKEND = "local"
    return request.param


@pytest.fixture
def storage(backend):
    return get_storage()


def wait_past(seconds: float) -> None:
    time.sleep(seconds)


# A small release imported through `import_release`, on whichever storage the test module's
# `backend` fixture selects.
FILES = {
    "config.json": b'{"hidden_size": 64}',
    "model-00001-of-00002.safetensors": bytes(range(256)) * 4096,
    "model-00002-of-00002.safetensors": b"\x00\x01" * 70000,
    "tokenizer/vocab.json": '{"ü": 1}'.encode(),
}


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
