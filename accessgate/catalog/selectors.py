from django.db.models import Exists, Q, QuerySet

from accessgate.accounts.models import User
from accessgate.accounts.roles import Role

from .models import Model, ModelStatus, Release
from .names import NAME_PART_RE, REVISION_RE, VERSION_RE


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
    search = search.replace("\x00", "").strip()  # PostgreSQL text never holds a NUL
    if search:
        models = models.filter(
            Q(namespace__icontains=search)
            | Q(name__icontains=search)
            | Q(display_name__icontains=search)
            | Q(summary__icontains=search)
        )
    return models.order_by("namespace", "name")


def model_by_name(namespace: str, name: str, *, user=None, include_drafts: bool = False) -> Model | None:
    """The model at `<namespace>/<name>` (any case), if `user` may see it (drafts: see
    `visible_models`); None for a name no model can have, without asking the database (a NUL
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
