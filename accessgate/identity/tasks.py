from celery import shared_task

from accessgate.core.tasks import queue_now

from .models import IdentityVerification, VerificationStatus
from .services import verification_expire_due, verification_sync


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=600, max_retries=6)
def sync_verification(self, verification_id: int) -> str:
    """Fetch a session from the provider and apply it. Idempotent, so retries are safe."""
    verification = IdentityVerification.objects.filter(pk=verification_id).first()
    if verification is None:
        return "gone"
    return "changed" if verification_sync(verification) else "unchanged"


@shared_task
def expire_verifications() -> int:
    """Daily: expire verifications, and sync sessions whose webhook never arrived."""
    for verification in IdentityVerification.objects.filter(
        provider="stripe", status__in=[VerificationStatus.PENDING, VerificationStatus.PROCESSING]
    )[:200]:
        queue_now(sync_verification, verification.pk, what=f"the sync of verification {verification.pk}")
    return verification_expire_due()
