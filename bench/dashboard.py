"""The staff dashboard over a large audit trail (run on its own: `python bench/dashboard.py`).

Creates (or reuses) the database ACCESSGATE_BENCH_DASHBOARD_DATABASE_URL, loads N audit events
(ACCESSGATE_BENCH_DASHBOARD_EVENTS, default 1,000,000) spread over the last 28 days, half of
them downloads of five models, plus 20,000 requests and their grants, then times the staff
dashboard's selectors for an admin (every model) and prints one JSON line. The loaded events
are NOT a valid hash chain (only the dashboard reads them); never point this at real data.
Target: the dashboard's queries answer in under 1 s at a million events. Measured (2 shared
cores, a test suite running beside it): 1.7 s median, nearly all in the downloads-per-day
aggregation over the 500,000 download events of the window; the other queries take < 30 ms.
A daily per-model download counter written with each download would remove that scan.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = os.environ.get(
    "ACCESSGATE_BENCH_DASHBOARD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/accessgate_bench_dashboard"
)
EVENTS = int(os.environ.get("ACCESSGATE_BENCH_DASHBOARD_EVENTS", "1000000"))
TARGET_SECONDS = 1.0

FILL_EVENTS = """
INSERT INTO audit_auditevent (seq, prev_hash, hash, created_at, actor_id, actor_label, action,
    target_type, target_id, target_label, ip, user_agent, details)
SELECT g, repeat('0', 64), md5(g::text) || md5((g + 1)::text),
    now() - ((g %% 2419200) * interval '1 second'), NULL, 'bench@example.org',
    CASE WHEN g %% 2 = 0 THEN 'download.url_issued' ELSE 'grant.expired' END,
    'catalog.weightfile', (g %% 1000)::text, 'model.safetensors', '198.51.100.1', 'bench/1.0',
    jsonb_build_object('model', 'bench/model-' || (g %% 5), 'size', 1000000 + g %% 1000, 'path', 'model.safetensors')
FROM generate_series(%s, %s) AS g
"""


def setup():
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": DB,
            "ACCESSGATE_DEBUG": "false",
            "ACCESSGATE_SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
            "ACCESSGATE_STORAGE_BACKEND": "local",
        }
    )
    subprocess.run(
        ["psql", DB.rsplit("/", 1)[0] + "/postgres", "-qc", f"CREATE DATABASE {DB.rsplit('/', 1)[1]}"],
        capture_output=True,
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill():
    from django.db import connection

    from accessgate.audit.models import AuditEvent, ChainHead

    have = AuditEvent.objects.count()
    if have < EVENTS:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
            cursor.execute(FILL_EVENTS, [have + 1, EVENTS])
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
            cursor.execute("ANALYZE audit_auditevent")
    last = AuditEvent.objects.order_by("-seq").first()
    ChainHead.objects.update_or_create(id=1, defaults={"seq": last.seq, "hash": last.hash})
    return AuditEvent.objects.count()


def main():
    setup()
    from django.db import transaction

    from accessgate.access.dashboard import staff_dashboard
    from accessgate.accounts.models import User
    from accessgate.accounts.roles import Role
    from accessgate.accounts.services import role_grant

    events = fill()
    admin = User.objects.filter(email="bench-admin@example.org").first()
    if admin is None:
        admin = User.objects.create_user(email="bench-admin@example.org", password=None)
    with transaction.atomic():
        role_grant(actor=None, user=admin, role=Role.ADMIN)  # idempotent
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        data = staff_dashboard(admin)
        timings.append(time.perf_counter() - start)
    result = {
        "events": events,
        "median_seconds": statistics.median(timings),
        "max_seconds": max(timings),
        "download_rows": len(data.downloads),
        "target_seconds": TARGET_SECONDS,
        "ok": statistics.median(timings) <= TARGET_SECONDS,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
