"""Issuing download URLs (one file or a whole release). Imports live in `imports.py`."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accessgate.access.models import AccessPolicy, Grant
from accessgate.access.rules.downloads import download_check
from accessgate.accounts.auth import require_scope
from accessgate.accounts.models import ApiToken, TokenScope, User
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.refusals import refusal_note
from accessgate.audit.services import record
from accessgate.catalog.models import Release, WeightFile
from accessgate.catalog.names import SHA256_RE, file_path_problem
from accessgate.core.errors import Conflict, DomainError, QuotaExceeded
from accessgate.core.ratelimit import check_rate, parse
from accessgate.core.storage import Storage, get_storage

from .models import DownloadCounter


@dataclass(frozen=True)
class IssuedUrl:
    path: str
    size: int
    sha256: str
    url: str  # relative for the local backend; views make it absolute
    expires_at: datetime
    remaining: int | None  # URLs left for this file under the grant; None when unlimited


def download_rate_check(user: User) -> None:
    count, seconds = parse(settings.ACCESSGATE_DOWNLOAD_RATE_LIMIT)
    try:
        check_rate(
            rate_key(user.pk),
            settings.ACCESSGATE_DOWNLOAD_RATE_LIMIT,
            _("Too many download requests; at most %(count)s every %(seconds)s seconds. Wait a moment.")
            % {"count": count, "seconds": seconds},
        )
    except QuotaExceeded as error:
        raise QuotaExceeded(error.message, reason="rate_limited") from None


def rate_key(user_id: int) -> str:
    return f"download:{user_id}"


def _consume_quota(
    grant: Grant, files: Iterable[WeightFile], limit: int | None, *, now: datetime, valid_until: datetime
) -> tuple[dict[int, int | None], dict[int, datetime], int]:
    """Count one download per file, unless a counted URL for the same grant and file is still
    valid (then the new URL is free). Returns (downloads left per file, when each new URL must
    expire, how many were counted). A free URL expires with the counted one it copies, so
    re-issuing never stretches one counted download beyond its TTL.

    Every file of the request in one statement: `INSERT … ON CONFLICT DO UPDATE … WHERE
    (still valid or issued < limit) RETURNING`. A file at its limit returns no row and the
    caller's transaction rolls back every increment, so a manifest counts whole or not at
    all. Race-free: the conflicting row is locked and PostgreSQL's read committed re-evaluates
    the condition and the new values on the row its predecessor committed, so parallel
    requests never pass the limit or count twice.
    """
    files = list(files)
    if limit is None:
        return {f.pk: None for f in files}, {f.pk: valid_until for f in files}, 0
    table = DownloadCounter._meta.db_table
    ids = [f.pk for f in files]
    stamp = connection.ops.adapt_datetimefield_value
    now_value, until_value = stamp(now), stamp(valid_until)
    params: list[Any]
    if connection.vendor == "postgresql":
        rows_sql, params = "SELECT %s, unnest(%s::bigint[]), 1, %s", [grant.pk, ids, until_value]
    else:
        rows_sql = " UNION ALL ".join(["SELECT %s, %s, 1, %s"] * len(ids))
        params = [value for pk in ids for value in (grant.pk, pk, until_value)]
    valid = f"{table}.counted_until > %s"
    with connection.cursor() as cursor:
        # A limit of 0 inserts no first count (the fast path's statement says the same). Only
        # constant names are formatted in; every value is a parameter.
        cursor.execute(
            f"INSERT INTO {table} (grant_id, weight_file_id, issued, counted_until) "  # noqa: S608
            f"SELECT * FROM ({rows_sql}) AS wanted WHERE %s > 0 "
            f"ON CONFLICT (grant_id, weight_file_id) DO UPDATE SET "
            f"issued = CASE WHEN {valid} THEN {table}.issued ELSE {table}.issued + 1 END, "
            f"counted_until = CASE WHEN {valid} THEN {table}.counted_until ELSE excluded.counted_until END "
            f"WHERE {valid} OR {table}.issued < %s RETURNING weight_file_id, issued, counted_until",
            [*params, limit, now_value, now_value, now_value, limit],
        )
        rows = {pk: (issued, until) for pk, issued, until in cursor.fetchall()}
    for weight_file in files:
        if weight_file.pk not in rows:
            _quota_used_up(weight_file, limit)
    counted = sum(aware_moment(until) == valid_until for _issued, until in rows.values())
    remaining = {pk: limit - issued for pk, (issued, _) in rows.items()}
    # A free re-issue keeps the counted URL's expiry, so it never stretches one download.
    # counted_until is NOT NULL, so aware_moment() returns a moment here.
    expiry = {pk: min(cast(datetime, aware_moment(until)), valid_until) for pk, (_issued, until) in rows.items()}
    return remaining, expiry, counted


def _quota_used_up(weight_file: WeightFile, limit: int):
    raise QuotaExceeded(
        _(
            "You have used all %(limit)s downloads of %(path)s that this grant allows. "
            "Ask the model's reviewers if you need more."
        )
        % {"limit": limit, "path": weight_file.path},
        reason="quota",
    )


def aware_moment(value) -> datetime | None:
    """A timestamp as a raw cursor returns it (SQLite: naive or text), made aware."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, connection.timezone)
    return value


