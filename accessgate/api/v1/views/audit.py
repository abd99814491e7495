"""Auditors: the trail by `seq` cursor, chain verification runs and signed exports."""

from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accessgate.accounts.roles import Role
from accessgate.audit import selectors
from accessgate.audit.exports import audit_export_download, audit_export_request
from accessgate.audit.forms import AuditFilterForm
from accessgate.audit.models import AuditExport, VerificationRun
from accessgate.audit.verification import audit_verification_request

from .. import staff_serializers as s
from ..pagination import Cursor, EventCursor
from .base import ApiView

TAG = ["audit"]


class AuditView(ApiView):
    roles = (Role.AUDITOR, Role.ADMIN)
    scope = "audit"


def trail_filters(data: dict) -> dict:
    """Typed by the serializer, then the trail page's own form (its rules, its filter dict)."""
    typed = s.AuditFilterSerializer(data=data)
    typed.is_valid(raise_exception=True)
    form = AuditFilterForm({key: str(value) for key, value in typed.validated_data.items()})
    if not form.is_valid():
        raise ValidationError(
            {key if key != "__all__" else "non_field_errors": value for key, value in form.errors.items()}
        )
    return form.filters()


@extend_schema_view(
    get=extend_schema(
        tags=TAG,
        summary="Audit events, newest first (the trail's filters; `after_seq` to follow it forward)",
        parameters=[s.EventFilterSerializer],
    )
)
class Events(AuditView, generics.ListAPIView):
    serializer_class = s.AuditEventSerializer
    pagination_class = EventCursor

    def get_queryset(self):
        params = s.EventFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        # Linked events only, as on the auditor's page: the chainer gives each its `seq` moments
        # after its transaction commits (`verify_audit` counts the ones still waiting).
        events = selectors.filter_events(trail_filters(self.request.query_params.dict())).filter(seq__isnull=False)
        if params.validated_data.get("after_seq") is not None:
            events = events.filter(seq__gt=params.validated_data["after_seq"])
        return events


class Verifications(AuditView):
    serializer_class = s.VerificationRunSerializer

    @extend_schema(
        tags=TAG,
        summary="Start a check of the whole hash chain",
        request=None,
        responses={202: s.VerificationRunSerializer},
    )
    def post(self, request):
        run = audit_verification_request(actor=request.user, meta=self.meta())
        run.refresh_from_db()
        return Response(self.get_serializer(run).data, status=status.HTTP_202_ACCEPTED)


class VerificationDetail(AuditView):
    serializer_class = s.VerificationRunSerializer

    @extend_schema(tags=TAG, summary="A verification run's status and result")
    def get(self, request, pk):
        return Response(self.get_serializer(get_object_or_404(VerificationRun, pk=pk)).data)


@extend_schema_view(
    get=extend_schema(tags=TAG, summary="Exports, newest first"),
    post=extend_schema(
        tags=TAG,
        summary="Export the events matching the filters (none: the full trail)",
        request=s.ExportCreateSerializer,
        responses={202: s.AuditExportSerializer},
    ),
)
class Exports(AuditView, generics.ListCreateAPIView):
    serializer_class = s.AuditExportSerializer
    pagination_class = Cursor
    queryset = AuditExport.objects.all()

    def create(self, request, *args, **kwargs):
        data = s.ExportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        filters = trail_filters({k: v for k, v in data.validated_data.items() if k != "format"})
        export = audit_export_request(
            actor=request.user, filters=filters, format=data.validated_data["format"], meta=self.meta()
        )
        export.refresh_from_db()
        return Response(self.get_serializer(export).data, status=status.HTTP_202_ACCEPTED)


class ExportDetail(AuditView):
    serializer_class = s.AuditExportSerializer

    @extend_schema(tags=TAG, summary="An export's status and progress")
    def get(self, request, pk):
        return Response(self.get_serializer(get_object_or_404(AuditExport, pk=pk)).data)


class ExportFile(AuditView):
    @extend_schema(
        tags=TAG,
        summary="Download the export file: 302 to a short-lived signed URL (the download is audited)",
        responses={302: OpenApiResponse(description="`Location` is the signed URL of the file.")},
    )
    def get(self, request, pk):
        export = get_object_or_404(AuditExport, pk=pk)
        url = audit_export_download(actor=request.user, export=export, part="file", meta=self.meta())
        return HttpResponseRedirect(request.build_absolute_uri(url))


class ExportManifest(AuditView):
    serializer_class = s.SignedManifestSerializer

    @extend_schema(tags=TAG, summary="The export's signed manifest (the download is audited)")
    def get(self, request, pk):
        export = get_object_or_404(AuditExport, pk=pk)
        document = audit_export_download(actor=request.user, export=export, part="manifest", meta=self.meta())
        return Response(self.get_serializer(document).data)
