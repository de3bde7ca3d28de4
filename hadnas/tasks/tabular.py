"""Built-in tabular datasets from scikit-learn's bundled files and generators (never ``fetch_*``,
which downloads). Each is small enough to train in seconds on two CPU cores.

The multi-input ones exist to compare fusion ops: ``two_view_digits`` is easy (every fusion
scores about 0.97), ``paired_digits`` is not (its label depends on both inputs jointly), and
``sign_product`` needs a degree-3 interaction to beat chance.
"""

from __future__ import annotations

import functools

import numpy as np

from hadnas.exceptions import TaskError
from hadnas.tasks._dataset import Dataset
from hadnas.tasks._registry import register_dataset


@functools.cache
def _sk(loader: str) -> tuple[np.ndarray, np.ndarray]:
    """A bundled scikit-learn dataset, read once per process (callers must not mutate it)."""
    from sklearn import datasets  # noqa: PLC0415  (slow import, needed only when loading)

    bunch = getattr(datasets, loader)()
    x, y = bunch.data.astype(np.float32), bunch.target.astype(np.int64)
    x.flags.writeable = y.flags.writeable = False
    return x, y


@register_dataset("digits")
def digits() -> Dataset:
    """8x8 handwritten digits: 1797 samples, input ``x`` of 64 pixels, 10 classes."""
    x, y = _sk("load_digits")
    return Dataset(inputs={"x": x}, y=y, num_classes=10)


@register_dataset("wine")
def wine() -> Dataset:
    """Wine cultivars: 178 samples, input ``x`` of 13 features, 3 classes."""
    x, y = _sk("load_wine")
    return Dataset(inputs={"x": x}, y=y, num_classes=3)


@register_dataset("breast_cancer")
def breast_cancer() -> Dataset:
    """Breast cancer diagnosis: 569 samples, input ``x`` of 30 features, 2 classes."""
    x, y = _sk("load_breast_cancer")
    return Dataset(inputs={"x": x}, y=y, num_classes=2)


@register_dataset("iris")
def iris() -> Dataset:
    """Iris species: 150 samples, input ``x`` of 4 features, 3 classes."""
    x, y = _sk("load_iris")
    return Dataset(inputs={"x": x}, y=y, num_classes=3)


@register_dataset("two_view_digits")
def two_view_digits() -> Dataset:
    """Digits split into two views: ``left`` (columns 0-3) and ``right`` (columns 4-7), 32 each."""
    x, y = _sk("load_digits")
    img = x.reshape(-1, 8, 8)
    left = img[:, :, :4].reshape(len(x), 32)
    right = img[:, :, 4:].reshape(len(x), 32)
    return Dataset(inputs={"left": left, "right": right}, y=y, num_classes=10)


@register_dataset("paired_digits")
def paired_digits(n_samples: int = 4000, modulus: int = 10, seed: int = 0) -> Dataset:
    """Two random digit images ``left``/``right`` (64 pixels each); label ``(a + b) % modulus``.

    The label is a joint function of the two digits that no sum of per-view scores expresses,
    so additive fusion (``linear_sum``) stays near chance while multiplicative fusion can
    represent the 10x10 table directly. Images are shared between pairs, so the
    split is over pairs, not images.
    """
    if n_samples < 10 or modulus < 2:
        raise TaskError(
            f"paired_digits needs n_samples >= 10 and modulus >= 2, got {n_samples=}, {modulus=}"
        )
    x, y = _sk("load_digits")
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, len(x), size=(2, n_samples))
    label = (y[a] + y[b]) % modulus
    return Dataset(
        inputs={"left": x[a], "right": x[b]},
        y=label,
        num_classes=modulus,
        info={"chance": 1.0 / modulus},
    )


@register_dataset("breast_cancer_views")
def breast_cancer_views() -> Dataset:
    """Breast cancer as its three natural views: ``mean``, ``error``, ``worst`` (10 each)."""
    x, y = _sk("load_breast_cancer")
    return Dataset(
        inputs={"mean": x[:, :10], "error": x[:, 10:20], "worst": x[:, 20:30]},
        y=y,
        num_classes=2,
    )


@register_dataset("friedman")
def friedman(
    n_samples: int = 2000, n_features: int = 10, noise: float = 0.5, seed: int = 0
) -> Dataset:
    """Friedman #1 regression, ``10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + noise``.

    Only 5 of ``n_features`` matter; the product inside the sine favours multiplicative ops.
    Targets are standardised by ``prepare`` (train statistics); ``r2`` is unaffected.
    """
    from sklearn.datasets import make_friedman1  # noqa: PLC0415

    if n_features < 5:
        raise TaskError(f"friedman needs n_features >= 5, got {n_features}")
    x, y = make_friedman1(
        n_samples=n_samples, n_features=n_features, noise=noise, random_state=seed
    )
    return Dataset(inputs={"x": x}, y=y, kind="regression")


@register_dataset("sign_product")
def sign_product(n_samples: int = 4000, d: int = 8, order: int = 3, seed: int = 0) -> Dataset:
    """Gaussian ``x`` in ``d`` dimensions; label 1 iff ``x0 * x1 * ... * x[order-1] > 0``.

    The label is odd in each of the first ``order`` coordinates, so every polynomial of degree
    below ``order`` is uncorrelated with it: an activation-free polynomial net needs degree
    ``order`` to beat chance (0.5).
    """
    if not 1 <= order <= d:
        raise TaskError(f"sign_product needs 1 <= order <= d, got {order=}, {d=}")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_samples, d)).astype(np.float32)
    y = (np.prod(x[:, :order], axis=1) > 0).astype(np.int64)
    return Dataset(inputs={"x": x}, y=y, num_classes=2)
