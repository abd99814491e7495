from django.db.models import Q, QuerySet

from .models import Model, Release
from .names import REVISION_RE


def listed_models(*, search: str = "") -> QuerySet[Model]:
    models = Model.objects.filter(is_listed=True)
    search = search.strip()
    if search:
        models = models.filter(
            Q(namespace__icontains=search)
            | Q(name__icontains=search)
            | Q(display_name__icontains=search)
            | Q(summary__icontains=search)
        )
    return models.order_by("namespace", "name")


def model_by_name(namespace: str, name: str) -> Model | None:
    return Model.objects.filter(namespace__iexact=namespace, name__iexact=name).first()


def active_releases(model: Model) -> QuerySet[Release]:
    return model.releases.filter(is_active=True).order_by("-created_at")


def release_by_ref(model: Model, ref: str) -> Release | None:
    """A release by its version string or its 40-hex revision id."""
    field = "revision" if REVISION_RE.match(ref) else "version"
    return model.releases.filter(**{field: ref}).first()
