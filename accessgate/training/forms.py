from django import forms
from django.utils.translation import gettext_lazy


class QuizForm(forms.Form):
    def __init__(self, *args, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for question in self.questions:
            self.fields[f"q_{question.pk}"] = forms.TypedChoiceField(
                label=question.text,
                choices=list(enumerate(question.choices)),
                coerce=int,
                widget=forms.RadioSelect,
            )

    def answers(self) -> dict[int, int]:
        return {q.pk: self.cleaned_data[f"q_{q.pk}"] for q in self.questions}


class CertificateForm(forms.Form):
    certificate = forms.FileField(label=gettext_lazy("Certificate (PDF)"))


class CertificateDecisionForm(forms.Form):
    completed_on = forms.DateTimeField(
        label=gettext_lazy("Completed on (as printed on the certificate)"),
        required=False,
        help_text=gettext_lazy("Empty: today."),
    )
    note = forms.CharField(
        label=gettext_lazy("Note to the researcher"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
