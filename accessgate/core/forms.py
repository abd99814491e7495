from django import forms

from accessgate.core.errors import DomainError


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's error beside the field it names, or at the top of the form."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)
