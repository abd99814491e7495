"""The API's one JSON parser: the body is bounded in size and depth before it is parsed, and a
control character in any string is refused (accessgate.core.json_body)."""

from rest_framework import exceptions
from rest_framework.parsers import JSONParser

from accessgate.core import json_body
from accessgate.core.errors import TooLarge, ValidationFailed


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "payload_too_large"
    default_detail = "The request body is too large."


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = json_body.max_bytes()
        # Read one byte past the limit: enough to know it is exceeded, never the whole body.
        raw = stream.read(limit + 1) if stream is not None else b""
        try:
            return json_body.load_json(raw)
        except TooLarge as error:
            raise PayloadTooLarge(error.message) from error
        except ValidationFailed as error:
            raise exceptions.ParseError(error.message) from error
