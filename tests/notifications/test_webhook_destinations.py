"""Where webhooks may go and how long they may take: internal addresses refused at
registration and, after a fresh lookup, at delivery (before any connection); the checked
address is the one connected to; no credentials, no redirects; one deadline for the whole
exchange; no lock held across the call; a bounded, sanitised excerpt of the answer."""

import datetime
import ipaddress
import socket
import ssl
import threading
import time
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from accessgate.access import services as access
from accessgate.audit.models import AuditEvent
from accessgate.core.errors import ValidationFailed
from accessgate.notifications import sending, services
from accessgate.notifications.checks import webhook_settings
from accessgate.notifications.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from accessgate.notifications.tasks import deliver_webhook
from tests.support.applications import application
from tests.support.celery import broker

from .webhook_receiver import start_receiver, stop_receiver

REFUSED = "not a public address"

BLOCKED_LITERALS = [
    "http://169.254.169.254/latest/meta-data/",  # link-local: the cloud metadata service
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # CGNAT
    "http://0.0.0.0/",
    "http://[::]/",
    "http://127.0.0.1:8000/",
    "http://127.8.9.10/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "http://[::ffff:169.254.169.254]/",
    "http://[::127.0.0.1]/",  # IPv4-compatible
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "http://[2002:a00:1::]/",  # 6to4 of 10.0.0.1
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[fec0::1]/",  # site-local (deprecated)
    "http://224.0.0.1/",
    "http://224.0.1.1/",  # multicast that `is_global` calls global
    "http://[ff02::1]/",
    "http://[ff0e::1]/",
    "http://240.0.0.1/",  # reserved
    "http://255.255.255.255/",
]
# Names answered by the test resolver (conftest.FakeDNS) with internal addresses.
BLOCKED_NAMES = {
    "localhost": ["127.0.0.1"],
    "metadata.google.internal": ["169.254.169.254"],
    "intranet.example.org": ["10.1.2.3"],
    "v6-loopback.example.org": ["::1"],
    "mapped.example.org": ["::ffff:10.0.0.1"],
    "mixed.example.org": ["93.184.215.14", "127.0.0.1"],  # one internal answer refuses the name
}


def create(actor, url, **overrides):
    with transaction.atomic():
        return services.webhook_endpoint_create(actor=actor, url=url, events=["grant.revoked"], **overrides)


