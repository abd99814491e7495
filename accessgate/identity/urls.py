from django.urls import path

from . import views

app_name = "identity"

urlpatterns = [
    path("", views.status, name="status"),
    path("start/", views.start, name="start"),
    path("return/", views.returned, name="returned"),
    path("webhooks/stripe/", views.stripe_webhook, name="stripe_webhook"),
    path("dev/<str:session_id>/", views.dev_session, name="dev_session"),
]
