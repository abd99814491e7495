"""Shared test helpers (plain functions and values, not fixtures)."""

import hashlib  # noqa: E402

FILES = {
    "config.json": b'{"hidden_size": 64}',
    "model.safetensors": bytes(range(256)) * 512,
    "tokenizer/vocab.json": '{"\u00fc": 1}'.encode(),
}


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
