"""The permission matrix's world: a seeded portal and every route's URL with the answer each
role gets, shared by the matrix tests and the browser crawler."""

import io

import pytest
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from accessgate.access import services
from accessgate.accounts.services import token_create
from accessgate.audit.exports import audit_export_run
from accessgate.audit.models import AuditExport, VerificationRun
from accessgate.core.storage import get_storage
from accessgate.downloads.imports import release_import_prepare
from accessgate.downloads.uploads import upload_start
from accessgate.notifications.services import webhook_endpoint_create
from accessgate.training.models import Training
from accessgate.training.services import training_certificate_upload
from tests import factories
from tests.support.applications import application, make_policy

# - allauth's (`allauth.urls`: log-in, sign-up, e-mail, MFA, ORCID). Its views decide who may
#   see them (anonymous-only or login-required); tests/accounts/ covers the flows we rely on.
# - Django's admin site (`admin.site.urls`): every admin page checks `is_staff` and the model
#   permissions itself. Its front door, `admin:index`, keeps a row; tests/*/test_admin.py
#   cover what admins can change. Our staff-roles page and the webhook pages (custom admin views and the read-only
#   lists that stand in for a staff page) keep rows too: admins only, everyone else to log in.
KEPT_ROWS = {
    "admin:index",
    "admin:roles",
    "admin:notifications_webhookendpoint_changelist",
    "admin:notifications_webhookendpoint_add",
    "admin:notifications_webhookendpoint_change",
    "admin:notifications_webhookendpoint_edit",
    "admin:notifications_webhookendpoint_rotate",
    "admin:notifications_webhookdelivery_changelist",
    "admin:notifications_webhookdelivery_change",
}


def _self_guarded(resolver: URLResolver) -> bool:
    return getattr(resolver.urlconf_module, "__name__", "") == "allauth.urls" or resolver.app_name == "admin"


def routes(resolver=None, namespace=None) -> set[str]:
    """The name of every route of the portal's own URLconfs, walked recursively."""
    found = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace and (f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace)
            if _self_guarded(pattern):
                found |= {name for name in KEPT_ROWS if name.startswith(f"{inner}:")}
                continue
            found |= routes(pattern, inner or namespace)
        else:
            assert pattern.name, f"Name the route {pattern.pattern} so the permission matrix can list it."
            found.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return found


ROLES = [
    "anonymous",
    "researcher",
    "other_researcher",
    "grant_holder",
    "reviewer",
    "other_reviewer",
    "auditor",
    "publisher",
    "other_publisher",
    "admin",
]
OK, LOGIN, FORBIDDEN, NOT_FOUND, REDIRECT = 200, "login", 403, 404, 302


