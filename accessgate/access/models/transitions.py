"""The tables of allowed status moves for requests and grants."""

from django.utils.translation import gettext_lazy as _

from accessgate.core.transitions import Transitions

from .grants import GrantStatus
from .requests import RequestStatus

# The one table of allowed moves. Services refuse everything else.
REQUEST_TRANSITIONS = Transitions(
    noun=_("request"),
    allowed={
        RequestStatus.SUBMITTED: frozenset(
            {RequestStatus.APPROVED, RequestStatus.REJECTED, RequestStatus.CHANGES_REQUESTED, RequestStatus.WITHDRAWN}
        ),
        RequestStatus.CHANGES_REQUESTED: frozenset({RequestStatus.SUBMITTED, RequestStatus.WITHDRAWN}),
        RequestStatus.APPROVED: frozenset(),
        # One appeal per request; its outcome is final.
        RequestStatus.REJECTED: frozenset({RequestStatus.APPEALED}),
        RequestStatus.APPEALED: frozenset({RequestStatus.APPROVED, RequestStatus.REJECTED}),
        RequestStatus.WITHDRAWN: frozenset(),
    },
    verbs={
        RequestStatus.SUBMITTED: _("resubmitted"),
        RequestStatus.APPROVED: _("approved"),
        RequestStatus.REJECTED: _("rejected"),
        RequestStatus.CHANGES_REQUESTED: _("sent back for changes"),
        RequestStatus.WITHDRAWN: _("withdrawn"),
        RequestStatus.APPEALED: _("appealed"),
    },
)


GRANT_TRANSITIONS = Transitions(
    noun=_("grant"),
    allowed={
        GrantStatus.PENDING: frozenset(
            {GrantStatus.ACTIVE, GrantStatus.EXPIRED, GrantStatus.REVOKED, GrantStatus.ENDED}
        ),
        GrantStatus.ACTIVE: frozenset(
            {GrantStatus.EXPIRED, GrantStatus.REVOKED, GrantStatus.SUSPENDED, GrantStatus.ENDED}
        ),
        # A suspension lifts (identity, training, by hand) or ends (expiry, revocation, holder).
        # Lifted into a policy that now asks for more, it waits (pending) for that.
        GrantStatus.SUSPENDED: frozenset(
            {GrantStatus.ACTIVE, GrantStatus.PENDING, GrantStatus.EXPIRED, GrantStatus.REVOKED, GrantStatus.ENDED}
        ),
        GrantStatus.EXPIRED: frozenset(),
        GrantStatus.REVOKED: frozenset(),
        GrantStatus.ENDED: frozenset(),
    },
    verbs={
        GrantStatus.PENDING: _("approved"),
        GrantStatus.ACTIVE: _("restored"),
        GrantStatus.EXPIRED: _("expired"),
        GrantStatus.REVOKED: _("revoked"),
        GrantStatus.SUSPENDED: _("suspended"),
        GrantStatus.ENDED: _("ended"),
    },
    # Every refused move is from a grant that has already ended, or is already where asked.
    message=_("This {noun} is already {state}."),
)
