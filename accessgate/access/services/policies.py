"""Publishing a model's access policy: one typed value in, one audited change out."""

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django_countries import countries as known_countries

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.catalog.models import LicenseVersion, Model
from accessgate.core.errors import ValidationFailed
from accessgate.notifications.services import email_queue
from accessgate.training.models import Training

from ..freemail import default_denied_domains
from ..models import AccessPolicy, AttestationStatement, FieldKind, Gating, RequirementTiming
from ..rules.downloads import grants_with_signed_licence
from ._questions import QuestionSpec, clean_questions, sync_questions
from .escalations import requests_escalate

REQUIREMENT_FIELDS = (
    "require_identity",
    "require_mfa",
    "require_orcid",
    "require_institutional_email",
    "require_signoff",
)


# Not columns of `AccessPolicy`: rows of their own (statements, questions) or many-to-many.
_NOT_COLUMNS = ("statements", "form_fields", "required_trainings")


@dataclass(frozen=True)
class PolicySettings:
    """Everything a publisher decides about a model's access. A new policy option is a field
    here, a column on `AccessPolicy` and (if checked) a rule in `access.requirements`."""

    license: LicenseVersion
    statements: Sequence[str] = ()
    # Custom questions on the application form, in order.
    form_fields: Sequence[QuestionSpec] = ()
    gating: Gating = Gating.MANUAL
    min_intended_use_chars: int = 100
    grant_days: int = 365
    url_ttl_seconds: int = 300
    max_downloads_per_file: int | None = None
    require_identity: bool = False
    require_mfa: bool = False
    require_orcid: bool = False
    require_institutional_email: bool = False
    institutional_domains: Sequence[str] = ()
    # None: the built-in free-mail list.
    denied_email_domains: Sequence[str] | None = None
    blocked_countries: Sequence[str] = ()
    # Hard requirements must hold before approval, or the grant waits for them after it.
    requirements_timing: RequirementTiming = RequirementTiming.BEFORE
    # 2: two distinct reviewers approve (neither the applicant, neither recused).
    approvals_required: int = 1
    # A shared institution or e-mail domain stops that reviewer (otherwise it is only flagged).
    conflict_blocks: bool = False
    # Days after a rejection before the applicant may apply for the model again.
    reapply_cooldown_days: int = 0
    # Days a review should take; the queue shows an age badge and puts overdue requests first.
    review_target_days: int | None = None
    # Also e-mailed for each new request (beside the model's reviewers).
    notification_email: str = ""
    # Access over time.
    reminder_days: Sequence[int] = (30, 7, 1)
    renewal_window_days: int = 30
    renewal_requires_progress_report: bool = True
    renewal_auto: bool = False
    renewal_grace_days: int = 14
    require_closeout: bool = False
    closeout_days: int = 30
    closeout_blocks_requests: bool = False
    require_signoff: bool = False
    signoff_domains: Sequence[str] = ()
    signoff_link_days: int = 14
    # Training objects (or their ids); `require_training` on the policy follows from it.
    required_trainings: Sequence[Training | int] = ()

    @classmethod
    def of(cls, policy: AccessPolicy) -> "PolicySettings":
        """The settings a stored policy holds, so a form that edits some options keeps the rest."""
        stored = {f.name: getattr(policy, f.name) for f in fields(cls) if f.name not in _NOT_COLUMNS}
        return cls(
            **stored,
            required_trainings=list(policy.required_trainings.order_by("pk")) if policy.pk else [],
            statements=[s.text for s in policy.statements.filter(is_active=True).order_by("position")],
            form_fields=[
                QuestionSpec(
                    key=q.key,
                    label=q.label,
                    kind=FieldKind(q.kind),
                    required=q.required,
                    help_text=q.help_text,
                    choices=tuple(q.choices),
                )
                for q in policy.form_fields.filter(is_active=True).order_by("position")
            ],
        )

    def updated(self, **changes) -> "PolicySettings":
        return replace(self, **changes)

    def problems(self) -> list[ValidationFailed]:
        """Every value no policy can hold, each naming its field (forms show them all at once)."""
        found = []
        if self.grant_days < 1:
            found.append(ValidationFailed(_("A grant lasts at least one day."), field="grant_days"))
        if not 1 <= self.url_ttl_seconds <= 7 * 24 * 3600:
            found.append(
                ValidationFailed(_("A download URL lives between 1 second and 7 days."), field="url_ttl_seconds")
            )
        if self.max_downloads_per_file is not None and self.max_downloads_per_file < 1:
            found.append(
                ValidationFailed(
                    _("Allow at least one download per file, or leave it empty."), field="max_downloads_per_file"
                )
            )
        if self.signoff_link_days < 1:
            found.append(ValidationFailed(_("A sign-off link lives at least one day."), field="signoff_link_days"))
        if self.approvals_required not in (1, 2):
            found.append(ValidationFailed(_("A request needs one or two approvals."), field="approvals_required"))
        if self.review_target_days is not None and not 1 <= self.review_target_days <= 365:
            found.append(ValidationFailed(_("A review target is between 1 and 365 days."), field="review_target_days"))
        if not 0 <= self.reapply_cooldown_days <= 3650:
            found.append(ValidationFailed(_("The cooldown is between 0 and 3650 days."), field="reapply_cooldown_days"))
        unknown = [code for code in self._blocked() if code not in dict(known_countries)]
        if unknown:
            found.append(
                ValidationFailed(
                    _("Unknown country codes: %(unknown)s.") % {"unknown": ", ".join(unknown)},
                    field="blocked_countries",
                )
            )
        checks = (
            lambda: _domains(self.institutional_domains),
            lambda: _email(self.notification_email),
            lambda: _reminder_days(self.reminder_days),
            lambda: _domains(self.signoff_domains),
            self.cleaned_statements,
        )
        for check in checks:
            try:
                check()
            except ValidationFailed as error:
                found.append(error)
        return found

    def _blocked(self) -> list[str]:
        return sorted({code.strip().upper() for code in self.blocked_countries if code.strip()})

    def cleaned(self) -> dict:
        """The column values to store, normalised; refuses values no policy can hold."""
        problems = self.problems()
        if problems:
            raise problems[0]
        denied = default_denied_domains() if self.denied_email_domains is None else self.denied_email_domains
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _NOT_COLUMNS}
        values.update(
            reminder_days=_reminder_days(self.reminder_days),
            signoff_domains=_domains(self.signoff_domains),
            require_training=bool(self.required_trainings),
            gating=Gating(self.gating),
            requirements_timing=RequirementTiming(self.requirements_timing),
            institutional_domains=_domains(self.institutional_domains),
            denied_email_domains=_domains(denied),
            blocked_countries=self._blocked(),
            notification_email=_email(self.notification_email),
        )
        return values

    def cleaned_statements(self) -> list[str]:
        statements = [" ".join(text.split()) for text in self.statements if text.strip()]
        if len(set(statements)) != len(statements):
            raise ValidationFailed(_("Two attestation statements are the same."), field="statements")
        return statements


