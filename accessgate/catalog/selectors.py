from django.db.models import Exists, Q, QuerySet

from accessgate.accounts.models import User
from accessgate.accounts.roles import Role, roles_of

from .models import Model, ModelStatus, Release
from .names import NAME_PART_RE, REVISION_RE, VERSION_RE


def _roles_held(user) -> set[Role] | None:
    """The user's roles if they are already known (cached on the user), else None."""
    return getattr(user, "_accessgate_roles", None)


def _holds(user, role: Role):
    """A subquery that is true when `user` holds `role` (no query of its own)."""
    return Exists(User.groups.through.objects.filter(user_id=user.pk, group__name=role.value))


def _grants():
    # access.Grant, reached through the relation so this lower layer never imports access.
    return Model._meta.get_field("grants").related_model.objects


def visible_models(user) -> QuerySet[Model]:
    """The models this user may know exist. Published and listed: everyone. A draft or an
    unlisted model: its publishers and its assigned reviewers while they hold that role,
    admins, and (published unlisted models) the holders of an active grant on it.

    Every surface (catalog, apply, downloads, the HF and REST APIs, token choices, `/me/`)
    reads through this or its per-object twin `model_visible`; a model outside it answers
    the same 404 as a name no model has. Lazy: used as a filter it adds no query of its own."""
    visible = Q(status=ModelStatus.PUBLISHED, is_listed=True)
    if user is not None and user.is_authenticated and user.is_active:
        held = _roles_held(user)
        if held is not None and Role.ADMIN in held:
            return Model.objects.all()
        publishes = Model.publishers.through.objects.filter(user_id=user.pk).values("model_id")
        reviews = Model.reviewers.through.objects.filter(user_id=user.pk).values("model_id")
        granted = _grants().active().filter(user_id=user.pk).values("model_id")
        visible |= (
            Q(_holds(user, Role.ADMIN))
            | (Q(pk__in=publishes) & Q(_holds(user, Role.PUBLISHER)))
            | (Q(pk__in=reviews) & Q(_holds(user, Role.REVIEWER)))
            | Q(status=ModelStatus.PUBLISHED, pk__in=granted)
        )
    return Model.objects.filter(visible)


def model_visible(user, model: Model) -> bool:
    """`visible_models` for one model (tests/catalog/test_visibility.py checks they agree)."""
    if model.status == ModelStatus.PUBLISHED and model.is_listed:
        return True
    if user is None or not (user.is_authenticated and user.is_active):
        return False
    held = roles_of(user)
    if Role.ADMIN in held:
        return True
    if Role.PUBLISHER in held and model.publishers.filter(pk=user.pk).exists():
        return True
    if Role.REVIEWER in held and model.reviewers.filter(pk=user.pk).exists():
        return True
    return model.status == ModelStatus.PUBLISHED and _grants().active().filter(user_id=user.pk, model=model).exists()


def listed_models(*, search: str = "", user=None) -> QuerySet[Model]:
    models = visible_models(user).filter(is_listed=True)
    search = search.replace("\x00", "").strip()  # PostgreSQL text never holds a NUL
    if search:
        models = models.filter(
            Q(namespace__icontains=search)
            | Q(name__icontains=search)
            | Q(display_name__icontains=search)
            | Q(summary__icontains=search)
        )
    return models.order_by("namespace", "name")


def token_model_choices(user) -> QuerySet[Model]:
    """The models a token of `user` may be limited to: those they may see."""
    return visible_models(user).order_by("namespace", "name")


def model_by_name(namespace: str, name: str, *, user=None, include_drafts: bool = False) -> Model | None:
    """The model at `<namespace>/<name>` (any case), if `user` may see it (drafts and unlisted
    models: see `visible_models`); None for a name no model can have, without asking the database (a NUL
    byte from a URL would make PostgreSQL fail the query). `include_drafts`: for staff code
    that checks rights itself (the console, the admin)."""
    if not (NAME_PART_RE.match(namespace) and NAME_PART_RE.match(name)):
        return None
    models = Model.objects.all() if include_drafts else visible_models(user)
    return models.filter(namespace__iexact=namespace, name__iexact=name).first()


def active_releases(model: Model) -> QuerySet[Release]:
    return model.releases.filter(is_active=True).order_by("-created_at")


def release_by_ref(model: Model, ref: str) -> Release | None:
    """A release by its version string or its 40-hex revision id; None for anything else."""
    if REVISION_RE.match(ref):
        field = "revision"
    elif VERSION_RE.match(ref):
        field = "version"
    else:
        return None
    return model.releases.filter(**{field: ref}).first()
