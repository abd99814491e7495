"""Where weight files live: a small interface with a local and an S3 backend.

Both hand out time-limited URLs; neither URL is ever stored. Chosen by
`ACCESSGATE_STORAGE_BACKEND` (`local`, the embedded default, or `s3`).
"""

import hashlib
import json
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from django.conf import settings
from django.core import signing
from django.urls import reverse

from . import multipart
from .sigv4 import Presigner

CHUNK = 1024 * 1024
S3_MAX_TTL = 7 * 24 * 3600  # SigV4 presigned URLs cannot live longer
LOCAL_TOKEN_SALT = "accessgate.downloads.local"


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int


def content_disposition(filename: str) -> str:
    """`attachment` per RFC 6266: an ASCII `filename` fallback (no control characters,
    quotes or backslashes) and, when the name is not plain ASCII, `filename*=UTF-8''…`."""
    if filename and filename.isascii() and filename.isprintable() and '"' not in filename and "\\" not in filename:
        return f'attachment; filename="{filename}"'  # the common case, without the loops below
    name = "".join(ch for ch in filename if ch >= " " and ch != "\x7f") or "download"
    fallback = "".join(ch if " " <= ch < "\x7f" and ch not in '"\\' else "_" for ch in name)
    if fallback == name:
        return f'attachment; filename="{fallback}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def sha256_of(stream: BinaryIO, progress: Callable[[int], None] | None = None) -> tuple[str, int]:
    """Hash a stream chunk by chunk; never holds more than one chunk in memory."""
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if progress:
            progress(len(chunk))
    return digest.hexdigest(), size


class Storage:
    name = "base"
    max_ttl = S3_MAX_TTL

    def signed_url(self, key: str, *, filename: str, sha256: str, ttl_seconds: int, now: datetime) -> str:
        raise NotImplementedError

    def signer(self, *, now: datetime) -> Callable[..., str]:
        """`signed_url` for many files at one moment (a manifest); backends that can share
        work between the URLs (S3: the signing context) override it."""
        return lambda key, **kwargs: self.signed_url(key, now=now, **kwargs)

    def put_file(
        self, key: str, source: Path, *, sha256: str = "", progress: Callable[[int], None] | None = None
    ) -> None:
        """Store the file under `key`. With `sha256` (the caller hashed the file), the store
        records it so that `stored_sha256` can vouch for the object later; `progress` is
        called with each batch of bytes stored."""
        raise NotImplementedError

    def stored_sha256(self, key: str) -> tuple[int, str] | None:
        """(size, sha256) of the stored object as recorded by `put_file`, if the record can
        still be trusted; None when absent or unvouched. Resumed imports skip on this only."""
        raise NotImplementedError

    def list(self, prefix: str) -> Iterator[StoredObject]:
        raise NotImplementedError

    def open(self, key: str) -> BinaryIO:
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        raise NotImplementedError