@pytest.fixture
def world(db, researcher, other_researcher, reviewer, auditor, admin_user, model, tmp_path):
    # Registered first, so the requests below leave deliveries in its log (pending: the
    # test's transaction never commits, so nothing is sent).
    endpoint, _ = webhook_endpoint_create(actor=admin_user, url="https://93.184.215.14/hooks", events=["grant.created"])
    request = services.access_request_submit(actor=researcher, **application(model))
    approved = services.access_request_submit(
        actor=other_researcher, **application(model, typed_name=other_researcher.profile.full_name)
    )
    grant = services.access_request_approve(actor=reviewer, access_request=approved)
    from accessgate.audit.chainer import chain_all

    token, _ = token_create(actor=researcher, name="laptop")
    # The researcher's own ended grant with its close-out (for the close-out page).
    make_policy(model, model.policy.license, require_closeout=True, require_signoff=True, signoff_domains=["uni.edu"])
    ended = factories.GrantFactory(user=researcher, model=model, request__status="approved")
    services.grant_end(actor=researcher, grant=ended)
    signoff = services.signoff_request(
        actor=researcher, access_request=request, official_name="Dean Jones", official_email="dean@uni.edu"
    )
    training = Training.objects.create(name="Responsible use", kind="certificate")
    certificate = training_certificate_upload(
        actor=researcher, training=training, upload=io.BytesIO(b"%PDF-1.4\n"), size=9, filename="c.pdf"
    )
    chain_all()  # the on-commit step, had the test's transaction committed: event #1 exists
    export = audit_export_run(AuditExport.objects.create(requested_by=auditor, requested_by_label=auditor.email))
    run = VerificationRun.objects.create(requested_by=auditor)
    collection = services.collection_create(
        actor=None, namespace=model.namespace, name="family", display_name="Family", lead=model
    )
    # The publisher owns `model`; the other publisher owns another model only.
    publisher = factories.UserFactory(role="publisher")
    model.publishers.add(publisher)
    other_publisher = factories.UserFactory(role="publisher")
    factories.ModelFactory().publishers.add(other_publisher)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "weights.bin").write_bytes(b"123")
    job = release_import_prepare(
        actor=publisher, model=model, version="9.9", source=str(tmp_path / "src"), operator=True
    )
    upload = upload_start(actor=publisher, model=model, version="9.8", files=[("a.bin", 3)])
    return {
        "collection": collection,
        "job": job,
        "upload": upload,
        "endpoint": endpoint,
        "delivery": endpoint.deliveries.get(),
        "token": token,
        "export": export,
        "run": run,
        "users": {
            "anonymous": None,
            "researcher": researcher,
            "other_researcher": factories.UserFactory(),
            "grant_holder": other_researcher,
            "reviewer": reviewer,
            "other_reviewer": factories.UserFactory(role="reviewer"),
            "auditor": auditor,
            "publisher": publisher,
            "other_publisher": other_publisher,
            "admin": admin_user,
        },
        "model": model,
        "request": request,
        "grant": grant,
        "closeout": ended.closeout,
        "signoff": signoff,
        "training": training,
        "certificate": certificate,
    }


