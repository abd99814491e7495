"""The portal's own areas of the store: key prefixes it writes into the same bucket (or local
root) as the weights. A model's files live under `<namespace>/<name>/`; nothing a publisher
names (a namespace, a release source, an import prefix) may reach into the areas below.

Every writer takes its prefix from here or from the settings named in `portal_prefixes`; a
test runs each writer and checks that what it stored lies under one of them.
"""

from django.conf import settings

AUDIT_EXPORTS = "audit-exports/"  # on-demand audit exports and their signed manifests
UPLOADS = "_uploads/"  # browser uploads (S3) waiting for their import
TRAINING_CERTIFICATES = "training/"  # reviewers' training certificates (PDF)
LOCAL_SIDECARS = ".accessgate-sha256/"  # LocalStorage's records of what put_file wrote


def portal_prefixes() -> dict[str, str]:
    """{prefix: what the portal keeps there}, with the configured audit prefixes."""
    return {
        settings.ACCESSGATE_AUDIT_CHECKPOINT_PREFIX: "audit checkpoints",
        settings.ACCESSGATE_AUDIT_DAILY_EXPORT_PREFIX: "daily audit exports",
        AUDIT_EXPORTS: "audit exports",
        UPLOADS: "browser uploads",
        TRAINING_CERTIFICATES: "training certificates",
        LOCAL_SIDECARS: "the local store's checksum records",
    }


def prefixes_overlap(a: str, b: str) -> bool:
    """Whether one of two key prefixes (each ending in '/') lies inside the other."""
    return a.startswith(b) or b.startswith(a)
