from django import template
from django.template.defaultfilters import filesizeformat

from accessgate.catalog.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text):
    return render_markdown(text)


@register.filter
def bytes_human(size):
    return filesizeformat(size)


@register.filter
def model_card(model):
    """The card as HTML, without a leading heading that only repeats the model's name (the
    page already shows it as its title)."""
    text = model.card_markdown.lstrip()
    first, _, rest = text.partition("\n")
    if first.startswith("#") and first.lstrip("#").strip().lower() in {
        model.display_name.lower(),
        model.full_name.lower(),
    }:
        text = rest
    return render_markdown(text)
