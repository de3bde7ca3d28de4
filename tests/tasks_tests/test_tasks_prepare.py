"""Splitting, standardisation and binding of a space's declared inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hadnas.exceptions import TaskError
from hadnas.tasks import Dataset, load_dataset, prepare


def test_split_is_fixed_per_seed_and_differs_across_seeds() -> None:
    ds = load_dataset("digits")
    a, b, c = prepare(ds, seed=0), prepare(ds, seed=0), prepare(ds, seed=1)
    np.testing.assert_array_equal(a.val_index, b.val_index)
    torch.testing.assert_close(a.train["x"], b.train["x"])
    assert not np.array_equal(a.val_index, c.val_index)
    assert a.n_val == round(0.2 * len(ds)) and a.n_train + a.n_val == len(ds)
    assert not set(a.train_index) & set(a.val_index)


def test_split_is_stratified() -> None:
    ds = load_dataset("wine")
    data = prepare(ds, seed=3, val_fraction=0.3)
    full = np.bincount(ds.y) / len(ds)
    val = np.bincount(data.y_val.numpy()) / data.n_val
    assert np.abs(full - val).max() < 0.05


def test_standardisation_uses_train_statistics_only() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 3.0, size=(200, 4)).astype(np.float32)
    x[:, 3] = 7.0  # a constant feature keeps std 1 instead of dividing by zero
    ds = Dataset(inputs={"x": x}, y=np.arange(200) % 2)
    data = prepare(ds, seed=0)
    tr = x[data.train_index]
    mean, std = data.stats["x"]
    np.testing.assert_allclose(mean, tr.mean(0), rtol=1e-5)
    np.testing.assert_allclose(std[:3], tr.std(0)[:3], rtol=1e-4)
    assert std[3] == 1.0
    np.testing.assert_allclose(data.train["x"].numpy().mean(0)[:3], 0.0, atol=1e-5)
    expected_val = (x[data.val_index] - mean) / std
    np.testing.assert_allclose(data.val["x"].numpy(), expected_val, rtol=1e-5)
    assert abs(float(data.val["x"][:, :3].mean())) > 1e-4  # val statistics were not used


def test_regression_targets_standardised_on_train() -> None:
    data = prepare(load_dataset("friedman", n_samples=300), seed=0)
    assert data.y_stats is not None
    assert abs(float(data.y_train.mean())) < 1e-5
    assert abs(float(data.y_train.std(unbiased=False)) - 1.0) < 1e-4


def test_dataset_val_fraction_preference() -> None:
    ds = load_dataset("assoc_recall", n_train=300, n_val=100)
    assert prepare(ds, seed=0).n_val == 100
    assert prepare(ds, seed=0, val_fraction=0.5).n_val == 200


def test_check_inputs_binds_by_name_and_orders_tensors() -> None:
    data = prepare(load_dataset("two_view_digits"), seed=0)
    binding = data.check_inputs([("right", (32,), "float32"), ("left", [32], None)])
    assert binding == {"right": "right", "left": "left"}
    right, left = data.tensors("train", ["right", "left"])
    assert right is data.train["right"] and left is data.train["left"]


def test_single_input_binds_whatever_its_name() -> None:
    data = prepare(load_dataset("assoc_recall", n_train=50, n_val=10), seed=0)
    assert data.check_inputs([("seq", (40,), "int64")]) == {"seq": "tokens"}
    assert data.tensors("val", ["seq"])[0] is data.val["tokens"]


def test_mismatched_inputs_give_one_clear_error() -> None:
    data = prepare(load_dataset("two_view_digits"), seed=0)
    with pytest.raises(TaskError) as err:
        data.check_inputs([("x", (64,), "float32")])
    msg = str(err.value)
    assert "dataset 'two_view_digits' does not match the space's inputs" in msg
    assert "the dataset has no input 'x'" in msg
    assert "The dataset provides: left (shape [32], float32), right (shape [32], float32)" in msg
    assert "The space declares: x (shape [64], float32)" in msg
    assert "inputs: {left: {shape: [32]}, right: {shape: [32]}}" in msg


def test_shape_and_dtype_mismatches_are_all_listed() -> None:
    data = prepare(load_dataset("assoc_recall", n_train=50, n_val=10), seed=0)
    with pytest.raises(TaskError) as err:
        data.check_inputs([("tokens", (30,), "float32")])
    msg = str(err.value)
    assert "declared with shape [30], but the dataset's is [40]" in msg
    assert "declared float32, but the dataset's is int64" in msg
    assert "tokens: {shape: [40], dtype: int64}" in msg
    with pytest.raises(TaskError, match="declares the same input twice"):
        prepare(load_dataset("two_view_digits"), seed=0).check_inputs(
            [("left", (32,), None), ("left", (32,), None)]
        )
