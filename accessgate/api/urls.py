from django.urls import include, path

urlpatterns = [path("v1/", include("accessgate.api.v1.urls"))]
