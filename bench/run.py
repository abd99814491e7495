"""accessgate benchmarks, run by `make bench`; prints a table.

(a) The resolve endpoint (`GET …/files/<path>` → 302 to a signed URL) under gunicorn on
    PostgreSQL with 32 concurrent clients, beside a bare Django view on the same gunicorn
    that answers a 302 with no checks. Target: resolve ≥ 50% of the bare view's requests/s.
(b) Server time of the JSON manifest of a 1,000-file release on the S3 backend, beside a
    plain boto3 `generate_presigned_url` loop. Target: ≤ 150 ms.
(c) The audit trail at 1,000,000 events: appending (record(), one transaction each,
    measured on ACCESSGATE_BENCH_APPENDS events and extrapolated), verifying the chain and a
    full export, each with its peak memory, beside PostgreSQL's own COPY … TO STDOUT.

The load generator is wrk when installed (Debian's `wrk`), else bench/loadgen.py in its own
process. Machines are shared and noisy: read the ratios, not the absolute numbers.
"""

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
warnings.filterwarnings("ignore", message="No directory at")
sys.path.insert(0, str(ROOT))

BENCH_DB = os.environ.get("ACCESSGATE_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/accessgate_bench")
AUDIT_EVENTS = int(os.environ.get("ACCESSGATE_BENCH_AUDIT_EVENTS", "1000000"))
APPENDS = int(os.environ.get("ACCESSGATE_BENCH_APPENDS", "20000"))
CONNECTIONS = int(os.environ.get("ACCESSGATE_BENCH_CONNECTIONS", "32"))
SECONDS = float(os.environ.get("ACCESSGATE_BENCH_SECONDS", "10"))
WORKERS = int(os.environ.get("ACCESSGATE_BENCH_WORKERS", str(max(2, (os.cpu_count() or 2)))))

ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DATABASE_URL": BENCH_DB,
    "ACCESSGATE_DEBUG": "false",
    "ACCESSGATE_SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
    "ACCESSGATE_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "ACCESSGATE_SSL_REDIRECT": "false",
    "ACCESSGATE_DOWNLOAD_RATE_LIMIT": "100000000/60",
    "ACCESSGATE_STORAGE_BACKEND": "s3",
    "ACCESSGATE_S3_BUCKET": "weights",
    # Never contacted: issuing a URL only signs it.
    "ACCESSGATE_S3_ENDPOINT_URL": "http://127.0.0.1:9",
    "ACCESSGATE_S3_ACCESS_KEY_ID": "BENCHKEY",
    "ACCESSGATE_S3_SECRET_ACCESS_KEY": "BENCHSECRET",
    "ACCESSGATE_VAR_DIR": str(ROOT / "var" / "bench"),
    "EMAIL_URL": "dummymail://",
    "ACCESSGATE_AUDIT_SIGNING_KEY_FILE": str(ROOT / "var" / "bench" / "audit_signing_key.pem"),
}


def make_signing_key():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = Path(ENV["ACCESSGATE_AUDIT_SIGNING_KEY_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(
            Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )


def recreate_database():
    import psycopg

    name = BENCH_DB.rsplit("/", 1)[1]
    admin_url = BENCH_DB.rsplit("/", 1)[0] + "/postgres"
    try:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        sys.exit(f"The benchmarks need PostgreSQL at {admin_url} ({error}).")


def setup_django():
    os.environ.update(ENV)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed() -> dict:
    """A researcher with a grant and a token; a 1-file and a 1,000-file release."""
    from django.db import transaction

    from accessgate.access.services import PolicySettings, access_request_submit, policy_set
    from accessgate.accounts.services import profile_update, token_create, user_create
    from accessgate.catalog.services import FileSpec, license_publish, model_create, release_create

    with transaction.atomic():
        user = user_create(actor=None, email="bench@example.org", password=None, email_verified=True)
        profile_update(actor=user, user=user, full_name="Bench Mark", affiliation="Lab", position="R", country="NL")
        licence = license_publish(actor=None, name="Bench", version="1", text="terms")
        model = model_create(actor=None, namespace="bench", name="model", display_name="Bench")
        policy = policy_set(
            actor=None, model=model, terms=PolicySettings(license=licence, statements=["ok"], gating="auto")
        )
        spec = lambda i: FileSpec(  # noqa: E731
            path=f"model-{i:05d}.safetensors", storage_key=f"bench/model/k/{i:05d}", size=1 << 30, sha256=f"{i:064x}"
        )
        release_create(actor=None, model=model, version="1", files=[spec(0)])
        release_create(actor=None, model=model, version="big", files=[spec(i) for i in range(1000)])
        access_request_submit(
            actor=user,
            model=model,
            intended_use="benchmarking the download path" * 5,
            accepted_statement_ids={s.pk for s in policy.statements.all()},
            typed_name="Bench Mark",
        )
        _, secret = token_create(actor=user, name="bench")
    return {"user": user, "token": secret}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "accessgate.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={WORKERS}",
            "--worker-class=sync",
            "--keep-alive=30",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env={**os.environ, **ENV},
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    sys.exit("gunicorn did not start")


def load(url: str, headers: dict) -> dict:
    wrk = shutil.which("wrk")
    if wrk:
        args = [wrk, "-t2", f"-c{CONNECTIONS}", f"-d{int(SECONDS)}s", "--latency", url]
        for name, value in headers.items():
            args += ["-H", f"{name}: {value}"]
        out = subprocess.run(args, capture_output=True, text=True, check=True).stdout

        def ms(label):
            match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", out, re.M)
            value, unit = float(match.group(1)), match.group(2)
            return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        return {
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": ms("50"),
            "p99_ms": ms("99"),
            "errors": int(non2xx.group(1)) if non2xx else 0,
            "tool": "wrk",
        }
    args = [sys.executable, str(ROOT / "bench" / "loadgen.py"), url, str(CONNECTIONS), str(SECONDS)]
    args += [f"{k}: {v}" for k, v in headers.items()]
    result = json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout)
    return {**result, "tool": "loadgen.py"}


