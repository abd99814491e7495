from django.urls import path

from .views import researcher

app_name = "access"

urlpatterns = [
    path("", researcher.my_access, name="my_access"),
    path("requests/<int:pk>/", researcher.request_detail, name="request_detail"),
    path("requests/<int:pk>/receipt.json", researcher.request_receipt, name="request_receipt"),
    path("requests/<int:pk>/withdraw/", researcher.request_withdraw, name="request_withdraw"),
    path("requests/<int:pk>/resubmit/", researcher.request_resubmit, name="request_resubmit"),
    path("requests/<int:pk>/appeal/", researcher.request_appeal, name="request_appeal"),
    path("grants/<int:pk>/accept-licence/", researcher.licence_accept, name="licence_accept"),
]
