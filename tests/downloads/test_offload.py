"""Local downloads offloaded to the web server: the portal checks the link, nginx streams.

The nginx test runs a real nginx (Debian's nginx-light) in front of the live server; it
skips without nginx, or fails with ACCESSGATE_REQUIRE_SERVICES=1.
"""

import http.client
import shutil
import socket
import subprocess
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accessgate.core.storage import LocalStorage
from tests.support.services import need_service

CONTENT = bytes(range(256)) * 4096  # 1 MiB
KEY = "acme/1.0/sub dir/weights ü.bin"


@pytest.fixture
def local(settings, tmp_path):
    settings.ACCESSGATE_STORAGE_BACKEND = "local"
    settings.ACCESSGATE_LOCAL_STORAGE_ROOT = tmp_path / "weights"
    storage = LocalStorage(settings.ACCESSGATE_LOCAL_STORAGE_ROOT)
    source = tmp_path / "src.bin"
    source.write_bytes(CONTENT)
    storage.put_file(KEY, source)
    return storage


def signed(storage, ttl=60, now=None):
    return storage.signed_url(
        KEY, filename="weights ü.bin", sha256="ab" * 32, ttl_seconds=ttl, now=now or timezone.now()
    )


@pytest.mark.django_db
class TestOffloadHeaders:
    def test_x_accel_redirect_names_the_internal_location(self, client, local, settings):
        settings.ACCESSGATE_LOCAL_OFFLOAD = "x-accel"
        response = client.get(signed(local))
        assert response.status_code == 200 and response.content == b""
        assert response["X-Accel-Redirect"] == "/_weights/acme/1.0/sub%20dir/weights%20%C3%BC.bin"
        assert response["Content-Disposition"].startswith("attachment; filename=")
        assert response["Content-Type"] == "application/octet-stream"

    def test_x_sendfile_names_the_path(self, client, local, settings):
        settings.ACCESSGATE_LOCAL_OFFLOAD = "x-sendfile"
        response = client.get(signed(local))
        assert response.status_code == 200 and response.content == b""
        assert response["X-Sendfile"] == str(local.path(KEY))

    @pytest.mark.parametrize("mode", ["x-accel", "x-sendfile"])
    def test_expired_or_forged_links_are_refused_before_any_offload(self, client, local, settings, mode):
        settings.ACCESSGATE_LOCAL_OFFLOAD = mode
        expired = client.get(signed(local, ttl=1, now=timezone.now() - timedelta(seconds=30)))
        forged = client.get(signed(local).replace("/dl/", "/dl/x"))
        for response in (expired, forged):
            assert response.status_code == 403
            assert "X-Accel-Redirect" not in response and "X-Sendfile" not in response

    def test_the_setting_is_checked(self, settings):
        from accessgate.downloads.checks import storage_settings

        settings.ACCESSGATE_LOCAL_OFFLOAD = "sendfile"
        assert [e.id for e in storage_settings(None)] == ["accessgate.E005"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def nginx(live_server, local, settings, tmp_path):
    """nginx in front of the live server, with the storage root as an internal location."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if shutil.os.path.exists("/usr/sbin/nginx") else None)
    need_service(binary is not None, "nginx (apt-get install nginx-light)")
    settings.ACCESSGATE_LOCAL_OFFLOAD = "x-accel"
    port, scratch = free_port(), tmp_path / "nginx"
    scratch.mkdir()
    temp = "".join(
        f"{kind}_temp_path {scratch}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (scratch / "nginx.conf").write_text(
        f"""
master_process off;
daemon off;
worker_processes 1;
pid {scratch}/nginx.pid;
error_log {scratch}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    {temp}
    sendfile on;
    server {{
        listen 127.0.0.1:{port};
        location /_weights/ {{ internal; alias {settings.ACCESSGATE_LOCAL_STORAGE_ROOT}/; }}
        location / {{ proxy_pass {live_server.url}; proxy_set_header Host 127.0.0.1; }}
    }}
}}
"""
    )
    process = subprocess.Popen([binary, "-p", str(scratch), "-c", str(scratch / "nginx.conf")])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield port
    process.terminate()
    process.wait(timeout=10)


def fetch(port, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body


@pytest.mark.django_db(transaction=True)
def test_nginx_streams_what_the_portal_allowed(nginx, local):
    url = signed(local)
    response, body = fetch(nginx, url)
    assert response.status == 200 and body == CONTENT
    assert response.getheader("Content-Disposition").startswith("attachment; filename=")
    assert response.getheader("Content-Length") == str(len(CONTENT))
    # nginx answers Range itself.
    response, body = fetch(nginx, url, {"Range": "bytes=1000-1999"})
    assert response.status == 206 and body == CONTENT[1000:2000]
    assert response.getheader("Content-Range") == f"bytes 1000-1999/{len(CONTENT)}"
    # The files are not reachable without the portal's say-so.
    response, _ = fetch(nginx, "/_weights/acme/1.0/sub%20dir/weights%20%C3%BC.bin")
    assert response.status == 404
    expired = signed(local, ttl=1, now=timezone.now() - timedelta(seconds=30))
    response, body = fetch(nginx, expired)
    assert response.status == 403 and body != CONTENT
