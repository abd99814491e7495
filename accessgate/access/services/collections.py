"""Collections: create one, add models to it, and apply to every member with one form. Each
member is decided under its own policy (its reviewers, approvals, questions, sign-off,
requirements, cooldown): one request per member, each reaching the door on its own."""

from collections import abc
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.catalog.models import Model
from accessgate.core.errors import Conflict, PolicyNotMet, ValidationFailed

from ..models import (
    AccessRequest,
    AttestationStatement,
    Collection,
    GrantStatus,
    RequestStatus,
)
from ..selectors import member_left_out, policy_for
from ._applications import carry_over_request, open_member_request


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


def collection_submit(
    *,
    actor: User,
    collection: Collection,
    intended_use: str,
    accepted_statement_ids: abc.Collection[int],
    typed_name: str,
    answers: abc.Mapping[str, Any] | None,
    shown_license_sha256: str | None,
    meta: RequestMeta,
) -> AccessRequest:
    """One application to every member, decided per member under that member's own policy:
    one request per member (in its own review queue, with its own agreement: its statements and
    its questions' answers, from the one form), each reaching the door on its own approvals.
    A member in cooldown (or already held, or refused to this person) is left out, saying so.
    Returns the lead's request, or the first member's when the lead is left out."""
    ticked = set(AttestationStatement.objects.filter(pk__in=accepted_statement_ids).values_list("sha256", flat=True))
    answers = dict(answers or {})
    members = [collection.lead, *collection.members.exclude(pk=collection.lead_id).order_by("namespace", "name")]
    left_out = {m.full_name: why for m in members if (why := member_left_out(actor, m))}
    opened: list[AccessRequest] = []
    for model in members:
        if model.full_name in left_out:
            continue
        policy = policy_for(model)
        assert policy is not None  # member_left_out leaves out a member without a policy
        own_ids = [s.pk for s in policy.statements.filter(is_active=True) if s.sha256 in ticked]
        asked = set(policy.form_fields.filter(is_active=True).values_list("key", flat=True))
        opened.append(
            open_member_request(
                actor=actor,
                model=model,
                policy=policy,
                collection=collection,
                intended_use=intended_use,
                accepted_statement_ids=own_ids,
                typed_name=typed_name,
                answers={k: v for k, v in answers.items() if k in asked},
                shown_license_sha256=shown_license_sha256,
                meta=meta,
            )
        )
    if not opened:
        raise PolicyNotMet(
            _("No model of %(collection)s can take this application: %(why)s")
            % {"collection": collection.full_name, "why": " ".join(left_out.values())}
        )
    record(
        actor=actor,
        action=AuditAction.ACCESS_COLLECTION_APPLIED,
        target=collection,
        meta=meta,
        collection=collection.full_name,
        requests={r.model.full_name: r.pk for r in opened},
        left_out=left_out,
    )
    return next((r for r in opened if r.model_id == collection.lead_id), opened[0])


@transaction.atomic
def collection_add_model(
    *, actor: User | None, collection: Collection, model: Model, meta: RequestMeta | None = None
) -> list[AccessRequest]:
    """Add a model; when the collection covers later models, every holder of a running grant
    from this collection gets a request on it (its intended use carried over), decided under
    the new model's own policy: its reviewers approve it, and its grant then waits for the
    holder's answers and signature. Returns those requests."""
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
    holders = (
        AccessRequest.objects.filter(
            collection=collection,
            status=RequestStatus.APPROVED,
            grants__status__in=[GrantStatus.ACTIVE, GrantStatus.PENDING],
            grants__expires_at__gt=now,
        )
        .select_related("user")
        .order_by("user_id", "-decided_at")
    )
    opened, seen = [], set()
    for holder in holders:
        if holder.user_id in seen or member_left_out(holder.user, model):
            continue
        seen.add(holder.user_id)
        opened.append(carry_over_request(holder, model=model, collection=collection, meta=meta or RequestMeta()))
    return opened
