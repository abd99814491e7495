from django.db.models import Exists, Q, QuerySet

from accessgate.accounts.models import User
from accessgate.accounts.roles import Role

from .models import Model, ModelStatus, Release
from .names import REVISION_RE


def visible_models(user) -> QuerySet[Model]:
    """The models this user may know exist: every published one, and the drafts they publish
    or review (admins: all). Every surface (catalog, apply, downloads, APIs) reads through
    this, so they agree on drafts. Lazy: used as a filter it adds no query of its own."""
    visible = Q(status=ModelStatus.PUBLISHED)
    if user is not None and user.is_authenticated and user.is_active:
        cached = getattr(user, "_accessgate_roles", None)
        if cached is not None and Role.ADMIN in cached:
            return Model.objects.all()
        is_admin = Exists(User.groups.through.objects.filter(user_id=user.pk, group__name=Role.ADMIN.value))
        visible |= Q(publishers=user) | Q(reviewers=user) | Q(is_admin)
    return Model.objects.filter(pk__in=Model.objects.filter(visible).values("pk"))


def listed_models(*, search: str = "", user=None) -> QuerySet[Model]:
    models = visible_models(user).filter(is_listed=True)
    search = search.strip()
    if search:
        models = models.filter(
            Q(namespace__icontains=search)
            | Q(name__icontains=search)
            | Q(display_name__icontains=search)
            | Q(summary__icontains=search)
        )
    return models.order_by("namespace", "name")


def model_by_name(namespace: str, name: str, *, user=None, include_drafts: bool = False) -> Model | None:
    """The model with this name, if `user` may see it (drafts: see `visible_models`).
    `include_drafts`: for staff code that checks rights itself (the console, the admin)."""
    models = Model.objects.all() if include_drafts else visible_models(user)
    return models.filter(namespace__iexact=namespace, name__iexact=name).first()


def active_releases(model: Model) -> QuerySet[Release]:
    return model.releases.filter(is_active=True).order_by("-created_at")


def release_by_ref(model: Model, ref: str) -> Release | None:
    """A release by its version string or its 40-hex revision id."""
    field = "revision" if REVISION_RE.match(ref) else "version"
    return model.releases.filter(**{field: ref}).first()
