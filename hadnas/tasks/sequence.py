"""Synthetic token-sequence tasks that separate sequence mixers (H3/Hyena and Mamba papers).

Both emit int64 ``tokens`` of length ``seq_len`` and are scored only where the answer is due, so
a model emitting ``(B, T, C)`` logits is read at ``target_position`` (causal mixers see the whole
context there). ``C`` must be at least ``vocab``: the answer is a token id.

The defaults separate mixers in a budget a search can afford. Measured with 2-layer, width-64
stand-ins (embedding, mixer + GLU blocks), 20 epochs, batch 32, AdamW 3e-3, one seed:
``assoc_recall`` attention with learned positions 1.00, without positions 0.75, GRU 0.26,
gated long conv 0.21, LTI long conv 0.19; ``selective_copy`` attention 1.00, LTI long conv 0.65.
"""

from __future__ import annotations

import numpy as np

from hadnas.exceptions import TaskError
from hadnas.tasks._dataset import Dataset
from hadnas.tasks._registry import register_dataset

NOOP, COPY = 0, 1  # special tokens: "." (padding / no answer) and "=>" (the query marker)


@register_dataset("assoc_recall")
def assoc_recall(
    vocab: int = 20,
    seq_len: int = 40,
    num_keys: int = 1,
    n_train: int = 2000,
    n_val: int = 500,
    allow_dot: bool = False,
    seed: int = 0,
) -> Dataset:
    """Associative recall as in H3/Hyena (``safari`` ``generate_assoc_recall``).

    Token ids: 0 is ``.``, 1 is ``=>``; of the other ``vocab - 2`` tokens the first half are
    keys and the second half values. Each sequence draws its own key -> value map (a key is a
    tuple of ``num_keys`` key tokens), lists randomly drawn key/value pairs, then ``=>`` and a
    query key. The label is the value that key had earlier in the sequence; with
    ``allow_dot`` the query may be absent, and the label is then ``.``. Unlike safari,
    ``seq_len`` is the whole input length (pairs + ``=>`` + query, left-padded with ``.``),
    so it equals the space's declared input shape; the answer is scored at position -1.
    """
    n_sym = (vocab - 2) // 2
    if n_sym < 2:
        raise TaskError(f"assoc_recall needs vocab >= 6, got {vocab}")
    if num_keys < 1 or n_sym**num_keys > 100_000:
        raise TaskError(
            f"assoc_recall needs 1 <= num_keys and (vocab//2-1)**num_keys <= 1e5, got {num_keys}"
        )
    n_pairs = (seq_len - 1 - num_keys) // (num_keys + 1)
    if n_pairs < 1:
        raise TaskError(f"assoc_recall needs seq_len >= {2 * num_keys + 2}, got {seq_len}")
    _check_sizes("assoc_recall", n_train, n_val)
    rng = np.random.default_rng(seed)
    n, n_tuples = n_train + n_val, n_sym**num_keys
    kv = rng.integers(0, n_sym, size=(n, n_tuples))  # per-sequence map: key tuple -> value
    pair_keys = rng.integers(0, n_tuples, size=(n, n_pairs))
    pair_vals = np.take_along_axis(kv, pair_keys, axis=1)
    present = np.zeros((n, n_tuples), dtype=bool)
    np.put_along_axis(present, pair_keys, True, axis=1)
    scores = rng.random((n, n_tuples))
    query = np.argmax(scores if allow_dot else np.where(present, scores, -1.0), axis=1)
    q_val = kv[np.arange(n), query]
    y = np.where(present[np.arange(n), query], 2 + n_sym + q_val, NOOP)

    def key_tokens(idx: np.ndarray) -> np.ndarray:  # tuple index -> num_keys key tokens
        digits = [(idx // n_sym**p) % n_sym for p in reversed(range(num_keys))]
        return 2 + np.stack(digits, axis=-1)

    body = np.concatenate([key_tokens(pair_keys), (2 + n_sym + pair_vals)[..., None]], axis=-1)
    tail = np.concatenate([np.full((n, 1), COPY), key_tokens(query)], axis=1)
    pad = np.full((n, seq_len - n_pairs * (num_keys + 1) - 1 - num_keys), NOOP)
    tokens = np.concatenate([pad, body.reshape(n, -1), tail], axis=1)
    return Dataset(
        inputs={"tokens": tokens},
        y=y,
        num_classes=vocab,
        target_position=-1,
        val_fraction=n_val / n,
        info={
            "noop": NOOP,
            "copy": COPY,
            "keys": [2, 2 + n_sym],
            "values": [2 + n_sym, 2 + 2 * n_sym],
            "pairs": n_pairs,
        },
    )


@register_dataset("selective_copy")
def selective_copy(
    vocab: int = 10,
    seq_len: int = 40,
    n_tokens: int = 8,
    n_train: int = 2000,
    n_val: int = 500,
    seed: int = 0,
) -> Dataset:
    """Selective copying as in Mamba: recall the data tokens scattered among blanks, in order.

    Token ids: 0 is blank, 1 is the marker, ``2..vocab-1`` are data. The first
    ``seq_len - n_tokens`` positions hold ``n_tokens`` data tokens at random positions among
    blanks; the last ``n_tokens`` positions hold markers, and the model must emit the i-th data
    token at the i-th marker. All ``n_tokens`` answers are scored: ``target_position`` is the
    tuple of the marker positions, ``y`` is ``(N, n_tokens)`` and accuracy is per token. Where
    a token sits varies per sequence, so a fixed (LTI) convolution cannot select it.
    """
    if vocab < 4:
        raise TaskError(f"selective_copy needs vocab >= 4, got {vocab}")
    if n_tokens < 1 or seq_len < 2 * n_tokens:
        raise TaskError(
            f"selective_copy needs 1 <= n_tokens <= seq_len // 2, got {n_tokens=}, {seq_len=}"
        )
    _check_sizes("selective_copy", n_train, n_val)
    rng = np.random.default_rng(seed)
    n, ctx = n_train + n_val, seq_len - n_tokens
    pos = np.sort(np.argsort(rng.random((n, ctx)), axis=1)[:, :n_tokens], axis=1)
    data = rng.integers(2, vocab, size=(n, n_tokens))
    tokens = np.zeros((n, seq_len), dtype=np.int64)
    np.put_along_axis(tokens, pos, data, axis=1)
    tokens[:, ctx:] = COPY
    return Dataset(
        inputs={"tokens": tokens},
        y=data,
        num_classes=vocab,
        target_position=tuple(range(-n_tokens, 0)),
        val_fraction=n_val / n,
        info={"blank": 0, "marker": COPY, "chance": 1.0 / (vocab - 2)},
    )


def _check_sizes(name: str, n_train: int, n_val: int) -> None:
    if n_train < 1 or n_val < 1:
        raise TaskError(f"{name} needs n_train >= 1 and n_val >= 1, got {n_train=}, {n_val=}")
