"""The staff dashboard over a large audit trail (`make bench` runs it; alone: `python bench/dashboard.py`).

Creates (or reuses; `--fresh` drops it first) the database ACCESSGATE_BENCH_DASHBOARD_DATABASE_URL
and loads N audit events (ACCESSGATE_BENCH_DASHBOARD_EVENTS, default 1,000,000), one a second
back from now (a million cover the last 11.6 days: 43,200 downloads a day), half of them
downloads of five models (a fifth of those manifests of four files), 40,000 of them by one
researcher; plus 20,000 requests (4,000 people × five models, over 16 weeks) and grants for the
approved. Then it times, for an admin (every model): the first render with no rollup built
(the dashboard builds the window's closed days itself), the celery-beat build of the rest, the
render (median of 5, the target), each of its reads, the live part at its largest (a whole day),
and the heavy researcher's "My downloads"; it prints one JSON line. The loaded events are NOT a
valid hash chain (only the dashboard reads them); never point this at real data.

Target: the dashboard renders its data in under 1 s at a million events. Before the
rollup (same data, load average 6.9): 0.94 s median, 0.93 s of it the downloads-per-day
aggregation over the window's download events; the heavy researcher's page 253 ms. After (load
average 7–10): 0.05–0.10 s; downloads 23–37 ms; the researcher's page 12–17 ms.
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

# Half the events are downloads of five models (a fifth of those manifests of four files);
# one researcher issued 40,000 of them (their "My downloads" page is measured too).
FILL_EVENTS = """
INSERT INTO audit_auditevent (seq, prev_hash, hash, created_at, actor_id, actor_label, action,
    target_type, target_id, target_label, ip, user_agent, details)
SELECT g, repeat('0', 64), md5(g::text) || md5((g + 1)::text),
    now() - ((g %% 2419200) * interval '1 second'),
    CASE WHEN g %% 50 IN (0, 2) THEN %(heavy)s END, 'bench@example.org',
    CASE WHEN g %% 10 = 0 THEN 'download.manifest_issued'
         WHEN g %% 2 = 0 THEN 'download.url_issued' ELSE 'grant.expired' END,
    'catalog.weightfile', (g %% 1000)::text, 'model.safetensors', '198.51.100.1', 'bench/1.0',
    CASE WHEN g %% 10 = 0
        THEN jsonb_build_object('model', 'bench/model-' || (g / 7 %% 5), 'file_count', 4,
            'total_bytes', 4000000 + g %% 1000, 'paths', jsonb_build_array('a', 'b', 'c', 'd'))
        ELSE jsonb_build_object('model', 'bench/model-' || (g / 7 %% 5), 'size', 1000000 + g %% 1000,
            'path', 'model.safetensors') END
