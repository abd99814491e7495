"""Reserved namespaces: the portal's top-level routes and storage areas are never a model's
namespace, whichever door creates the model; one list (catalog.names) holds them."""

import pytest
from django.urls import URLResolver, get_resolver, reverse

from accessgate.catalog.models import ImportPrefix, Model
from accessgate.catalog.names import TOP_LEVEL_ROUTES, reserved_namespaces
from accessgate.catalog.services import import_prefix_add, import_prefix_remove, model_create
from accessgate.core.errors import ValidationFailed
from accessgate.core.storage.prefixes import portal_prefixes

from .. import factories

pytestmark = pytest.mark.django_db


def first_segments(patterns, base=""):
    """The literal first path segment of every route the root URLconf answers."""
    for entry in patterns:
        route = base + str(entry.pattern).lstrip("^")
        if isinstance(entry, URLResolver) and route == "":
            yield from first_segments(entry.url_patterns, route)
            continue
        segment = route.split("/", 1)[0]
        if segment and "<" not in segment and "(" not in segment and "\\" not in segment:
            yield segment


def test_every_top_level_route_is_reserved():
    segments = set(first_segments(get_resolver().url_patterns))
    assert {"api", "admin", "models", "training", "dl", "favicon.ico"} <= segments  # the walk sees them
    assert segments <= set(TOP_LEVEL_ROUTES)


def test_every_portal_storage_area_is_reserved():
    reserved = reserved_namespaces()
    for prefix in portal_prefixes():
        assert prefix.split("/", 1)[0].lower() in reserved or prefix.startswith(("_", "."))


@pytest.mark.parametrize(
    "namespace", ["audit-checkpoints", "audit-exports", "training", "siem", "API", "admin", "models", "static"]
)
def test_the_service_refuses_a_reserved_namespace(namespace, events):
    with pytest.raises(ValidationFailed) as refused:
        model_create(actor=None, namespace=namespace, name="x", display_name="X")
    assert refused.value.field == "namespace" and "reserved" in refused.value.message
    assert not Model.objects.exists() and events() == []


def test_the_demo_names_stay_valid():
    for namespace in ["demo-lab", "acme-lab", "council-lab"]:
        created = model_create(actor=None, namespace=namespace, name="frontier-demo-7b", display_name="F")
        assert created.full_name == f"{namespace}/frontier-demo-7b"


def test_the_console_refuses_a_reserved_namespace(client, publisher, events):
    client.force_login(publisher)
    response = client.post(reverse("publish:new"), {"namespace": "audit-checkpoints", "name": "x", "display_name": "X"})
    assert response.status_code == 400 and list(response.context["form"].errors) == ["namespace"]
    assert not Model.objects.exists()
    assert [a for a in events() if a != "account.logged_in"] == []


def test_the_admin_refuses_a_reserved_namespace(client, admin_user, events):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:catalog_model_add"),
        {"namespace": "audit-checkpoints", "name": "x", "display_name": "X", "is_listed": "on"},
    )
    assert response.status_code == 200 and "namespace" in response.context["adminform"].form.errors
    assert not Model.objects.exists()
    assert [a for a in events() if a != "account.logged_in"] == []


# --- import prefixes, opened by an admin ------------------------------------------------------


def test_an_admin_opens_and_closes_an_import_prefix_audited(client, admin_user, publisher, events):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:catalog_importprefix_add"),
        {"publisher": publisher.pk, "prefix": "drops//evil/./", "note": "their lab's bucket sync"},
    )
    assert response.status_code == 302
    row = ImportPrefix.objects.get()
    assert (row.publisher, row.prefix, row.created_by) == (publisher, "drops/evil/", admin_user)
    closed = client.post(
        reverse("admin:catalog_importprefix_changelist"),
        {"action": "close_prefixes", "_selected_action": [row.pk]},
    )
    assert closed.status_code == 302 and not ImportPrefix.objects.exists()
    assert [a for a in events() if a != "account.logged_in"] == [
        "catalog.import_prefix.added",
        "catalog.import_prefix.removed",
    ]


@pytest.mark.parametrize(
    "prefix, says",
    [
        ("", "the whole bucket"),
        ("/", "the whole bucket"),
        ("audit-checkpoints/", "audit checkpoints"),
        ("_uploads/", "browser uploads"),
        ("training/1/", "training certificates"),
        ("acme-lab/", "the model acme-lab/"),
        ("drops/../acme-lab/", "'..'"),
        ("drops/%2E%2E/", "percent-encoding"),
    ],
)
def test_an_import_prefix_cannot_reach_the_bucket_the_portal_or_a_model(
    client, admin_user, publisher, events, prefix, says
):
    factories.ModelFactory()  # acme-lab/…
    client.force_login(admin_user)
    response = client.post(reverse("admin:catalog_importprefix_add"), {"publisher": publisher.pk, "prefix": prefix})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert says in " ".join(errors.get("prefix", [])) or (prefix == "" and "prefix" in errors)
    assert not ImportPrefix.objects.exists()
    assert [a for a in events() if a != "account.logged_in"] == []


def test_an_import_prefix_is_opened_to_a_publisher_only(admin_user, researcher):
    with pytest.raises(ValidationFailed) as refused:
        import_prefix_add(actor=admin_user, publisher=researcher, prefix="drops/")
    assert refused.value.field == "publisher"
    row = import_prefix_add(actor=admin_user, publisher=factories.UserFactory(role="publisher"), prefix="drops/")
    import_prefix_remove(actor=admin_user, import_prefix=row)
    assert not ImportPrefix.objects.exists()
