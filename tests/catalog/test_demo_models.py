"""The demo models are genuine checkpoints: the real libraries load every file."""

import hashlib
import json
import math
import re
import socket

import huggingface_hub.constants
import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from safetensors import safe_open
from safetensors.numpy import load_file
from tokenizers import Tokenizer
from transformers import AutoConfig, AutoTokenizer, GenerationConfig

from accessgate.access.management.commands._demo_content import DEMO_CHECKPOINTS, demo_files
from accessgate.catalog.demo_models import SIZES, model_files, write_model

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Grüße aus Köln: naïve café, 東京タワー, ½ × π ≈ 1.57 🚀",
    "  leading spaces,\ttabs\nand new lines  \n",
]
# Every demo checkpoint seed_demo imports, and the large one of `seed_demo --large`.
CHECKPOINTS = [(name, spec["size"], spec["shards"]) for name, spec in DEMO_CHECKPOINTS.items()]
CHECKPOINTS.append(("tiny-demo-1b", "large", 4))


def expected_shapes(config: dict) -> dict[str, tuple[int, ...]]:
    """What transformers' LlamaForCausalLM loads, derived from config.json alone."""
    hidden, vocab, inter = config["hidden_size"], config["vocab_size"], config["intermediate_size"]
    head = config["head_dim"]
    q, kv = config["num_attention_heads"] * head, config["num_key_value_heads"] * head
    shapes = {
        "model.embed_tokens.weight": (vocab, hidden),
        "model.norm.weight": (hidden,),
        "lm_head.weight": (vocab, hidden),
    }
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."
        shapes |= {
            p + "self_attn.q_proj.weight": (q, hidden),
            p + "self_attn.k_proj.weight": (kv, hidden),
            p + "self_attn.v_proj.weight": (kv, hidden),
            p + "self_attn.o_proj.weight": (hidden, q),
            p + "mlp.gate_proj.weight": (inter, hidden),
            p + "mlp.up_proj.weight": (inter, hidden),
            p + "mlp.down_proj.weight": (hidden, inter),
            p + "input_layernorm.weight": (hidden,),
            p + "post_attention_layernorm.weight": (hidden,),
        }
    return shapes


