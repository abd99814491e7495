"""JSON request bodies, bounded before they are parsed.

Python's parser recurses once per nesting level, so a few kilobytes of `[[[[…` exhaust the
stack; a body of many megabytes costs memory and time however shallow it is. `load_json`
refuses both before `json.loads` sees the bytes, and refuses a control character (NUL above
all) in any decoded string or key, which no field of ours accepts and which PostgreSQL cannot
store. Every JSON reader goes through it: the REST API's parser (`api/v1/parsers.py`), the
browser upload's steps, the Hugging Face endpoints and the Stripe webhook.
"""

import json
import re
from itertools import accumulate
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from accessgate.core.errors import TooLarge, ValidationFailed
from accessgate.core.text import character_name

# A JSON string literal, matched without backtracking (possessive quantifiers), so the depth
# count below only sees brackets that are structure, not text.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_OPEN = frozenset(b"[{")
# C0 controls except tab and line breaks, and DEL: what form fields refuse too (http_guards).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def max_bytes() -> int:
    return int(settings.ACCESSGATE_JSON_MAX_BYTES)


def max_depth() -> int:
    return int(settings.ACCESSGATE_JSON_MAX_DEPTH)


def nesting_depth(raw: bytes) -> int:
    """How deep arrays and objects nest in `raw`, counted without parsing it (linear time)."""
    structure = _STRING.sub(b"", raw).translate(None, _NOT_BRACKET)
    return max(accumulate(1 if byte in _OPEN else -1 for byte in structure), default=0)


def check_json_bytes(raw: bytes) -> None:
    """Refuse a body over the size limit (TooLarge, 413) or nested deeper than the depth limit
    (ValidationFailed, 400), without parsing it."""
    if len(raw) > max_bytes():
        raise TooLarge(
            _("The JSON body is larger than %(limit)s bytes.") % {"limit": max_bytes()},
        )
    if nesting_depth(raw) > max_depth():
        raise ValidationFailed(
            _("The JSON body nests deeper than %(limit)s levels.") % {"limit": max_depth()},
        )


def _control_in(value: object) -> str:
    """The first control character in any string or key of a parsed document ("" when there is
    none; iterative: the document is already known to be shallow, but no recursion is needed)."""
    stack: list[object] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if found := _CONTROL.search(item):
                return found.group()
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return ""


def load_json(raw: bytes | str, *, empty: Any = None) -> Any:
    """The parsed body, or ValidationFailed/TooLarge with a message the client can act on.
    `empty` is what an empty body means (None: it is refused like any other invalid JSON)."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    check_json_bytes(raw)
    if empty is not None and not raw.strip():
        return empty
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise ValidationFailed(_("The body is not valid JSON.")) from error
    if control := _control_in(data):
        raise ValidationFailed(
            _("The JSON body contains a control character (%(character)s) in a string.")
            % {"character": character_name(control)}
        )
    return data
