"""Dates in messages, written the way the active language writes them."""

from datetime import date, datetime

from django.utils import formats, timezone


def local_date(value: date | datetime) -> str:
    """A date, or an aware datetime's day in the current time zone, in the locale's DATE_FORMAT."""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "DATE_FORMAT")
