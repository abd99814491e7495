"""A policy's custom application questions: checking them and keeping their rows in step
(private to the package; `policy_set` uses them)."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from accessgate.core.errors import ValidationFailed

from ..models import AccessPolicy
from ..models.formfields import CHOICE_KINDS, FieldKind, FormField, canonical_sha256, definition


@dataclass(frozen=True)
class QuestionSpec:
    """One custom question of the application form (see `access.formfields`)."""

    key: str
    label: str
    kind: str = FieldKind.TEXT
    required: bool = True
    help_text: str = ""
    choices: Sequence[str] = ()

    def cleaned(self) -> dict:
        label = " ".join(self.label.split())
        key = self.key.strip()
        if not key or not key.replace("_", "").replace("-", "").isalnum() or not label:
            raise ValidationFailed(
                _("A question needs a key (letters, digits, _ or -) and a label: %(key)r.") % {"key": key},
                field="form_fields",
            )
        kind = FieldKind(self.kind)
        choices = [" ".join(c.split()) for c in self.choices if c.strip()]
        if kind in CHOICE_KINDS and len(choices) < 2:
            raise ValidationFailed(
                _("The question %(label)r needs at least two choices.") % {"label": label}, field="form_fields"
            )
        if kind not in CHOICE_KINDS and choices:
            raise ValidationFailed(
                _("Only choice questions have choices (%(label)r).") % {"label": label}, field="form_fields"
            )
        return definition(
            key=key, label=label, kind=kind, required=self.required, help_text=self.help_text.strip(), choices=choices
        )


def clean_questions(questions: Sequence[QuestionSpec]) -> list[dict]:
    cleaned = [q.cleaned() for q in questions]
    keys = [q["key"] for q in cleaned]
    if len(set(keys)) != len(keys):
        raise ValidationFailed(_("Two questions have the same key."), field="form_fields")
    return cleaned


def sync_questions(policy: AccessPolicy, questions: list[dict]) -> bool:
    """Like statements: a question whose definition is unchanged keeps its row; others retire."""
    wanted = {canonical_sha256(q): q for q in questions}
    current = {f.sha256: f for f in policy.form_fields.filter(is_active=True)}
    retired = [f for sha, f in current.items() if sha not in wanted]
    for old in retired:
        old.is_active = False
        old.save(update_fields=["is_active"])
    added = False
    for position, (sha, spec) in enumerate(wanted.items()):
        question = current.get(sha)
        if question is None:
            FormField.objects.create(policy=policy, position=position, **spec)
            added = True
        elif question.position != position:
            question.position = position
            question.save(update_fields=["position"])
    return added or bool(retired)
