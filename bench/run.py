"""accessgate benchmarks, run by `make bench`: prints a table and writes bench/results.json.

Every row names its anchor (what the same machine does with no accessgate in the way), the
ratio to it and its target. Machines are shared and noisy: read the ratios of
one run, not the absolute numbers. The load average is printed with the table.

(a) Resolve (`GET …/files/<path>` with a bearer token → 302 to a signed URL) under gunicorn
    on PostgreSQL at 1, 8 and 32 clients, beside two anchors on the same gunicorn: a bare
    302 view, and the "audited bare" view that inserts one row durably in its own
    transaction and answers 302 (the real limit of an audited redirect); then 2 against 8
    workers.
(b) Server time of the JSON manifest of a 1,000-file release (S3 backend), without and with a
    per-file download cap, beside a boto3 `generate_presigned_url` loop.
(c) The audit trail: appends (record(), one transaction each) with 1 and 8 writers beside
    plain INSERTs of the same row shape, with the chaining lag; then, at
    ACCESSGATE_BENCH_AUDIT_EVENTS events filled with COPY, verify and a full export beside
    PostgreSQL's own COPY … TO STDOUT, each with the VmHWM of the process that did it.
(d) The staff dashboard at a million audit events (target ≤ 1 s), by bench/dashboard.py in
    its own fresh database (ACCESSGATE_BENCH_DASHBOARD_DATABASE_URL, default this one's name
    + "_dashboard"; ACCESSGATE_BENCH_DASHBOARD_EVENTS).

Quick mode for iteration: ACCESSGATE_BENCH_QUICK=1 (3 s loads, 100,000 events), or set
ACCESSGATE_BENCH_SECONDS / ACCESSGATE_BENCH_AUDIT_EVENTS / ACCESSGATE_BENCH_SKIP_AUDIT=1 /
ACCESSGATE_BENCH_SKIP_DASHBOARD=1.
The load generator is wrk when installed (Debian's `wrk`), else bench/loadgen.py.
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
QUICK = os.environ.get("ACCESSGATE_BENCH_QUICK") == "1"
AUDIT_EVENTS = int(os.environ.get("ACCESSGATE_BENCH_AUDIT_EVENTS", "100000" if QUICK else "1000000"))
SECONDS = float(os.environ.get("ACCESSGATE_BENCH_SECONDS", "3" if QUICK else "8"))
CLIENTS = (1, 8, 32)
WORKERS, MANY_WORKERS = 2, 8
RESULTS = ROOT / "bench" / "results.json"

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
    "PYTHONWARNINGS": "ignore::UserWarning",
    # Production shape: requests only insert; `manage.py audit_chainer` links (started beside gunicorn).
    "ACCESSGATE_AUDIT_CHAIN_ON_COMMIT": "false",
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
    from django.db import connection, transaction

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
        # The same again with a per-file download cap, for the capped manifest.
        capped = model_create(actor=None, namespace="bench", name="capped", display_name="Capped")
        capped_policy = policy_set(
            actor=None,
            model=capped,
            terms=PolicySettings(license=licence, statements=["ok"], gating="auto", max_downloads_per_file=1_000_000),
        )
        release_create(actor=None, model=capped, version="big", files=[spec(i) for i in range(1000)])
        access_request_submit(
            actor=user,
            model=capped,
            intended_use="benchmarking the download path" * 5,
            accepted_statement_ids={s.pk for s in capped_policy.statements.all()},
            typed_name="Bench Mark",
        )
        _, secret = token_create(actor=user, name="bench")
    with connection.cursor() as cursor:  # the "audited bare" anchor's table: an audit row's shape
        cursor.execute(
            "CREATE TABLE bench_audited (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL, "
            "actor_label varchar(320) NOT NULL, action varchar(64) NOT NULL, target_id varchar(64) NOT NULL, "
            "ip inet, user_agent varchar(512) NOT NULL, details jsonb NOT NULL)"
        )
        cursor.execute("CREATE INDEX ON bench_audited (created_at)")
        cursor.execute("CREATE INDEX ON bench_audited (action)")
    return {"user": user, "token": secret}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int, workers: int, env: dict | None = None) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "accessgate.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            "--worker-class=sync",
            "--keep-alive=30",
            "--log-level=warning",
            "--graceful-timeout=3",
        ],
        cwd=ROOT,
        env={**os.environ, **ENV, **(env or {})},
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    sys.exit("gunicorn did not start")


def start_chainer() -> subprocess.Popen | None:
    """`manage.py audit_chainer` beside the web workers, as in production (if this tree has it)."""
    if not (ROOT / "accessgate" / "audit" / "management" / "commands" / "audit_chainer.py").exists():
        return None
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "audit_chainer"],
        cwd=ROOT,
        env={**os.environ, **ENV},
        stdout=subprocess.DEVNULL,
    )


def prime(port: int, path: str, headers: dict, count: int) -> None:
    """Sequential requests on fresh connections, patiently, until each worker has answered."""
    import http.client

    for _ in range(count):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", path, headers=headers)
        conn.getresponse().read()
        conn.close()


def load(url: str, headers: dict, clients: int, seconds: float = SECONDS) -> dict:
    wrk = shutil.which("wrk")
    if wrk:
        args = [
            wrk,
            f"-t{min(2, clients)}",
            f"-c{clients}",
            f"-d{max(1, round(seconds))}s",
            "--timeout=10s",
            "--latency",
            url,
        ]
        for name, value in headers.items():
            args += ["-H", f"{name}: {value}"]
        out = subprocess.run(args, capture_output=True, text=True, check=True).stdout

        def ms(label):
            match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", out, re.M)
            value, unit = float(match.group(1)), match.group(2)
            return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

        if not re.search(r"Requests/sec:\s+[1-9]", out):
            print(f"wrk got no answers from {url}:\n{out}", file=sys.stderr)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        return {
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": ms("50"),
            "p99_ms": ms("99"),
            "errors": int(non2xx.group(1)) if non2xx else 0,
            "tool": "wrk",
        }
    args = [sys.executable, str(ROOT / "bench" / "loadgen.py"), url, str(clients), str(seconds)]
    args += [f"{k}: {v}" for k, v in headers.items()]
    result = json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout)
    return {**result, "tool": "loadgen.py"}


RESOLVE = "/models/bench/model/1/files/model-00000.safetensors"


def row(name, value, detail="", *, anchor="", ratio=None, target="", met=None, **data) -> dict:
    return {
        "name": name,
        "value": value,
        "detail": detail,
        "anchor": anchor,
        "ratio": ratio,
        "target": target,
        "met": met,
        "data": data,
    }


def verdict(met) -> str:
    return "" if met is None else ("met" if met else "MISSED")


def bench_resolve(token: str) -> tuple[list[dict], str]:
    auth = {"Authorization": f"Bearer {token}"}
    paths = {"bare": ("/bench/bare", {}), "audited": ("/bench/audited", {}), "resolve": (RESOLVE, auth)}
    measured, tool = {}, ""
    for workers in (WORKERS, MANY_WORKERS):
        port = free_port()
        server = start_gunicorn(port, workers)
        chainer = start_chainer()
        try:
            base = f"http://127.0.0.1:{port}"
            # Warm-up: every worker boots, imports and connects (seconds on a loaded machine).
            for path, headers in paths.values():
                prime(port, path, headers, 4 * workers)
                for _ in range(10):
                    warm = load(base + path, headers, 8, 2)
                    if warm["rps"] > 0 and warm["p99_ms"] < 1000:
                        break
            names = paths if workers == WORKERS else ("audited", "resolve")
            for clients in CLIENTS if workers == WORKERS else (32,):
                for name in names:
                    path, headers = paths[name]
                    measured[(name, workers, clients)] = result = load(base + path, headers, clients)
                    tool = result["tool"]
        finally:
            for process in (server, chainer):
                if process is None:
                    continue
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    def lat(m):
        return f"p50 {m['p50_ms']:.1f} ms, p99 {m['p99_ms']:.1f} ms" + (
            f", {m['errors']} errors" if m["errors"] else ""
        )

    rows = []
    for clients in CLIENTS:
        bare, audited, resolve = (measured[(n, WORKERS, clients)] for n in ("bare", "audited", "resolve"))
        rows.append(row(f"bare 302, {clients} client(s)", f"{bare['rps']:,.0f} req/s", lat(bare), **bare))
        rows.append(
            row(
                f"audited bare 302, {clients} client(s)",
                f"{audited['rps']:,.0f} req/s",
                lat(audited),
                anchor="bare 302",
                ratio=audited["rps"] / max(bare["rps"], 1e-9),
                **audited,
            )
        )
        ratio = resolve["rps"] / max(audited["rps"], 1e-9)
        target, met = "", None
        if clients == 32:
            target = "≥ 60% of audited bare, p99 ≤ 2× its p99"
            met = ratio >= 0.6 and resolve["p99_ms"] <= 2 * audited["p99_ms"]
        rows.append(
            row(
                f"resolve, {clients} client(s)",
                f"{resolve['rps']:,.0f} req/s",
                lat(resolve) + f"; {resolve['rps'] / max(bare['rps'], 1e-9):.0%} of bare",
                anchor="audited bare",
                ratio=ratio,
                target=target,
                met=met,
                **resolve,
            )
        )
    two, eight = measured[("resolve", WORKERS, 32)], measured[("resolve", MANY_WORKERS, 32)]
    audited8 = measured[("audited", MANY_WORKERS, 32)]
    rows.append(
        row(
            f"audited bare 302, 32 clients, {MANY_WORKERS} workers",
            f"{audited8['rps']:,.0f} req/s",
            lat(audited8),
            **audited8,
        )
    )
    rows.append(
        row(
            f"resolve, 32 clients, {MANY_WORKERS} workers",
            f"{eight['rps']:,.0f} req/s",
            lat(eight) + f"; {eight['rps'] / max(audited8['rps'], 1e-9):.0%} of audited bare at {MANY_WORKERS} workers",
            anchor=f"resolve, {WORKERS} workers",
            ratio=eight["rps"] / max(two["rps"], 1e-9),
            target=f"≥ 1× ({MANY_WORKERS} workers never slower than {WORKERS})",
            met=eight["rps"] >= two["rps"] * 0.97,  # 3%: the noise of one run on a shared machine
            **eight,
        )
    )
    return rows, tool


def _manifest_ms(url: str, token: str) -> tuple[float, int, list[float]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client.get(url, **auth)  # warm-up
    server_ms = []
    for _ in range(5 if QUICK else 15):
        start = time.perf_counter()
        response = client.get(url, **auth)
        server_ms.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200 and len(response.json()["files"]) == 1000, response.content[:300]
    with CaptureQueriesContext(connection) as queries:
        client.get(url, **auth)
    return statistics.median(server_ms), len(queries), server_ms


def bench_manifest(token: str) -> list[dict]:
    import boto3
    from botocore.config import Config

    s3 = boto3.client(
        "s3",
        endpoint_url=ENV["ACCESSGATE_S3_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id="BENCHKEY",
        aws_secret_access_key="BENCHSECRET",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    start = time.perf_counter()
    for i in range(1000):
        s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": "weights", "Key": f"bench/model/k/{i:05d}", "ResponseContentDisposition": "attachment"},
            ExpiresIn=300,
        )
    boto_ms = (time.perf_counter() - start) * 1000
    rows = [row("1,000 × boto3 generate_presigned_url", f"{boto_ms:.0f} ms", "anchor", ms=boto_ms)]
    for label, url in (
        ("", "/models/bench/model/big/manifest"),
        (", per-file cap", "/models/bench/capped/big/manifest"),
    ):
        median, queries, samples = _manifest_ms(url, token)
        rows.append(
            row(
                f"manifest, 1,000 files{label}",
                f"{median:.0f} ms",
                f"min {min(samples):.0f}, max {max(samples):.0f} ms; {queries} queries",
                anchor="boto3 loop",
                ratio=median / boto_ms,
                target="≤ 150 ms",
                met=median <= 150,
                ms=median,
                queries=queries,
            )
        )
    return rows


OFFLOAD_MIB = 256 if QUICK else 1024


def _curl(url: str) -> float:
    """Bytes per second of one download to /dev/null."""
    out = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{speed_download}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[0] in ("200",), out
    return float(out[1])


def bench_offload() -> list[dict]:
    """A local file through the portal with X-Accel-Redirect, against nginx serving it directly."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if not nginx or not shutil.which("curl"):
        return [row("offloaded local download", "not measured", "needs nginx (nginx-light) and curl")]
    from datetime import UTC, datetime

    from accessgate.core.storage import LocalStorage

    scratch = ROOT / "var" / "bench" / "offload"
    weights = scratch / "weights"
    (weights / "bench").mkdir(parents=True, exist_ok=True)
    big = weights / "bench" / "big.bin"
    if not big.exists() or big.stat().st_size != OFFLOAD_MIB << 20:
        with open(big, "wb") as handle:
            block = os.urandom(1 << 20)
            for _ in range(OFFLOAD_MIB):
                handle.write(block)
    app_port, web_port = free_port(), free_port()
    env = {
        "ACCESSGATE_STORAGE_BACKEND": "local",
        "ACCESSGATE_LOCAL_STORAGE_ROOT": str(weights),
        "ACCESSGATE_LOCAL_OFFLOAD": "x-accel",
    }
    temp = "".join(f"{k}_temp_path {scratch}/{k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (scratch / "nginx.conf").write_text(
        f"""
master_process off;
daemon off;
worker_processes 1;
pid {scratch}/nginx.pid;
error_log {scratch}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    {temp}
    sendfile on;
    server {{
        listen 127.0.0.1:{web_port};
        location /direct/ {{ alias {weights}/; }}
        location /_weights/ {{ internal; alias {weights}/; }}
        location / {{ proxy_pass http://127.0.0.1:{app_port}; proxy_set_header Host 127.0.0.1; }}
    }}
}}
"""
    )
    server = start_gunicorn(app_port, 1, env)  # one sync worker: is it free during a transfer?
    web = subprocess.Popen([nginx, "-p", str(scratch), "-c", str(scratch / "nginx.conf")])
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", web_port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        prime(app_port, "/bench/bare", {}, 2)
        base = f"http://127.0.0.1:{web_port}"
        direct, offloaded = [], []
        for _ in range(3):
            url = LocalStorage(weights).signed_url(
                "bench/big.bin", filename="big.bin", sha256="0" * 64, ttl_seconds=300, now=datetime.now(UTC)
            )
            direct.append(_curl(f"{base}/direct/bench/big.bin"))
            offloaded.append(_curl(base + url))
        # While a download runs through the portal, its only worker still answers at once.
        transfer = subprocess.Popen(["curl", "-s", "--limit-rate", "50M", "-o", "/dev/null", base + url])
        time.sleep(0.5)
        start = time.perf_counter()
        prime(app_port, "/bench/bare", {}, 1)
        busy_ms = (time.perf_counter() - start) * 1000
        still_running = transfer.poll() is None
        transfer.wait()
    finally:
        for process in (web, server):
            process.terminate()
            process.wait(timeout=30)
    d, o = statistics.median(direct), statistics.median(offloaded)
    return [
        row(f"nginx serving {OFFLOAD_MIB} MiB directly", f"{d / 1e9:.2f} GB/s", "anchor (sendfile)", bytes_per_s=d),
        row(
            f"offloaded local download, {OFFLOAD_MIB} MiB",
            f"{o / 1e9:.2f} GB/s",
            f"X-Accel-Redirect; the only gunicorn worker answered in {busy_ms:.0f} ms during a transfer"
            + ("" if still_running else " (transfer had ended)"),
            anchor="nginx directly",
            ratio=o / d,
            target="≥ 90% of nginx, no worker busy",
            met=o >= 0.9 * d and still_running and busy_ms < 1000,
            bytes_per_s=o,
            worker_answer_ms=busy_ms,
        ),
    ]


