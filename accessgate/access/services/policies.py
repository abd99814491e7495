"""Publishing a model's access policy: one typed value in, one audited change out."""

from collections.abc import Sequence
from dataclasses import dataclass, fields

from django.db import transaction
from django_countries import countries as known_countries

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.catalog.models import LicenseVersion, Model
from accessgate.core.errors import ValidationFailed
from accessgate.training.models import Training

from ..freemail import default_denied_domains
from ..models import AccessPolicy, AttestationStatement, Gating

REQUIREMENT_FIELDS = (
    "require_identity",
    "require_mfa",
    "require_orcid",
    "require_institutional_email",
    "require_signoff",
)


@dataclass(frozen=True)
class PolicySettings:
    """Everything a publisher decides about a model's access. A new policy option is a field
    here, a column on `AccessPolicy` and (if checked) a rule in `access.requirements`."""

    license: LicenseVersion
    statements: Sequence[str] = ()
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
    required_trainings: Sequence[Training] = ()

    def cleaned(self) -> dict:
        """The column values to store, normalised; refuses values no policy can hold."""
        if self.signoff_link_days < 1:
            raise ValidationFailed("A sign-off link lives at least one day.", field="signoff_link_days")
        if self.grant_days < 1:
            raise ValidationFailed("A grant lasts at least one day.", field="grant_days")
        if not 1 <= self.url_ttl_seconds <= 7 * 24 * 3600:
            raise ValidationFailed("A download URL lives between 1 second and 7 days.", field="url_ttl_seconds")
        if self.max_downloads_per_file is not None and self.max_downloads_per_file < 1:
            raise ValidationFailed(
                "Allow at least one download per file, or leave it empty.", field="max_downloads_per_file"
            )
        denied = default_denied_domains() if self.denied_email_domains is None else self.denied_email_domains
        blocked = sorted({code.strip().upper() for code in self.blocked_countries if code.strip()})
        unknown = [code for code in blocked if code not in dict(known_countries)]
        if unknown:
            raise ValidationFailed(f"Unknown country codes: {', '.join(unknown)}.", field="blocked_countries")
        values = {
            f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("statements", "required_trainings")
        }
        values.update(
            reminder_days=_reminder_days(self.reminder_days),
            signoff_domains=_domains(self.signoff_domains),
            require_training=bool(self.required_trainings),
            gating=Gating(self.gating),
            institutional_domains=_domains(self.institutional_domains),
            denied_email_domains=_domains(denied),
            blocked_countries=blocked,
        )
        return values

    def cleaned_statements(self) -> list[str]:
        statements = [" ".join(text.split()) for text in self.statements if text.strip()]
        if len(set(statements)) != len(statements):
            raise ValidationFailed("Two attestation statements are the same.", field="statements")
        return statements


def _reminder_days(values: Sequence[int]) -> list[int]:
    try:
        days = sorted({int(value) for value in values}, reverse=True)
    except (TypeError, ValueError) as error:
        raise ValidationFailed("Reminder days are whole numbers of days.", field="reminder_days") from error
    if any(not 1 <= day <= 365 for day in days):
        raise ValidationFailed("Each reminder is 1 to 365 days before expiry.", field="reminder_days")
    return days


def _domains(values: Sequence[str]) -> list[str]:
    cleaned = sorted({value.strip().lower().lstrip("@") for value in values if value and value.strip()})
    bad = [d for d in cleaned if "." not in d or " " in d or "@" in d]
    if bad:
        raise ValidationFailed(f"These are not e-mail domains: {', '.join(bad)}.", field="institutional_domains")
    return cleaned


def _sync_statements(policy: AccessPolicy, statements: list[str]) -> bool:
    """Keep rows whose text is unchanged, retire the others, add the new; whether any changed."""
    current = {s.text: s for s in policy.statements.filter(is_active=True)}
    retired = [s for text, s in current.items() if text not in statements]
    for statement in retired:
        statement.is_active = False
        statement.save(update_fields=["is_active"])
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
    policy, created = AccessPolicy.objects.select_for_update().get_or_create(model=model, defaults=values)
    changed = [name for name, value in values.items() if getattr(policy, name) != value]
    for name in changed:
        setattr(policy, name, values[name])
    if changed:
        policy.save()
    if _sync_statements(policy, statements):
        changed.append("statements")
    trainings = {t.pk for t in terms.required_trainings}
    if set(policy.required_trainings.values_list("pk", flat=True)) != trainings:
        policy.required_trainings.set(trainings)
        changed.append("required_trainings")
    if created or changed:
        record(
            actor=actor,
            action=AuditAction.ACCESS_POLICY_UPDATED,
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
            attestation_sha256s=[s.sha256 for s in policy.statements.filter(is_active=True)],
        )
    return policy