def listener():
    """A bare TCP listener on the loopback: it shows whether anything connected at all."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.3)
    return server


def assert_nothing_connected(server):
    with pytest.raises(TimeoutError):
        server.accept()
    server.close()


def submit(researcher, model, capture):
    with capture(execute=True):
        return access.access_request_submit(actor=researcher, **application(model))


# --- registration ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", BLOCKED_LITERALS)
def test_registration_refuses_internal_addresses(admin_user, events, url):
    with pytest.raises(ValidationFailed, match=REFUSED) as caught:
        create(admin_user, url)
    assert caught.value.field == "url" and "ACCESSGATE_WEBHOOK_ALLOWED_NETWORKS" in caught.value.message
    assert not WebhookEndpoint.objects.exists() and events() == []


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "addresses"), BLOCKED_NAMES.items())
def test_registration_refuses_names_that_resolve_to_internal_addresses(admin_user, events, dns, name, addresses):
    if name != "localhost":
        dns.answers[name] = addresses
    with pytest.raises(ValidationFailed, match=f"{name} resolves to .* {REFUSED}"):
        create(admin_user, f"https://{name}/hooks")
    assert not WebhookEndpoint.objects.exists() and events() == []


@pytest.mark.django_db
def test_registration_refuses_a_name_that_does_not_resolve(admin_user, events):
    with pytest.raises(ValidationFailed, match="nowhere.invalid does not resolve"):
        create(admin_user, "https://nowhere.invalid/hooks")
    assert events() == []


@pytest.mark.django_db
def test_an_allow_listed_network_may_be_registered(settings, admin_user, events):
    settings.ACCESSGATE_WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    assert create(admin_user, "http://10.20.3.4:8080/in")[0].url == "http://10.20.3.4:8080/in"
    with pytest.raises(ValidationFailed, match=REFUSED):
        create(admin_user, "http://10.21.0.1/in")  # the next network is still refused
    assert events() == ["notifications.webhook.created"]


@pytest.mark.django_db
def test_https_only_outside_development(settings, admin_user):
    settings.ACCESSGATE_WEBHOOK_ALLOW_HTTP = False
    with pytest.raises(ValidationFailed, match="Enter a full https URL"):
        create(admin_user, "http://hooks.example.org/")
    assert create(admin_user, "https://hooks.example.org/")[0].pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "https://user:hunter2@hooks.example.org/in",
        "https://hunter2@hooks.example.org/",
        "https://:hunter2@x.example.org/",
    ],
)
def test_credentials_in_the_url_are_refused_and_never_reach_the_trail(admin_user, events, url):
    with pytest.raises(ValidationFailed, match="cannot carry a user name or password") as caught:
        create(admin_user, url)
    assert caught.value.field == "url" and "hunter2" not in caught.value.message
    endpoint, _ = create(admin_user, "https://hooks.example.org/in")
    with pytest.raises(ValidationFailed, match="user name or password"), transaction.atomic():
        services.webhook_endpoint_update(actor=admin_user, endpoint=endpoint, url=url, events=["grant.revoked"])
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.example.org/in"
    assert events() == ["notifications.webhook.created"]
    assert not any("hunter2" in str(event.details) for event in AuditEvent.objects.all())


@pytest.mark.django_db
def test_editing_an_endpoint_to_an_internal_address_is_refused_and_not_recorded(admin_user, events):
    endpoint, _ = create(admin_user, "https://hooks.example.org/in")
    with pytest.raises(ValidationFailed, match=REFUSED), transaction.atomic():
        services.webhook_endpoint_update(
            actor=admin_user, endpoint=endpoint, url="http://169.254.169.254/", events=["grant.revoked"]
        )
    with transaction.atomic():
        services.webhook_endpoint_update(
            actor=admin_user, endpoint=endpoint, url="https://new.example.org/in", events=["grant.revoked"]
        )
    assert events() == ["notifications.webhook.created", "notifications.webhook.updated"]
    assert AuditEvent.objects.get(action="notifications.webhook.updated").details == {
        "changed": ["url"],
        "url": "https://new.example.org/in",
    }


@pytest.mark.django_db
def test_the_admin_pages_show_the_refusals(client, admin_user):
    def webhook_events():
        return list(AuditEvent.objects.filter(action__startswith="notifications.").values_list("action", flat=True))

    client.force_login(admin_user)
    add = reverse("admin:notifications_webhookendpoint_add")
    for url, message in [
        ("http://169.254.169.254/latest/", REFUSED),
        ("http://localhost:6379/", "localhost resolves to 127.0.0.1 (loopback)"),
        ("https://admin:hunter2@hooks.example.org/", "cannot carry a user name or password"),
    ]:
        page = client.post(add, {"url": url, "events": ["grant.revoked"]}).content.decode()
        assert message in page
    assert not WebhookEndpoint.objects.exists() and webhook_events() == []
    endpoint, _ = create(admin_user, "https://hooks.example.org/in")
    edit = reverse("admin:notifications_webhookendpoint_edit", args=[endpoint.pk])
    response = client.post(edit, {"url": "http://[::ffff:127.0.0.1]/", "events": ["grant.revoked"]})
    assert response.status_code == 200 and REFUSED in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.example.org/in" and webhook_events() == ["notifications.webhook.created"]


# --- delivery ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_without_the_allow_list_a_loopback_delivery_is_refused_before_connecting(
    settings, webhook_endpoint, researcher, model, django_capture_on_commit_callbacks
):
    server = listener()
    webhook_endpoint(url=f"http://127.0.0.1:{server.getsockname()[1]}/hooks/")  # allow-listed by `receiver`
    settings.ACCESSGATE_WEBHOOK_ALLOWED_NETWORKS = []
    submit(researcher, model, django_capture_on_commit_callbacks)
    assert_nothing_connected(server)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_status_code is None
    assert delivery.last_error.startswith("Refused before connecting: 127.0.0.1 (loopback)")
    assert delivery.next_attempt_at > timezone.now()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "::1", "::ffff:127.0.0.1", "64:ff9b::7f00:1", "10.0.0.7", "169.254.169.254", "fd00::1", "0.0.0.0"],
)
def test_dns_rebinding_after_registration_is_refused_at_delivery(
    settings, dns, webhook_endpoint, researcher, model, django_capture_on_commit_callbacks, address
):
    settings.ACCESSGATE_WEBHOOK_ALLOWED_NETWORKS = []
    server = listener()
    webhook_endpoint(url=f"http://hooks.example.org:{server.getsockname()[1]}/in")  # public when registered
    dns.answers["hooks.example.org"] = [address]  # …and the name now points inside
    submit(researcher, model, django_capture_on_commit_callbacks)
    assert_nothing_connected(server)
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_error.startswith(
        f"Refused before connecting: hooks.example.org resolves to {ipaddress.ip_address(address)} ("
    )
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1


@pytest.mark.django_db
def test_the_connection_goes_to_the_checked_address_under_the_names_host_header(
    dns, webhook_endpoint, receiver, researcher, model, django_capture_on_commit_callbacks
):
    port = receiver.url.split(":")[2].split("/")[0]
    dns.answers["pinned.example.org"] = ["127.0.0.1"]
    webhook_endpoint(url=f"http://pinned.example.org:{port}/hooks/?team=7")
    dns.lookups.clear()
    submit(researcher, model, django_capture_on_commit_callbacks)
    [received] = receiver.requests
    assert received.headers["Host"] == f"pinned.example.org:{port}" and received.path == "/hooks/?team=7"
    assert dns.lookups == ["pinned.example.org"]  # one lookup, checked, then connected to as is
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED


def _certificate(ca_key, ca_name, name, key):
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=name == "test-ca", path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch, receiver):
    """The receiver again, behind TLS with a certificate for tls.example.org from a test CA
    the sender trusts; `seen_names` records the SNI of each handshake."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-ca")])
    ca = _certificate(ca_key, ca_name, "test-ca", ca_key)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _certificate(ca_key, ca_name, "tls.example.org", leaf_key)
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.key").write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    monkeypatch.setattr(sending, "tls_context", lambda: ssl.create_default_context(cafile=str(tmp_path / "ca.pem")))
    server = start_receiver()
    seen_names = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "leaf.pem", tmp_path / "leaf.key")
    context.sni_callback = lambda sock, name, ctx: seen_names.append(name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.receiver.seen_names = seen_names
    server.receiver.port = server.server_address[1]
    yield server.receiver
    stop_receiver(server)


@pytest.mark.django_db
def test_tls_is_verified_for_the_name_while_connecting_to_the_checked_address(dns, tls_receiver):
    dns.answers["tls.example.org"] = ["127.0.0.1"]
    dns.answers["other.example.org"] = ["127.0.0.1"]
    url = f"https://tls.example.org:{tls_receiver.port}/in"
    assert sending.post(url=url, secret="whsec_x", body=b"{}", webhook_id="1") == (200, "")
    assert tls_receiver.seen_names == ["tls.example.org"]
    assert tls_receiver.requests[0].headers["Host"] == f"tls.example.org:{tls_receiver.port}"
    status, error = sending.post(
        url=f"https://other.example.org:{tls_receiver.port}/in", secret="whsec_x", body=b"{}", webhook_id="2"
    )
    assert status is None and "CERTIFICATE_VERIFY_FAILED" in error  # the certificate names someone else
    assert len(tls_receiver.requests) == 1


@pytest.mark.django_db
def test_a_redirect_is_not_followed(webhook_endpoint, receiver, researcher, model, django_capture_on_commit_callbacks):
    elsewhere = start_receiver()
    try:
        webhook_endpoint(events=["access.request.submitted"])
        receiver.statuses[:] = [302]
        receiver.location = elsewhere.receiver.url
        submit(researcher, model, django_capture_on_commit_callbacks)
        assert elsewhere.receiver.requests == []
    finally:
        stop_receiver(elsewhere)
    assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == (DeliveryStatus.PENDING, 302)
    assert delivery.last_error.startswith("HTTP 302")


def slow_loris(server, stop):
    """Accept, read the request, then answer one byte of a status line every 0.5 s."""
    connection_, _ = server.accept()
    with connection_:
        connection_.recv(65536)
        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n":
            if stop.wait(0.5):
                return
            try:
                connection_.send(bytes([byte]))
            except OSError:
                return


@pytest.mark.django_db
def test_a_slow_receiver_is_cut_at_the_whole_exchange_deadline(
    settings, webhook_endpoint, researcher, model, django_capture_on_commit_callbacks
):
    settings.ACCESSGATE_WEBHOOK_TIMEOUT = 1
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    trickler = threading.Thread(target=slow_loris, args=(server, stop), daemon=True)
    trickler.start()
    try:
        webhook_endpoint(url=f"http://127.0.0.1:{server.getsockname()[1]}/", events=["access.request.submitted"])
        started = time.monotonic()
        submit(researcher, model, django_capture_on_commit_callbacks)  # eager: the delivery runs here
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        trickler.join(5)
        server.close()
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_error == "No complete answer within 1 s (ACCESSGATE_WEBHOOK_TIMEOUT); cut off."
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_status_code is None
    assert elapsed < 5  # the status line alone would take 8 s at this pace


@pytest.mark.django_db
def test_the_logged_excerpt_is_printable_bounded_and_redacted(
    webhook_endpoint, receiver, researcher, model, django_capture_on_commit_callbacks
):
    token = "T0KEN-in-the-query-9f8e7d"
    path_secret = "B0ABCDEF1234567890XYZ"
    webhook_endpoint(url=f"{receiver.url}{path_secret}/?token={token}", events=["access.request.submitted"])
    receiver.statuses[:] = [500]
    receiver.reply = lambda received: (
        b"\x1b[31mDenied\x1b[0m \xe2\x80\xae\x00 for "
        + received.headers["Webhook-Signature"].encode()
        + b"\r\nX-Injected: yes\r\n url="
        + received.path.encode()
        + b" "
        + b"A" * 5000
    )
    submit(researcher, model, django_capture_on_commit_callbacks)
    error = WebhookDelivery.objects.get().last_error
    signature = receiver.requests[0].headers["Webhook-Signature"]
    assert error.startswith("HTTP 500: [31mDenied [0m for [redacted] X-Injected: yes url=")
    assert len(error) <= sending.EXCERPT_CHARS and error.endswith("…")
    assert error.isprintable() and "\x1b" not in error and "\u202e" not in error and "\x00" not in error
    for secret in (signature, signature.split("v1=")[1], token, path_secret):
        assert secret not in error


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_no_lock_is_held_while_the_receiver_is_called(postgres, webhook_endpoint, receiver, researcher, model):
    endpoint, _ = webhook_endpoint(events=["access.request.submitted"])
    with broker("redis://127.0.0.1:1/0"):  # the send is not queued: this test runs it below
        access.access_request_submit(actor=researcher, **application(model))
    delivery = WebhookDelivery.objects.get()
    receiver.hold = threading.Event()
    outcome = []

    def deliver():
        try:
            outcome.append(deliver_webhook.apply(args=[delivery.pk]).get())
        finally:
            connections.close_all()

    worker = threading.Thread(target=deliver)
    worker.start()
    try:
        assert receiver.arrived.wait(10)  # the receiver has the POST and stalls
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            WebhookDelivery.objects.select_for_update(nowait=True).get(pk=delivery.pk)
            WebhookEndpoint.objects.select_for_update(nowait=True).get(pk=endpoint.pk)
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(description="changed during the call")
    finally:
        receiver.hold.set()
        worker.join(15)
    assert outcome == [DeliveryStatus.DELIVERED]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)


