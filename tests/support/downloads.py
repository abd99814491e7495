"""Shared test helpers (plain functions and values, not fixtures)."""

from django.urls import reverse


def file_url(release, path):
    return reverse("downloads:resolve", args=[release.model.namespace, release.model.name, release.version, path])


# A small release imported through `import_release`, on whichever storage the test module's
# `backend` fixture selects.
FILES = {
    "config.json": b'{"hidden_size": 64}',
    "model-00001-of-00002.safetensors": bytes(range(256)) * 4096,
    "model-00002-of-00002.safetensors": b"\x00\x01" * 70000,
    "tokenizer/vocab.json": '{"ü": 1}'.encode(),
}