def _reminder_days(values: Sequence[int]) -> list[int]:
    try:
        days = sorted({int(value) for value in values}, reverse=True)
    except (TypeError, ValueError) as error:
        raise ValidationFailed(_("Reminder days are whole numbers of days."), field="reminder_days") from error
    if any(not 1 <= day <= 365 for day in days):
        raise ValidationFailed(_("Each reminder is 1 to 365 days before expiry."), field="reminder_days")
    return days


def _email(value: str) -> str:
    value = (value or "").strip().lower()
    if value and (value.count("@") != 1 or "." not in value.rsplit("@", 1)[1] or " " in value):
        raise ValidationFailed(
            _("%(address)s is not an e-mail address.") % {"address": value}, field="notification_email"
        )
    return value


def _domains(values: Sequence[str]) -> list[str]:
    cleaned = sorted({value.strip().lower().lstrip("@") for value in values if value and value.strip()})
    bad = [d for d in cleaned if "." not in d or " " in d or "@" in d]
    if bad:
        raise ValidationFailed(
            _("These are not e-mail domains: %(bad)s.") % {"bad": ", ".join(bad)}, field="institutional_domains"
        )
    return cleaned


def _sync_statements(policy: AccessPolicy, statements: list[str]) -> bool:
    """Keep rows whose text is unchanged, retire the others, add the new; whether any changed."""
    current = {s.text: s for s in policy.statements.filter(is_active=True)}
    retired = [s for text, s in current.items() if text not in statements]
    for old in retired:
        old.is_active = False
        old.save(update_fields=["is_active"])
    added = False
    for position, text in enumerate(statements):
        statement = current.get(text)
        if statement is None:
            AttestationStatement.objects.create(policy=policy, position=position, text=text)
            added = True
        elif statement.position != position:
            statement.position = position
            statement.save(update_fields=["position"])
    return added or bool(retired)


