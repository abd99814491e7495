"""`/api/models/<ns>/<name>/user-access-request/…`: HfApi's access-request methods for a model's
reviewers, with a personal access token carrying the `review` scope. People are named by
`User.username`. Decisions go through the same audited services as the review pages."""

from django.contrib.auth import get_user_model
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accessgate.access import services as access_services
from accessgate.access.models import AccessRequest, Grant, GrantStatus, RequestStatus
from accessgate.access.rules.requirements import waiting_label
from accessgate.access.rules.staff import can_review
from accessgate.access.services import access_request_return_to_pending, grant_create_direct
from accessgate.accounts.auth import require_scope
from accessgate.accounts.models import USERNAME_RE, TokenScope
from accessgate.accounts.selectors import profile_for
from accessgate.audit.context import RequestMeta
from accessgate.core.errors import AccessDenied, Conflict, InvalidTransition, NotFound, TooLarge, ValidationFailed
from accessgate.core.json_body import load_json

from .errors import HfError, hf_view
from .views import caller, paginated, visible_model

PAGE_SIZE = 100
LISTS = {"pending": RequestStatus.SUBMITTED, "accepted": RequestStatus.APPROVED, "rejected": RequestStatus.REJECTED}


def _reviewer(request, namespace, name):
    """(reviewer, model) for a token with the review scope on this model; sessions are not
    accepted (these POSTs carry no CSRF token, so a cookie must never authorise them)."""
    if "Authorization" not in request.headers:
        raise HfError(401, None, "Send a personal access token with the review scope: Authorization: Bearer <token>.")
    user, token = caller(request)
    model = visible_model(namespace, name, user)
    if not can_review(user, model):
        raise HfError(403, None, f"You are not a reviewer of {model.full_name}.")
    try:
        require_scope(token, TokenScope.REVIEW, model)
    except AccessDenied as error:
        raise HfError(403, None, error.message) from error
    return user, model


def _entry(access_request: AccessRequest, status: str) -> dict:
    user = access_request.user
    fields = {"intended_use": access_request.intended_use} if access_request.intended_use else {}
    profile = profile_for(user)
    if profile.affiliation:
        fields["affiliation"] = profile.affiliation
    # The answers to the model's own questions, as signed (the latest agreement), by key.
    agreement = access_request.agreements.order_by("-signed_at", "-id").first()
    for answer in agreement.answers if agreement else ():
        fields[answer["key"]] = answer["value"]
    return {
        "user": {"user": user.username, "fullname": profile.full_name, "email": user.email, "type": "user"},
        "requestId": str(access_request.pk),
        "status": status,
        "timestamp": access_request.submitted_at.isoformat().replace("+00:00", "Z"),
        "fields": fields,
    }


@never_cache
@require_GET
@hf_view
def request_list(request, namespace, name, status):
    _, model = _reviewer(request, namespace, name)
    requests = AccessRequest.objects.filter(model=model, status=LISTS[status]).select_related("user__profile")
    if status == "accepted":
        # Accepted means "has access now": the request's grant is active.
        requests = requests.filter(grants__in=Grant.objects.active()).distinct()
    items = [_entry(r, status) for r in requests.order_by("submitted_at", "pk")]
    return paginated(request, items, PAGE_SIZE)


def _payload(request) -> dict:
    try:
        data = load_json(request.body, empty={})
    except TooLarge as error:
        raise HfError(413, None, error.message) from error
    except ValidationFailed as error:
        raise HfError(400, None, f"Send a JSON body. {error.message}") from error
    if not isinstance(data, dict):
        raise HfError(400, None, "Send a JSON object.")
    return data


def _user_named(username):
    name = str(username or "")
    found = get_user_model().objects.filter(username__iexact=name, is_active=True) if USERNAME_RE.match(name) else None
    user = found.first() if found is not None else None
    if user is None:
        raise HfError(404, None, f"No user {username!r}.")
    return user


