"""Putting one file into S3 so that an interrupted upload continues where it stopped.

Small files are one `PUT`. Bigger ones are a multipart upload; a re-run finds the key's open
upload (`ListMultipartUploads`), keeps the parts already stored whose size and MD5 (their
ETag) match the same range of the file (`ListParts`), sends only the others and completes.
Either way the object carries the file's sha256 as metadata (`x-amz-meta-sha256`), which is
what lets a later import trust it without reading it back.
"""

import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

MIB = 1024 * 1024
PART_SIZE = 16 * MIB
MAX_PARTS = 10_000
WORKERS = 4  # parts in flight at once (each holds one part in memory)
_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}


@dataclass
class UploadReport:
    parts_sent: int = 0
    parts_reused: int = 0
    resumed: bool = False


def part_size_for(size: int) -> int:
    """16 MiB, or more when the file would need over 10,000 parts (S3's limit). The same
    size always gives the same parts, so a re-run finds the ones already sent."""
    needed = -(-size // MAX_PARTS)
    return max(PART_SIZE, -(-needed // MIB) * MIB)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def stored_sha256(client: Any, bucket: str, key: str) -> tuple[int, str] | None:
    """(size, sha256) of the object as recorded at upload time, or None (absent, or put
    there without our metadata: then nothing vouches for its content)."""
    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if _code(error) in _MISSING:
            return None
        raise
    sha256 = head.get("Metadata", {}).get("sha256", "")
    return (head["ContentLength"], sha256) if sha256 else None


def _md5_of_range(source: Path, offset: int, length: int) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(source, "rb") as stream:
        stream.seek(offset)
        remaining = length
        while remaining and (chunk := stream.read(min(MIB, remaining))):
            digest.update(chunk)
            remaining -= len(chunk)
    return digest.hexdigest()


def _open_upload(client: Any, bucket: str, key: str) -> str | None:
    """The newest unfinished multipart upload of this key; older ones are aborted."""
    try:
        pages = client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=key)
        uploads = [u for page in pages for u in page.get("Uploads", []) if u["Key"] == key]
    except ClientError as error:
        if _code(error) == "NotImplemented":  # some S3 look-alikes (s3rver) have no listing
            return None
        raise
    uploads.sort(key=lambda u: u["Initiated"], reverse=True)
    for stale in uploads[1:]:
        _abort(client, bucket, key, stale["UploadId"])
    return uploads[0]["UploadId"] if uploads else None


def _abort(client: Any, bucket: str, key: str, upload_id: str) -> None:
    try:
        client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except ClientError:
        pass  # best effort: the bucket's lifecycle rule cleans up what is left


def _verified_parts(
    client: Any, bucket: str, key: str, upload_id: str, source: Path, size: int, part_size: int
) -> dict[int, str] | None:
    """{part number: ETag} of the stored parts that match the file; None if the upload is gone."""
    try:
        pages = client.get_paginator("list_parts").paginate(Bucket=bucket, Key=key, UploadId=upload_id)
        parts = [p for page in pages for p in page.get("Parts", [])]
    except ClientError as error:
        if _code(error) in _MISSING:
            return None
        raise
    verified = {}
    for part in parts:
        number = part["PartNumber"]
        offset = (number - 1) * part_size
        expected = min(part_size, size - offset)
        # Never on size alone: the part's ETag is the MD5 S3 computed over what it received.
        if expected > 0 and part["Size"] == expected:
            if part["ETag"].strip('"') == _md5_of_range(source, offset, expected):
                verified[number] = part["ETag"]
    return verified


def _send_part(
    client: Any, bucket: str, key: str, upload_id: str, source: Path, number: int, offset: int, length: int
) -> str:
    with open(source, "rb") as stream:
        stream.seek(offset)
        body = stream.read(length)
    etag: str = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)["ETag"]
    return etag


def put_file(
    client: Any,
    bucket: str,
    key: str,
    source: Path,
    *,
    sha256: str = "",
    threshold: int,
    progress: Callable[[int], None] | None = None,
    resume: bool = True,
) -> UploadReport:
    progress = progress or (lambda n: None)
    size = source.stat().st_size
    metadata = {"sha256": sha256} if sha256 else {}
    if size < threshold:
        with open(source, "rb") as body:
            client.put_object(Bucket=bucket, Key=key, Body=body, Metadata=metadata)
        progress(size)
        return UploadReport(parts_sent=1)

    part_size = part_size_for(size)
    count = -(-size // part_size)
    report = UploadReport()
    upload_id = _open_upload(client, bucket, key) if resume else None
    stored = _verified_parts(client, bucket, key, upload_id, source, size, part_size) if upload_id else None
    if stored is None:
        upload_id, stored = client.create_multipart_upload(Bucket=bucket, Key=key, Metadata=metadata)["UploadId"], {}
    else:
        report.resumed = True
    assert upload_id is not None  # an upload was found or created just above
    etags = dict(stored)
    for number in stored:
        report.parts_reused += 1
        progress(min(part_size, size - (number - 1) * part_size))

    missing = [n for n in range(1, count + 1) if n not in stored]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = {
            pool.submit(
                _send_part,
                client,
                bucket,
                key,
                upload_id,
                source,
                n,
                (n - 1) * part_size,
                min(part_size, size - (n - 1) * part_size),
            ): n
            for n in missing
        }
        try:
            for future in as_completed(futures):
                number = futures[future]
                etags[number] = future.result()
                report.parts_sent += 1
                progress(min(part_size, size - (number - 1) * part_size))
        except BaseException:
            # The upload stays open: the parts already stored are what a re-run re-uses.
            for future in futures:
                future.cancel()
            raise
    client.complete_multipart_upload(
        Bucket=bucket,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etags[n]} for n in sorted(etags)]},
    )
    if report.resumed and stored_sha256(client, bucket, key) != (size, sha256) and sha256:
        # A resumed upload keeps the metadata it was opened with: if that named other
        # content (the file changed between runs), send the whole file again.
        return put_file(client, bucket, key, source, sha256=sha256, threshold=threshold, progress=None, resume=False)
    return report