class LocalStorage(Storage):
    """Files under a directory, served by the portal's own `/dl/<token>/<filename>` view.

    The token is a Django-signed payload naming the key, the file's sha256 (the ETag) and
    the expiry; tampering or expiry makes the view answer 403.
    """

    name = "local"
    max_ttl = 7 * 24 * 3600
    # Sidecar records of what put_file wrote; a hidden folder no import key can reach
    # (imports skip hidden paths) and that `list` leaves out.
    META_DIR = ".accessgate-sha256"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        target = (self.root / key).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise ValueError(f"Storage key {key!r} escapes the storage directory.")
        return target

    def signed_url(self, key: str, *, filename: str, sha256: str, ttl_seconds: int, now: datetime) -> str:
        # Rounded up: a link never lives shorter than its TTL.
        expires = math.ceil((now + timedelta(seconds=ttl_seconds)).timestamp())
        # "n": the one file name the link serves under (the view answers 404 to any other).
        token = signing.dumps(
            {"k": key, "h": sha256, "e": expires, "n": filename}, salt=LOCAL_TOKEN_SALT, compress=True
        )
        return reverse("downloads:local_file", args=[token, filename])

    @staticmethod
    def read_token(token: str, *, now: datetime) -> dict[str, Any]:
        """The token's payload; raises `signing.BadSignature` when tampered, malformed or expired."""
        payload = signing.loads(token, salt=LOCAL_TOKEN_SALT)
        if not isinstance(payload, dict) or not {"k", "h", "e"} <= payload.keys():
            raise signing.BadSignature("malformed token")
        if payload["e"] < now.timestamp():
            raise signing.SignatureExpired("expired token")
        return payload

    def _sidecar(self, key: str) -> Path:
        return self.path(f"{self.META_DIR}/{key}.json")

    @staticmethod
    def _fingerprint(path: Path) -> list[int]:
        # Any write to the file changes its ctime (which no tool can set back), and
        # put_file's rename gives it a new inode: a copy changed since is never trusted.
        stat = path.stat()
        return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]

    def put_file(
        self, key: str, source: Path, *, sha256: str = "", progress: Callable[[int], None] | None = None
    ) -> None:
        target = self.path(key)
        sidecar = self._sidecar(key)
        sidecar.unlink(missing_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        with open(source, "rb") as src, open(partial, "wb") as dst:
            while chunk := src.read(CHUNK):
                dst.write(chunk)
                if progress:
                    progress(len(chunk))
        os.replace(partial, target)
        if sha256:
            sidecar.parent.mkdir(parents=True, exist_ok=True)
            sidecar.write_text(json.dumps({"sha256": sha256, "stat": self._fingerprint(target)}))

    def stored_sha256(self, key: str) -> tuple[int, str] | None:
        target, sidecar = self.path(key), self._sidecar(key)
        try:
            record = json.loads(sidecar.read_text())
            fingerprint = self._fingerprint(target)
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("stat") != fingerprint or not record.get("sha256"):
            return None
        return fingerprint[0], record["sha256"]

    def list(self, prefix: str) -> Iterator[StoredObject]:
        root = self.root.resolve()
        base = self.path(prefix) if prefix else root
        if not base.exists():
            return
        for path in sorted(p for p in base.rglob("*") if p.is_file() and not p.name.endswith(".partial")):
            key = path.relative_to(root).as_posix()
            if not key.startswith(self.META_DIR + "/"):
                yield StoredObject(key=key, size=path.stat().st_size)

    def open(self, key: str) -> BinaryIO:
        return open(self.path(key), "rb")

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()


class S3Storage(Storage):
    """Any S3-compatible store (AWS S3, R2, Ceph RGW, MinIO, Garage…) through boto3."""

    name = "s3"
    max_ttl = S3_MAX_TTL

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None,
        region: str,
        access_key_id: str,
        secret_access_key: str,
        addressing_style: str = "path",
        multipart_threshold: int = 64 * 1024 * 1024,
    ) -> None:
        self.bucket = bucket
        session = boto3.session.Session(
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            region_name=region,
        )
        self.client = session.client(
            "s3",
            endpoint_url=endpoint_url or None,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": addressing_style},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
            ),
        )
        session_credentials = session.get_credentials()

        def current_credentials() -> tuple[str, str, str]:
            if session_credentials is None:
                raise RuntimeError(
                    "No S3 credentials: set ACCESSGATE_S3_ACCESS_KEY_ID and ACCESSGATE_S3_SECRET_ACCESS_KEY."
                )
            frozen = session_credentials.get_frozen_credentials()
            return frozen.access_key, frozen.secret_key, frozen.token or ""

        self.presigner = Presigner(
            endpoint_url=self.client.meta.endpoint_url,
            bucket=bucket,
            region=self.client.meta.region_name,
            credentials=current_credentials,
            addressing_style=addressing_style,
        )
        self.multipart_threshold = multipart_threshold

    # Browser uploads (the publisher's console): the server opens and completes a multipart
    # upload, the browser PUTs each part to a presigned URL; no byte passes through the portal.
    def multipart_create(self, key: str) -> str:
        upload_id: str = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        return upload_id

    def multipart_part_url(self, key: str, upload_id: str, part_number: int, ttl_seconds: int = 3600) -> str:
        url: str = self.client.generate_presigned_url(
            "upload_part",
            Params={"Bucket": self.bucket, "Key": key, "UploadId": upload_id, "PartNumber": part_number},
            ExpiresIn=ttl_seconds,
        )
        return url

    def multipart_complete(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
        self.client.complete_multipart_upload(
            Bucket=self.bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in sorted(parts)]},
        )

    def upload_origin(self) -> str:
        """The origin browsers PUT parts to (for the page's Content-Security-Policy `connect-src`).
        Presigning is local computation: this makes no request."""
        url = self.multipart_part_url("origin-probe", "probe", 1, ttl_seconds=60)
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"

    def size_of(self, key: str) -> int:
        size: int = self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"]
        return size

    def signed_url(self, key: str, *, filename: str, sha256: str, ttl_seconds: int, now: datetime) -> str:
        return self.signer(now=now)(key, filename=filename, sha256=sha256, ttl_seconds=ttl_seconds)

    def signer(self, *, now: datetime) -> Callable[..., str]:
        sign = self.presigner.signer(now=now.astimezone(UTC))

        def signed(key: str, *, filename: str, sha256: str, ttl_seconds: int) -> str:
            disposition = {"response-content-disposition": content_disposition(filename)}
            return sign(key, expires_in=min(ttl_seconds, self.max_ttl), params=disposition)

        return signed

    def put_file(
        self, key: str, source: Path, *, sha256: str = "", progress: Callable[[int], None] | None = None
    ) -> None:
        multipart.put_file(
            self.client,
            self.bucket,
            key,
            Path(source),
            sha256=sha256,
            threshold=self.multipart_threshold,
            progress=progress,
        )

    def stored_sha256(self, key: str) -> tuple[int, str] | None:
        return multipart.stored_sha256(self.client, self.bucket, key)

    def list(self, prefix: str) -> Iterator[StoredObject]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                if not item["Key"].endswith("/"):
                    yield StoredObject(key=item["Key"], size=item["Size"])

    def open(self, key: str) -> BinaryIO:
        body: BinaryIO = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        return body

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


def build_storage(options: dict[str, Any]) -> Storage:
    if options["backend"] == "s3":
        return S3Storage(
            bucket=options["bucket"],
            endpoint_url=options["endpoint_url"],
            region=options["region"],
            access_key_id=options["access_key_id"],
            secret_access_key=options["secret_access_key"],
            addressing_style=options["addressing_style"],
        )
    return LocalStorage(options["root"])


def storage_options() -> dict[str, Any]:
    return {
        "backend": settings.ACCESSGATE_STORAGE_BACKEND,
        "root": settings.ACCESSGATE_LOCAL_STORAGE_ROOT,
        **settings.ACCESSGATE_S3,
    }


@lru_cache(maxsize=4)
def _cached_storage(frozen: tuple[tuple[str, Any], ...]) -> Storage:
    return build_storage(dict(frozen))


def get_storage() -> Storage:
    """The configured backend (one instance per distinct configuration)."""
    options = storage_options()
    return _cached_storage(tuple(sorted((k, str(v) if isinstance(v, Path) else v) for k, v in options.items())))
