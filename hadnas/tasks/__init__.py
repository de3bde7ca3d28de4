"""Tasks: datasets (built-in, user functions, entry points, files), splitting and training.

A space's ``task.dataset`` is resolved by :func:`get_dataset`, in this order:

* a ``.npz`` / ``.csv`` path (layouts in :mod:`hadnas.tasks._files`: npz keys ``x`` or
  ``x_<input>`` plus ``y``; csv with a ``y`` or ``target`` column, other columns = input ``x``);
* a registered name: the built-ins (``list_datasets()``) or ``@register_dataset("name")``;
* ``"package.module:function"``;
* an entry point of the ``hadnas.datasets`` group (a function, or a module that registers).

A dataset function takes keyword options and ``seed`` and returns a :class:`Dataset`; the other
keys of ``task:`` are its options, checked against its signature (:func:`dataset_options`).
Sequence tasks are scored at ``Dataset.target_position``: one position (int) or, when several
answer tokens are due (``selective_copy``), a tuple of positions, each scored as one token.

Typical use by a trial::

    ds = load_dataset("two_view_digits", seed=0)
    data = prepare(ds, seed=0)
    data.check_inputs([("left", (32,), "float32"), ("right", (32,), "float32")])
    metrics = train_and_evaluate(model, data, input_names=["left", "right"], epochs=8,
                                 batch_size=64, lr=1e-3)
"""

from __future__ import annotations

from hadnas.tasks import sequence, tabular  # noqa: F401  (registers the built-in datasets)
from hadnas.tasks._dataset import Dataset
from hadnas.tasks._errors import NonFiniteLoss
from hadnas.tasks._prepare import TaskData, prepare
from hadnas.tasks._registry import (
    ENTRY_POINT_GROUP,
    dataset_options,
    get_dataset,
    list_datasets,
    load_dataset,
    register_dataset,
)
from hadnas.tasks.train import evaluate, total_steps, train_and_evaluate

__all__ = [
    "ENTRY_POINT_GROUP",
    "Dataset",
    "NonFiniteLoss",
    "TaskData",
    "dataset_options",
    "evaluate",
    "get_dataset",
    "list_datasets",
    "load_dataset",
    "prepare",
    "register_dataset",
    "total_steps",
    "train_and_evaluate",
]