FROM generate_series(%(first)s, %(last)s) AS g
"""
REQUESTS = 20_000


def setup(fresh: bool = False):
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": DB,
            "ACCESSGATE_DEBUG": "false",
            "ACCESSGATE_SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
            "ACCESSGATE_STORAGE_BACKEND": "local",
        }
    )
    server, name = DB.rsplit("/", 1)
    if fresh:  # the events are placed relative to now: an old fill would leave the window empty
        subprocess.run(["psql", server + "/postgres", "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])
    subprocess.run(["psql", server + "/postgres", "-qc", f'CREATE DATABASE "{name}"'], capture_output=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(heavy_id: int) -> int:
    from django.db import connection

    from accessgate.audit.models import AuditEvent, ChainHead

    have = AuditEvent.objects.count()
    if have < EVENTS:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
            cursor.execute(FILL_EVENTS, {"heavy": heavy_id, "first": have + 1, "last": EVENTS})
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
            cursor.execute("ANALYZE audit_auditevent")
    last = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").first()
    ChainHead.objects.update_or_create(id=1, defaults={"seq": last.seq, "hash": last.hash})
    return AuditEvent.objects.count()


def fill_requests() -> int:
    """20,000 requests (4,000 people × the five models) over 16 weeks, with grants for the approved."""
    import random
    from datetime import timedelta

    from django.db import connection, transaction
    from django.utils import timezone

    from accessgate.access.models import AccessRequest, Grant, GrantStatus, RequestStatus
    from accessgate.accounts.models import User
    from accessgate.catalog.models import Model
    from accessgate.catalog.services import model_create

    if AccessRequest.objects.count() >= REQUESTS:
        return AccessRequest.objects.count()
    rng, now = random.Random(15), timezone.now()
    with transaction.atomic():
        models = [
            Model.objects.filter(namespace="bench", name=f"model-{i}").first()
            or model_create(actor=None, namespace="bench", name=f"model-{i}", display_name=f"Bench {i}")
            for i in range(5)
        ]
        people = User.objects.bulk_create(
            [User(email=f"person-{i}@example.org", username=f"person-{i}") for i in range(REQUESTS // 5)]
        )
        statuses = [RequestStatus.APPROVED] * 5 + [RequestStatus.REJECTED] * 2 + [RequestStatus.WITHDRAWN] * 2
        requests = []
        for person in people:
            for model in models:
                submitted = now - timedelta(seconds=rng.randrange(16 * 7 * 86400))
                status = RequestStatus.SUBMITTED if rng.random() < 0.1 else rng.choice(statuses)
                decided = (
                    None if status == RequestStatus.SUBMITTED else submitted + timedelta(hours=rng.expovariate(1 / 30))
                )
                requests.append(
                    AccessRequest(
                        user=person,
                        model=model,
                        status=status,
                        intended_use="bench",
                        created_at=submitted,
                        submitted_at=submitted,
                        decided_at=decided,
                    )
                )
        AccessRequest.objects.bulk_create(requests, batch_size=2000)
        Grant.objects.bulk_create(
            [
                Grant(
                    user_id=r.user_id,
                    model_id=r.model_id,
                    request=r,
                    granted_at=r.decided_at,
                    expires_at=r.decided_at + timedelta(days=rng.choice([30, 90, 365])),
                    status=GrantStatus.ACTIVE,
                )
                for r in requests
                if r.status == RequestStatus.APPROVED
            ],
            batch_size=2000,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return AccessRequest.objects.count()


def timed(function, *args, runs: int = 5, **kwargs) -> tuple[float, float, object]:
    timings, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings), max(timings), result


def _rollup_module():
    try:
        from accessgate.access.reporting import download_rollup
    except ImportError:  # before the rollup existed (for a before/after comparison)
        return None
    return download_rollup


def main():
    setup(fresh="--fresh" in sys.argv)
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from accessgate.access import dashboard
    from accessgate.accounts.models import User
    from accessgate.accounts.roles import Role
    from accessgate.accounts.services import role_grant

    admin = User.objects.filter(email="bench-admin@example.org").first()
    if admin is None:
        admin = User.objects.create_user(email="bench-admin@example.org", password=None)
    heavy = User.objects.filter(email="bench-heavy@example.org").first()
    if heavy is None:
        heavy = User.objects.create_user(email="bench-heavy@example.org", password=None)
    with transaction.atomic():
        role_grant(actor=None, user=admin, role=Role.ADMIN)  # idempotent
    events = fill(heavy.pk)
    requests = fill_requests()
    result = {"events": events, "requests": requests, "load_average": os.getloadavg()}
    rollup = _rollup_module()
    if rollup is not None:
        from accessgate.access.models import DownloadDay, DownloadDayBuilt

        # Cold: celery-beat never ran, the first render builds the window's closed days itself.
        DownloadDayBuilt.objects.all().delete()
        DownloadDay.objects.all().delete()
        result["cold_render_seconds"] = timed(dashboard.staff_dashboard, admin, runs=1)[0]
        # What celery-beat does: every closed day of the last 35 not built yet.
        seconds, _, built = timed(rollup.download_rollup_build_missing, runs=1)
        result |= {"rollup_build_seconds": seconds, "rollup_days_built": built}
        # The live part at its largest: a whole day plus the settling minutes after midnight.
        live = rollup.download_events(timezone.now() - timedelta(days=1) - rollup.SETTLE)
        result["live_full_day_ms"] = round(
            timed(lambda: list(rollup.files_and_bytes(live, "day", "model_key")))[0] * 1000, 1
        )
    median_s, max_s, data = timed(dashboard.staff_dashboard, admin)
    result |= {"median_seconds": median_s, "max_seconds": max_s, "download_rows": len(data.downloads)}
    # Each of the dashboard's reads on its own, to see which one scans.
    models, now = dashboard.dashboard_models(admin), timezone.now()
    from accessgate.access.models import AccessRequest, Grant

    parts = {
        "requests_per_week": (dashboard._requests_per_week, AccessRequest.objects.all(), now),
        "decision_times": (dashboard._decision_times, AccessRequest.objects.all(), now),
        "queue_by_age": (dashboard._queue_by_age, AccessRequest.objects.all(), now),
        "downloads": (dashboard._downloads, models, now),
        "grants": (dashboard._grants, Grant.objects.all(), now),
    }
    result["parts_ms"] = {name: round(timed(f, *args)[0] * 1000, 1) for name, (f, *args) in parts.items()}
    own_s, _, own = timed(dashboard.own_downloads, heavy)
    result |= {"own_downloads_ms": round(own_s * 1000, 1), "own_files_30d": sum(f for f, _ in own["days"].values())}
    result |= {"target_seconds": TARGET_SECONDS, "ok": median_s <= TARGET_SECONDS}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
