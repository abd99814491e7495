"""The questions of a policy's application form: their kinds and their fingerprint.

A question (`FormField`) is versioned like an attestation statement: it never changes once
created; a publisher retires it and adds a new one. Each answer is frozen into the agreement
with the question's own sha256 (see `rules/answers.py`).
"""

import hashlib
import json
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy


class FieldKind(models.TextChoices):
    TEXT = "text", gettext_lazy("Text")
    LONG_TEXT = "long_text", gettext_lazy("Long text")
    SINGLE_CHOICE = "single_choice", gettext_lazy("Single choice")
    MULTIPLE_CHOICE = "multiple_choice", gettext_lazy("Multiple choice")
    CHECKBOX = "checkbox", gettext_lazy("Checkbox")
    COUNTRY = "country", gettext_lazy("Country")
    DATE = "date", gettext_lazy("Date")
    URL = "url", gettext_lazy("URL")


CHOICE_KINDS = {FieldKind.SINGLE_CHOICE, FieldKind.MULTIPLE_CHOICE}


def canonical_sha256(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def definition(*, key: str, label: str, kind: str, required: bool, help_text: str, choices: list[str]) -> dict:
    """What a question is, as hashed: changing any part makes a new question."""
    return {
        "key": key,
        "label": label,
        "kind": str(kind),
        "required": bool(required),
        "help_text": help_text,
        "choices": list(choices),
    }


class FormField(models.Model):
    """A custom question on a policy's application form. Its definition never changes once
    created (answers point at its sha256); retire it and add a new one."""

    policy = models.ForeignKey("access.AccessPolicy", on_delete=models.CASCADE, related_name="form_fields")
    position = models.PositiveIntegerField(default=0)
    key = models.SlugField(
        max_length=64, help_text=gettext_lazy("The answer's name in exports, the API and the HF `fields`.")
    )
    label = models.CharField(max_length=300)
    kind = models.CharField(max_length=16, choices=FieldKind.choices)
    required = models.BooleanField(default=True)
    help_text = models.CharField(max_length=500, blank=True)
    choices = models.JSONField(default=list, blank=True, help_text=gettext_lazy("For single and multiple choice."))
    sha256 = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "key"], condition=Q(is_active=True), name="access_formfield_active_key_unique"
            ),
        ]

    def __str__(self):
        return self.label[:80]

    def save(self, *args, **kwargs):
        sha256 = canonical_sha256(self.definition())
        if not self._state.adding and FormField.objects.get(pk=self.pk).sha256 != sha256:
            raise TypeError("A form question cannot change; retire it and add a new one.")
        self.sha256 = sha256
        super().save(*args, **kwargs)

    def definition(self) -> dict:
        return definition(
            key=self.key,
            label=self.label,
            kind=self.kind,
            required=self.required,
            help_text=self.help_text,
            choices=self.choices,
        )
