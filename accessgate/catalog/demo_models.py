"""Genuine tiny Llama checkpoints for the demo: random weights in a real format.

`model_files()` returns the files of a standard Hugging Face layout that `transformers`
loads as `LlamaForCausalLM`: `config.json`, `generation_config.json`, float32 weights in
safetensors (one `model.safetensors`, or shards plus `model.safetensors.index.json`), a
byte-level BPE tokenizer and a model card. Nothing here needs a deep-learning framework.

The bytes are a pure function of the arguments, so their sha256s are stable: each
tensor's bytes are SHAKE-256 of `<name>/<tensor name>`, with the top byte of every
float32 mapped so that the values are small (|x| < 2^-5, a random sign), and every
RMSNorm weight is 1.0. They were never trained: the model generates noise.
"""

import hashlib
import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path

from accessgate.catalog.demo_tokenizer import BOS, EOS, PAD, SPECIAL_TOKENS, VOCAB_SIZE, dump_json, tokenizer_files

MAX_POSITIONS = 2048
ROPE_THETA = 10000.0
RMS_NORM_EPS = 1e-6
SINGLE_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"


@dataclass(frozen=True)
class LlamaSize:
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads


SIZES = {
    "tiny": LlamaSize(64, 172, 2, 4, 2),  # 140k parameters, 0.56 MB of weights
    "small": LlamaSize(128, 344, 4, 4, 2),  # 0.8M parameters, 3.3 MB
    "large": LlamaSize(256, 688, 12, 8, 4),  # 8.9M parameters, 36 MB: for watching progress and resume
}


def tensor_shapes(size: LlamaSize) -> list[tuple[str, tuple[int, ...]]]:
    """Every tensor `LlamaForCausalLM` loads, in checkpoint order, with its shape."""
    hidden, inter, head = size.hidden_size, size.intermediate_size, size.head_dim
    q_out, kv_out = size.num_attention_heads * head, size.num_key_value_heads * head
    shapes: list[tuple[str, tuple[int, ...]]] = [("model.embed_tokens.weight", (VOCAB_SIZE, hidden))]
    for layer in range(size.num_hidden_layers):
        prefix = f"model.layers.{layer}."
        shapes += [
            (prefix + "input_layernorm.weight", (hidden,)),
            (prefix + "self_attn.q_proj.weight", (q_out, hidden)),
            (prefix + "self_attn.k_proj.weight", (kv_out, hidden)),
            (prefix + "self_attn.v_proj.weight", (kv_out, hidden)),
            (prefix + "self_attn.o_proj.weight", (hidden, q_out)),
            (prefix + "post_attention_layernorm.weight", (hidden,)),
            (prefix + "mlp.gate_proj.weight", (inter, hidden)),
            (prefix + "mlp.up_proj.weight", (inter, hidden)),
            (prefix + "mlp.down_proj.weight", (hidden, inter)),
        ]
    return [*shapes, ("model.norm.weight", (hidden,)), ("lm_head.weight", (VOCAB_SIZE, hidden))]


def config(size: LlamaSize) -> dict:
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": SPECIAL_TOKENS.index(BOS),
        "eos_token_id": SPECIAL_TOKENS.index(EOS),
        "pad_token_id": SPECIAL_TOKENS.index(PAD),
        "head_dim": size.head_dim,
        "hidden_act": "silu",
        "hidden_size": size.hidden_size,
        "initializer_range": 0.02,
        "intermediate_size": size.intermediate_size,
        "max_position_embeddings": MAX_POSITIONS,
        "mlp_bias": False,
        "num_attention_heads": size.num_attention_heads,
        "num_hidden_layers": size.num_hidden_layers,
        "num_key_value_heads": size.num_key_value_heads,
        "pretraining_tp": 1,
        "rms_norm_eps": RMS_NORM_EPS,
        # Both spellings of the rotary settings: transformers 5 reads `rope_parameters`, 4.x `rope_theta`.
        "rope_parameters": {"rope_theta": ROPE_THETA, "rope_type": "default"},
        "rope_scaling": None,
        "rope_theta": ROPE_THETA,
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "use_cache": True,
        "vocab_size": VOCAB_SIZE,
    }


def generation_config() -> dict:
    return {
        "bos_token_id": SPECIAL_TOKENS.index(BOS),
        "eos_token_id": SPECIAL_TOKENS.index(EOS),
        "pad_token_id": SPECIAL_TOKENS.index(PAD),
        "do_sample": False,
        "max_new_tokens": 32,
    }


# Maps the top byte of each little-endian float32 (sign + high exponent bits) so that every
# value is small and finite: half of them in [2^-7, 2^-5), the rest down to 2^-13.
_EXPONENTS = (0x3C,) * 64 + (0x3B,) * 32 + (0x3A,) * 16 + (0x39,) * 16
_TOP_BYTE = bytes((byte & 0x80) | _EXPONENTS[byte & 0x7F] for byte in range(256))
_ONE = struct.pack("<f", 1.0)


