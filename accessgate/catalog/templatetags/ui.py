"""Small template helpers shared by every page (forms, tables)."""

from django import template

register = template.Library()


@register.filter
def error_id(field) -> str:
    return f"{field.auto_id}_error"


@register.filter
def described_widget(field):
    """The field's widget with `aria-describedby` naming its help text and its error message
    (whose ids `components/field.html` renders), and Django's `aria-invalid` on errors."""
    ids = []
    if field.help_text:
        ids.append(f"{field.auto_id}_helptext")
    if field.errors:
        ids.append(error_id(field))
    return field.as_widget(attrs={"aria-describedby": " ".join(ids)} if ids else None)


@register.filter
def fields_with_errors(form) -> list:
    return [field for field in form if field.errors]
