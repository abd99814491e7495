from ..downloads.conftest import s3rver  # noqa: F401  (the real s3rver, for browser-style part uploads)
