"""The periodic tasks celery-beat runs (with django-celery-beat's database scheduler).
Kept apart from settings.py so the settings stay one screenful per concern."""


def beat_schedule(*, checkpoint_interval: float) -> dict:
    return {
        "notifications-redeliver-pending": {
            "task": "accessgate.notifications.tasks.redeliver_pending",
            "schedule": 300.0,
        },
        "notifications-deliver-due-webhooks": {  # webhook retries once their backoff is over
            "task": "accessgate.notifications.tasks.deliver_due_webhooks",
            "schedule": 30.0,
        },
        "audit-chain-pending": {  # backstop for `manage.py audit_chainer` (docs/audit.md)
            "task": "accessgate.audit.tasks.chain_pending",
            "schedule": 30.0,
        },
        "audit-daily-export": {
            "task": "accessgate.audit.tasks.daily_export",
            "schedule": 3600.0,  # hourly; it exports each finished UTC day once
        },
        "audit-checkpoint": {
            "task": "accessgate.audit.tasks.checkpoint",
            "schedule": checkpoint_interval,  # no-op when unchanged
        },
        "audit-refusals-flush": {
            "task": "accessgate.audit.tasks.flush_refusals",
            "schedule": 60.0,
        },
        "identity-expire-verifications": {
            "task": "accessgate.identity.tasks.expire_verifications",
            "schedule": 24 * 3600.0,
        },
        "access-expire-grants": {
            "task": "accessgate.access.tasks.expire_grants",
            "schedule": 3600.0,
        },
        "training-expire": {
            "task": "accessgate.training.tasks.expire_trainings",
            "schedule": 3600.0,
        },
        "access-send-reminders": {
            "task": "accessgate.access.tasks.send_reminders",
            "schedule": 3600.0,  # hourly; each reminder goes out once (access/services/reminders.py)
        },
        "access-review-digests": {
            "task": "accessgate.access.tasks.send_review_digests",
            "schedule": 3600.0,  # hourly; each reviewer gets at most one digest a day
        },
        "access-escalate-requests": {
            "task": "accessgate.access.tasks.escalate_requests",
            "schedule": 900.0,  # overdue requests are escalated within 15 minutes of their due date, once
        },
        "access-roll-up-downloads": {
            "task": "accessgate.access.tasks.roll_up_downloads",
            "schedule": 3600.0,  # hourly; builds each closed UTC day once, for the staff dashboard
        },
        "access-activate-ready-grants": {
            "task": "accessgate.access.tasks.activate_ready_grants",
            "schedule": 300.0,
        },
    }
