"""Access's answers to what lower apps announce (connected in `AccessConfig.ready`)."""

from allauth.account.signals import email_confirmed
from allauth.mfa.signals import authenticator_added
from allauth.socialaccount.signals import social_account_added
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from accessgate.accounts.models import User
from accessgate.catalog.models import Model
from accessgate.identity.signals import verification_lapsed, verification_restored
from accessgate.training.signals import training_lapsed, training_restored

from .services import grants_activate_ready, grants_restore_after_identity, grants_suspend_for_identity
from .services.escalations import requests_escalate, requests_escalate_for_reviewer
from .services.trainings import grants_restore_after_training, grants_suspend_for_training


@receiver(verification_lapsed, dispatch_uid="access.suspend_for_identity")
def suspend_for_identity(sender, *, user, **kwargs) -> list[str]:
    return [grant.model.full_name for grant in grants_suspend_for_identity(user=user)]


@receiver(verification_restored, dispatch_uid="access.restore_after_identity")
def restore_after_identity(sender, *, user, **kwargs) -> list[str]:
    restored = [grant.model.full_name for grant in grants_restore_after_identity(user=user)]
    return restored + [grant.model.full_name for grant in grants_activate_ready(user=user)]


@receiver(training_lapsed, dispatch_uid="access.suspend_for_training")
def suspend_for_training(sender, *, user, training, **kwargs) -> list[str]:
    return [grant.model.full_name for grant in grants_suspend_for_training(user=user, training=training)]


@receiver(training_restored, dispatch_uid="access.restore_after_training")
def restore_after_training(sender, *, user, **kwargs) -> list[str]:
    restored = [grant.model.full_name for grant in grants_restore_after_training(user=user)]
    # A grant approved while waiting for this training starts now.
    return restored + [grant.model.full_name for grant in grants_activate_ready(user=user)]


# A grant approved while requirements were missing starts the moment they hold.
@receiver(authenticator_added, dispatch_uid="access.activate_after_mfa")
def activate_after_mfa(sender, *, user, **kwargs) -> None:
    grants_activate_ready(user=user)


@receiver(email_confirmed, dispatch_uid="access.activate_after_email")
def activate_after_email(sender, *, email_address, **kwargs) -> None:
    grants_activate_ready(user=email_address.user)


@receiver(social_account_added, dispatch_uid="access.activate_after_orcid")
def activate_after_orcid(sender, *, sociallogin, **kwargs) -> None:
    grants_activate_ready(user=sociallogin.user)


# A reviewer leaving a model, or losing the reviewer role, can leave requests without a decider.
@receiver(m2m_changed, sender=Model.reviewers.through, dispatch_uid="access.escalate_after_reviewer_left")
def escalate_after_reviewer_left(sender, *, instance, action, reverse, pk_set=None, **kwargs) -> None:
    if action not in ("post_remove", "post_clear"):
        return
    if reverse:  # a user's models changed
        for model in Model.objects.filter(pk__in=pk_set) if pk_set else Model.objects.all():
            requests_escalate(model=model)
    else:
        requests_escalate(model=instance)


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="access.escalate_after_role_removed")
def escalate_after_role_removed(sender, *, instance, action, reverse, **kwargs) -> None:
    if action in ("post_remove", "post_clear") and not reverse:
        requests_escalate_for_reviewer(instance)
