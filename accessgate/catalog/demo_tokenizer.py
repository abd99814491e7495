"""A byte-level BPE tokenizer for the demo models, built in the `tokenizers` JSON format.

The vocabulary is four special tokens, the 256 byte tokens of GPT-2's byte-to-unicode
table (so any text round-trips), and merges learned here, deterministically, from a short
English corpus. Pure Python: nothing but `re` and `json` at run time.
"""

import json
import re
from collections import Counter
from functools import cache

SPECIAL_TOKENS = ("<unk>", "<s>", "</s>", "<pad>")  # ids 0..3, Llama's order plus a pad token
UNK, BOS, EOS, PAD = SPECIAL_TOKENS
VOCAB_SIZE = 384  # 4 special + 256 bytes + 124 merges

CORPUS = """\
The demo models of accessgate are tiny language models with random weights. They are
stored in the same layout as a real checkpoint: a configuration, a generation
configuration, weights in the safetensors format, a tokenizer and a model card. Download
them through the gate, check their sha256 sums, and load them with the tools you use for
any other model. Nothing they generate will make sense: the weights were never trained.
Researchers apply for access, reviewers approve or reject the request, and auditors read
the trail of what happened, when, and by whom. The licence says what you may do with the
weights, and the grant says for how long. The quick brown fox jumps over the lazy dog.
"""

# GPT-2's pre-tokenizer split, with \p{L} and \p{N} spelled for the standard `re` module. It
# only shapes which merges are learned; the tokenizer itself uses the `tokenizers` regex.
_WORDS = re.compile(r"'(?:[sdmt]|ll|ve|re)| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+")


def byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from bytes to printable characters (space becomes 'Ġ')."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    mapping, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            mapping[byte] = chr(byte)
        else:
            mapping[byte] = chr(256 + extra)
            extra += 1
    return mapping


def learn_merges(text: str, count: int) -> list[tuple[str, str]]:
    """Plain BPE training: repeatedly merge the most frequent adjacent pair (ties: smallest pair)."""
    table = byte_to_unicode()
    words = Counter(tuple(table[b] for b in word.encode()) for word in _WORDS.findall(text))
    merges: list[tuple[str, str]] = []
    while len(merges) < count:
        pairs: Counter = Counter()
        for word, freq in words.items():
            for pair in zip(word, word[1:], strict=False):
                pairs[pair] += freq
        if not pairs:
            break
        best = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merges.append(best)
        merged: Counter = Counter()
        for word, freq in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] += freq
        words = merged
    return merges


@cache
def tokenizer_bytes() -> bytes:
    return dump_json(tokenizer_json(), indent=None, sort_keys=False)


def tokenizer_json() -> dict:
    """The tokenizer in the `tokenizers` library's serialisation (what `tokenizer.json` holds)."""
    vocab = {token: index for index, token in enumerate(SPECIAL_TOKENS)}
    for char in byte_to_unicode().values():
        vocab[char] = len(vocab)
    merges = learn_merges(CORPUS, VOCAB_SIZE - len(vocab))
    for left, right in merges:
        vocab[left + right] = len(vocab)
    if len(vocab) != VOCAB_SIZE:  # the corpus must be rich enough to learn every merge
        raise AssertionError(f"demo tokenizer has {len(vocab)} tokens, expected {VOCAB_SIZE}")
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    bos = {"SpecialToken": {"id": BOS, "type_id": 0}}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {
                "id": index,
                "content": token,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": True,
            }
            for index, token in enumerate(SPECIAL_TOKENS)
        ],
        "normalizer": None,
        "pre_tokenizer": byte_level,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [bos, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [bos, {"Sequence": {"id": "A", "type_id": 0}}, bos, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {BOS: {"id": BOS, "ids": [SPECIAL_TOKENS.index(BOS)], "tokens": [BOS]}},
        },
        "decoder": byte_level,
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": vocab,
            # "left right" strings: byte-level tokens never hold a space, and every tokenizers
            # release reads this form.
            "merges": [f"{left} {right}" for left, right in merges],
        },
    }


def tokenizer_files(model_max_length: int) -> dict[str, bytes]:
    specials = {"bos_token": BOS, "eos_token": EOS, "unk_token": UNK, "pad_token": PAD}
    config = {
        **specials,
        "add_bos_token": True,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": model_max_length,
        "model_input_names": ["input_ids", "attention_mask"],  # no token_type_ids: Llama takes none
        "tokenizer_class": "PreTrainedTokenizerFast",
    }
    return {
        "tokenizer.json": tokenizer_bytes(),
        "tokenizer_config.json": dump_json(config),
        "special_tokens_map.json": dump_json(specials),
    }


def dump_json(value, *, indent: int | None = 2, sort_keys: bool = True) -> bytes:
    """Stable bytes: UTF-8, one trailing newline; keys sorted unless their order is the point."""
    return (json.dumps(value, indent=indent, sort_keys=sort_keys, ensure_ascii=False) + "\n").encode()
