"""`transformers` loads a config and a tokenizer through the gate (it calls huggingface_hub without
an `endpoint=` argument, so the client's endpoint constants point at the live server here).
Skipped where transformers is not installed."""

import json

import pytest

from accessgate.audit.models import AuditEvent
from tests.support.applications import make_policy

from .. import factories

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

pytestmark = pytest.mark.django_db(transaction=True)
REPO = "demo-lab/tiny-tokenizer"


def _tokenizer_json() -> bytes:
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[UNK]": 0, "hello": 1, "world": 2, "gate": 3}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    return tokenizer.to_str().encode()


@pytest.fixture
def endpoint(live_server, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", live_server.url)
    monkeypatch.setattr(
        constants, "HUGGINGFACE_CO_URL_TEMPLATE", live_server.url + "/{repo_id}/resolve/{revision}/{filename}"
    )
    return live_server.url


def test_auto_config_and_tokenizer(endpoint, settings, licence, tmp_path, monkeypatch):
    from accessgate.access import services as access_services
    from accessgate.accounts.services import token_create
    from tests.support.applications import application

    settings.ACCESSGATE_STORAGE_BACKEND = "local"
    reviewer = factories.UserFactory(role="reviewer")
    model = factories.ModelFactory(namespace="demo-lab", name="tiny-tokenizer", reviewers=[reviewer])
    make_policy(model, licence, gating="auto")
    config = {"model_type": "gpt2", "vocab_size": 4, "n_embd": 8, "n_layer": 1, "n_head": 1, "n_positions": 16}
    factories.make_release(
        model,
        files={
            "config.json": json.dumps(config).encode(),
            "tokenizer.json": _tokenizer_json(),
            "tokenizer_config.json": json.dumps({"tokenizer_class": "PreTrainedTokenizerFast"}).encode(),
        },
    )
    user = factories.UserFactory(profile__full_name="Ada Loader")
    access_services.access_request_submit(actor=user, **application(model, typed_name="Ada Loader"))
    _, secret = token_create(actor=user, name="transformers")
    cache = str(tmp_path / "cache")
    # As researchers run it: HF_TOKEN in the environment (transformers omits `token=` on some calls).
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_IMPLICIT_TOKEN", False)
    monkeypatch.setenv("HF_TOKEN", secret)

    loaded = transformers.AutoConfig.from_pretrained(REPO, token=secret, cache_dir=cache)
    assert loaded.model_type == "gpt2" and loaded.n_embd == 8
    tokenizer = transformers.AutoTokenizer.from_pretrained(REPO, token=secret, cache_dir=cache)
    assert tokenizer("hello gate world")["input_ids"] == [1, 3, 2]
    paths = set(AuditEvent.objects.filter(action="download.url_issued").values_list("details__path", flat=True))
    assert {"config.json", "tokenizer.json", "tokenizer_config.json"} <= paths
