"""What training tells the apps above it, without importing them (like identity's signals).

Both are sent inside the transaction that changed the record, with `user=` and `training=`.
"""

from django.dispatch import Signal

# A user's completion of a training has lapsed (and they hold no other valid one).
training_lapsed = Signal()
# A user holds a valid completion of a training again.
training_restored = Signal()
