"""Dataset lookup: built-ins, ``pkg.mod:fn``, entry points, option checking, errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from hadnas.exceptions import HadnasError, TaskError
from hadnas.tasks import (
    Dataset,
    dataset_options,
    get_dataset,
    list_datasets,
    load_dataset,
    register_dataset,
)

# name -> ({input: (per-sample shape, dtype)}, y shape after N, kind, num_classes)
BUILTINS = {
    "digits": ({"x": ((64,), "float32")}, (), "classification", 10),
    "wine": ({"x": ((13,), "float32")}, (), "classification", 3),
    "breast_cancer": ({"x": ((30,), "float32")}, (), "classification", 2),
    "iris": ({"x": ((4,), "float32")}, (), "classification", 3),
    "two_view_digits": (
        {"left": ((32,), "float32"), "right": ((32,), "float32")},
        (),
        "classification",
        10,
    ),
    "paired_digits": (
        {"left": ((64,), "float32"), "right": ((64,), "float32")},
        (),
        "classification",
        10,
    ),
    "breast_cancer_views": (
        {"mean": ((10,), "float32"), "error": ((10,), "float32"), "worst": ((10,), "float32")},
        (),
        "classification",
        2,
    ),
    "friedman": ({"x": ((10,), "float32")}, (), "regression", None),
    "sign_product": ({"x": ((8,), "float32")}, (), "classification", 2),
    "assoc_recall": ({"tokens": ((40,), "int64")}, (), "classification", 20),
    "selective_copy": ({"tokens": ((40,), "int64")}, (8,), "classification", 10),
}


def test_builtins_are_listed() -> None:
    assert set(BUILTINS) <= set(list_datasets())
    assert list_datasets("*digits") == ["digits", "paired_digits", "two_view_digits"]


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtin_loads_offline_with_expected_layout(name: str) -> None:
    inputs, y_tail, kind, num_classes = BUILTINS[name]
    ds = load_dataset(name, seed=0)
    assert ds.name == name and ds.kind == kind and ds.num_classes == num_classes
    assert ds.input_specs == inputs
    assert ds.y.shape == (len(ds), *y_tail)
    assert ds.y.dtype == (np.int64 if kind == "classification" else np.float32)
    if kind == "classification":
        assert set(np.unique(ds.y)) <= set(range(num_classes))
        if name not in ("assoc_recall", "selective_copy"):  # tokens cover only part of vocab
            assert len(np.unique(ds.y)) == num_classes
    for arr in ds.inputs.values():
        assert np.all(np.isfinite(arr))


def test_generators_follow_seed_and_options() -> None:
    a, b = load_dataset("sign_product", seed=1), load_dataset("sign_product", seed=1)
    np.testing.assert_array_equal(a.inputs["x"], b.inputs["x"])
    c = load_dataset("sign_product", seed=2, d=5, n_samples=100)
    assert c.inputs["x"].shape == (100, 5)
    assert not np.array_equal(a.inputs["x"][:100, :5], c.inputs["x"])


def test_unknown_name_suggests() -> None:
    with pytest.raises(TaskError, match=r"unknown dataset 'digts'; did you mean 'digits'"):
        get_dataset("digts")
    with pytest.raises(HadnasError, match="known datasets: .*wine"):
        load_dataset("nothing_like_it")


def test_unknown_option_lists_accepted_ones() -> None:
    with pytest.raises(TaskError) as err:
        load_dataset("assoc_recall", vocab_size=20)
    msg = str(err.value)
    assert "'vocab_size' (did you mean 'vocab'?)" in msg
    assert "accepted options: vocab, seq_len, num_keys, n_train, n_val, allow_dot" in msg
    with pytest.raises(TaskError, match="accepted options: none"):
        load_dataset("digits", n_samples=3)


def test_bad_option_value_is_a_task_error() -> None:
    with pytest.raises(TaskError, match="seq_len >= 4"):
        load_dataset("assoc_recall", seq_len=3)


def test_dataset_options_from_signature() -> None:
    assert dataset_options("digits") == {}
    opts = dataset_options("assoc_recall")
    assert opts["vocab"] == 20 and opts["seq_len"] == 40 and "seed" not in opts


def test_register_warns_on_overwrite() -> None:
    @register_dataset("tiny_reg")
    def tiny(seed: int = 0) -> Dataset:
        return Dataset(inputs={"x": np.zeros((4, 2))}, y=np.array([0, 1, 0, 1]))

    assert get_dataset("tiny_reg") is tiny
    assert load_dataset("tiny_reg").name == "tiny_reg"
    with pytest.warns(UserWarning, match="already registered"):
        register_dataset("tiny_reg")(lambda seed=0: tiny())


def test_returning_something_else_is_an_error() -> None:
    register_dataset("not_a_dataset")(lambda: {"x": 1})
    with pytest.raises(TaskError, match="returned dict, not hadnas.tasks.Dataset"):
        load_dataset("not_a_dataset")


MODULE = textwrap.dedent(
    """
    import numpy as np
    from hadnas.tasks import Dataset

    def make(n=6, seed=0):
        rng = np.random.default_rng(seed)
        return Dataset(inputs={"x": rng.normal(size=(n, 3))}, y=np.arange(n) % 2)
    """
)


def test_package_module_function(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "hadnas_tmp_userdata.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    ds = load_dataset("hadnas_tmp_userdata:make", n=8, seed=3)
    assert ds.inputs["x"].shape == (8, 3) and ds.name == "hadnas_tmp_userdata:make"
    with pytest.raises(TaskError, match="has no 'nope'"):
        load_dataset("hadnas_tmp_userdata:nope")
    with pytest.raises(TaskError, match="cannot import module 'hadnas_no_such_mod'"):
        load_dataset("hadnas_no_such_mod:make")
    with pytest.raises(TaskError, match="accepted options: n"):
        load_dataset("hadnas_tmp_userdata:make", m=1)


def _fake_distribution(root: Path, entry_points: str) -> None:
    info = root / "hadnas_fake_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: hadnas-fake-plugin\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text(f"[hadnas.datasets]\n{entry_points}\n")


def test_entry_point_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "hadnas_fake_plugin_mod.py").write_text(
        MODULE
        + textwrap.dedent(
            """
            from hadnas.tasks import register_dataset

            @register_dataset("fake_registered")
            def registered(seed=0):
                return make(4, seed)
            """
        )
    )
    _fake_distribution(
        tmp_path,
        "fake_fn = hadnas_fake_plugin_mod:make\nfake_registered = hadnas_fake_plugin_mod",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert {"fake_fn", "fake_registered"} <= set(list_datasets())
    assert load_dataset("fake_fn", n=10).inputs["x"].shape == (10, 3)
    assert len(load_dataset("fake_registered")) == 4


def test_broken_entry_point_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_distribution(tmp_path, "fake_broken = hadnas_missing_plugin_mod:make")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(TaskError, match="entry point 'fake_broken'.*failed to load"):
        load_dataset("fake_broken")
