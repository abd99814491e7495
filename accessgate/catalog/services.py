from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accessgate.accounts.models import User
from accessgate.accounts.roles import Role, has_role
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.core.errors import Conflict, ValidationFailed

from .areas import import_prefix_clean
from .models import ImportPrefix, LicenseVersion, Model, ModelStatus, Release, WeightFile
from .names import SHA256_RE, compute_revision, require_file_path

MODEL_EDITABLE_FIELDS = ("display_name", "summary", "card_markdown", "is_listed")


@dataclass(frozen=True)
class FileSpec:
    path: str
    storage_key: str
    size: int
    sha256: str


def _full_clean(instance, exclude=None):
    try:
        instance.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as error:
        errors = error.message_dict
        if len(errors) == 1:  # one field: the form shows the message beside it
            ((field, messages),) = errors.items()
            raise ValidationFailed(" ".join(messages), field=field) from error
        raise ValidationFailed("; ".join(f"{field}: {' '.join(errs)}" for field, errs in errors.items())) from error


def _check_role(users, role: Role, noun: str) -> None:
    """Only users holding the role may be assigned to a model in it (a researcher made a
    model's reviewer would only meet 403s)."""
    missing = sorted(user.email for user in users if not has_role(user, role, Role.ADMIN))
    if missing:
        raise ValidationFailed(
            _("These users do not have the %(noun)s role: %(missing)s. Grant it first.")
            % {"noun": noun, "missing": ", ".join(missing)},
            field=f"{noun}s",
        )


@transaction.atomic
def license_publish(
    *, actor: User | None, name: str, version: str, text: str, meta: RequestMeta | None = None
) -> LicenseVersion:
    if LicenseVersion.objects.filter(name=name, version=version).exists():
        raise Conflict(
            _("%(name)s %(version)s is already published; licence versions never change.")
            % {"name": name, "version": version}
        )
    licence = LicenseVersion(name=name.strip(), version=version.strip(), text=text)
    _full_clean(licence, exclude=["sha256"])
    licence.save()
    record(
        actor=actor,
        action=AuditAction.CATALOG_LICENSE_PUBLISHED,
        target=licence,
        meta=meta,
        sha256=licence.sha256,
    )
    return licence


@transaction.atomic
def model_create(
    *,
    actor: User | None,
    namespace: str,
    name: str,
    display_name: str,
    summary: str = "",
    card_markdown: str = "",
    reviewers=(),
    publishers=(),
    draft: bool = False,
    meta: RequestMeta | None = None,
) -> Model:
    """A new model; `draft=True` (the publisher's console) keeps it hidden until `model_publish`."""
    _check_role(reviewers, Role.REVIEWER, "reviewer")
    _check_role(publishers, Role.PUBLISHER, "publisher")
    model = Model(
        namespace=namespace,
        name=name,
        display_name=display_name,
        summary=summary,
        card_markdown=card_markdown,
        status=ModelStatus.DRAFT if draft else ModelStatus.PUBLISHED,
        published_at=None if draft else timezone.now(),
    )
    _full_clean(model)
    if Model.objects.filter(namespace__iexact=namespace, name__iexact=name).exists():
        raise Conflict(
            _("A model named %(namespace)s/%(name)s already exists.") % {"namespace": namespace, "name": name},
            field="name",
        )
    try:
        with transaction.atomic():
            model.save()
    except IntegrityError as error:
        raise Conflict(
            _("A model named %(namespace)s/%(name)s already exists.") % {"namespace": namespace, "name": name}
        ) from error
    if reviewers:
        model.reviewers.set(reviewers)
    if publishers:
        model.publishers.set(publishers)
    record(
        actor=actor,
        action=AuditAction.CATALOG_MODEL_CREATED,
        target=model,
        meta=meta,
        status=model.status,
        reviewers=sorted(user.email for user in reviewers),
        publishers=sorted(user.email for user in publishers),
    )
    return model


@transaction.atomic
def model_update(
    *, actor: User | None, model: Model, reviewers=None, meta: RequestMeta | None = None, **fields
) -> Model:
    unknown = set(fields) - set(MODEL_EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("These model fields cannot be edited: %(unknown)s.") % {"unknown": ", ".join(sorted(unknown))}
        )
    model = Model.objects.select_for_update().get(pk=model.pk)
    changed = sorted(name for name, value in fields.items() if getattr(model, name) != value)
    for name in changed:
        setattr(model, name, fields[name])
    _full_clean(model)
    model.save()
    details = {"fields": changed}
    if reviewers is not None:
        _check_role(reviewers, Role.REVIEWER, "reviewer")
        before = set(model.reviewers.values_list("email", flat=True))
        model.reviewers.set(reviewers)
        after = {user.email for user in reviewers}
        if before != after:
            details["reviewers"] = sorted(after)
    if changed or "reviewers" in details:
        record(actor=actor, action=AuditAction.CATALOG_MODEL_UPDATED, target=model, meta=meta, **details)
    return model


