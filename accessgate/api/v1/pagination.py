from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    """Opaque `?cursor=` links in `next`/`previous`; stable while rows are added."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"


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