def audit_phase(*args) -> dict:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "audit.py"), *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        sys.exit(f"bench/audit.py {' '.join(map(str, args))} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_audit() -> list[dict]:
    rows = []
    appends = {}
    for writers in (1, 8):
        plain = audit_phase("insert", writers, SECONDS)
        chained = audit_phase("append", writers, SECONDS)
        plain_rate, rate = plain["events"] / plain["seconds"], chained["events"] / chained["seconds"]
        appends[writers] = chained
        rows.append(row(f"plain INSERT, {writers} writer(s)", f"{plain_rate:,.0f} rows/s", "anchor", **plain))
        lag = (
            f"chaining lag p50 {chained['lag_p50_ms']:.0f} ms, p99 {chained['lag_p99_ms']:.0f} ms"
            if "lag_p99_ms" in chained
            else "chained inside the request's transaction"
        )
        rows.append(
            row(
                f"audit append record(), {writers} writer(s)",
                f"{rate:,.0f} events/s",
                lag,
                anchor=f"plain INSERT, {writers} writer(s)",
                ratio=rate / plain_rate,
                target="≥ 80% of plain INSERT" if writers == 8 else "",
                met=(rate / plain_rate >= 0.8) if writers == 8 else None,
                **chained,
            )
        )
        if writers == 8 and "lag_p99_ms" in chained:
            rows.append(
                row(
                    "chaining lag p99, 8 writers",
                    f"{chained['lag_p99_ms']:.0f} ms",
                    f"max {chained['lag_max_ms']:.0f} ms over {chained['chained']:,} events",
                    target="≤ 1,000 ms",
                    met=chained["lag_p99_ms"] <= 1000,
                )
            )
    filled = audit_phase("fill", AUDIT_EVENTS)
    rows.append(
        row(
            f"fill to {AUDIT_EVENTS:,} events (COPY)",
            f"{filled['seconds']:.1f} s",
            "setup, chained in Python",
            **filled,
        )
    )
    verified = audit_phase("verify")
    exported = audit_phase("export")
    copied = audit_phase("copy")
    peak_target = "≤ 150 MiB peak"
    rows.append(row(f"COPY … TO STDOUT, {copied['events']:,} events", f"{copied['seconds']:.1f} s", "anchor", **copied))
    rows.append(
        row(
            f"full export JSONL, {exported['events']:,} events",
            f"{exported['seconds']:.1f} s",
            f"peak {exported['peak_mib']:.0f} MiB (VmHWM)",
            anchor="COPY",
            ratio=exported["seconds"] / copied["seconds"],
            target=f"≤ 2× COPY, {peak_target}",
            met=exported["seconds"] <= 2 * copied["seconds"] and exported["peak_mib"] <= 150,
            **exported,
        )
    )
    scale = 1_000_000 / max(1, verified["events"])
    rows.append(
        row(
            f"verify_audit, {verified['events']:,} events",
            f"{verified['seconds']:.1f} s",
            f"peak {verified['peak_mib']:.0f} MiB (VmHWM); {verified['events'] / verified['seconds']:,.0f} events/s",
            target=f"≤ 10 s per 1M events, {peak_target}",
            met=verified["seconds"] * scale <= 10 and verified["peak_mib"] <= 150,
            **verified,
        )
    )
    return rows


def bench_dashboard() -> list[dict]:
    """bench/dashboard.py in its own process and database (fresh: its events sit relative to now)."""
    events = int(os.environ.get("ACCESSGATE_BENCH_DASHBOARD_EVENTS", "100000" if QUICK else "1000000"))
    env = os.environ | {
        "ACCESSGATE_BENCH_DASHBOARD_DATABASE_URL": os.environ.get(
            "ACCESSGATE_BENCH_DASHBOARD_DATABASE_URL", BENCH_DB + "_dashboard"
        ),
        "ACCESSGATE_BENCH_DASHBOARD_EVENTS": str(events),
    }
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "dashboard.py"), "--fresh"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        sys.exit(f"bench/dashboard.py failed:\n{out.stderr[-3000:]}")
    d = json.loads(out.stdout.strip().splitlines()[-1])
    at_scale = d["events"] >= 1_000_000
    return [
        row(
            f"staff dashboard, {d['events']:,} events",
            f"{d['median_seconds'] * 1000:,.0f} ms",
            f"max {d['max_seconds'] * 1000:,.0f} ms; downloads per day {d['parts_ms']['downloads']:.0f} ms; "
            f"first render before any rollup {d['cold_render_seconds']:.2f} s; "
            f"My downloads of a 40,000-event researcher {d['own_downloads_ms']:.0f} ms",
            target="≤ 1 s at 1M events",
            met=(d["median_seconds"] <= 1.0) if at_scale else None,
            **d,
        )
    ]


