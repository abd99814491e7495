"""Publishers: a model's access report, the console's Reports section as JSON."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accessgate.access.rules.staff import can_publish
from accessgate.accounts.roles import Role
from accessgate.catalog.selectors import model_by_name
from accessgate.core.errors import NotFound
from accessgate.publishing.reports import access_report, timeline

from .base import ApiView


class HolderSerializer(serializers.Serializer):
    email = serializers.EmailField(source="grant.user.email")
    username = serializers.CharField(source="grant.user.username")
    grant_id = serializers.IntegerField(source="grant.pk")
    grant_status = serializers.SerializerMethodField()
    granted_at = serializers.DateTimeField(source="grant.granted_at")
    expires_at = serializers.DateTimeField(source="grant.expires_at")
    licence_signed = serializers.CharField()
    identity = serializers.CharField()
    download_urls_issued = serializers.IntegerField(source="urls_issued")
    files_downloaded = serializers.IntegerField(source="file_count")
    bytes_downloaded = serializers.IntegerField(source="bytes")

    def get_grant_status(self, row) -> str:
        grant = row.grant
        return "active" if grant.is_active else ("expired" if grant.status == "active" else grant.status)


class FileRowSerializer(serializers.Serializer):
    path = serializers.CharField()
    download_urls_issued = serializers.IntegerField(source="urls_issued")
    people = serializers.IntegerField(source="people_count")
    bytes_downloaded = serializers.IntegerField(source="bytes")


class DayCountSerializer(serializers.Serializer):
    day = serializers.DateField()
    requests = serializers.IntegerField()
    grants = serializers.IntegerField()
    downloads = serializers.IntegerField()


class AccessReportSerializer(serializers.Serializer):
    model = serializers.CharField()
    holders = HolderSerializer(many=True)
    files = FileRowSerializer(many=True)
    timeline = DayCountSerializer(many=True)


class AccessReport(ApiView):
    # Publishers of the model and admins; a token needs the review scope (publishers may hold it).
    roles = (Role.PUBLISHER, Role.ADMIN)
    scope = "review"
    serializer_class = AccessReportSerializer

    @extend_schema(
        tags=["publishing"],
        summary="A model's access report: holders, licence signed, identity, downloads per person and file",
    )
    def get(self, request, namespace, name):
        model = model_by_name(namespace, name, include_drafts=True)
        if model is None or not can_publish(request.user, model):
            raise NotFound(
                _("No model of yours named %(namespace)s/%(name)s.") % {"namespace": namespace, "name": name}
            )
        self.check_model(model)
        report = access_report(model)
        data = {"model": model.full_name, **report, "timeline": timeline(model)}
        return Response(AccessReportSerializer(data).data)
