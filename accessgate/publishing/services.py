"""The console's own state changes: new draft models and publishing them. Everything else
the console changes goes through the owning app's service (policy, licence, releases,
reviews, grants, roles), so it is audited the same way from every door."""

from django.db import transaction
from django.utils.translation import gettext as _

from accessgate.access.models import AccessPolicy
from accessgate.accounts.models import User
from accessgate.accounts.roles import Role, has_role
from accessgate.audit.context import RequestMeta
from accessgate.catalog.models import Model
from accessgate.catalog.selectors import active_releases
from accessgate.catalog.services import model_create, model_mark_published
from accessgate.core.errors import PolicyNotMet


@transaction.atomic
def model_create_draft(
    *,
    actor: User,
    namespace: str,
    name: str,
    display_name: str,
    summary: str = "",
    card_markdown: str = "",
    meta: RequestMeta | None = None,
) -> Model:
    """A new draft; a publisher who creates it owns it."""
    return model_create(
        actor=actor,
        namespace=namespace,
        name=name,
        display_name=display_name,
        summary=summary,
        card_markdown=card_markdown,
        publishers=[actor] if has_role(actor, Role.PUBLISHER) else [],
        draft=True,
        meta=meta,
    )


def missing_for_publishing(model: Model) -> list[str]:
    """What a draft still needs before it can be published (empty: ready)."""
    missing = []
    policy = AccessPolicy.objects.filter(model=model).first()
    if policy is None:
        missing += [_("a licence (chosen in the policy)"), _("an access policy")]
    if not active_releases(model).exists():
        missing.append(_("an active release"))
    return missing


@transaction.atomic
def model_publish(*, actor: User, model: Model, meta: RequestMeta | None = None) -> Model:
    """Make a draft public: listed, open for applications. Refused until it is complete."""
    missing = missing_for_publishing(model)
    if missing:
        raise PolicyNotMet(
            _("%(full_name)s cannot be published yet; it needs %(missing)s.")
            % {"full_name": model.full_name, "missing": ", ".join(missing)}
        )
    return model_mark_published(actor=actor, model=model, meta=meta)
