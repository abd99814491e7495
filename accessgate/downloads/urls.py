from django.urls import path

from . import views

app_name = "downloads"

urlpatterns = [
    path("models/<part:namespace>/<part:name>/<ref:ref>/files/<path:path>", views.resolve, name="resolve"),
    path("models/<part:namespace>/<part:name>/<ref:ref>/manifest", views.manifest_json, name="manifest"),
    path("models/<part:namespace>/<part:name>/<ref:ref>/manifest.txt", views.manifest_txt, name="manifest_txt"),
    path("models/<part:namespace>/<part:name>/<ref:ref>/SHA256SUMS", views.sha256sums, name="sha256sums"),
    path("models/<part:namespace>/<part:name>/<ref:ref>/download/", views.release_page, name="release"),
    path("dl/<str:token>/<str:filename>", views.local_file, name="local_file"),
]