@transaction.atomic
def policy_set(
    *, actor: User | None, model: Model, terms: PolicySettings, meta: RequestMeta | None = None
) -> AccessPolicy:
    """Create or change a model's access policy. Statements keep their rows while their text is unchanged."""
    values = terms.cleaned()
    statements = terms.cleaned_statements()
    questions = clean_questions(terms.form_fields)
    policy, created = AccessPolicy.objects.select_for_update().get_or_create(model=model, defaults=values)
    changed = [name for name, value in values.items() if getattr(policy, name) != value]
    for name in changed:
        setattr(policy, name, values[name])
    if changed:
        policy.save()
    if _sync_statements(policy, statements):
        changed.append("statements")
    trainings = {getattr(t, "pk", t) for t in terms.required_trainings}
    if set(policy.required_trainings.values_list("pk", flat=True)) != trainings:
        policy.required_trainings.set(trainings)
        changed.append("required_trainings")
    if sync_questions(policy, questions):
        changed.append("form_fields")
    if created or changed:
        record(
            actor=actor,
            action=AuditAction.ACCESS_POLICY_CREATED if created else AuditAction.ACCESS_POLICY_UPDATED,
            target=policy,
            meta=meta,
            model=model.full_name,
            created=created,
            fields=sorted(set(changed)),
            gating=policy.gating,
            license=str(policy.license),
            license_sha256=policy.license.sha256,
            grant_days=policy.grant_days,
            min_intended_use_chars=policy.min_intended_use_chars,
            url_ttl_seconds=policy.url_ttl_seconds,
            max_downloads_per_file=policy.max_downloads_per_file,
            requirements=sorted(name for name in REQUIREMENT_FIELDS if getattr(policy, name)),
            institutional_domains=policy.institutional_domains,
            blocked_countries=policy.blocked_countries,
            reminder_days=policy.reminder_days,
            renewal_window_days=policy.renewal_window_days,
            renewal_requires_progress_report=policy.renewal_requires_progress_report,
            renewal_auto=policy.renewal_auto,
            renewal_grace_days=policy.renewal_grace_days,
            require_closeout=policy.require_closeout,
            closeout_days=policy.closeout_days,
            closeout_blocks_requests=policy.closeout_blocks_requests,
            signoff_domains=policy.signoff_domains,
            signoff_link_days=policy.signoff_link_days,
            required_trainings=sorted(policy.required_trainings.values_list("name", flat=True)),
            requirements_timing=policy.requirements_timing,
            approvals_required=policy.approvals_required,
            conflict_blocks=policy.conflict_blocks,
            reapply_cooldown_days=policy.reapply_cooldown_days,
            review_target_days=policy.review_target_days,
            notification_email=policy.notification_email,
            attestation_sha256s=[s.sha256 for s in policy.statements.filter(is_active=True)],
            form_field_sha256s=[f.sha256 for f in policy.form_fields.filter(is_active=True)],
        )
    # More approvals, or conflicts now blocking, can leave open requests without a decider.
    requests_escalate(model=model)
    return policy


def holders_to_reaccept(model: Model, license: LicenseVersion | None):
    """Active grants of `model` whose holder last signed another licence version than `license`
    (None: a version not published yet, so every active holder)."""
    grants = grants_with_signed_licence(model)
    return grants.exclude(Q(signed_licence=license.pk)) if license is not None else grants


@transaction.atomic
def policy_licence_switch(
    *, actor: User | None, model: Model, license: LicenseVersion, meta: RequestMeta | None = None
) -> int:
    """Make `license` the version applicants and holders sign. Holders who signed another
    version are told by e-mail and cannot download until they accept it; returns how many."""
    policy = AccessPolicy.objects.select_for_update().filter(model=model).first()
    if policy is None:
        raise ValidationFailed(_("Set the model's access policy first."), field="license")
    if policy.license_id == license.pk:
        raise ValidationFailed(
            _("%(full_name)s already uses %(license)s.") % {"full_name": model.full_name, "license": license},
            field="license",
        )
    previous = policy.license
    policy.license = license
    policy.save(update_fields=["license", "updated_at"])
    holders = list(holders_to_reaccept(model, license).select_related("user"))
    record(
        actor=actor,
        action=AuditAction.ACCESS_POLICY_LICENCE_SWITCHED,
        target=policy,
        meta=meta,
        model=model.full_name,
        previous=str(previous),
        license=str(license),
        license_sha256=license.sha256,
        holders_to_reaccept=len(holders),
    )
    for grant in holders:
        email_queue(
            to=[grant.user.email],
            template="licence_new_version",
            context={
                "model_name": model.full_name,
                "license": str(license),
                "accept_url": settings.SITE_URL + reverse("access:licence_accept", args=[grant.pk]),
            },
        )
    return len(holders)