def _request_id(value) -> int:
    """A request id as the client sends it (a number or its digits); 0 (no such row) otherwise,
    also for ids beyond a database integer."""
    text = str(value)
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return 0
    return int(text)


def _reason(data) -> str:
    reason = data.get("rejectionReason")
    if reason is not None and not isinstance(reason, str):
        raise HfError(400, None, "rejectionReason must be text.")
    return reason or ""


def _latest_request(model, data) -> AccessRequest:
    requests = AccessRequest.objects.filter(model=model)
    if data.get("requestId") is not None:
        found = requests.filter(pk=_request_id(data["requestId"])).first()
    else:
        found = requests.filter(user=_user_named(data.get("user"))).order_by("-created_at", "-pk").first()
    if found is None:
        raise HfError(404, None, "No access request of this user for this model.")
    return found


@csrf_exempt
@never_cache
@require_POST
@hf_view
def handle(request, namespace, name):
    """`{"user"|"requestId", "status": accepted|rejected|pending, "rejectionReason"}`."""
    reviewer, model = _reviewer(request, namespace, name)
    data = _payload(request)
    status = data.get("status")
    if not isinstance(status, str) or status not in LISTS:
        raise HfError(400, None, "status must be one of accepted, rejected, pending.")
    access_request = _latest_request(model, data)
    meta = RequestMeta.from_request(request)
    current = "pending" if access_request.status == RequestStatus.SUBMITTED else None
    if access_request.status == RequestStatus.APPROVED:
        current = "accepted"
    elif access_request.status == RequestStatus.REJECTED:
        current = "rejected"
    if status == current:
        raise HfError(400, None, f"This request is already {status}.")
    if status == "accepted" and current == "pending":
        grant = access_services.access_request_approve(actor=reviewer, access_request=access_request, meta=meta)
        return JsonResponse(_grant_answer(access_request.user, grant))
    elif status == "rejected" and current == "pending":
        access_services.access_request_reject(
            actor=reviewer, access_request=access_request, reason=_reason(data), meta=meta
        )
    elif status == "rejected" and current == "accepted":
        grant = Grant.objects.active().filter(request=access_request).first()
        if grant is None:
            raise HfError(400, None, "This user's access has already ended.")
        access_services.grant_revoke(actor=reviewer, grant=grant, reason=_reason(data), meta=meta)
    elif status == "pending" and current in {"accepted", "rejected"}:
        access_request_return_to_pending(actor=reviewer, access_request=access_request, meta=meta)
    else:
        raise InvalidTransition(
            f"A {access_request.get_status_display().lower()} request cannot become {status} here; use the review page."
        )
    return JsonResponse({"status": status})


@csrf_exempt
@never_cache
@require_POST
@hf_view
def grant(request, namespace, name):
    """`{"user": <username>}`: access without an application (the researcher still signs the
    licence and statements before the first download). 400 if they already have access."""
    reviewer, model = _reviewer(request, namespace, name)
    user = _user_named(_payload(request).get("user"))
    try:
        created = grant_create_direct(actor=reviewer, user=user, model=model, meta=RequestMeta.from_request(request))
    except Conflict as error:
        raise HfError(400, None, error.message) from error
    except NotFound as error:
        raise HfError(404, None, error.message) from error
    return JsonResponse(_grant_answer(user, created))


def _grant_answer(user, grant) -> dict:
    """What a grant (or a recorded first approval, None) is now, in the door's words."""
    if grant is None:
        return {
            "user": user.username,
            "status": "pending",
            "waitingFor": ["a second approval"],
            "message": waiting_label(["a second approval"], sentence=True),
        }
    answer = {
        "user": user.username,
        "status": "accepted" if grant.status == GrantStatus.ACTIVE else "pending",
        "expiresAt": grant.expires_at.isoformat(),
    }
    if grant.waiting_for:
        answer["waitingFor"] = list(grant.waiting_for)
        answer["message"] = waiting_label(grant.waiting_for, sentence=True)
    return answer
