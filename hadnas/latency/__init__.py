"""Latency you can trust: a robust measurement protocol and a per-device predictor.

* :func:`measure_arch` / :func:`measure_many` time built models (``latency: {mode: measure}``);
* :func:`predict_arch` sums this device's lookup table of per-op costs plus a calibrated
  per-graph overhead (``mode: predict``) in well under a millisecond, building nothing;
* :func:`profile_space` builds or extends that table (``hadnas latency profile``) and
  :func:`ensure_table` does so only when the space is not covered yet;
* :func:`check_space` reports how far both can be trusted (``hadnas latency check``).

See ``docs/latency.md`` for the protocol, the table and the goals.
"""

from __future__ import annotations

from hadnas.latency._base import BaseLatencyModel, GraphSample, OpEntry, ProfileData
from hadnas.latency._check import CheckReport, check_archs, check_space
from hadnas.latency._fingerprint import Fingerprint, fingerprint
from hadnas.latency._keys import graph_keys, node_key, op_key
from hadnas.latency._measure import LatencyResult, make_inputs, measure_arch, measure_many
from hadnas.latency._models import FlopsLinearModel, LUTModel
from hadnas.latency._profile import ensure_table, profile_space
from hadnas.latency._table import LatencyTable, load_table, predict_arch, table_path

__all__ = [
    "BaseLatencyModel",
    "CheckReport",
    "Fingerprint",
    "FlopsLinearModel",
    "GraphSample",
    "LUTModel",
    "LatencyResult",
    "LatencyTable",
    "OpEntry",
    "ProfileData",
    "check_archs",
    "check_space",
    "ensure_table",
    "fingerprint",
    "graph_keys",
    "load_table",
    "make_inputs",
    "measure_arch",
    "measure_many",
    "node_key",
    "op_key",
    "predict_arch",
    "profile_space",
    "table_path",
]
