"""Reviewers: the queue, a request with its checklist, decisions, grants and revocation."""

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.response import Response

from accessgate.access import selectors
from accessgate.access.services import (
    access_request_approve,
    access_request_reject,
    access_request_request_changes,
    access_request_reviewer_add,
    grant_revoke,
)
from accessgate.accounts.models import User
from accessgate.accounts.roles import Role
from accessgate.core.errors import NotFound

from .. import staff_serializers as s
from ..pagination import NewestGrantFirst, OldestFirst
from .base import ApiView

TAG = ["review"]
REVIEWERS: tuple[Role, ...] = (Role.REVIEWER, Role.ADMIN)


class ReviewView(ApiView):
    roles = REVIEWERS
    scope = "review"

    def limit_to_token_models(self, queryset):
        """A review token limited to some models sees only their requests and grants."""
        token = self.token
        if token is not None and token.models.exists():
            queryset = queryset.filter(model__in=token.models.all())
        return queryset

    def filters(self, serializer_class):
        params = serializer_class(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return params.validated_data


@extend_schema_view(
    get=extend_schema(
        tags=TAG,
        summary="The review queue (the review page's filters), oldest submission first",
        parameters=[s.QueueFilterSerializer],
    )
)
class Queue(ReviewView, generics.ListAPIView):
    serializer_class = s.ReviewRequestSerializer
    pagination_class = OldestFirst

    def get_queryset(self):
        params = self.filters(s.QueueFilterSerializer)
        status = "" if params["status"] == "any" else params["status"]
        return self.limit_to_token_models(selectors.review_queue(self.request.user, search=params["q"], status=status))


def _detail(view, access_request):
    facts = selectors.applicant_facts(access_request)
    identity = facts["identity"]
    grant = getattr(access_request, "grant", None)
    access_request.requirements = facts["requirements"]
    access_request.verified_orcid = facts["verified_orcid"]
    access_request.identity = (
        {
            "verified_name": identity.verified_name,
            "document_country": identity.document_country,
            "expires_at": identity.expires_at,
            "name_matches": facts["identity_name_matches"],
        }
        if identity
        else None
    )
    access_request.history = list(selectors.applicant_history(access_request))
    access_request.grant_id = grant.pk if grant else None
    access_request.is_own = access_request.user_id == view.request.user.pk
    context = view.get_serializer_context()
    return s.ReviewRequestDetailSerializer(access_request, context=context).data


class RequestLookup(ReviewView):
    serializer_class = s.ReviewRequestDetailSerializer

    def get_request(self, pk):
        access_request = selectors.request_for_review(self.request.user, pk)
        if access_request is None:
            raise NotFound(_("No such request in your queue."))
        self.check_model(access_request.model)
        return access_request


class RequestDetail(RequestLookup):
    @extend_schema(tags=TAG, summary="A request with the requirement checklist, agreements, reviews and history")
    def get(self, request, pk):
        return Response(_detail(self, self.get_request(pk)))


class Decide(RequestLookup):
    # POST a decision; the service enforces the transition table, so a second approval is a 409.

    service: Any = None
    argument = "message"  # the service's keyword
    input_serializer: type[serializers.Serializer] = s.DecisionSerializer
    input_field = "message"  # the API's field

    def post(self, request, pk):
        access_request = self.get_request(pk)
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        type(self).service(
            actor=request.user,
            access_request=access_request,
            meta=self.meta(),
            **{self.argument: data.validated_data[self.input_field]},
        )
        return Response(_detail(self, self.get_request(pk)))


class Approve(Decide):
    service = access_request_approve

    @extend_schema(
        tags=TAG,
        summary="Approve: creates the grant. Approving again answers 409 and creates nothing.",
        request=s.DecisionSerializer,
    )
    def post(self, request, pk):
        return super().post(request, pk)


class ReviewerAdd(RequestLookup):
    roles: tuple[Role, ...] = (Role.ADMIN,)

    @extend_schema(
        tags=TAG,
        summary="Admins: let a reviewer from outside the model's list decide this one request",
        request=s.ReviewerAddSerializer,
    )
    def post(self, request, pk):
        access_request = self.get_request(pk)
        data = s.ReviewerAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reviewer = User.objects.filter(email__iexact=data.validated_data["email"]).first()
        if reviewer is None:
            raise NotFound(_("No account has that e-mail address."))
        access_request_reviewer_add(
            actor=request.user, access_request=access_request, reviewer=reviewer, meta=self.meta()
        )
        return Response(_detail(self, self.get_request(pk)))


class Reject(Decide):
    service = access_request_reject
    argument = "reason"
    input_serializer = s.ReasonSerializer
    input_field = "reason"
    field_aliases = {"message": "reason"}

    @extend_schema(tags=TAG, summary="Reject with a reason the applicant sees", request=s.ReasonSerializer)
    def post(self, request, pk):
        return super().post(request, pk)


class RequestChanges(Decide):
    service = access_request_request_changes

    @extend_schema(tags=TAG, summary="Send back to the applicant for changes", request=s.DecisionSerializer)
    def post(self, request, pk):
        return super().post(request, pk)


@extend_schema_view(
    get=extend_schema(
        tags=TAG,
        summary="Grants on the models you review, newest first",
        parameters=[
            OpenApiParameter("q", str, description="Search holder e-mail, name and model."),
            OpenApiParameter("all", bool, description="Include ended grants (default: active only)."),
        ],
    )
)
class Grants(ReviewView, generics.ListAPIView):
    serializer_class = s.ReviewGrantSerializer
    pagination_class = NewestGrantFirst

    def get_queryset(self):
        params = self.filters(s.GrantFilterSerializer)
        grants = selectors.grants_for_review(self.request.user, search=params["q"], active_only=not params["all"])
        return self.limit_to_token_models(grants)


class GrantRevoke(ReviewView):
    serializer_class = s.ReviewGrantSerializer

    @extend_schema(tags=TAG, summary="Revoke a grant at once, with a reason", request=s.ReasonSerializer)
    def post(self, request, pk):
        grant = selectors.grant_for_review(request.user, pk)
        if grant is None:
            raise NotFound(_("No such grant on your models."))
        self.check_model(grant.model)
        data = s.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        grant_revoke(actor=request.user, grant=grant, reason=data.validated_data["reason"], meta=self.meta())
        return Response(self.get_serializer(selectors.grant_for_review(request.user, pk)).data)
