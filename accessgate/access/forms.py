from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries

from .models import AccessPolicy, FieldKind


def question_field(question) -> forms.Field:
    """The form input for one custom question; the service checks the answer again."""
    common = {"label": question.label, "required": question.required, "help_text": question.help_text}
    choices = [(c, c) for c in question.choices]
    match question.kind:
        case FieldKind.LONG_TEXT:
            return forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=5000, **common)
        case FieldKind.SINGLE_CHOICE:
            return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
        case FieldKind.MULTIPLE_CHOICE:
            return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)
        case FieldKind.CHECKBOX:
            return forms.BooleanField(**common)
        case FieldKind.COUNTRY:
            return forms.ChoiceField(choices=[("", "—"), *countries], **common)
        case FieldKind.DATE:
            return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
        case FieldKind.URL:
            return forms.URLField(max_length=2000, assume_scheme="https", **common)
        case _:
            return forms.CharField(max_length=500, **common)


class SignatureForm(forms.Form):
    """One box per attestation statement and the typed signature.

    The rules are checked again by the service; its errors are attached to the field they name.
    """

    typed_name = forms.CharField(
        label=gettext_lazy("Type your full name to sign"),
        max_length=200,
        help_text=gettext_lazy("Must match the full name in your profile."),
    )

    def __init__(self, *args, policy: AccessPolicy, statements, **kwargs):
        super().__init__(*args, **kwargs)
        self.policy = policy
        self.statements = list(statements)
        for statement in self.statements:
            self.fields[f"statement_{statement.pk}"] = forms.BooleanField(
                label=statement.text,
                error_messages={"required": _("Tick this statement to apply.")},
            )

    def statement_fields(self):
        return [self[f"statement_{statement.pk}"] for statement in self.statements]

    def accepted_statement_ids(self) -> set[int]:
        return {s.pk for s in self.statements if self.cleaned_data.get(f"statement_{s.pk}")}


class ApplicationForm(SignatureForm):
    """The application: the intended use, the policy's own questions, then the signature."""

    intended_use = forms.CharField(
        label=gettext_lazy("Intended use"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("What you will do with the weights, for which project, and who will have access."),
    )

    def __init__(self, *args, questions=None, **kwargs):
        super().__init__(*args, **kwargs)
        minimum = self.policy.min_intended_use_chars
        self.fields["intended_use"].help_text += " " + _("At least %(minimum)s characters.") % {"minimum": minimum}
        self.fields["intended_use"].validators.append(forms.fields.validators.MinLengthValidator(minimum))
        self.questions = list(self.policy.form_fields.filter(is_active=True) if questions is None else questions)
        for question in self.questions:
            self.fields[f"field_{question.key}"] = question_field(question)

    def question_fields(self):
        return [self[f"field_{question.key}"] for question in self.questions]

    def answers(self) -> dict:
        """{key: value} for the service (dates as YYYY-MM-DD)."""
        answers = {}
        for question in self.questions:
            value: Any = self.cleaned_data.get(f"field_{question.key}")
            answers[question.key] = value.isoformat() if hasattr(value, "isoformat") else value
        return answers


class ReviewDecisionForm(forms.Form):
    message = forms.CharField(
        label=gettext_lazy("Message to the applicant"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
    )
    grant_days = forms.IntegerField(
        label=gettext_lazy("Grant length in days"),
        required=False,
        min_value=1,
        help_text=gettext_lazy("Empty: the policy's maximum. You may set a shorter grant, never a longer one."),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class AppealForm(forms.Form):
    message = forms.CharField(
        label=gettext_lazy("Why should the decision change?"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        help_text=gettext_lazy(
            "A reviewer who did not reject your request decides the appeal. You can appeal once; the outcome is final."
        ),
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (shown to the researcher)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )


class RenewalForm(ApplicationForm):
    """A renewal: the progress report, the intended use (changed if it changed), the signature."""

    progress_report = forms.CharField(
        label=gettext_lazy("Progress report"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy(
            "What you did with the weights since your access began, results or papers, and what comes next."
        ),
        max_length=20000,
    )
    field_order = ["progress_report", "intended_use"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["progress_report"].required = self.policy.renewal_requires_progress_report


class CloseoutForm(forms.Form):
    systems = forms.CharField(
        label=gettext_lazy("Every system the weights or derived copies were on"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("One per line: machines, clusters, buckets, backups, fine-tuned or quantised copies."),
        max_length=10000,
    )
    deleted_everywhere = forms.TypedChoiceField(
        label=gettext_lazy("What happened to them"),
        choices=[("yes", gettext_lazy("Deleted from every system listed")), ("no", gettext_lazy("Something remains"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    remaining = forms.CharField(
        label=gettext_lazy("What remains, where, and why"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=10000,
    )
    typed_name = forms.CharField(
        label=gettext_lazy("Type your full name to sign"),
        max_length=200,
        help_text=gettext_lazy("Must match the full name in your profile."),
    )


class SignoffOfficialForm(forms.Form):
    official_name = forms.CharField(label=gettext_lazy("Signing official's full name"), max_length=200)
    official_email = forms.EmailField(
        label=gettext_lazy("Signing official's institutional e-mail"),
        help_text=gettext_lazy(
            "Someone at your institution who can sign for it (a department head, a research office)."
        ),
    )


class CountersignForm(forms.Form):
    typed_name = forms.CharField(label=gettext_lazy("Type your full name to countersign"), max_length=200)


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (shown to the applicant)"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
