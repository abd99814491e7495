"""Researchers: the catalog, their profile, requests, grants and download manifests."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response

from accessgate.access import selectors as access_selectors
from accessgate.access.models import AccessRequest
from accessgate.access.rules.downloads import active_grant, can_see_files
from accessgate.access.rules.requirements import requirements_for
from accessgate.access.services import (
    access_request_resubmit,
    access_request_submit,
    access_request_withdraw,
    agreement_renew,
)
from accessgate.accounts.auth import require_scope
from accessgate.accounts.models import TokenScope
from accessgate.accounts.roles import roles_of
from accessgate.accounts.selectors import profile_for
from accessgate.catalog.selectors import active_releases, listed_models, model_by_name, visible_models
from accessgate.core.errors import NotFound
from accessgate.downloads.selectors import release_by_address
from accessgate.downloads.services import download_manifest_issue

from .. import serializers as s
from ..pagination import ByName
from .base import ApiView

TAG_CATALOG, TAG_MINE = ["catalog"], ["my access"]
APPLICATION_FIELDS = {"statements": "statement_ids"}


def _visible_model(user, namespace: str, name: str):
    """The model as the catalog page shows it (`catalog.selectors.visible_models`)."""
    model = model_by_name(namespace, name, user=user)
    if model is None:
        raise NotFound(_("No model %(namespace)s/%(name)s.") % {"namespace": namespace, "name": name})
    return model


@extend_schema_view(
    get=extend_schema(
        tags=TAG_CATALOG,
        summary="List the catalog",
        parameters=[OpenApiParameter("q", str, description="Search namespace, name, title and summary.")],
    )
)
class ModelList(ApiView, generics.ListAPIView):
    serializer_class = s.ModelSummarySerializer
    pagination_class = ByName

    def get_queryset(self):
        return listed_models(search=self.request.query_params.get("q", "")[:200], user=self.request.user)


class ModelDetail(ApiView):
    serializer_class = s.ModelDetailSerializer

    @extend_schema(tags=TAG_CATALOG, summary="A model: its policy, licence text, statements and your requirements")
    def get(self, request, namespace, name):
        user = request.user
        model = _visible_model(user, namespace, name)
        policy = access_selectors.policy_for(model)
        grant = active_grant(user, model)
        open_request = access_selectors.open_request(user, model)
        data = {
            "namespace": model.namespace,
            "name": model.name,
            "full_name": model.full_name,
            "display_name": model.display_name,
            "summary": model.summary,
            "card_markdown": model.card_markdown,
            "policy": None,
            "releases": list(active_releases(model)),
            "my_access": {
                "open_request_id": open_request.pk if open_request else None,
                "grant_id": grant.pk if grant else None,
                "grant_expires_at": grant.expires_at if grant else None,
            },
        }
        if policy is not None:
            data["policy"] = {
                "gating": policy.gating,
                "license": policy.license,
                "statements": list(access_selectors.active_statements(policy)),
                "min_intended_use_chars": policy.min_intended_use_chars,
                "questions": list(policy.form_fields.filter(is_active=True)),
                "approvals_required": policy.approvals_required,
                "requirements": requirements_for(user, policy),
            }
        return Response(self.get_serializer(data).data)


class ReleaseDetail(ApiView):
    serializer_class = s.ReleaseDetailSerializer

    @extend_schema(tags=TAG_CATALOG, summary="A release by version or revision; its files if you hold a grant")
    def get(self, request, namespace, name, ref):
        model = _visible_model(request.user, namespace, name)
        release = release_by_address(model.namespace, model.name, ref, user=request.user)
        visible = can_see_files(request.user, model)
        if not release.is_active and not visible:
            raise NotFound(_("No release %(ref)s of %(full_name)s.") % {"ref": ref, "full_name": model.full_name})
        if visible:
            # The file list (paths, sha256s) is a download's: a token needs the download scope
            # for this model, as the Hugging Face model_info and the manifests demand.
            require_scope(self.token, TokenScope.DOWNLOAD, model)
        context = {**self.get_serializer_context(), "can_see_files": visible}
        return Response(s.ReleaseDetailSerializer(release, context=context).data)


class Manifest(ApiView):
    scope = "download"
    service_checks_scope = True  # download_manifest_issue refuses (and audits) a token without it
    serializer_class = s.ManifestSerializer

    @extend_schema(
        tags=TAG_MINE,
        summary="Signed URLs for every file of a release",
        description="Issues one URL per file (counted against the grant's quota) and records a "
        "`download.manifest_issued` event, exactly like the download page's JSON manifest.",
    )
    def get(self, request, namespace, name, ref):
        release = release_by_address(namespace, name, ref, user=request.user)
        issued = download_manifest_issue(
            user=request.user,
            release=release,
            meta=self.meta(),
            token=self.token,
            format="json",
            mfa_verified=self.mfa_verified(),
        )
        files = [
            {**item.__dict__, "url": request.build_absolute_uri(item.url), "downloads_remaining": item.remaining}
            for item in issued
        ]
        data = {
            "model": release.model.full_name,
            "version": release.version,
            "revision": release.revision,
            "files": files,
        }
        return Response(s.ManifestSerializer(data).data)


class Me(ApiView):
    serializer_class = s.ProfileSerializer

    @extend_schema(tags=TAG_MINE, summary="Your profile, roles and the token of this call")
    def get(self, request):
        user, token = request.user, self.token
        profile = profile_for(user)
        data = {
            "email": user.email,
            "full_name": profile.full_name,
            "affiliation": profile.affiliation,
            "position": profile.position,
            "country": str(profile.country or ""),
            "orcid": profile.orcid,
            "is_complete": profile.is_complete,
            "missing_fields": profile.missing_fields,
            "roles": sorted(role.value for role in roles_of(user)),
            "token": None,
        }
        if token is not None:
            data["token"] = {
                "prefix": token.prefix,
                "scopes": list(token.scopes),
                # Only the models the caller may still see (a limit to a model since made a draft is not echoed).
                "models": sorted(model.full_name for model in token.models.filter(pk__in=visible_models(user))),
                "expires_at": token.expires_at,
            }
        return Response(self.get_serializer(data).data)


def _requests_of(user):
    return access_selectors.requests_of(user).prefetch_related("agreements__license")


@extend_schema_view(
    get=extend_schema(tags=TAG_MINE, summary="Your access requests, newest first"),
    post=extend_schema(
        tags=TAG_MINE,
        summary="Apply for a model (sign its licence and statements)",
        description="Send the sha256 of the licence and the ids of the statements you showed the person, "
        "their intended use and their typed full name. A stale licence or statement set answers 409. "
        "Auto-gated models answer with an approved request and a grant.",
        request=s.ApplySerializer,
        responses={201: s.AccessRequestSerializer},
    ),
)
class MyRequests(ApiView, generics.ListCreateAPIView):
    scopes = {"POST": "apply"}
    serializer_class = s.AccessRequestSerializer
    field_aliases = APPLICATION_FIELDS

    def get_queryset(self):
        return _requests_of(self.request.user)

    def create(self, request, *args, **kwargs):
        application = s.ApplySerializer(data=request.data)
        application.is_valid(raise_exception=True)
        data = application.validated_data
        namespace, name = data["model"].split("/", 1)
        model = _visible_model(request.user, namespace, name)
        self.check_model(model)
        access_request = access_request_submit(
            actor=request.user,
            model=model,
            intended_use=data["intended_use"],
            accepted_statement_ids=data["statement_ids"],
            typed_name=data["typed_name"],
            answers=data["answers"],
            shown_license_sha256=data["license_sha256"],
            meta=self.meta(),
        )
        access_request = _requests_of(request.user).get(pk=access_request.pk)
        return Response(self.get_serializer(access_request).data, status=status.HTTP_201_CREATED)


def _own_request(view, pk) -> AccessRequest:
    return get_object_or_404(_requests_of(view.request.user), pk=pk)


class MyRequestDetail(ApiView):
    serializer_class = s.AccessRequestSerializer

    @extend_schema(tags=TAG_MINE, summary="One of your requests")
    def get(self, request, pk):
        return Response(self.get_serializer(_own_request(self, pk)).data)


class MyRequestWithdraw(ApiView):
    scope = "apply"
    serializer_class = s.AccessRequestSerializer

    @extend_schema(tags=TAG_MINE, summary="Withdraw your open request", request=None)
    def post(self, request, pk):
        access_request = _own_request(self, pk)
        self.check_model(access_request.model)
        access_request_withdraw(actor=request.user, access_request=access_request, meta=self.meta())
        return Response(self.get_serializer(_own_request(self, pk)).data)


class MyRequestResubmit(ApiView):
    scope = "apply"
    serializer_class = s.AccessRequestSerializer
    field_aliases = APPLICATION_FIELDS

    @extend_schema(
        tags=TAG_MINE,
        summary="Resubmit a request sent back for changes (signs again)",
        request=s.ApplicationSerializer,
    )
    def post(self, request, pk):
        access_request = _own_request(self, pk)
        self.check_model(access_request.model)
        application = s.ApplicationSerializer(data=request.data)
        application.is_valid(raise_exception=True)
        data = application.validated_data
        access_request_resubmit(
            actor=request.user,
            access_request=access_request,
            intended_use=data["intended_use"],
            accepted_statement_ids=data["statement_ids"],
            typed_name=data["typed_name"],
            answers=data["answers"],
            shown_license_sha256=data["license_sha256"],
            meta=self.meta(),
        )
        return Response(self.get_serializer(_own_request(self, pk)).data)


@extend_schema_view(get=extend_schema(tags=TAG_MINE, summary="Your grants, newest first"))
class MyGrants(ApiView, generics.ListAPIView):
    serializer_class = s.GrantSerializer

    def get_queryset(self):
        return access_selectors.grants_of(self.request.user)


class MyGrantAcceptLicence(ApiView):
    scope = "apply"
    serializer_class = s.GrantSerializer
    field_aliases = APPLICATION_FIELDS

    @extend_schema(
        tags=TAG_MINE,
        summary="Accept the model's new licence version under your grant (downloads continue)",
        description="When a model's licence changes, manifests answer 403 until you accept the new version. "
        "Send the sha256 of the licence and the statement ids you showed the person, and their typed name.",
        request=s.SignatureSerializer,
    )
    def post(self, request, pk):
        grant = access_selectors.own_active_grant(request.user, pk)
        if grant is None:
            raise NotFound(_("No such active grant of yours."))
        self.check_model(grant.model)
        data = s.SignatureSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agreement_renew(
            actor=request.user,
            grant=grant,
            accepted_statement_ids=data.validated_data["statement_ids"],
            typed_name=data.validated_data["typed_name"],
            shown_license_sha256=data.validated_data["license_sha256"],
            meta=self.meta(),
        )
        return Response(self.get_serializer(access_selectors.grants_of(request.user).get(pk=pk)).data)
