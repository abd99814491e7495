from django.urls import path

from ..views import dashboard, over_time, review, workbench

app_name = "review"

urlpatterns = [
    path("", review.queue, name="queue"),
    path("requests/<int:pk>/", review.detail, name="detail"),
    path("requests/<int:pk>/recuse/", review.recuse, name="recuse"),
    path("requests/<int:pk>/reviewers/", review.reviewer_add, name="reviewer_add"),
    path("requests/<int:pk>/assign/", workbench.assign, name="assign"),
    path("requests/<int:pk>/notes/", workbench.note_add, name="note_add"),
    path("bulk/", workbench.bulk, name="bulk"),
    path("notifications/", workbench.notifications, name="notifications"),
    path("requests/<int:pk>/appeal/<str:outcome>/", review.appeal_decide, name="appeal_decide"),
    path("requests/<int:pk>/receipt.json", review.decision_receipt, name="decision_receipt"),
    path("requests/<int:pk>/<str:decision>/", review.decide, name="decide"),
    path("grants/", review.grants, name="grants"),
    path("grants/<int:pk>/revoke/", review.grant_revoke, name="grant_revoke"),
    path("closeouts/", over_time.review_closeouts, name="closeouts"),
    path("grants/<int:pk>/suspend/", review.grant_suspend, name="grant_suspend"),
    path("grants/<int:pk>/reinstate/", review.grant_reinstate, name="grant_reinstate"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
]
