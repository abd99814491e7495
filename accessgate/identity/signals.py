"""What identity tells the apps above it, without importing them.

Both are sent inside the transaction that changed the verification, with `user=`. Receivers
of `verification_lapsed` return a list of what they suspended (labels for the e-mail).
"""

from django.dispatch import Signal

# The user's last active verification has expired.
verification_lapsed = Signal()
# The user holds an active verification again.
verification_restored = Signal()
