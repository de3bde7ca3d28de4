"""What the distributed backends refuse up front, and what they never import or join."""

from __future__ import annotations

import subprocess
import sys

import pytest

import hadnas
from hadnas.exceptions import SearchError
from hadnas.search import SearchConfig
from hadnas.search._pg import is_server_url, launcher_slot
from hadnas.search.ray_backend import RayBackend
from hadnas.search.ray_cluster import check_address, is_loopback


def _backend(write_space, config: SearchConfig, **space: str) -> RayBackend:
    return RayBackend(hadnas.load_space(write_space(**space)), config)


def test_schedulers_are_refused_for_several_objectives(write_space):
    backend = _backend(
        write_space,
        SearchConfig(backend="ray", scheduler="asha"),
        objectives="{accuracy: max, params: min}",
    )
    with pytest.raises(SearchError, match="stops trials on one reported value.*2 objectives"):
        backend.validate()


def test_a_scheduler_does_not_replace_the_space_pruner_silently(write_space):
    config = SearchConfig(backend="ray", scheduler="hyperband")
    backend = _backend(write_space, config, search="{sampler: tpe, pruner: median}")
    with pytest.raises(SearchError, match="search.pruner: median"):
        backend.validate()
    _backend(write_space, config).validate()  # no pruner in the space: fine


@pytest.mark.parametrize("address", ["auto", "local", " AUTO "])
def test_ray_never_picks_a_cluster_by_itself(write_space, address):
    with pytest.raises(SearchError, match="joins only a cluster it is told about"):
        _backend(write_space, SearchConfig(backend="ray", address=address)).validate()


def test_loopback_addresses():
    assert is_loopback(None) and is_loopback("127.0.0.1:6379") and is_loopback("localhost:1")
    assert not is_loopback("10.0.0.5:6379") and not is_loopback("head.example:6379")
    check_address("10.0.0.5:6379")


def test_an_unreachable_head_fails_fast():
    from hadnas.search.ray_cluster import _probe

    with pytest.raises(SearchError, match="no Ray head answers at 127.0.0.1:9"):
        _probe("127.0.0.1:9", timeout_s=2)


def test_server_urls():
    assert is_server_url("postgresql://u@h/db") and is_server_url("postgresql+psycopg2://h/db")
    assert is_server_url("mysql+pymysql://h/db")
    assert not is_server_url("sqlite:///x.db") and not is_server_url("/runs/x/journal.log")


def test_only_database_servers_hand_out_launcher_slots(tmp_path):
    import optuna

    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 's.db'}")
    study = optuna.create_study(storage=storage)
    assert launcher_slot(study) is None


def test_the_distributed_modules_do_not_import_ray():
    code = (
        "import sys, hadnas, hadnas.search, hadnas.search.ray_backend, "
        "hadnas.search.ray_trial, hadnas.search.ray_cluster, hadnas.search._pg\n"
        "bad = sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
