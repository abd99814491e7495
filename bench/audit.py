"""Audit trail benchmarks; each phase runs in its own process so its peak memory is its own.

usage: python bench/audit.py PHASE [N]    (prints one JSON line)
  append N   record() N events, each in its own transaction, as the product does
  fill N     bulk-load chained events (COPY) until the trail holds N events
  verify     manage.py verify_audit's check over the whole trail
  export     a full JSON Lines export (stream, hash, store, sign)
  copy       PostgreSQL's own COPY (SELECT … ORDER BY seq) TO STDOUT of the same rows
"""

import json
import os
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup():
    from bench.run import ENV

    os.environ.update(ENV)
    # The resolve bench's S3 endpoint is never contacted; exports really store a file.
    os.environ["ACCESSGATE_STORAGE_BACKEND"] = "local"
    import django

    django.setup()


def append(n: int) -> dict:
    from django.db import transaction

    from accessgate.audit.actions import AuditAction
    from accessgate.audit.context import RequestMeta
    from accessgate.audit.services import record

    meta = RequestMeta(ip="198.51.100.1", user_agent="bench/1.0")
    start = time.perf_counter()
    for i in range(n):
        with transaction.atomic():
            record(actor=None, action=AuditAction.DOWNLOAD_URL_ISSUED, meta=meta, path=f"f{i}", size=i, ttl_seconds=300)
    return {"events": n, "seconds": time.perf_counter() - start}


def fill(target: int) -> dict:
    """Chain events in Python with the product's hashing rule and COPY them in."""
    from django.db import connection, transaction

    from accessgate.audit.chain import chain_hash, event_payload
    from accessgate.audit.models import ChainHead

    class Event:
        pass

    start = time.perf_counter()
    with transaction.atomic():
        head = ChainHead.objects.select_for_update().get(id=1)
        seq, prev = head.seq, head.hash
        moment = datetime.now(UTC) - timedelta(days=30)
        columns = (
            "seq, prev_hash, hash, created_at, actor_id, actor_label, action, target_type, target_id, "
            "target_label, ip, user_agent, details"
        )
        with connection.cursor() as cursor, cursor.copy(f"COPY audit_auditevent ({columns}) FROM STDIN") as copy:
            while seq < target:
                seq += 1
                event = Event()
                event.seq, event.created_at, event.actor_id = seq, moment + timedelta(microseconds=seq), None
                event.actor_label, event.action = "bench@example.org", "download.url_issued"
                event.target_type, event.target_id = "catalog.weightfile", str(seq % 1000)
                event.target_label, event.ip, event.user_agent = (
                    f"model-{seq % 1000:05d}.safetensors",
                    "198.51.100.1",
                    "bench/1.0",
                )
                event.details = {"path": f"model-{seq % 1000:05d}.safetensors", "size": 1 << 30, "ttl_seconds": 300}
                digest = chain_hash(prev, event_payload(event))
                copy.write_row(
                    (
                        seq, prev, digest, event.created_at, None, event.actor_label, event.action,
                        event.target_type, event.target_id, event.target_label, event.ip, event.user_agent,
                        json.dumps(event.details),
                    )
                )  # fmt: skip
                prev = digest
        ChainHead.objects.filter(id=1).update(seq=seq, hash=prev)
    return {"events": seq, "seconds": time.perf_counter() - start}


def verify() -> dict:
    from accessgate.audit.verification import verify_chain

    start = time.perf_counter()
    result = verify_chain()
    assert result.ok, result.summary()
    return {"events": result.checked, "seconds": time.perf_counter() - start}


def export() -> dict:
    from accessgate.audit.models import AuditExport
    from accessgate.audit.services import audit_export_run

    job = AuditExport.objects.create(requested_by_label="bench", is_full=True)
    start = time.perf_counter()
    job = audit_export_run(job)
    return {"events": job.manifest["row_count"], "seconds": time.perf_counter() - start}


def copy_out() -> dict:
    from django.db import connection

    start, size, rows = time.perf_counter(), 0, 0
    query = (
        "COPY (SELECT seq, created_at, actor_id, actor_label, action, target_type, target_id, target_label, "
        "ip, user_agent, details, prev_hash, hash FROM audit_auditevent ORDER BY seq) TO STDOUT"
    )
    with connection.cursor() as cursor, cursor.copy(query) as copy, open(os.devnull, "wb") as sink:
        for block in copy:
            size += len(block)
            rows += bytes(block).count(b"\n")
            sink.write(block)
    return {"events": rows, "seconds": time.perf_counter() - start, "bytes": size}


def main():
    phase = sys.argv[1]
    setup()
    result = {
        "append": lambda: append(int(sys.argv[2])),
        "fill": lambda: fill(int(sys.argv[2])),
        "verify": verify,
        "export": export,
        "copy": copy_out,
    }[phase]()
    result["peak_mib"] = peak_mib()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
