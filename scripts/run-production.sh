#!/usr/bin/env bash
# The production shape on one machine: gunicorn + a Celery worker + Celery beat + the audit
# chainer (links audit events into the hash chain, see docs/audit.md), against
# PostgreSQL and Redis, with DEBUG off. `make prod` runs it; see docs/deploying.md.
#
# Required: DATABASE_URL (postgres://…), CACHE_URL (redis://…/0), CELERY_BROKER_URL
# (redis://…/1), ACCESSGATE_SECRET_KEY, ACCESSGATE_ALLOWED_HOSTS, ACCESSGATE_SITE_URL and
# ACCESSGATE_AUDIT_SIGNING_KEY(_FILE). Optional: PORT (8000), WEB_CONCURRENCY, EMAIL_URL,
# the storage and identity settings of the configuration table.
# More machines = more of these same processes on the same database, broker and bucket
# (run beat on ONE machine only: ACCESSGATE_RUN_BEAT=0 on the others).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
BIN="$(dirname "$PY")"
export ACCESSGATE_DEBUG=0
export ACCESSGATE_CELERY_EAGER=0

for var in DATABASE_URL CACHE_URL CELERY_BROKER_URL ACCESSGATE_SECRET_KEY ACCESSGATE_ALLOWED_HOSTS; do
  if [ -z "${!var:-}" ]; then echo "run-production: $var must be set" >&2; exit 2; fi
done
case "$DATABASE_URL" in postgres*) ;; *) echo "run-production: DATABASE_URL must be PostgreSQL" >&2; exit 2;; esac
case "$CACHE_URL" in redis*) ;; *) echo "run-production: CACHE_URL must be Redis (shared by every process)" >&2; exit 2;; esac

"$PY" manage.py migrate --noinput
"$PY" manage.py collectstatic --noinput -v 0
"$PY" manage.py check --deploy --fail-level WARNING

pids=()
stop() {
  trap - TERM INT EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait
}
trap stop TERM INT EXIT

"$BIN/gunicorn" -c scripts/gunicorn.conf.py accessgate.wsgi:application &
pids+=($!)
"$BIN/celery" -A accessgate worker --loglevel INFO --concurrency "${CELERY_CONCURRENCY:-2}" &
pids+=($!)
"$PY" manage.py audit_chainer &
pids+=($!)
if [ "${ACCESSGATE_RUN_BEAT:-1}" = 1 ]; then
  "$BIN/celery" -A accessgate beat --loglevel INFO &
  pids+=($!)
fi
# Any process ending ends the whole shape (a supervisor or systemd restarts it).
wait -n
