"""Cursor pagination whose cursors are checked before they reach a query.

DRF decodes `?cursor=` (base64 of `o=<offset>&r=<reverse>&p=<position>`) and refuses bad
base64, offsets and flags itself; the position goes into `filter(<ordering field>__gt=p)` as
it came. `Cursor` parses it with the ordering field's own `to_python` and bounds it (integers
fit a 64-bit column, text has no control character, a timestamp is a real, aware one), so any
cursor a client makes up answers DRF's 404 "Invalid cursor", never a server error.
"""

import re
from datetime import UTC, datetime

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.utils import timezone
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor as CursorValue
from rest_framework.pagination import CursorPagination

# The cursors we issue are well under 200 characters.
MAX_CURSOR_LENGTH = 1000
INT64 = range(-(2**63), 2**63)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _field(model, path: str):
    """The model field an ordering names (`-submitted_at`, `model__namespace`), or None."""
    field = None
    for part in path.lstrip("-").split("__"):
        try:
            field = model._meta.get_field(part)
        except (FieldDoesNotExist, AttributeError):
            return None
        model = field.related_model or model
    return field


class Cursor(CursorPagination):
    """Opaque `?cursor=` links in `next`/`previous`; stable while rows are added."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def paginate_queryset(self, queryset, request, view=None):
        self._cursor_model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is not None and len(encoded) > MAX_CURSOR_LENGTH:
            raise NotFound(self.invalid_cursor_message)
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        position = self._position(cursor.position)
        return CursorValue(offset=cursor.offset, reverse=cursor.reverse, position=position)

    def _position(self, raw: str):
        if CONTROL.search(raw):
            raise NotFound(self.invalid_cursor_message)
        field = _field(getattr(self, "_cursor_model", None), self.ordering[0])
        if field is None:
            return raw
        try:
            value = field.to_python(raw)
        except ValidationError as error:
            raise NotFound(self.invalid_cursor_message) from error
        if isinstance(value, int) and value not in INT64:
            raise NotFound(self.invalid_cursor_message)
        if isinstance(value, datetime) and timezone.is_naive(value):
            value = timezone.make_aware(value, UTC)
        return value


class OldestFirst(Cursor):
    ordering = ("submitted_at", "id")  # type: ignore[assignment]  # DRF takes a tuple; the stubs say str


class NewestGrantFirst(Cursor):
    ordering = ("-granted_at", "-id")  # type: ignore[assignment]  # DRF takes a tuple; the stubs say str


class ByName(Cursor):
    ordering = ("namespace", "name")  # type: ignore[assignment]  # DRF takes a tuple; the stubs say str


class EventCursor(Cursor):
    """Audit events by `seq`, newest first; `?after_seq=N` walks forward from N instead."""

    ordering = "-seq"

    def get_ordering(self, request, queryset, view):
        return ("seq",) if request.query_params.get("after_seq") else ("-seq",)
