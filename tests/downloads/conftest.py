import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from accessgate.core.storage import get_storage

from ..conftest import need_service

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
