"""The one module that decides who may review a model and who may see its files.

The per-object checks and the set queries are built on the same `Grant.objects.active()`
and the same role rules, and a test checks that they agree.
"""

from django.db.models import QuerySet

from accessgate.accounts.roles import Role, has_role
from accessgate.catalog.models import Model, Release

from .models import Grant


def reviewable_models(user) -> QuerySet[Model]:
    if has_role(user, Role.ADMIN):
        return Model.objects.all()
    if has_role(user, Role.REVIEWER):
        return Model.objects.filter(reviewers=user)
    return Model.objects.none()


def can_review(user, model: Model) -> bool:
    if has_role(user, Role.ADMIN):
        return True
    return has_role(user, Role.REVIEWER) and model.reviewers.filter(pk=user.pk).exists()


def active_grant(user, model: Model) -> Grant | None:
    if not (user.is_authenticated and user.is_active):
        return None
    return Grant.objects.active().filter(user=user, model=model).first()


def can_download(user, release: Release) -> bool:
    return release.is_active and active_grant(user, release.model) is not None


def downloadable_releases(user) -> QuerySet[Release]:
    if not (user.is_authenticated and user.is_active):
        return Release.objects.none()
    granted_models = Grant.objects.active().filter(user=user).values("model")
    return Release.objects.filter(is_active=True, model__in=granted_models)


def can_see_files(user, model: Model) -> bool:
    """File lists are for grant holders, and for admins who publish the files."""
    return has_role(user, Role.ADMIN) or active_grant(user, model) is not None
