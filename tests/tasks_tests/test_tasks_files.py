"""``.npz`` and ``.csv`` datasets: round trips, layouts and errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hadnas.exceptions import TaskError
from hadnas.tasks import load_dataset, prepare


def test_npz_single_input_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(50, 6)), np.arange(50) % 3
    np.savez(tmp_path / "d.npz", x=x, y=y)
    ds = load_dataset(str(tmp_path / "d.npz"))
    np.testing.assert_allclose(ds.inputs["x"], x.astype(np.float32))
    np.testing.assert_array_equal(ds.y, y)
    assert ds.kind == "classification" and ds.num_classes == 3


def test_npz_named_inputs_tokens_and_base_dir(tmp_path: Path) -> None:
    tokens = np.arange(40, dtype=np.int32).reshape(10, 4) % 7
    np.savez(
        tmp_path / "seq.npz",
        x_tokens=tokens,
        x_side=np.ones((10, 2)),
        y=np.arange(10) % 7,
        num_classes=7,
        target_position=-1,
    )
    ds = load_dataset("seq.npz", base_dir=tmp_path)
    assert ds.input_specs == {"tokens": ((4,), "int64"), "side": ((2,), "float32")}
    assert ds.num_classes == 7 and ds.target_position == -1
    data = prepare(ds, seed=0)
    assert data.train["tokens"].dtype.is_floating_point is False  # tokens are not standardised
    assert "tokens" not in data.stats


def test_npz_regression_and_errors(tmp_path: Path) -> None:
    np.savez(tmp_path / "r.npz", x=np.ones((5, 2)), y=np.linspace(0, 1, 5))
    assert load_dataset(str(tmp_path / "r.npz")).kind == "regression"
    np.savez(tmp_path / "noy.npz", x=np.ones((5, 2)))
    with pytest.raises(TaskError, match="missing key 'y'"):
        load_dataset(str(tmp_path / "noy.npz"))
    np.savez(tmp_path / "both.npz", x=np.ones((5, 2)), x_a=np.ones((5, 2)), y=np.zeros(5))
    with pytest.raises(TaskError, match="either key 'x' or keys 'x_<input>'"):
        load_dataset(str(tmp_path / "both.npz"))
    np.savez(tmp_path / "short.npz", x=np.ones((4, 2)), y=np.zeros(5))
    with pytest.raises(TaskError, match=r"expected \(5, \.\.\.\)"):
        load_dataset(str(tmp_path / "short.npz"))
    with pytest.raises(TaskError, match="does not exist"):
        load_dataset(str(tmp_path / "missing.npz"))


def test_csv_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20, 3))
    labels = ["cat" if v > 0 else "dog" for v in x[:, 0]]
    lines = ["a,b,target,c"] + [
        f"{r[0]},{r[1]},{lab},{r[2]}" for r, lab in zip(x, labels, strict=True)
    ]
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    ds = load_dataset(str(tmp_path / "d.csv"))
    np.testing.assert_allclose(ds.inputs["x"], x.astype(np.float32), rtol=1e-6)
    assert ds.kind == "classification" and ds.num_classes == 2
    np.testing.assert_array_equal(ds.y, [0 if lab == "cat" else 1 for lab in labels])


def test_csv_regression_target_option_and_errors(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("u,v,price\n1,2,0.5\n3,4,1.25\n5,6,2.0\n")
    ds = load_dataset(str(tmp_path / "r.csv"), target="price")
    assert ds.kind == "regression" and ds.inputs["x"].shape == (3, 2)
    with pytest.raises(TaskError, match="no target column"):
        load_dataset(str(tmp_path / "r.csv"))
    (tmp_path / "bad.csv").write_text("u,y\nfoo,1\n")
    with pytest.raises(TaskError, match=r"bad.csv:2: non-numeric feature"):
        load_dataset(str(tmp_path / "bad.csv"))
