"""Audit trail benchmarks; each phase runs in its own process so its peak memory is its own.

usage: python bench/audit.py PHASE [ARGS]    (prints one JSON line)
  append W S   record() from W writer processes for S seconds, each event in its own
               transaction as the product does; the chainer runs beside them and the lag of
               every event (committed → linked into the chain) is measured
  insert W S   the anchor: plain INSERTs of a row of the same shape, W processes, S seconds
  fill N       bulk-load chained events (COPY) until the trail holds N events
  verify       manage.py verify_audit's check over the whole trail
  export       a full JSON Lines export (stream, hash, store, sign)
  copy         PostgreSQL's own COPY (SELECT … ORDER BY seq) TO STDOUT of the same rows

Peak memory is VmHWM of the process that did the work, read from /proc/self/status.
"""

import json
import multiprocessing
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_mib() -> float:
    """VmHWM (peak resident set) of this process, not of its parent or children."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def setup():
    from bench.run import ENV

    os.environ.update(ENV)
    # The resolve bench's S3 endpoint is never contacted; exports really store a file.
    os.environ["ACCESSGATE_STORAGE_BACKEND"] = "local"
    import django

    django.setup()


def _chainer_module():
    try:
        from accessgate.audit import chainer
    except ImportError:  # a tree whose record() links the chain itself
        return None
    return chainer


def _writer(kind: str, seconds: float, ready, go, counts, index: int) -> None:
    from django.db import connection, connections, transaction

    from accessgate.audit.actions import AuditAction
    from accessgate.audit.context import RequestMeta
    from accessgate.audit.services import record
    from bench.urls import AUDITED_INSERT

    connections.close_all()
    meta = RequestMeta(ip="198.51.100.1", user_agent="bench/1.0")
    connection.ensure_connection()
    ready.release()
    go.wait()
    deadline, n = time.perf_counter() + seconds, 0
    while time.perf_counter() < deadline:
        if kind == "record":
            with transaction.atomic():
                record(
                    actor=None,
                    action=AuditAction.DOWNLOAD_URL_ISSUED,
                    meta=meta,
                    path=f"w{index}-{n}",
                    size=n,
                    ttl_seconds=300,
                )
        else:
            with connection.cursor() as cursor:
                cursor.execute(AUDITED_INSERT, ["bench@example.org", str(n), "198.51.100.1", "bench/1.0", "{}"])
        n += 1
    counts.put(n)


def _chainer_loop(stop, lags) -> None:
    """The product's chainer loop, with every event's lag (commit of its batch − created_at)."""
    from django.db import connections

    connections.close_all()
    chainer = _chainer_module()
    mine = []

    def on_batch(result):
        now = datetime.now(UTC)
        mine.extend((now - created).total_seconds() * 1000 for created in result.created)

    chainer.run(should_stop=lambda: stop.is_set() and chainer.pending_count() == 0, on_batch=on_batch)
    lags.put(mine)


def writers(kind: str, count: int, seconds: float) -> dict:
    from django.db import connections

    if kind == "record" and _chainer_module() is not None:
        _chainer_module().chain_all()  # what earlier phases left: not this run's lag
    connections.close_all()
    context = multiprocessing.get_context("fork")
    ready, go, stop = context.Semaphore(0), context.Event(), context.Event()
    counts, lags = context.Queue(), context.Queue()
    procs = [context.Process(target=_writer, args=(kind, seconds, ready, go, counts, i)) for i in range(count)]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.acquire()
    chainer = None
    if kind == "record" and _chainer_module() is not None:
        chainer = context.Process(target=_chainer_loop, args=(stop, lags))
        chainer.start()
    start = time.perf_counter()
    go.set()
    total = sum(counts.get() for _ in procs)
    elapsed = time.perf_counter() - start
    for proc in procs:
        proc.join()
    result = {"events": total, "seconds": elapsed, "writers": count}
    if chainer is not None:
        stop.set()
        values = sorted(lags.get())
        chainer.join()
        if values:
            result["lag_p50_ms"] = values[len(values) // 2]
            result["lag_p99_ms"] = values[min(len(values) - 1, int(len(values) * 0.99))]
            result["lag_max_ms"] = values[-1]
            result["chained"] = len(values)
    return result


def fill(target: int) -> dict:
    """Chain events in Python with the product's hashing rule and COPY them in."""
    from django.db import connection, transaction

    from accessgate.audit.chain import chain_hash, event_payload, export_line
    from accessgate.audit.models import ChainHead

    chainer = _chainer_module()
    if chainer is not None:  # link whatever the append phase left
        while chainer.chain_pending().count:
            pass

    class Event:
        pass

    start = time.perf_counter()
    with transaction.atomic():
        head = ChainHead.objects.select_for_update().get(id=1)
        seq, prev = head.seq, head.hash
        moment = datetime.now(UTC) - timedelta(days=30)
        columns = (
            "seq, prev_hash, hash, created_at, actor_id, actor_label, action, target_type, target_id, "
            "target_label, ip, user_agent, details, line"
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
                payload = event_payload(event)
                digest = chain_hash(prev, payload)
                copy.write_row(
                    (
                        seq, prev, digest, event.created_at, None, event.actor_label, event.action,
                        event.target_type, event.target_id, event.target_label, event.ip, event.user_agent,
                        json.dumps(event.details), export_line(payload, prev, digest),
                    )
                )  # fmt: skip
                prev = digest
        ChainHead.objects.filter(id=1).update(seq=seq, hash=prev)
    with connection.cursor() as cursor:  # as autovacuum would soon: plans need the new row count
        cursor.execute("ANALYZE audit_auditevent")
    return {"events": seq, "seconds": time.perf_counter() - start}


def verify() -> dict:
    from accessgate.audit.verification import verify_chain

    start = time.perf_counter()
    result = verify_chain()
    assert result.ok, result.summary()
    return {"events": result.checked, "seconds": time.perf_counter() - start}


def export() -> dict:
    from accessgate.audit.exports import audit_export_run
    from accessgate.audit.models import AuditExport

    job = AuditExport.objects.create(requested_by_label="bench", is_full=True)
    start = time.perf_counter()
    job = audit_export_run(job)
    return {"events": job.manifest["row_count"], "seconds": time.perf_counter() - start}


def copy_out() -> dict:
    from django.db import connection

    start, size, rows = time.perf_counter(), 0, 0
    query = (
        "COPY (SELECT seq, created_at, actor_id, actor_label, action, target_type, target_id, target_label, "
        "ip, user_agent, details, prev_hash, hash FROM audit_auditevent WHERE seq IS NOT NULL ORDER BY seq) TO STDOUT"
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
        "append": lambda: writers("record", int(sys.argv[2]), float(sys.argv[3])),
        "insert": lambda: writers("insert", int(sys.argv[2]), float(sys.argv[3])),
        "fill": lambda: fill(int(sys.argv[2])),
        "verify": verify,
        "export": export,
        "copy": copy_out,
    }[phase]()
    result["peak_mib"] = peak_mib()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
