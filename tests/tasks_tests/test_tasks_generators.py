"""Labels of the synthetic and derived datasets follow their generators' semantics."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

from hadnas.tasks import load_dataset


@pytest.mark.parametrize(
    ("vocab", "seq_len", "num_keys", "allow_dot"),
    [(20, 40, 1, False), (20, 40, 2, False), (12, 25, 1, True), (10, 9, 3, True)],
)
def test_assoc_recall_labels_match_generator(
    vocab: int, seq_len: int, num_keys: int, allow_dot: bool
) -> None:
    ds = load_dataset(
        "assoc_recall",
        vocab=vocab,
        seq_len=seq_len,
        num_keys=num_keys,
        allow_dot=allow_dot,
        n_train=300,
        n_val=100,
        seed=5,
    )
    n_sym = (vocab - 2) // 2
    keys, values = range(2, 2 + n_sym), range(2 + n_sym, 2 + 2 * n_sym)
    tokens = ds.inputs["tokens"]
    assert tokens.shape == (400, seq_len) and ds.target_position == -1
    absent = 0
    for row, label in zip(tokens, ds.y, strict=True):
        start = int(np.argmax(row != 0))  # left padding with "."
        body, copy, query = row[start : -1 - num_keys], row[-1 - num_keys], row[-num_keys:]
        assert copy == 1 and all(q in keys for q in query)
        pairs = body.reshape(-1, num_keys + 1)
        assert all(k in keys for k in pairs[:, :-1].ravel())
        assert all(v in values for v in pairs[:, -1])
        kv: dict[tuple[int, ...], int] = {}
        for *k, v in pairs:
            assert kv.setdefault(tuple(k), v) == v  # one map per sequence
        expected = kv.get(tuple(query), 0)
        assert label == expected
        absent += expected == 0
    assert allow_dot or absent == 0


def test_selective_copy_labels_are_the_data_tokens_in_order() -> None:
    ds = load_dataset("selective_copy", vocab=8, seq_len=20, n_tokens=3, n_train=100, n_val=20)
    assert ds.target_position == (-3, -2, -1) and ds.y.shape == (120, 3)
    for row, label in zip(ds.inputs["tokens"], ds.y, strict=True):
        assert list(row[-3:]) == [1, 1, 1]
        data = row[:-3][row[:-3] != 0]
        assert list(data) == list(label) and all(2 <= t < 8 for t in data)
    positions = [tuple(np.flatnonzero(r[:-3])) for r in ds.inputs["tokens"]]
    assert len(set(positions)) > 50  # where the tokens sit varies per sequence


def test_paired_digits_label_is_sum_mod_10() -> None:
    digits = load_digits()
    lookup = {
        row.tobytes(): int(t) for row, t in zip(digits.data.astype(np.float32), digits.target)
    }
    ds = load_dataset("paired_digits", n_samples=300, seed=2)
    for a, b, y in zip(ds.inputs["left"], ds.inputs["right"], ds.y, strict=True):
        assert (lookup[a.tobytes()] + lookup[b.tobytes()]) % 10 == y


def test_two_view_digits_halves_rebuild_the_image() -> None:
    ds, full = load_dataset("two_view_digits"), load_dataset("digits")
    img = np.concatenate(
        [ds.inputs["left"].reshape(-1, 8, 4), ds.inputs["right"].reshape(-1, 8, 4)], axis=2
    )
    np.testing.assert_array_equal(img.reshape(-1, 64), full.inputs["x"])


def test_breast_cancer_views_split_the_features() -> None:
    ds, full = load_dataset("breast_cancer_views"), load_dataset("breast_cancer")
    joined = np.concatenate([ds.inputs[k] for k in ("mean", "error", "worst")], axis=1)
    np.testing.assert_array_equal(joined, full.inputs["x"])


def test_sign_product_label_and_balance() -> None:
    ds = load_dataset("sign_product", d=6, n_samples=2000, seed=4)
    x = ds.inputs["x"]
    np.testing.assert_array_equal(ds.y, (x[:, 0] * x[:, 1] * x[:, 2] > 0).astype(np.int64))
    assert 0.45 < ds.y.mean() < 0.55
    # Every degree-<=2 monomial is uncorrelated with the label: no quadratic model beats chance.
    s = 2.0 * ds.y - 1.0
    feats = [x[:, i] * x[:, j] for i in range(6) for j in range(i, 6)] + [
        x[:, i] for i in range(6)
    ]
    assert max(abs(np.corrcoef(f, s)[0, 1]) for f in feats) < 0.08
    assert abs(np.corrcoef(x[:, 0] * x[:, 1] * x[:, 2], s)[0, 1]) > 0.5
