from django.db.models import Q, QuerySet

from .models import Model, Release
from .names import NAME_PART_RE, REVISION_RE, VERSION_RE


def listed_models(*, search: str = "") -> QuerySet[Model]:
    models = Model.objects.filter(is_listed=True)
    search = search.replace("\x00", "").strip()  # PostgreSQL text never holds a NUL
    if search:
        models = models.filter(
            Q(namespace__icontains=search)
            | Q(name__icontains=search)
            | Q(display_name__icontains=search)
            | Q(summary__icontains=search)
        )
    return models.order_by("namespace", "name")


def model_by_name(namespace: str, name: str) -> Model | None:
    """The model at `<namespace>/<name>` (any case); None for a name no model can have, without
    asking the database (a NUL byte from a URL would make PostgreSQL fail the query)."""
    if not (NAME_PART_RE.match(namespace) and NAME_PART_RE.match(name)):
        return None
    return Model.objects.filter(namespace__iexact=namespace, name__iexact=name).first()


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
