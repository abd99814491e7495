"""Shared test helpers (plain functions and values, not fixtures)."""

from django.urls import reverse


def change_user(client, user, **data):
    # What the browser posts: the field, plus the (view-only) profile inline's management form.
    form = {
        "is_active": "on" if user.is_active else "",
        "profile-TOTAL_FORMS": "1",
        "profile-INITIAL_FORMS": "1",
        "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1",
        "profile-0-id": user.profile.pk,
        "profile-0-user": user.pk,
    }
    form.update(data)
    return client.post(reverse("admin:accounts_user_change", args=[user.pk]), form)
