"""What only reads and decides: who may download, review or publish, and why not.

The download check (`downloads`), its SQL twin (`download_sql`), the staff checks (`staff`),
the one requirement evaluator (`requirements`), conflicts of interest, answer validation, and
what a grant still needs under its policy (`needs`, read by the one door).
Nothing here changes state.
"""

from .downloads import active_grant, can_see_files, download_check, grants_with_signed_licence, signed_under
from .requirements import requirements_for
from .staff import can_publish, can_review, publishable_models, reviewable_models

__all__ = [
    "active_grant",
    "can_publish",
    "can_review",
    "can_see_files",
    "download_check",
    "grants_with_signed_licence",
    "publishable_models",
    "requirements_for",
    "reviewable_models",
    "signed_under",
]