def bench_resolve(token: str) -> list[tuple]:
    port = free_port()
    server = start_gunicorn(port)
    try:
        base = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {token}"}
        load(f"{base}/bench/bare", {})  # warm-up of both paths
        load(f"{base}/models/bench/model/1/files/model-00000.safetensors", auth)
        bare = load(f"{base}/bench/bare", {})
        resolve = load(f"{base}/models/bench/model/1/files/model-00000.safetensors", auth)
    finally:
        server.terminate()
        server.wait(timeout=10)
    ratio = resolve["rps"] / bare["rps"]
    return [
        ("bare 302 view", f"{bare['rps']:.0f} req/s", f"p50 {bare['p50_ms']:.1f} ms, p99 {bare['p99_ms']:.1f} ms", ""),
        (
            "resolve (token, checks, sign, audit)",
            f"{resolve['rps']:.0f} req/s",
            f"p50 {resolve['p50_ms']:.1f} ms, p99 {resolve['p99_ms']:.1f} ms",
            f"{ratio:.0%} of bare (target ≥ 50%) {'PASS' if ratio >= 0.5 else 'MISS'}"
            + (f"; {resolve['errors']} errors" if resolve["errors"] else ""),
        ),
    ], bare["tool"]


def bench_manifest(token: str) -> list[tuple]:
    from datetime import UTC, datetime

    import boto3
    from botocore.config import Config
    from django.test import Client

    from accessgate.core.storage import get_storage

    client = Client()
    url = "/models/bench/model/big/manifest"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client.get(url, **auth)  # warm-up
    server_ms = []
    for _ in range(15):
        start = time.perf_counter()
        response = client.get(url, **auth)
        server_ms.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200 and len(response.json()["files"]) == 1000
    median = statistics.median(server_ms)

    s3 = boto3.client(
        "s3",
        endpoint_url=ENV["ACCESSGATE_S3_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id="BENCHKEY",
        aws_secret_access_key="BENCHSECRET",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    keys = [f"bench/model/k/{i:05d}" for i in range(1000)]
    start = time.perf_counter()
    for key in keys:
        s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": "weights", "Key": key, "ResponseContentDisposition": 'attachment; filename="x"'},
            ExpiresIn=300,
        )
    boto_ms = (time.perf_counter() - start) * 1000

    storage = get_storage()
    now = datetime.now(UTC)
    start = time.perf_counter()
    for key in keys:
        storage.signed_url(key, filename="x.safetensors", sha256="0", ttl_seconds=300, now=now)
    ours_ms = (time.perf_counter() - start) * 1000
    return [
        (
            "manifest, 1,000 files (JSON)",
            f"{median:.0f} ms",
            f"min {min(server_ms):.0f} ms, max {max(server_ms):.0f} ms over {len(server_ms)}",
            f"target ≤ 150 ms {'PASS' if median <= 150 else 'MISS'}",
        ),
        ("  1,000 × boto3 generate_presigned_url", f"{boto_ms:.0f} ms", "baseline", ""),
        ("  1,000 × our SigV4 presigner", f"{ours_ms:.0f} ms", f"{boto_ms / ours_ms:.0f}× faster than boto3", ""),
    ]


def audit_phase(*args) -> dict:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "audit.py"), *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def bench_audit() -> list[tuple]:
    appended = audit_phase("append", APPENDS)
    per_second = appended["events"] / appended["seconds"]
    audit_phase("fill", AUDIT_EVENTS)
    verified = audit_phase("verify")
    exported = audit_phase("export")
    copied = audit_phase("copy")

    def row(label, result, note=""):
        rate = result["events"] / result["seconds"]
        return (label, f"{result['seconds']:.1f} s", f"{rate:,.0f} events/s, peak {result['peak_mib']:.0f} MiB", note)

    return [
        (
            f"audit append (record(), 1 tx each, n={APPENDS:,})",
            f"{per_second:,.0f} events/s",
            f"peak {appended['peak_mib']:.0f} MiB",
            f"≈ {AUDIT_EVENTS / per_second / 60:.0f} min for {AUDIT_EVENTS:,}",
        ),
        row(f"audit verify ({verified['events']:,} events)", verified),
        row(
            f"audit full export JSONL ({exported['events']:,})",
            exported,
            f"{exported['seconds'] / copied['seconds']:.1f}× COPY",
        ),
        row(f"PostgreSQL COPY TO STDOUT ({copied['events']:,})", copied, "baseline"),
    ]


def print_table(rows):
    widths = [max(len(str(row[i])) for row in rows) for i in range(4)]
    for index, row in enumerate(rows):
        print("  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))


def main():
    make_signing_key()
    recreate_database()
    setup_django()
    data = seed()
    rows = [("benchmark", "result", "detail", "verdict")]
    resolve_rows, tool = bench_resolve(data["token"])
    rows += resolve_rows
    rows += bench_manifest(data["token"])
    if os.environ.get("ACCESSGATE_BENCH_SKIP_AUDIT") != "1":
        rows += bench_audit()
    print(f"\naccessgate benchmarks — {WORKERS} gunicorn workers, {CONNECTIONS} connections, {SECONDS:.0f} s, {tool}\n")
    print_table(rows)


if __name__ == "__main__":
    main()
