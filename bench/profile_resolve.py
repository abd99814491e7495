"""Where one resolve's time goes, in-process (no HTTP, no load generator).

usage: python bench/profile_resolve.py [N]     (default 1,000 requests; needs PostgreSQL)
Uses ACCESSGATE_BENCH_DATABASE_URL (recreated, like `make bench`). Prints the mean time of
a resolve through Django's test client, the database round trips per resolve, and the
functions that take the most cumulative time.
"""

import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    from bench import run

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    run.make_signing_key()
    run.recreate_database()
    run.setup_django()
    data = run.seed()
    from django.db import connection
    from django.test import Client

    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {data['token']}"}
    for _ in range(50):  # warm-up
        assert client.get(run.RESOLVE, **auth).status_code == 302
    statements = []

    def spy(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        client.get(run.RESOLVE, **auth)
    start = time.perf_counter()
    for _ in range(count):
        client.get(run.RESOLVE, **auth)
    mean_ms = (time.perf_counter() - start) * 1000 / count
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        client.get(run.RESOLVE, **auth)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(r"accessgate|django/db|psycopg", 30)
    print(f"resolve in-process: {mean_ms:.2f} ms mean over {count}; its statements (+ BEGIN/COMMIT):")
    for sql in statements:
        print(f"  {sql[:120]}")
    print(out.getvalue())
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
