"""Access's answers to what lower apps announce (connected in `AccessConfig.ready`)."""

from allauth.account.signals import email_confirmed
from allauth.mfa.signals import authenticator_added
from allauth.socialaccount.signals import social_account_added
from django.dispatch import receiver

from accessgate.identity.signals import verification_lapsed, verification_restored
from accessgate.training.signals import training_lapsed, training_restored

from .services import grants_activate_ready, grants_restore_after_identity, grants_suspend_for_identity
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
