"""Where weight files and audit exports live: one interface, a local and an S3 backend.

The public surface is re-exported here; `backends` holds the implementations and `sigv4`
the S3 presigner they share.
"""

from .backends import (
    CHUNK,
    S3_MAX_TTL,
    LocalStorage,
    S3Storage,
    Storage,
    StoredObject,
    build_storage,
    content_disposition,
    get_storage,
    sha256_of,
    storage_options,
)

__all__ = [
    "CHUNK",
    "S3_MAX_TTL",
    "LocalStorage",
    "S3Storage",
    "Storage",
    "StoredObject",
    "build_storage",
    "content_disposition",
    "get_storage",
    "sha256_of",
    "storage_options",
]
