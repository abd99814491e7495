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
