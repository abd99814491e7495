"""Logging helpers: the request id on every record, JSON lines, and no signed tokens in logs."""

import json
import logging
import re
from datetime import UTC, datetime

from accessgate.http_guards import RequestIdFilter  # noqa: F401 (referenced by LOGGING)

# /dl/<signed token>/<file name>: the token is a bearer credential until it expires.
DL_TOKEN = re.compile(r"/dl/[^/\s?\"]+/")
REDACTED = "/dl/[redacted]/"


def redact(text: str) -> str:
    return DL_TOKEN.sub(REDACTED, text)


class RedactTokensFilter(logging.Filter):
    """Rewrites `/dl/<token>/` to `/dl/[redacted]/` in a record's message and arguments
    (runserver's `django.server` access log passes the request line as an argument)."""

    def filter(self, record):
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.args:
            if isinstance(record.args, tuple):
                record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
            elif isinstance(record.args, dict):
                record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        request = getattr(record, "request", None)
        if request is not None and not isinstance(request, str) and hasattr(request, "path"):
            # django.request records carry the request; its repr names the path.
            record.request = redact(repr(request))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, and the exception."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        status = getattr(record, "status_code", None)
        if status is not None:
            entry["status"] = status
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def scrub_sentry_event(event: dict) -> dict:
    """Sentry's `before_send`: no signed /dl/ token in the reported URL or breadcrumbs."""
    request = event.get("request") or {}
    for key in ("url", "query_string"):
        if isinstance(request.get(key), str):
            request[key] = redact(request[key])
    for crumb in (event.get("breadcrumbs") or {}).get("values", []):
        if isinstance(crumb.get("message"), str):
            crumb["message"] = redact(crumb["message"])
    return event
