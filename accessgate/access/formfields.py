"""Custom application questions: their kinds, their fingerprint, and checking answers.

A policy's questions (`access.models.FormField`) are versioned like attestation statements:
a question never changes once created; a publisher retires it and adds a new one. Each
answer is frozen into the agreement with the question's own sha256, and the list of answers
gets one sha256 of its canonical JSON (`answers_sha256`).
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries

from accessgate.core.errors import ValidationFailed


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
MAX_LENGTH = {FieldKind.TEXT: 500, FieldKind.LONG_TEXT: 5000, FieldKind.URL: 2000}


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


def _empty(kind: str, value: Any) -> bool:
    if kind == FieldKind.CHECKBOX:
        return value is not True
    if kind == FieldKind.MULTIPLE_CHOICE:
        return not value
    return value is None or (isinstance(value, str) and not value.strip())


def _clean_one(question, value: Any) -> Any:
    """The stored answer for one question, or a ValidationFailed naming it."""
    kind, label = question.kind, question.label

    def refuse(why: str):
        return ValidationFailed(_("%(label)s: %(why)s") % {"label": label, "why": why}, field=f"field_{question.key}")

    if _empty(kind, value):
        if question.required:
            raise refuse(_("tick this box to apply.") if kind == FieldKind.CHECKBOX else _("this answer is required."))
        return [] if kind == FieldKind.MULTIPLE_CHOICE else (False if kind == FieldKind.CHECKBOX else "")
    if kind == FieldKind.CHECKBOX:
        return True
    if kind == FieldKind.MULTIPLE_CHOICE:
        values = [value] if isinstance(value, str) else list(value)
        unknown = [v for v in values if v not in question.choices]
        if unknown:
            raise refuse(_("not one of the choices: %(unknown)s.") % {"unknown": ", ".join(map(str, unknown))})
        return [c for c in question.choices if c in values]  # the question's order, no repeats
    if not isinstance(value, str):
        raise refuse(_("give the answer as text."))
    value = value.strip()
    if kind in MAX_LENGTH and len(value) > MAX_LENGTH[kind]:
        raise refuse(_("at most %(limit)s characters.") % {"limit": MAX_LENGTH[kind]})
    if kind == FieldKind.SINGLE_CHOICE and value not in question.choices:
        raise refuse(_("choose one of: %(choices)s.") % {"choices": ", ".join(question.choices)})
    if kind == FieldKind.COUNTRY:
        value = value.upper()
        if value not in dict(countries):
            raise refuse(_("choose a country."))
    if kind == FieldKind.DATE:
        try:
            value = date.fromisoformat(value).isoformat()
        except ValueError as error:
            raise refuse(_("a date as YYYY-MM-DD.")) from error
    if kind == FieldKind.URL:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError as error:
            raise refuse(_("a web address starting with http:// or https://.")) from error
    return value


def clean_answers(questions: Iterable, answers: Mapping[str, Any]) -> list[dict]:
    """Every active question's answer, checked and in the form's order, ready to freeze."""
    questions = list(questions)
    known = {q.key for q in questions}
    extra = sorted(set(answers) - known)
    if extra:
        raise ValidationFailed(
            _("These are not questions of this form: %(extra)s.") % {"extra": ", ".join(extra)}, field="answers"
        )
    return [
        {
            "key": q.key,
            "label": q.label,
            "kind": q.kind,
            "field_sha256": q.sha256,
            "value": _clean_one(q, answers.get(q.key)),
        }
        for q in questions
    ]


def answers_sha256(answers: list[dict]) -> str:
    return canonical_sha256(answers) if answers else ""


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