def seconds_until(moment: datetime, now: datetime) -> int:
    """Whole seconds from `now` to `moment`, at least 1 (a free URL issued in the counted
    URL's last second still works for that second)."""
    return max(1, int((moment - now).total_seconds()))


def _ttl(policy: AccessPolicy, storage: Storage) -> int:
    return min(policy.url_ttl_seconds, storage.max_ttl)


def require_listable(files: Iterable[WeightFile]) -> None:
    """A manifest (JSON, aria2c, wget) or SHA256SUMS writes each stored path and sha256 where
    a client reads them as lines and options. A file whose path breaks the grammar
    (`catalog.names.file_path_problem`) or whose sha256 is not 64 hex digits, written past
    the services (straight into the database), is refused by its id: never rendered."""
    for weight_file in files:
        if file_path_problem(weight_file.path) is not None or not SHA256_RE.match(weight_file.sha256):
            raise Conflict(
                _(
                    "File #%(id)s of this release has a stored path or sha256 that cannot be listed safely; "
                    "the portal's administrators must correct it."
                )
                % {"id": weight_file.pk},
                reason="unsafe_path",
            )


def download_probe(
    *,
    user,
    release: Release,
    token=None,
    mfa_verified: bool,
    meta: RequestMeta | None = None,
    target=None,
    listing: list[WeightFile] | None = None,
    **details,
) -> Grant:
    """The checks of a download without the download: a `HEAD` (or a file listing) asks whether
    it would pass. Issues nothing and counts no quota; a refusal is counted in the trail
    (`download.refused`, aggregated like any other) and raised. `target`: the file asked
    about (default: the release); `listing`: the files a page lists (`require_listable`)."""
    try:
        require_scope(token, TokenScope.DOWNLOAD, release.model)
        grant = download_check(user, release, mfa_verified=mfa_verified)
        if listing is not None:
            require_listable(listing)
        return grant
    except DomainError as error:
        _refused(
            error,
            user=user,
            release=release,
            target=target or release,
            meta=meta or RequestMeta(),
            token=token,
            **details,
        )
        raise


def _issue(
    *,
    user: User,
    release: Release,
    files: list[WeightFile],
    meta: RequestMeta,
    token: ApiToken | None,
    mfa_verified: bool,
    listing: bool = False,
):
    """Shared by single files and manifests: re-check everything, count, sign. `listing`:
    the files go into a manifest (`require_listable`, before anything is counted)."""
    download_rate_check(user)
    require_scope(token, TokenScope.DOWNLOAD, release.model)
    grant = download_check(user, release, mfa_verified=mfa_verified)
    if listing:
        require_listable(files)
    policy = grant.model.policy
    storage = get_storage()
    ttl = _ttl(policy, storage)
    now = timezone.now()
    remaining, expiry, counted = _consume_quota(
        grant, files, policy.max_downloads_per_file, now=now, valid_until=now + timedelta(seconds=ttl)
    )
    ttls, sign = {f.pk: seconds_until(expiry[f.pk], now) for f in files}, storage.signer(now=now)
    issued = [
        IssuedUrl(
            path=f.path,
            size=f.size,
            sha256=f.sha256,
            url=sign(f.storage_key, filename=f.path.rsplit("/", 1)[-1], sha256=f.sha256, ttl_seconds=ttls[f.pk]),
            expires_at=now + timedelta(seconds=ttls[f.pk]),
            remaining=remaining[f.pk],
        )
        for f in files
    ]
    common = {
        "user": user.email,
        "grant_id": grant.pk,
        "model": release.model.full_name,
        "version": release.version,
        "revision": release.revision,
        "ttl_seconds": ttl,
        "via": "token" if token is not None else "session",
        "token_prefix": token.prefix if token is not None else "",
        "quota_counted": counted,
    }
    return grant, issued, common


