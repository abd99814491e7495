from django.db import models

from .models import AuditEvent


def events_for(target: models.Model):
    return AuditEvent.objects.filter(target_type=target._meta.label_lower, target_id=str(target.pk))
