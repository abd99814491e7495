from collections.abc import Iterable

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

from accessgate.core.tasks import queue_after_commit, queue_now

from .models import Email

DELIVER = "accessgate.notifications.tasks.deliver_email"


def queue_delivery(email_id: int) -> None:
    """Queue one e-mail now; with the broker down the row stays pending and the sweeper retries it."""
    queue_now(DELIVER, email_id, what=f"e-mail {email_id}")


@transaction.atomic
def email_queue(*, to: Iterable[str], template: str, context: dict) -> Email | None:
    """Render `templates/notifications/email/<template>` and queue it to be sent after commit.

    Each template has `_subject.txt`, `.txt` and `.html` parts.
    """
    recipients = sorted({address for address in to if address})
    if not recipients:
        return None
    base = f"notifications/email/{template}"
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    email = Email.objects.create(
        to=recipients,
        subject=f"[accessgate] {subject}",
        body_text=render_to_string(f"{base}.txt", context),
        body_html=render_to_string(f"{base}.html", context),
    )
    queue_after_commit(DELIVER, email.pk, what=f"e-mail {email.pk}")
    return email


@transaction.atomic
def email_queue_message(message: EmailMessage) -> Email:
    """Queue a message another library rendered (allauth's verification and reset mails)."""
    html = ""
    for content, mimetype in getattr(message, "alternatives", []):
        if mimetype == "text/html":
            html = content
    if message.content_subtype == "html":
        html, text = message.body, ""
    else:
        text = message.body
    email = Email.objects.create(to=list(message.to), subject=message.subject, body_text=text, body_html=html)
    queue_after_commit(DELIVER, email.pk, what=f"e-mail {email.pk}")
    return email


def build_message(email: Email) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(subject=email.subject, body=email.body_text, to=email.to)
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    return message
