from django.urls import path

from . import views

app_name = "training"

urlpatterns = [
    path("", views.training_list, name="list"),
    path("<int:pk>/", views.detail, name="detail"),
    path("certificates/", views.certificates, name="certificates"),
    path("certificates/<int:pk>/", views.check, name="check"),
    path("certificates/<int:pk>/file/", views.certificate_file, name="certificate_file"),
]
