from django.urls import path

from .views import access, console, releases, reports, roles

app_name = "publish"

M = "<part:namespace>/<part:name>/"
UP = M + "uploads/<int:pk>/"

urlpatterns = [
    path("", console.console_list, name="list"),
    path("new/", console.model_new, name="new"),
    path("roles/", roles.roles, name="roles"),
    path(M, console.console, name="console"),
    path(M + "card/", console.card, name="card"),
    path(M + "card/preview/", console.card_preview, name="card_preview"),
    path(M + "policy/", console.policy, name="policy"),
    path(M + "licence/", console.licence, name="licence"),
    path(M + "reviewers/", console.reviewers, name="reviewers"),
    path(M + "publish/", console.publish, name="publish"),
    path(M + "releases/", releases.releases, name="releases"),
    path(M + "releases/imports/<int:pk>/", releases.release_import, name="import"),
    path(M + "releases/imports/<int:pk>/status/", releases.release_import_status, name="import_status"),
    path(M + "releases/<str:version>/<str:action>/", releases.release_withdraw, name="release_action"),
    path(M + "uploads/", releases.upload_start, name="upload_start"),
    path(UP, releases.upload_state, name="upload_state"),
    path(UP + "files/<int:file_pk>/parts/<int:number>/", releases.upload_part, name="upload_part"),
    path(UP + "files/<int:file_pk>/chunk/", releases.upload_chunk, name="upload_chunk"),
    path(UP + "files/<int:file_pk>/complete/", releases.upload_complete, name="upload_complete"),
    path(UP + "finish/", releases.upload_finish, name="upload_finish"),
    path(M + "access/", access.access, name="access"),
    path(M + "access/requests/<int:pk>/<str:decision>/", access.decide, name="access_decide"),
    path(M + "access/grants/<int:pk>/revoke/", access.revoke, name="access_revoke"),
    path(M + "access/grant/", access.grant_by_username, name="access_grant"),
    path(M + "reports/", reports.report, name="reports"),
    path(M + "reports.csv", reports.report_csv, name="report_csv"),
]
