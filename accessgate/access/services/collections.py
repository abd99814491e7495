"""Collections: create one, add models to it, and the grants one approval opens on every
member (including models added later, when the collection says so)."""

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.catalog.models import Model
from accessgate.core.errors import Conflict, ValidationFailed

from ..models import AccessRequest, Collection, Grant, GrantStatus, RequestStatus
from ..selectors import policy_for
from .grants import grant_open


def _check_member(collection_lead: Model, model: Model) -> None:
    lead_policy, policy = policy_for(collection_lead), policy_for(model)
    if lead_policy is None or policy is None:
        raise ValidationFailed(
            _("%(full_name)s has no access policy yet.")
            % {"full_name": (model if policy is None else collection_lead).full_name}
        )
    if policy.license_id != lead_policy.license_id:
        raise ValidationFailed(
            _("Every model of a collection carries its licence (%(license)s); %(full_name)s has %(license2)s.")
            % {"license": lead_policy.license, "full_name": model.full_name, "license2": policy.license}
        )


@transaction.atomic
def collection_create(
    *,
    actor: User | None,
    namespace: str,
    name: str,
    display_name: str,
    lead: Model,
    members: Sequence[Model] = (),
    covers_later_models: bool = True,
    summary: str = "",
    meta: RequestMeta | None = None,
) -> Collection:
    """A collection whose policy is `lead`'s; `members` are the other models (the lead is one)."""
    if Collection.objects.filter(namespace=namespace, name=name).exists():
        raise Conflict(
            _("A collection %(namespace)s/%(name)s already exists.") % {"namespace": namespace, "name": name}
        )
    models = [lead, *[m for m in members if m.pk != lead.pk]]
    for model in models:
        _check_member(lead, model)
    collection = Collection.objects.create(
        namespace=namespace,
        name=name,
        display_name=display_name,
        summary=summary,
        lead=lead,
        covers_later_models=covers_later_models,
    )
    collection.members.set(models)
    record(
        actor=actor,
        action=AuditAction.ACCESS_COLLECTION_CREATED,
        target=collection,
        meta=meta,
        collection=collection.full_name,
        lead=lead.full_name,
        models=[m.full_name for m in models],
        covers_later_models=covers_later_models,
    )
    return collection


def _open(access_request: AccessRequest, model: Model, like: Grant, now: datetime, meta) -> Grant | None:
    """A member's grant under a collection request, matching the lead grant's end and state."""
    if Grant.objects.filter(
        user=access_request.user, model=model, status__in=[GrantStatus.ACTIVE, GrantStatus.PENDING], expires_at__gt=now
    ).exists():
        return None  # already held (applied for separately)
    grant = grant_open(
        access_request=access_request,
        model=model,
        days=None,
        expires_at=like.expires_at,
        now=now,
        waiting_for=like.waiting_for,
    )
    record(
        actor=None,
        action=AuditAction.GRANT_CREATED,
        target=grant,
        meta=meta,
        user=access_request.user.email,
        model=model.full_name,
        request_id=access_request.pk,
        expires_at=grant.expires_at.isoformat(),
        status=grant.status,
        waiting_for=grant.waiting_for,
        # Ignored: collection requests carry their collection.
        collection=access_request.collection.full_name,  # type: ignore[union-attr]
    )
    return grant


def collection_grants_open(access_request: AccessRequest, lead_grant: Grant, *, meta: RequestMeta) -> list[Grant]:
    """Inside an approval: a grant on every other member of the request's collection."""
    now = lead_grant.granted_at
    # Ignored: collection requests carry their collection.
    members = access_request.collection.members.exclude(pk=access_request.model_id).order_by("namespace", "name")  # type: ignore[union-attr]
    return [g for model in members if (g := _open(access_request, model, lead_grant, now, meta))]


@transaction.atomic
def collection_add_model(
    *, actor: User | None, collection: Collection, model: Model, meta: RequestMeta | None = None
) -> list[Grant]:
    """Add a model; when the collection covers later models, every approved collection
    request whose lead grant still runs gets a grant on it. Returns those grants."""
    collection = Collection.objects.select_for_update().get(pk=collection.pk)
    if collection.members.filter(pk=model.pk).exists():
        raise Conflict(
            _("%(full_name)s is already in %(full_name2)s.")
            % {"full_name": model.full_name, "full_name2": collection.full_name}
        )
    _check_member(collection.lead, model)
    collection.members.add(model)
    record(
        actor=actor,
        action=AuditAction.ACCESS_COLLECTION_MODEL_ADDED,
        target=collection,
        meta=meta,
        collection=collection.full_name,
        model=model.full_name,
        covers_later_models=collection.covers_later_models,
    )
    if not collection.covers_later_models:
        return []
    now = timezone.now()
    opened = []
    for access_request in AccessRequest.objects.filter(
        collection=collection, status=RequestStatus.APPROVED
    ).select_related("user", "collection"):
        lead_grant = (
            Grant.objects.filter(
                request=access_request,
                model=collection.lead,
                status__in=[GrantStatus.ACTIVE, GrantStatus.PENDING],
                expires_at__gt=now,
            )
            .order_by("-granted_at")
            .first()
        )
        if lead_grant is not None and (grant := _open(access_request, model, lead_grant, now, meta)):
            opened.append(grant)
    return opened
