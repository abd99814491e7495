"""Pages that read clearly: the catalog links names, the model page does not repeat its
title, the apply page lists everything to do with a link to each, field errors are described."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_catalog_links_the_display_name(client, model):
    page = client.get(reverse("catalog:list")).content.decode()
    url = reverse("catalog:model_detail", args=[model.namespace, model.name])
    assert re.search(rf'<a href="{url}"><strong>{re.escape(model.display_name)}</strong></a>', page)


def test_model_card_does_not_repeat_the_title(client, model):
    model.card_markdown = f"## {model.display_name}\n\nWeights for testing.\n\n## Limits\n\nNone."
    model.save()
    page = client.get(reverse("catalog:model_detail", args=[model.namespace, model.name])).content.decode()
    card = page[page.index('class="model-card"') :]
    assert model.display_name not in card[: card.index("</div>")]
    assert "Weights for testing." in card and "<h2>Limits</h2>" in card


def test_apply_page_lists_every_step_with_a_link(client, researcher, model):
    client.force_login(researcher)
    page = client.get(reverse("apply:form", args=[model.namespace, model.name])).content.decode()
    for anchor in (
        'href="#licence-heading"',
        'href="#id_intended_use"',
        'href="#attestations"',
        'href="#id_typed_name"',
    ):
        assert anchor in page
    assert 'id="attestations"' in page and 'role="region"' in page and "Access lasts 30 days" in page


def test_field_errors_are_what_aria_describedby_names(client, researcher, model):
    client.force_login(researcher)
    page = client.post(reverse("apply:form", args=[model.namespace, model.name]), {"intended_use": "short"})
    html = page.content.decode()
    field = re.search(r"<textarea[^>]*id=\"id_intended_use\"[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in field
    described = re.search(r'aria-describedby="([^"]+)"', field).group(1).split()
    assert "id_intended_use_error" in described
    for element_id in described:
        assert f'id="{element_id}"' in html
    assert 'id="error-summary"' in html and 'href="#id_intended_use"' in html
