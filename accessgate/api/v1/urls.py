from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .views import audit, publishing, researcher, review
from .views.docs import RedocView
from .views.misc import NotFoundView

app_name = "api_v1"

MODEL = "models/<str:namespace>/<str:name>/"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(
            url_name="api_v1:schema",
            template_name="api/swagger_ui.html",
            authentication_classes=[],
            permission_classes=[],
        ),
        name="docs",
    ),
    path(
        "redoc/",
        RedocView.as_view(
            url_name="api_v1:schema", template_name="api/redoc.html", authentication_classes=[], permission_classes=[]
        ),
        name="redoc",
    ),
    # Researchers
    path("models/", researcher.ModelList.as_view(), name="models"),
    path(MODEL, researcher.ModelDetail.as_view(), name="model"),
    path(MODEL + "releases/<str:ref>/", researcher.ReleaseDetail.as_view(), name="release"),
    path(MODEL + "releases/<str:ref>/manifest/", researcher.Manifest.as_view(), name="manifest"),
    path("me/", researcher.Me.as_view(), name="me"),
    path("requests/", researcher.MyRequests.as_view(), name="requests"),
    path("requests/<int:pk>/", researcher.MyRequestDetail.as_view(), name="request"),
    path("requests/<int:pk>/withdraw/", researcher.MyRequestWithdraw.as_view(), name="request_withdraw"),
    path("requests/<int:pk>/resubmit/", researcher.MyRequestResubmit.as_view(), name="request_resubmit"),
    path("grants/", researcher.MyGrants.as_view(), name="grants"),
    path("grants/<int:pk>/accept-licence/", researcher.MyGrantAcceptLicence.as_view(), name="grant_accept_licence"),
    # Reviewers
    path("review/requests/", review.Queue.as_view(), name="review_queue"),
    path("review/requests/<int:pk>/", review.RequestDetail.as_view(), name="review_request"),
    path("review/requests/<int:pk>/approve/", review.Approve.as_view(), name="review_approve"),
    path("review/requests/<int:pk>/reject/", review.Reject.as_view(), name="review_reject"),
    path("review/requests/<int:pk>/reviewers/", review.ReviewerAdd.as_view(), name="review_reviewer_add"),
    path("review/requests/<int:pk>/request-changes/", review.RequestChanges.as_view(), name="review_changes"),
    path("review/grants/", review.Grants.as_view(), name="review_grants"),
    path("review/grants/<int:pk>/revoke/", review.GrantRevoke.as_view(), name="review_revoke"),
    # Publishers
    path(MODEL + "access-report/", publishing.AccessReport.as_view(), name="access_report"),
    # Auditors
    path("audit/events/", audit.Events.as_view(), name="audit_events"),
    path("audit/verifications/", audit.Verifications.as_view(), name="audit_verifications"),
    path("audit/verifications/<int:pk>/", audit.VerificationDetail.as_view(), name="audit_verification"),
    path("audit/exports/", audit.Exports.as_view(), name="audit_exports"),
    path("audit/exports/<int:pk>/", audit.ExportDetail.as_view(), name="audit_export"),
    path("audit/exports/<int:pk>/file/", audit.ExportFile.as_view(), name="audit_export_file"),
    path("audit/exports/<int:pk>/manifest/", audit.ExportManifest.as_view(), name="audit_export_manifest"),
    # Anything else under /api/v1/ answers in the API's error shape, not with an HTML page.
    re_path(r"^.*$", NotFoundView.as_view(), name="not_found"),
]