def print_table(rows: list[dict]) -> None:
    header = ("benchmark", "result", "detail", "anchor", "ratio", "target", "verdict")
    cells = [header] + [
        (
            r["name"],
            r["value"],
            r["detail"],
            r["anchor"],
            "" if r["ratio"] is None else (f"{r['ratio']:.0%}" if r["ratio"] < 1.5 else f"{r['ratio']:.1f}×"),
            r["target"],
            verdict(r["met"]),
        )
        for r in rows
    ]
    widths = [max(len(str(c[i])) for c in cells) for i in range(len(header))]
    for index, line in enumerate(cells):
        print("  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))


def markdown_table(rows: list[dict]) -> str:
    """The same table for docs/benchmarks.md."""
    lines = ["| benchmark | result | detail | anchor | ratio | target | verdict |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = "" if r["ratio"] is None else (f"{r['ratio']:.0%}" if r["ratio"] < 1.5 else f"{r['ratio']:.1f}×")
        verdict_text = {None: "", True: "met", False: "**missed**"}[r["met"]]
        cells = [r["name"], r["value"], r["detail"], r["anchor"], ratio, r["target"], verdict_text]
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def main():
    began, load_before = time.time(), os.getloadavg()
    make_signing_key()
    recreate_database()
    setup_django()
    data = seed()
    rows, tool = bench_resolve(data["token"])
    rows += bench_manifest(data["token"])
    rows += bench_offload()
    if os.environ.get("ACCESSGATE_BENCH_SKIP_AUDIT") != "1":
        rows += bench_audit()
    if os.environ.get("ACCESSGATE_BENCH_SKIP_DASHBOARD") != "1":
        rows += bench_dashboard()
    load_after = os.getloadavg()
    took = time.time() - began
    print(
        f"\naccessgate benchmarks — {WORKERS} (and {MANY_WORKERS}) gunicorn workers, {SECONDS:.0f} s per load, {tool}, "
        f"{os.cpu_count()} CPUs, load average {load_before[0]:.1f} before / {load_after[0]:.1f} after, "
        f"{took / 60:.1f} min{' (quick mode)' if QUICK else ''}\n"
    )
    print_table(rows)
    RESULTS.write_text(
        json.dumps(
            {
                "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "quick": QUICK,
                "seconds_per_load": SECONDS,
                "audit_events": AUDIT_EVENTS,
                "tool": tool,
                "cpus": os.cpu_count(),
                "load_average": {"before": load_before, "after": load_after},
                "took_seconds": took,
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    if os.environ.get("ACCESSGATE_BENCH_MARKDOWN") == "1":
        print("\n" + markdown_table(rows))
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
