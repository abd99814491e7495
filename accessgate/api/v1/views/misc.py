from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.views import APIView


@extend_schema(exclude=True)
class NotFoundView(APIView):
    authentication_classes = []
    permission_classes = []

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise NotFound(_("No such API endpoint. See /api/v1/docs/."))

    def get(self, request, *args, **kwargs):
        raise NotFound(_("No such API endpoint. See /api/v1/docs/."))
