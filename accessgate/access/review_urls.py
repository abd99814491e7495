from django.urls import path

from .views import over_time, review

app_name = "review"

urlpatterns = [
    path("", review.queue, name="queue"),
    path("requests/<int:pk>/", review.detail, name="detail"),
    path("requests/<int:pk>/receipt.json", review.decision_receipt, name="decision_receipt"),
    path("requests/<int:pk>/<str:decision>/", review.decide, name="decide"),
    path("grants/", review.grants, name="grants"),
    path("grants/<int:pk>/revoke/", review.grant_revoke, name="grant_revoke"),
    path("closeouts/", over_time.review_closeouts, name="closeouts"),
]
