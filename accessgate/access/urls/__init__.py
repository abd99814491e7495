from django.urls import path

from ..views import dashboard, over_time, researcher, signoff

app_name = "access"

urlpatterns = [
    path("", researcher.my_access, name="my_access"),
    path("requests/<int:pk>/", researcher.request_detail, name="request_detail"),
    path("requests/<int:pk>/receipt.json", researcher.request_receipt, name="request_receipt"),
    path("requests/<int:pk>/withdraw/", researcher.request_withdraw, name="request_withdraw"),
    path("requests/<int:pk>/resubmit/", researcher.request_resubmit, name="request_resubmit"),
    path("requests/<int:pk>/appeal/", researcher.request_appeal, name="request_appeal"),
    path("grants/<int:pk>/accept-licence/", researcher.licence_accept, name="licence_accept"),
    path("downloads/", dashboard.my_downloads, name="my_downloads"),
    path("grants/<int:pk>/", over_time.grant_detail, name="grant_detail"),
    path("grants/<int:pk>/renew/", over_time.renew, name="renew"),
    path("grants/<int:pk>/end/", over_time.grant_end, name="grant_end"),
    path("closeouts/<int:pk>/", over_time.closeout, name="closeout"),
    path("requests/<int:pk>/signoff/", signoff.name_official, name="signoff"),
    # Public: the signed single-use link a signing official receives (no account).
    path("signoff/<str:token>/", signoff.sign, name="signoff_sign"),
]