@transaction.atomic
def release_create(
    *,
    actor: User | None,
    model: Model,
    version: str,
    files: list[FileSpec],
    notes: str = "",
    meta: RequestMeta | None = None,
) -> Release:
    """Create a release with its full, fixed list of files; its revision id follows from them."""
    if not files:
        raise ValidationFailed(_("A release needs at least one file."))
    paths = [spec.path for spec in files]
    if len(set(paths)) != len(paths):
        raise ValidationFailed(_("Two files in the release have the same path."))
    for spec in files:
        require_file_path(spec.path, field="files")
        if not SHA256_RE.match(spec.sha256) or spec.size < 0:
            raise ValidationFailed(_("%(path)s: the size or sha256 is not valid.") % {"path": spec.path})
    if Release.objects.filter(model=model, version=version).exists():
        raise Conflict(
            _("%(full_name)s already has a release %(version)s.") % {"full_name": model.full_name, "version": version}
        )
    revision = compute_revision((spec.path, spec.sha256) for spec in files)
    duplicate = Release.objects.filter(model=model, revision=revision).first()
    if duplicate:
        raise Conflict(
            _("Release %(version)s already has exactly these files (revision %(revision)s).")
            % {"version": duplicate.version, "revision": revision}
        )
    release = Release(model=model, version=version, revision=revision, notes=notes)
    _full_clean(release, exclude=["revision"])
    release.save()
    WeightFile.objects.bulk_create(
        WeightFile(release=release, path=s.path, storage_key=s.storage_key, size=s.size, sha256=s.sha256) for s in files
    )
    record(
        actor=actor,
        action=AuditAction.CATALOG_RELEASE_CREATED,
        target=release,
        meta=meta,
        version=version,
        revision=revision,
        file_count=len(files),
        total_bytes=sum(spec.size for spec in files),
    )
    return release


@transaction.atomic
def model_publishers_set(*, actor: User | None, model: Model, publishers, meta: RequestMeta | None = None) -> Model:
    """Who owns the model's console. Every publisher must hold the publisher role."""
    publishers = list(publishers)
    _check_role(publishers, Role.PUBLISHER, "publisher")
    before = set(model.publishers.values_list("email", flat=True))
    after = {user.email for user in publishers}
    if before != after:
        model.publishers.set(publishers)
        record(
            actor=actor,
            action=AuditAction.CATALOG_MODEL_PUBLISHERS_CHANGED,
            target=model,
            meta=meta,
            added=sorted(after - before),
            removed=sorted(before - after),
        )
    return model


@transaction.atomic
def model_mark_published(*, actor: User | None, model: Model, meta: RequestMeta | None = None) -> Model:
    """Turn a draft into a published model. Callers check what publishing needs first
    (a licence, a policy, an active release: `publishing.services.model_publish`)."""
    model = Model.objects.select_for_update().get(pk=model.pk)
    if not model.is_draft:
        raise Conflict(_("%(full_name)s is already published.") % {"full_name": model.full_name})
    model.status = ModelStatus.PUBLISHED
    model.published_at = timezone.now()
    model.save(update_fields=["status", "published_at", "updated_at"])
    record(actor=actor, action=AuditAction.CATALOG_MODEL_PUBLISHED, target=model, meta=meta)
    return model


@transaction.atomic
def release_withdraw(*, actor: User | None, release: Release, reason: str, meta: RequestMeta | None = None) -> Release:
    """Stop all downloads of a release (new URLs are refused; issued ones die at their TTL)."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(_("Say why the release is withdrawn."), field="reason")
    release = Release.objects.select_for_update().get(pk=release.pk)
    if not release.is_active:
        raise Conflict(_("Release %(version)s is already withdrawn.") % {"version": release.version})
    release.is_active = False
    release.withdrawn_reason = reason
    release.save(update_fields=["is_active", "withdrawn_reason"])
    record(
        actor=actor,
        action=AuditAction.CATALOG_RELEASE_WITHDRAWN,
        target=release,
        meta=meta,
        version=release.version,
        reason=reason,
    )
    return release


@transaction.atomic
def release_restore(*, actor: User | None, release: Release, reason: str, meta: RequestMeta | None = None) -> Release:
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(_("Say why the release is restored."), field="reason")
    release = Release.objects.select_for_update().get(pk=release.pk)
    if release.is_active:
        raise Conflict(_("Release %(version)s is not withdrawn.") % {"version": release.version})
    release.is_active = True
    release.withdrawn_reason = ""
    release.save(update_fields=["is_active", "withdrawn_reason"])
    record(
        actor=actor,
        action=AuditAction.CATALOG_RELEASE_RESTORED,
        target=release,
        meta=meta,
        version=release.version,
        reason=reason,
    )
    return release


@transaction.atomic
def import_prefix_add(
    *, actor: User | None, publisher: User, prefix: str, note: str = "", meta: RequestMeta | None = None
) -> ImportPrefix:
    """Open a prefix of the bucket to one publisher for indexing releases of their models."""
    if not has_role(publisher, Role.PUBLISHER):
        raise ValidationFailed(
            _("%(email)s does not have the publisher role. Grant it first.") % {"email": publisher.email},
            field="publisher",
        )
    prefix = import_prefix_clean(prefix)
    if ImportPrefix.objects.filter(publisher=publisher, prefix=prefix).exists():
        raise Conflict(
            _("%(prefix)s is already open to %(email)s.") % {"prefix": prefix, "email": publisher.email},
            field="prefix",
        )
    row = ImportPrefix.objects.create(publisher=publisher, prefix=prefix, note=note.strip(), created_by=actor)
    record(
        actor=actor,
        action=AuditAction.CATALOG_IMPORT_PREFIX_ADDED,
        target=row,
        meta=meta,
        publisher=publisher.email,
        prefix=prefix,
        note=row.note,
    )
    return row


@transaction.atomic
def import_prefix_remove(*, actor: User | None, import_prefix: ImportPrefix, meta: RequestMeta | None = None) -> None:
    """Close the prefix; releases already indexed from it stay."""
    row = ImportPrefix.objects.select_for_update().select_related("publisher").get(pk=import_prefix.pk)
    record(
        actor=actor,
        action=AuditAction.CATALOG_IMPORT_PREFIX_REMOVED,
        target=row,
        meta=meta,
        publisher=row.publisher.email,
        prefix=row.prefix,
    )
    row.delete()