def urls(world):
    model, request, grant = world["model"], world["request"], world["grant"]
    release_args = [model.namespace, model.name, model.releases.get().version]
    hf_args = [model.namespace, model.name]
    weight_file = model.releases.get().files.get(path="config.json")
    signed_file_url = get_storage().signed_url(
        weight_file.storage_key, filename="config.json", sha256=weight_file.sha256, ttl_seconds=300, now=timezone.now()
    )
    return {
        "home": (reverse("home"), dict.fromkeys(ROLES, REDIRECT)),
        "favicon": (reverse("favicon"), dict.fromkeys(ROLES, 301)),
        "catalog:list": (reverse("catalog:list"), dict.fromkeys(ROLES, OK)),
        "catalog:model_detail": (
            reverse("catalog:model_detail", args=[model.namespace, model.name]),
            dict.fromkeys(ROLES, OK),
        ),
        # The researcher already has an open request, so the apply page sends them to it.
        "apply:form": (
            reverse("apply:form", args=[model.namespace, model.name]),
            {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN, "researcher": REDIRECT, "grant_holder": REDIRECT},
        ),
        # The collection's lead is `model`: the same answers as its own apply page.
        "apply:collection": (
            reverse("apply:collection", args=[world["collection"].namespace, world["collection"].name]),
            {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN, "researcher": REDIRECT, "grant_holder": REDIRECT},
        ),
        "access:my_access": (reverse("access:my_access"), {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN}),
        "access:request_detail": (
            reverse("access:request_detail", args=[request.pk]),
            {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN, "researcher": OK},
        ),
        "access:request_withdraw": (
            reverse("access:request_withdraw", args=[request.pk]),
            {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN, "researcher": OK},
        ),
        "access:request_resubmit": (
            reverse("access:request_resubmit", args=[request.pk]),
            {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN, "researcher": REDIRECT},
        ),
        "accounts:profile": (reverse("accounts:profile"), {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN}),
        "review:queue": (reverse("review:queue"), _staff(OK)),
        "review:detail": (reverse("review:detail", args=[request.pk]), {**_staff(OK), "other_reviewer": NOT_FOUND}),
        "review:grants": (reverse("review:grants"), _staff(OK)),
        "review:grant_suspend": (
            reverse("review:grant_suspend", args=[grant.pk]),
            {**_staff(OK), "other_reviewer": NOT_FOUND},
        ),
        "review:grant_reinstate": (
            reverse("review:grant_reinstate", args=[grant.pk]),
            {**_staff(OK), "other_reviewer": NOT_FOUND},
        ),
        # The appeal form lives on the request page; a GET goes back there (only for the applicant).
        "access:request_appeal": (
            reverse("access:request_appeal", args=[request.pk]),
            {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN, "researcher": REDIRECT},
        ),
        # Reviewers see their models' figures, auditors and admins every model's.
        "review:dashboard": (reverse("review:dashboard"), {**_staff(OK), "auditor": OK}),
        "access:my_downloads": (reverse("access:my_downloads"), {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN}),
        "review:grant_revoke": (
            reverse("review:grant_revoke", args=[grant.pk]),
            {**_staff(OK), "other_reviewer": NOT_FOUND},
        ),
        "admin:index": (reverse("admin:index"), {**dict.fromkeys(ROLES, LOGIN), "admin": OK}),
        "admin:roles": (reverse("admin:roles"), {**dict.fromkeys(ROLES, LOGIN), "admin": OK}),
        # For load balancers: public, no session needed.
        "health_live": (reverse("health_live"), dict.fromkeys(ROLES, OK)),
        "health_ready": (reverse("health_ready"), dict.fromkeys(ROLES, OK)),
        "admin:notifications_webhookendpoint_changelist": (
            reverse("admin:notifications_webhookendpoint_changelist"),
            _admin_only(),
        ),
        "admin:notifications_webhookendpoint_add": (reverse("admin:notifications_webhookendpoint_add"), _admin_only()),
        "admin:notifications_webhookendpoint_change": (
            reverse("admin:notifications_webhookendpoint_change", args=[world["endpoint"].pk]),
            _admin_only(),
        ),
        "admin:notifications_webhookendpoint_edit": (
            reverse("admin:notifications_webhookendpoint_edit", args=[world["endpoint"].pk]),
            _admin_only(),
        ),
        "admin:notifications_webhookendpoint_rotate": (
            reverse("admin:notifications_webhookendpoint_rotate", args=[world["endpoint"].pk]),
            _admin_only(),
        ),
        "admin:notifications_webhookdelivery_changelist": (
            reverse("admin:notifications_webhookdelivery_changelist"),
            _admin_only(),
        ),
        "admin:notifications_webhookdelivery_change": (
            reverse("admin:notifications_webhookdelivery_change", args=[world["delivery"].pk]),
            _admin_only(),
        ),
        "audit:trail": (reverse("audit:trail"), _auditors()),
        "audit:event": (reverse("audit:event", args=[1]), _auditors()),
        "audit:exports": (reverse("audit:exports"), _auditors()),
        "audit:export": (reverse("audit:export", args=[world["export"].pk]), _auditors()),
        "audit:export_manifest": (reverse("audit:export_manifest", args=[world["export"].pk]), _auditors()),
        "audit:export_download": (
            reverse("audit:export_download", args=[world["export"].pk]),
            {**_auditors(), "auditor": REDIRECT, "admin": REDIRECT},
        ),
        "audit:verification": (reverse("audit:verification", args=[world["run"].pk]), _auditors()),
        "accounts:token_revoke": (
            reverse("accounts:token_revoke", args=[world["token"].pk]),
            {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN, "researcher": OK},
        ),
        "audit:public_key": (reverse("audit:public_key"), dict.fromkeys(ROLES, OK)),
        # Checkpoints are public (anyone may poll and keep them); signing one is POST-only.
        "audit:checkpoints": (reverse("audit:checkpoints"), dict.fromkeys(ROLES, OK)),
        "audit:checkpoint_latest": (reverse("audit:checkpoint_latest"), dict.fromkeys(ROLES, OK)),
        "audit:checkpoint_now": (reverse("audit:checkpoint_now"), {**_auditors(), "auditor": 405, "admin": 405}),
        "access:request_receipt": (
            reverse("access:request_receipt", args=[request.pk]),
            {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN, "researcher": OK},
        ),
        # Only the reviewer who decided has a decision to prove (the admin sees the request).
        "review:decision_receipt": (
            reverse("review:decision_receipt", args=[grant.request_id]),
            {**_staff(NOT_FOUND), "reviewer": OK},
        ),
        "identity:status": (reverse("identity:status"), {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN}),
        "identity:returned": (reverse("identity:returned"), {**dict.fromkeys(ROLES, REDIRECT), "anonymous": LOGIN}),
        # The webhook is POST-only and authenticates by signature, not by session.
        "identity:stripe_webhook": (reverse("identity:stripe_webhook"), dict.fromkeys(ROLES, 405)),
        # The dev provider's page: only the session's owner, only in development.
        "identity:dev_session": (
            reverse("identity:dev_session", args=["dev_nobody"]),
            {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN},
        ),
        "accounts:tokens": (reverse("accounts:tokens"), {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN}),
        # Downloads: only the grant holder (other_researcher, approved in `world`).
        "downloads:release": (
            reverse("downloads:release", args=release_args),
            {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": LOGIN, "grant_holder": OK},
        ),
        "downloads:resolve": (
            reverse("downloads:resolve", args=[*release_args, "config.json"]),
            {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": LOGIN, "grant_holder": REDIRECT},
        ),
        "downloads:manifest": (
            reverse("downloads:manifest", args=release_args),
            {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": LOGIN, "grant_holder": OK},
        ),
        "downloads:manifest_txt": (
            reverse("downloads:manifest_txt", args=release_args),
            {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": LOGIN, "grant_holder": OK},
        ),
        "downloads:sha256sums": (
            reverse("downloads:sha256sums", args=release_args),
            {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": LOGIN, "grant_holder": OK},
        ),
        # A signed link is the credential: whoever holds it gets the file, until it expires.
        "downloads:local_file": (signed_file_url, dict.fromkeys(ROLES, OK)),
        # POST-only actions: a GET is refused after the role check (their POSTs are tested below).
        "review:decide": (reverse("review:decide", args=[request.pk, "approve"]), _staff(405)),
        "review:recuse": (reverse("review:recuse", args=[request.pk]), _staff(405)),
        # Admins only: reviewers cannot add reviewers to a request.
        "review:reviewer_add": (
            reverse("review:reviewer_add", args=[request.pk]),
            {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": LOGIN, "admin": 405},
        ),
        "review:assign": (reverse("review:assign", args=[request.pk]), _staff(405)),
        "review:note_add": (reverse("review:note_add", args=[request.pk]), _staff(405)),
        "review:bulk": (reverse("review:bulk"), _staff(405)),
        "review:notifications": (reverse("review:notifications"), _staff(405)),
        "review:appeal_decide": (reverse("review:appeal_decide", args=[request.pk, "grant"]), _staff(405)),
        "audit:verify": (reverse("audit:verify"), {**_auditors(), "auditor": 405, "admin": 405}),
        "identity:start": (reverse("identity:start"), {**dict.fromkeys(ROLES, 405), "anonymous": LOGIN}),
        # Grant pages: only the holder. Renew redirects to the grant page (the window opens
        # 30 days before expiry; the fixture's grant has 30 days, so it is open: 200).
        "access:grant_detail": (
            reverse("access:grant_detail", args=[grant.pk]),
            {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN, "grant_holder": OK},
        ),
        "access:renew": (
            reverse("access:renew", args=[grant.pk]),
            {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN, "grant_holder": OK},
        ),
        "access:grant_end": (
            reverse("access:grant_end", args=[grant.pk]),
            {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN, "grant_holder": OK},
        ),
        "access:closeout": (
            reverse("access:closeout", args=[world["closeout"].pk]),
            {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN, "researcher": OK},
        ),
        "review:closeouts": (reverse("review:closeouts"), _staff(OK)),
        "training:list": (reverse("training:list"), {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN}),
        "training:detail": (
            reverse("training:detail", args=[world["training"].pk]),
            {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN},
        ),
        "training:certificates": (reverse("training:certificates"), _staff(OK)),
        "training:check": (reverse("training:check", args=[world["certificate"].pk]), _staff(OK)),
        "training:certificate_file": (
            reverse("training:certificate_file", args=[world["certificate"].pk]),
            _staff(OK),
        ),
        "access:signoff": (
            reverse("access:signoff", args=[request.pk]),
            {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN, "researcher": OK},
        ),
        # Public, gated by its signed single-use token (bad, expired and used tokens: below).
        "access:signoff_sign": (
            reverse("access:signoff_sign", args=[services.signoff_token(world["signoff"])]),
            dict.fromkeys(ROLES, OK),
        ),
        "access:licence_accept": (
            reverse("access:licence_accept", args=[grant.pk]),
            {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN, "grant_holder": OK},
        ),
        # The Hugging Face protocol: the same download check; refusals are the client's 401/403.
        **{
            name: (url, {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": 401, "grant_holder": ok})
            for name, url, ok in [
                ("hf:model_info", reverse("hf:model_info", args=hf_args), OK),
                ("hf:model_info_revision", reverse("hf:model_info_revision", args=[*hf_args, "main"]), OK),
                ("hf:tree", reverse("hf:tree", args=[*hf_args, "main"]), OK),
                ("hf:tree_path", reverse("hf:tree_path", args=[*hf_args, "main", "sub"]), NOT_FOUND),
                ("hf_resolve:resolve", reverse("hf_resolve:resolve", args=[*hf_args, "main", "config.json"]), REDIRECT),
            ]
        },
        # The access-request API takes tokens only (its POSTs carry no CSRF token).
        "hf:access_requests": (reverse("hf:access_requests", args=[*hf_args, "pending"]), dict.fromkeys(ROLES, 401)),
        "hf:access_handle": (reverse("hf:access_handle", args=hf_args), dict.fromkeys(ROLES, 405)),
        "hf:access_grant": (reverse("hf:access_grant", args=hf_args), dict.fromkeys(ROLES, 405)),
        **api_urls(world),
        **publish_urls(world),
    }


def publish_urls(world):
    """The publisher's console: publishers of the model and admins; another model's publisher
    does not learn the model exists (404); everyone else is refused by role (403)."""
    model, m = world["model"], [world["model"].namespace, world["model"].name]
    upload = world["upload"]
    uploaded = upload.files.get()
    up = [*m, upload.pk]
    version = model.releases.get().version
    request, grant = world["request"], world["grant"]
    pages = {
        "publish:console": m,
        "publish:card": m,
        "publish:policy": m,
        "publish:licence": m,
        "publish:reviewers": m,
        "publish:releases": m,
        "publish:import": [*m, world["job"].pk],
        "publish:import_status": [*m, world["job"].pk],
        "publish:access": m,
        "publish:reports": m,
        "publish:report_csv": m,
        "publish:upload_state": up,
    }
    rows = {name: (reverse(name, args=args), _publishers(OK)) for name, args in pages.items()}
    posts = {
        "publish:card_preview": m,
        "publish:publish": m,
        "publish:release_action": [*m, version, "withdraw"],
        "publish:upload_start": m,
        "publish:upload_part": [*up, uploaded.pk, 1],
        "publish:upload_chunk": [*up, uploaded.pk],
        "publish:upload_complete": [*up, uploaded.pk],
        "publish:upload_finish": up,
        "publish:access_decide": [*m, request.pk, "approve"],
        "publish:access_revoke": [*m, grant.pk],
        "publish:access_grant": m,
    }
    # POST-only: a GET is refused after the role check (their POSTs are tested below).
    rows |= {name: (reverse(name, args=args), _publishers(405, other=405)) for name, args in posts.items()}
    everyone_publishing = {**_publishers(OK), "other_publisher": OK}
    rows["publish:list"] = (reverse("publish:list"), everyone_publishing)
    rows["publish:new"] = (reverse("publish:new"), everyone_publishing)
    rows["publish:roles"] = (
        reverse("publish:roles"),
        {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": LOGIN, "admin": OK},
    )
    return rows


def _publishers(ok, other=NOT_FOUND):
    return {
        **dict.fromkeys(ROLES, FORBIDDEN),
        "anonymous": LOGIN,
        "publisher": ok,
        "other_publisher": other,
        "admin": ok,
    }


def _admin_only():
    return {**dict.fromkeys(ROLES, LOGIN), "admin": OK}


def _auditors():
    return {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": LOGIN, "auditor": OK, "admin": OK}


def _staff(ok):
    return {
        **dict.fromkeys(ROLES, FORBIDDEN),
        "anonymous": LOGIN,
        "reviewer": ok,
        "other_reviewer": ok,
        "admin": ok,
    }


# --- token scopes: every token-authenticated route, every scope -------------------------------

SCOPES = ["download", "apply", "review", "audit"]


def token_urls(world):
    model = world["model"]
    args = [model.namespace, model.name]
    release_args = [*args, model.releases.get().version]
    download = {"download": "ok", "apply": FORBIDDEN, "review": FORBIDDEN, "audit": FORBIDDEN}
    return {
        "resolve": (reverse("downloads:resolve", args=[*release_args, "config.json"]), download),
        "manifest": (reverse("downloads:manifest", args=release_args), download),
        "manifest_txt": (reverse("downloads:manifest_txt", args=release_args), download),
        "sha256sums": (reverse("downloads:sha256sums", args=release_args), download),
        "download_page": (reverse("downloads:release", args=release_args), download),
        "hf_model_info": (reverse("hf:model_info", args=args), download),
        "hf_tree": (reverse("hf:tree", args=[*args, "main"]), download),
        "hf_resolve": (reverse("hf_resolve:resolve", args=[*args, "main", "config.json"]), download),
        "hf_access_requests": (
            reverse("hf:access_requests", args=[*args, "pending"]),
            {"download": FORBIDDEN, "apply": FORBIDDEN, "review": "ok", "audit": FORBIDDEN},
        ),
    }


# --- the REST API (/api/v1/) ------------------------------------------------------------------

UNAUTHORIZED = 401


def api_urls(world):
    """The REST API's routes: what each role's browser session gets on a GET. Anonymous callers
    get 401 (JSON); a POST-only operation answers 405 to a GET once the role check passed."""
    model, request, grant = world["model"], world["request"], world["grant"]
    base = f"/api/v1/models/{model.full_name}"
    export, run = world["export"].pk, world["run"].pk
    everyone = {**dict.fromkeys(ROLES, OK), "anonymous": UNAUTHORIZED}
    signed_in = {**dict.fromkeys(ROLES, 405), "anonymous": UNAUTHORIZED}
    reviewers = {**_staff(OK), "anonymous": UNAUTHORIZED}
    auditors = {**_auditors(), "anonymous": UNAUTHORIZED}
    decide = {**_staff(405), "anonymous": UNAUTHORIZED}
    return {
        "api_v1:schema": ("/api/v1/schema/", dict.fromkeys(ROLES, OK)),
        "api_v1:docs": ("/api/v1/docs/", dict.fromkeys(ROLES, OK)),
        "api_v1:redoc": ("/api/v1/redoc/", dict.fromkeys(ROLES, OK)),
        "api_v1:not_found": ("/api/v1/no/such/thing/", dict.fromkeys(ROLES, NOT_FOUND)),
        "api_v1:models": ("/api/v1/models/", everyone),
        "api_v1:model": (f"{base}/", everyone),
        "api_v1:release": (f"{base}/releases/1.0/", everyone),
        "api_v1:manifest": (
            f"{base}/releases/1.0/manifest/",
            {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": UNAUTHORIZED, "grant_holder": OK},
        ),
        "api_v1:me": ("/api/v1/me/", everyone),
        "api_v1:requests": ("/api/v1/requests/", everyone),
        "api_v1:request": (
            f"/api/v1/requests/{request.pk}/",
            {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": UNAUTHORIZED, "researcher": OK},
        ),
        "api_v1:request_withdraw": (f"/api/v1/requests/{request.pk}/withdraw/", signed_in),
        "api_v1:request_resubmit": (f"/api/v1/requests/{request.pk}/resubmit/", signed_in),
        "api_v1:grants": ("/api/v1/grants/", everyone),
        "api_v1:grant_accept_licence": (f"/api/v1/grants/{grant.pk}/accept-licence/", signed_in),
        "api_v1:review_queue": ("/api/v1/review/requests/", reviewers),
        "api_v1:review_request": (
            f"/api/v1/review/requests/{request.pk}/",
            {**reviewers, "other_reviewer": NOT_FOUND},
        ),
        "api_v1:review_approve": (f"/api/v1/review/requests/{request.pk}/approve/", decide),
        "api_v1:review_reject": (f"/api/v1/review/requests/{request.pk}/reject/", decide),
        "api_v1:review_reviewer_add": (
            f"/api/v1/review/requests/{request.pk}/reviewers/",
            {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": UNAUTHORIZED, "admin": 405},
        ),
        "api_v1:review_changes": (f"/api/v1/review/requests/{request.pk}/request-changes/", decide),
        "api_v1:review_grants": ("/api/v1/review/grants/", reviewers),
        "api_v1:review_revoke": (f"/api/v1/review/grants/{grant.pk}/revoke/", decide),
        "api_v1:access_report": (
            f"{base}/access-report/",
            {**_publishers(OK), "anonymous": UNAUTHORIZED},
        ),
        "api_v1:audit_events": ("/api/v1/audit/events/", auditors),
        "api_v1:audit_verifications": ("/api/v1/audit/verifications/", {**auditors, "auditor": 405, "admin": 405}),
        "api_v1:audit_verification": (f"/api/v1/audit/verifications/{run}/", auditors),
        "api_v1:audit_exports": ("/api/v1/audit/exports/", auditors),
        "api_v1:audit_export": (f"/api/v1/audit/exports/{export}/", auditors),
        "api_v1:audit_export_manifest": (f"/api/v1/audit/exports/{export}/manifest/", auditors),
        "api_v1:audit_export_file": (
            f"/api/v1/audit/exports/{export}/file/",
            {**auditors, "auditor": REDIRECT, "admin": REDIRECT},
        ),
    }


def api_operations(world):
    """(name, method, url, the scope it needs or None for any, who calls it)."""
    model, request, grant = world["model"], world["request"], world["grant"]
    base = f"/api/v1/models/{model.full_name}"
    export = world["export"].pk
    return [
        ("models", "get", "/api/v1/models/", None, "researcher"),
        ("model", "get", f"{base}/", None, "researcher"),
        ("me", "get", "/api/v1/me/", None, "researcher"),
        ("requests", "get", "/api/v1/requests/", None, "researcher"),
        ("request", "get", f"/api/v1/requests/{request.pk}/", None, "researcher"),
        ("grants", "get", "/api/v1/grants/", None, "grant_holder"),
        ("apply", "post", "/api/v1/requests/", "apply", "other_researcher"),
        ("withdraw", "post", f"/api/v1/requests/{request.pk}/withdraw/", "apply", "researcher"),
        ("resubmit", "post", f"/api/v1/requests/{request.pk}/resubmit/", "apply", "researcher"),
        ("manifest", "get", f"{base}/releases/1.0/manifest/", "download", "grant_holder"),
        ("accept_licence", "post", f"/api/v1/grants/{grant.pk}/accept-licence/", "apply", "grant_holder"),
        ("review_queue", "get", "/api/v1/review/requests/", "review", "reviewer"),
        ("review_request", "get", f"/api/v1/review/requests/{request.pk}/", "review", "reviewer"),
        ("approve", "post", f"/api/v1/review/requests/{request.pk}/approve/", "review", "reviewer"),
        ("reject", "post", f"/api/v1/review/requests/{request.pk}/reject/", "review", "reviewer"),
        ("changes", "post", f"/api/v1/review/requests/{request.pk}/request-changes/", "review", "reviewer"),
        ("review_grants", "get", "/api/v1/review/grants/", "review", "reviewer"),
        ("revoke", "post", f"/api/v1/review/grants/{grant.pk}/revoke/", "review", "reviewer"),
        ("audit_events", "get", "/api/v1/audit/events/", "audit", "auditor"),
        ("verify", "post", "/api/v1/audit/verifications/", "audit", "auditor"),
        ("verification", "get", f"/api/v1/audit/verifications/{world['run'].pk}/", "audit", "auditor"),
        ("exports", "get", "/api/v1/audit/exports/", "audit", "auditor"),
        ("export_create", "post", "/api/v1/audit/exports/", "audit", "auditor"),
        ("export", "get", f"/api/v1/audit/exports/{export}/", "audit", "auditor"),
        ("export_file", "get", f"/api/v1/audit/exports/{export}/file/", "audit", "auditor"),
        ("export_manifest", "get", f"/api/v1/audit/exports/{export}/manifest/", "audit", "auditor"),
    ]
