"""How refusals reach the Hugging Face client: `X-Error-Code` picks the exception it raises,
`X-Error-Message` (a `HEAD` has no body) names the page where the researcher can fix it.
The body is HF's own error shape, `{"error": "<message>"}`."""

import functools

from django.http import JsonResponse

from accessgate.core.errors import AccessDenied, DomainError, NotAuthenticated, NotFound, PolicyNotMet, QuotaExceeded

# huggingface_hub treats a 401 carrying exactly this message as bad credentials, not a missing repo.
INVALID_CREDENTIALS = "Invalid credentials in Authorization header"


class HfError(Exception):
    """A refusal in the protocol's terms (status, X-Error-Code, message, extra headers)."""

    def __init__(self, status: int, code: str | None, message: str, *, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def repo_not_found(repo_id: str) -> HfError:
    return HfError(404, "RepoNotFound", f"Repository {repo_id} not found.")


def revision_not_found(repo_id: str, revision: str, why: str = "") -> HfError:
    return HfError(404, "RevisionNotFound", why or f"Invalid rev id: {revision} is not a release of {repo_id}.")


def entry_not_found(repo_id: str, path: str, commit: str) -> HfError:
    return HfError(
        404, "EntryNotFound", f"{path} does not exist in {repo_id} at {commit}.", headers={"X-Repo-Commit": commit}
    )


def _header_safe(text: str) -> str:
    """Printable ASCII on one line: servers (gunicorn) refuse a header with a control character."""
    ascii_text = text.encode("ascii", "replace").decode().replace("?", "'")
    return " ".join("".join(char if " " <= char <= "~" else " " for char in ascii_text).split())


def with_help(request, error: DomainError) -> str:
    """The domain error's message plus the absolute address of the page that fixes it."""
    if error.help_url:
        return f"{error.message} Go to {request.build_absolute_uri(error.help_url)}"
    return error.message


def from_domain_error(request, error: DomainError) -> HfError:
    if isinstance(error, NotAuthenticated):
        # The header must be exactly the client's phrase; the body says what to do.
        return HfError(401, None, error.message, headers={"X-Error-Message": INVALID_CREDENTIALS})
    if isinstance(error, AccessDenied | PolicyNotMet):
        return HfError(403, "GatedRepo", with_help(request, error))
    if isinstance(error, QuotaExceeded):
        # Not 429: the client retries 429s with backoff, and waiting does not restore a quota.
        return HfError(403, None, error.message)
    if isinstance(error, NotFound):
        return HfError(404, "EntryNotFound", error.message)
    return HfError(error.http_status, None, with_help(request, error))


def hf_response(error: HfError) -> JsonResponse:
    response = JsonResponse({"error": error.message}, status=error.status)
    if error.code:
        response["X-Error-Code"] = error.code
    response["X-Error-Message"] = _header_safe(error.message)
    for name, value in error.headers.items():
        response[name] = _header_safe(value) if name == "X-Error-Message" else value
    if error.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="accessgate"'
    return response


def hf_view(view):
    """Answer HfError and DomainError in the protocol's terms, never as an HTML page."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except HfError as error:
            return hf_response(error)
        except DomainError as error:
            return hf_response(from_domain_error(request, error))

    return wrapper
