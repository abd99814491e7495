"""Django REST framework and drf-spectacular settings for the API at /api/v1/
(accessgate/api/v1); imported by settings.py."""

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accessgate.api.v1.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accessgate.api.v1.permissions.ScopeAndRole"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["accessgate.api.v1.parsers.BoundedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "accessgate.api.v1.pagination.Cursor",
    "DEFAULT_SCHEMA_CLASS": "accessgate.api.v1.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "accessgate.api.v1.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "accessgate API",
    "DESCRIPTION": (
        "The portal's REST API: the catalog, your access requests and grants, download manifests, "
        "review decisions and the audit trail. Send `Authorization: Bearer <token>` (a personal access "
        "token with the scope each operation names) or use a browser session with its CSRF token."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "TAGS": [
        {"name": "catalog", "description": "Models, releases, licences and requirements."},
        {"name": "my access", "description": "Your profile, requests, grants and download manifests."},
        {"name": "review", "description": "Reviewers: the queue, decisions, grants and revocation."},
        {"name": "audit", "description": "Auditors: the trail, chain verification and signed exports."},
    ],
    "ENUM_NAME_OVERRIDES": {
        "RequestStatusEnum": "accessgate.access.models.RequestStatus",
        "GrantStatusEnum": "accessgate.access.models.GrantStatus",
        "JobStatusEnum": "accessgate.core.jobs.JobStatus",
    },
}