@pytest.fixture
def offline(monkeypatch):
    """No hub: HF_HUB_OFFLINE=1, and any attempt to open a network connection fails the test."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    attempts = []

    def refuse(self, address):
        attempts.append(address)
        raise OSError(f"network access attempted: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield attempts
    assert attempts == []


@pytest.mark.parametrize(("name", "size", "shards"), CHECKPOINTS)
def test_every_shard_parses_and_holds_exactly_the_llama_tensors(tmp_path, name, size, shards):
    files = demo_files(name, size=size, shards=shards)
    write_model(tmp_path, name=f"demo-lab/{name}", size=size, shards=shards)
    config = json.loads(files["config.json"])
    assert config["architectures"] == ["LlamaForCausalLM"] and config["model_type"] == "llama"
    expected = expected_shapes(config)

    if shards == 1:
        assert "model.safetensors.index.json" not in files
        weight_map = dict.fromkeys(load_file(tmp_path / "model.safetensors"), "model.safetensors")
    else:
        index = json.loads(files["model.safetensors.index.json"])
        weight_map = index["weight_map"]
        shard_names = [f"model-{i:05d}-of-{shards:05d}.safetensors" for i in range(1, shards + 1)]
        assert sorted(set(weight_map.values())) == shard_names
        assert index["metadata"]["total_size"] == sum(4 * math.prod(shape) for shape in expected.values())
        assert index["metadata"]["total_size"] == sum(len(files[s]) for s in shard_names) - sum(
            8 + int.from_bytes(files[s][:8], "little") for s in shard_names
        )
    assert sorted(weight_map) == sorted(expected)  # every tensor, no extra

    seen = []
    for shard in sorted(set(weight_map.values())):
        tensors = load_file(tmp_path / shard)
        with safe_open(tmp_path / shard, framework="numpy") as handle:
            assert handle.metadata() == {"format": "pt"}
        for tensor_name, array in tensors.items():
            seen.append(tensor_name)
            assert weight_map[tensor_name] == shard
            assert array.dtype == np.float32 and array.shape == expected[tensor_name], tensor_name
            assert np.isfinite(array).all() and np.abs(array).max() <= 1.0
            if tensor_name.endswith("norm.weight"):
                assert (array == 1.0).all()
            else:
                assert 0.005 < array.std() < 0.03 and abs(array.mean()) < 0.005  # small, centred noise
    assert sorted(seen) == sorted(expected)  # each tensor in exactly one shard


def test_sizes_are_what_the_readme_says():
    sizes = {
        size: sum(len(data) for path, data in model_files(name="x", size=size).items() if path.endswith(".safetensors"))
        for size in SIZES
    }
    assert 0.5e6 < sizes["tiny"] < 0.6e6 and 3.2e6 < sizes["small"] < 3.4e6 and 35e6 < sizes["large"] < 37e6


@pytest.mark.parametrize("sentence", SENTENCES)
def test_tokenizer_round_trips_text(sentence):
    files = demo_files("tiny-demo-1b")
    tokenizer = Tokenizer.from_str(files["tokenizer.json"].decode())
    config = json.loads(files["config.json"])
    assert tokenizer.get_vocab_size() == config["vocab_size"]
    assert [tokenizer.token_to_id(t) for t in ("<unk>", "<s>", "</s>", "<pad>")] == [0, 1, 2, 3]
    encoding = tokenizer.encode(sentence)
    assert encoding.ids[0] == config["bos_token_id"]
    assert len(encoding.ids) < len(sentence.encode()) + 1  # the merges compress text
    assert tokenizer.decode(encoding.ids, skip_special_tokens=True) == sentence


@pytest.mark.parametrize(("name", "size", "shards"), CHECKPOINTS[:3])
def test_transformers_loads_config_and_tokenizer_from_a_local_copy(tmp_path, offline, name, size, shards):
    write_model(tmp_path, name=f"demo-lab/{name}", size=size, shards=shards)
    config = AutoConfig.from_pretrained(tmp_path, local_files_only=True)
    assert config.model_type == "llama" and config.architectures == ["LlamaForCausalLM"]
    assert config.num_hidden_layers == SIZES[size].num_hidden_layers and config.hidden_size == SIZES[size].hidden_size
    assert config.rope_parameters["rope_theta"] == 10000.0
    generation = GenerationConfig.from_pretrained(tmp_path, local_files_only=True)
    assert (generation.bos_token_id, generation.eos_token_id, generation.pad_token_id) == (1, 2, 3)

    tokenizer = AutoTokenizer.from_pretrained(tmp_path, local_files_only=True)
    assert len(tokenizer) == config.vocab_size
    assert (tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id) == (1, 2, 3)
    for sentence in SENTENCES:
        encoded = tokenizer(sentence)
        assert set(encoded) == {"input_ids", "attention_mask"}  # what LlamaForCausalLM.generate accepts
        ids = encoded["input_ids"]
        assert ids[0] == tokenizer.bos_token_id and max(ids) < config.vocab_size
        assert tokenizer.decode(ids, skip_special_tokens=True) == sentence


def test_generation_is_deterministic():
    first = {path: hashlib.sha256(data).hexdigest() for path, data in demo_files("tiny-demo-1b").items()}
    second = {path: hashlib.sha256(data).hexdigest() for path, data in demo_files("tiny-demo-1b").items()}
    assert first == second
    # Pinned (also across processes and hash seeds): a change here changes the demo downloads'
    # sha256s, and so their manifests; make it on purpose.
    assert (
        first["model-00001-of-00002.safetensors"] == "51598d936337dcb9acb868dcff27608d61cedae0f3c8dd5fca573b4a159cea78"
    )
    assert first["tokenizer.json"] == "c0348671ef8faef66a14a382f798d508307d26194bb3c18402a8e934e76225bf"
    # The seed is the name: another model gets other weights, and the same config.
    other = demo_files("secure-demo-13b", size="tiny", shards=2)
    assert other["config.json"] == demo_files("tiny-demo-1b")["config.json"]
    assert other["model-00001-of-00002.safetensors"] != demo_files("tiny-demo-1b")["model-00001-of-00002.safetensors"]


def test_make_demo_model_writes_the_files_and_prints_their_sha256(tmp_path, capsys):
    target = tmp_path / "out"
    call_command("make_demo_model", str(target), "--size", "small", "--shards", "3", "--name", "lab/example")
    out = capsys.readouterr().out
    listed = dict((path, digest) for digest, _, path in re.findall(r"^([0-9a-f]{64})\s+([\d,]+)\s+(\S+)$", out, re.M))
    on_disk = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in target.iterdir()}
    assert listed == on_disk
    assert on_disk == {
        path: hashlib.sha256(data).hexdigest()
        for path, data in model_files(name="lab/example", size="small", shards=3).items()
    }
    assert {"model-00003-of-00003.safetensors", "model.safetensors.index.json", "README.md"} <= set(on_disk)
    assert "random weights in a real format, not a trained model" in (target / "README.md").read_text()
    assert f"Wrote {len(on_disk)} files" in out


def test_make_demo_model_refuses_a_non_empty_directory_and_bad_shards(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(CommandError, match="not an empty directory"):
        call_command("make_demo_model", str(tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
    with pytest.raises(CommandError, match="shards must be between 1 and"):
        call_command("make_demo_model", str(tmp_path / "new"), "--shards", "0")