def _refused(error: DomainError, *, user, release: Release, target, meta: RequestMeta, token, **details) -> None:
    """Count a refused download (aggregated per caller, target, reason and minute; see
    audit/refusals.py): the one place every download surface records its refusals. Outside
    the refused transaction, which rolls back. A refusal without a reason code of its own is
    counted under its error code, so none goes unrecorded."""
    refusal_note(
        action=AuditAction.DOWNLOAD_REFUSED,
        reason=error.reason or error.code,
        actor=user,
        target=target,
        meta=meta,
        model=release.model.full_name,
        version=release.version,
        via="token" if token is not None else "session",
        token_prefix=token.prefix if token is not None else "",
        **details,
    )


def download_url_issue(
    *,
    user: User,
    release: Release,
    weight_file: WeightFile,
    meta: RequestMeta | None = None,
    token: ApiToken | None = None,
    mfa_verified: bool,
) -> IssuedUrl:
    """One signed URL for one file, after re-checking the grant, licence and quota.
    A refusal is counted in the trail (`download.refused`) and raised."""
    meta = meta or RequestMeta()
    try:
        return _download_url_issue(
            user=user, release=release, weight_file=weight_file, meta=meta, token=token, mfa_verified=mfa_verified
        )
    except DomainError as error:
        _refused(error, user=user, release=release, target=weight_file, meta=meta, token=token, path=weight_file.path)
        raise


@transaction.atomic
def _download_url_issue(*, user, release, weight_file, meta, token, mfa_verified) -> IssuedUrl:
    _grant, issued, common = _issue(
        user=user, release=release, files=[weight_file], meta=meta, token=token, mfa_verified=mfa_verified
    )
    record(
        actor=user,
        action=AuditAction.DOWNLOAD_URL_ISSUED,
        target=weight_file,
        meta=meta,
        path=weight_file.path,
        size=weight_file.size,
        sha256=weight_file.sha256,
        **common,
    )
    return issued[0]


def download_manifest_issue(
    *,
    user: User,
    release: Release,
    meta: RequestMeta | None = None,
    token: ApiToken | None = None,
    format: str = "json",
    mfa_verified: bool,
) -> list[IssuedUrl]:
    """Signed URLs for every file of a release; one audit event naming them all. A refusal
    is counted in the trail (`download.refused`) and raised."""
    meta = meta or RequestMeta()
    try:
        return _download_manifest_issue(
            user=user, release=release, meta=meta, token=token, format=format, mfa_verified=mfa_verified
        )
    except DomainError as error:
        _refused(error, user=user, release=release, target=release, meta=meta, token=token, format=format)
        raise


@transaction.atomic
def _download_manifest_issue(*, user, release, meta, token, format, mfa_verified) -> list[IssuedUrl]:
    files = list(release.files.order_by("path"))
    _grant, issued, common = _issue(
        user=user, release=release, files=files, meta=meta, token=token, mfa_verified=mfa_verified, listing=True
    )
    record(
        actor=user,
        action=AuditAction.DOWNLOAD_MANIFEST_ISSUED,
        target=release,
        meta=meta,
        format=format,
        file_count=len(files),
        total_bytes=sum(f.size for f in files),
        paths=[f.path for f in files],
        **common,
    )
    return issued
