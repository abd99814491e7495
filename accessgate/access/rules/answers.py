"""Checking a researcher's answers to a policy's questions (`models.FormField`).

Each answer is frozen into the agreement with the question's own sha256, and the list of
answers gets one sha256 of its canonical JSON (`answers_sha256`).
"""

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _
from django_countries import countries

from accessgate.core.errors import ValidationFailed

from ..models.formfields import FieldKind, FormField, canonical_sha256

MAX_LENGTH: dict[str, int] = {FieldKind.TEXT: 500, FieldKind.LONG_TEXT: 5000, FieldKind.URL: 2000}


def _empty(kind: str, value: Any) -> bool:
    if kind == FieldKind.CHECKBOX:
        return value is not True
    if kind == FieldKind.MULTIPLE_CHOICE:
        return not value
    return value is None or (isinstance(value, str) and not value.strip())


def _clean_one(question: FormField, value: Any) -> Any:
    """The stored answer for one question, or a ValidationFailed naming it."""
    kind, label = question.kind, question.label

    def refuse(why: str) -> ValidationFailed:
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


def clean_answers(questions: Iterable[FormField], answers: Mapping[str, Any]) -> list[dict[str, Any]]:
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


def answers_sha256(answers: list[dict[str, Any]]) -> str:
    return canonical_sha256(answers) if answers else ""