def tensor_bytes(seed: str, name: str, shape: tuple[int, ...]) -> bytes:
    count = math.prod(shape)
    if name.endswith("norm.weight"):
        return _ONE * count
    raw = bytearray(hashlib.shake_256(f"{seed}/{name}".encode()).digest(4 * count))
    raw[3::4] = raw[3::4].translate(_TOP_BYTE)
    return bytes(raw)


def safetensors_bytes(tensors: list[tuple[str, tuple[int, ...], bytes]]) -> bytes:
    """The safetensors format: u64 little-endian header length, JSON header, raw data."""
    header: dict = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, shape, data in tensors:
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned, as the library writes it
    return struct.pack("<Q", len(text)) + text + b"".join(data for _, _, data in tensors)


def split(sizes: list[int], parts: int) -> list[int]:
    """Cut points giving `parts` contiguous, non-empty groups of about equal bytes."""
    total, cuts, done = sum(sizes), [0], 0
    running = [0]
    for size in sizes:
        done += size
        running.append(done)
    for part in range(1, parts):
        target = next(i for i, value in enumerate(running) if value * parts >= total * part)
        cuts.append(min(max(target, cuts[-1] + 1), len(sizes) - (parts - part)))
    return [*cuts, len(sizes)]


def weight_files(seed: str, size: LlamaSize, shards: int) -> dict[str, bytes]:
    tensors = [(name, shape, tensor_bytes(seed, name, shape)) for name, shape in tensor_shapes(size)]
    if shards == 1:
        return {SINGLE_FILE: safetensors_bytes(tensors)}
    if not 1 <= shards <= len(tensors):
        raise ValueError(f"shards must be between 1 and {len(tensors)}")
    cuts = split([len(data) for _, _, data in tensors], shards)
    files: dict[str, bytes] = {}
    weight_map: dict[str, str] = {}
    for number in range(shards):
        filename = f"model-{number + 1:05d}-of-{shards:05d}.safetensors"
        group = tensors[cuts[number] : cuts[number + 1]]
        files[filename] = safetensors_bytes(group)
        weight_map.update((name, filename) for name, _, _ in group)
    metadata = {
        "total_parameters": sum(math.prod(shape) for _, shape, _ in tensors),
        "total_size": sum(len(data) for _, _, data in tensors),
    }
    files[INDEX_FILE] = dump_json({"metadata": metadata, "weight_map": weight_map})
    return files


def model_card(name: str, size_name: str, size: LlamaSize, files: dict[str, bytes]) -> bytes:
    parameters = sum(math.prod(shape) for _, shape in tensor_shapes(size))
    listing = "\n".join(f"| `{path}` | {len(data):,} |" for path, data in sorted(files.items()))
    return f"""---
library_name: transformers
pipeline_tag: text-generation
tags:
- accessgate-demo
- random-weights
---

# {name}

**These are random weights in a real format, not a trained model.** The files follow the
standard Hugging Face layout of a Llama checkpoint, so real tools load them (`transformers`,
`safetensors`, `tokenizers`), but the weights were never trained: whatever the model
generates is noise. They exist to show accessgate's gated downloads end to end.

| Property | Value |
|---|---|
| Architecture | `LlamaForCausalLM` (`model_type: llama`), preset `{size_name}` |
| Layers / hidden / intermediate | {size.num_hidden_layers} / {size.hidden_size} / {size.intermediate_size} |
| Attention heads / key-value heads | {size.num_attention_heads} / {size.num_key_value_heads} |
| Vocabulary | {VOCAB_SIZE} (byte-level BPE: 4 special tokens, 256 bytes, {VOCAB_SIZE - 260} merges) |
| Parameters | {parameters:,} (float32) |

| File | Bytes |
|---|---|
{listing}

```python
from transformers import AutoModelForCausalLM, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained("path/to/this/directory")
model = AutoModelForCausalLM.from_pretrained("path/to/this/directory")  # needs torch
inputs = tokenizer("Hello", return_tensors="pt")
print(tokenizer.decode(model.generate(**inputs, max_new_tokens=8)[0]))
```

Generated deterministically by accessgate (`manage.py make_demo_model`): the same
arguments give the same bytes, so the sha256 sums never change.
""".encode()


def model_files(*, name: str, size: str = "tiny", shards: int = 1) -> dict[str, bytes]:
    """Every file of the checkpoint `name` (also its seed), by relative path."""
    preset = SIZES[size]
    files = {
        "config.json": dump_json(config(preset)),
        "generation_config.json": dump_json(generation_config()),
        **tokenizer_files(MAX_POSITIONS),
        **weight_files(name, preset, shards),
    }
    files["README.md"] = model_card(name, size, preset, files)
    return dict(sorted(files.items()))


def write_model(directory: Path, *, name: str, size: str = "tiny", shards: int = 1) -> dict[str, int]:
    """Write the checkpoint into `directory` (created if missing); returns each file's size."""
    files = model_files(name=name, size=size, shards=shards)
    directory.mkdir(parents=True, exist_ok=True)
    written = {}
    for path, data in files.items():
        (directory / path).write_bytes(data)
        written[path] = len(data)
    return written
