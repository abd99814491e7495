from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.trail, name="trail"),
    path("events/<int:seq>/", views.event_detail, name="event"),
    path("verify/", views.verify, name="verify"),
    path("verify/<int:pk>/", views.verification, name="verification"),
    path("exports/", views.exports, name="exports"),
    path("exports/<int:pk>/", views.export_detail, name="export"),
    path("exports/<int:pk>/download", views.export_download, name="export_download"),
    path("exports/<int:pk>/manifest.json", views.export_manifest, name="export_manifest"),
    path("public-key.pem", views.public_key, name="public_key"),
    path("checkpoints/", views.checkpoint_list, name="checkpoints"),
    path("checkpoints/latest.json", views.checkpoint_latest, name="checkpoint_latest"),
    path("checkpoints/new/", views.checkpoint_now, name="checkpoint_now"),
]