@pytest.mark.django_db
def test_the_command_delivers_what_is_due(webhook_endpoint, receiver, researcher, model, capsys):
    webhook_endpoint(events=["access.request.submitted"])
    with transaction.atomic():  # on_commit never runs here: the delivery waits
        access.access_request_submit(actor=researcher, **application(model))
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    call_command("deliver_webhooks")
    assert "1 webhook delivery(ies) tried." in capsys.readouterr().out
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED and len(receiver.requests) == 1


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"DEBUG": False, "ACCESSGATE_WEBHOOK_ALLOW_HTTP": True}, ["accessgate.E050"]),
        ({"DEBUG": True, "ACCESSGATE_WEBHOOK_ALLOW_HTTP": True}, []),
        ({"ACCESSGATE_WEBHOOK_ALLOWED_NETWORKS": ["10.0.0.0/8", "fd00::/8"]}, []),
        ({"ACCESSGATE_WEBHOOK_ALLOWED_NETWORKS": ["intranet"]}, ["accessgate.E051"]),
        ({"ACCESSGATE_WEBHOOK_ALLOWED_NETWORKS": ["0.0.0.0/0"]}, ["accessgate.E052"]),
        ({"ACCESSGATE_WEBHOOK_TIMEOUT": 0}, ["accessgate.E053"]),
    ],
)
def test_system_checks_refuse_bad_webhook_settings(settings, overrides, expected):
    settings.DEBUG, settings.ACCESSGATE_WEBHOOK_ALLOW_HTTP = True, True
    for key, value in overrides.items():
        setattr(settings, key, value)
    assert [error.id for error in webhook_settings(None)] == expected


def test_is_global_alone_would_let_these_through():
    """Why `destinations.refusal` checks more than `is_global` (on this Python)."""
    from accessgate.notifications.destinations import refusal

    for literal in ["224.0.1.1", "ff0e::1", "64:ff9b::7f00:1", "::127.0.0.1", "2002:7f00:1::", "fec0::1"]:
        address = ipaddress.ip_address(literal)
        assert refusal(address) is not None, literal
    assert refusal(ipaddress.ip_address("93.184.215.14")) is None
    assert refusal(ipaddress.ip_address("2606:4700::1111")) is None
