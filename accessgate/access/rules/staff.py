"""Who on the staff may review or publish a model: the per-object checks and the set queries,
built on the same roles."""

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from accessgate.accounts.roles import Role, has_role
from accessgate.catalog.models import Model

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accessgate.accounts.models import User


def reviewable_models(user: "User | AnonymousUser") -> QuerySet[Model]:
    """Reviewers review the models they are assigned to; publishers decide on the models they
    own (from their console); admins on every model."""
    if has_role(user, Role.ADMIN):
        return Model.objects.all()
    q = Q()
    if has_role(user, Role.REVIEWER):
        q |= Q(reviewers=user)
    if has_role(user, Role.PUBLISHER):
        q |= Q(publishers=user)
    return Model.objects.filter(q).distinct() if q else Model.objects.none()


def publishable_models(user: "User | AnonymousUser") -> QuerySet[Model]:
    """The models whose console this user may open: their own as a publisher, all as an admin."""
    if has_role(user, Role.ADMIN):
        return Model.objects.all()
    if has_role(user, Role.PUBLISHER):
        return Model.objects.filter(publishers=user)
    return Model.objects.none()


def can_publish(user: "User | AnonymousUser", model: Model) -> bool:
    if has_role(user, Role.ADMIN):
        return True
    return has_role(user, Role.PUBLISHER) and model.publishers.filter(pk=user.pk).exists()


def can_review(user: "User | AnonymousUser", model: Model) -> bool:
    if has_role(user, Role.ADMIN):
        return True
    if has_role(user, Role.REVIEWER) and model.reviewers.filter(pk=user.pk).exists():
        return True
    return can_publish(user, model)
