"""Fixtures of the distributed tests: a real Ray head, a real PostgreSQL, small spaces, and the
``hadnas`` command run as a separate process (so tests can kill it like a user would)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.distributed_tests._services import PG_BIN_DIRS, PostgresServer, RayHead

REPO = Path(__file__).resolve().parents[2]
PLUGIN = "tests.distributed_tests._plugins:ctl"


#: the searched graph of most tests: a width choice and a node choice (4 architectures)
NODES = """\
  stem: {op: linear, in: x, out: {choice: [8, 16]}}
  mix:
    choice:
      - {op: glu_ffn, act: {choice: [gelu, silu]}}
      - {op: linear, out: 16}
  head: {op: linear, in: mix, out: 2}
"""


def space_text(
    *,
    name: str = "dist",
    epochs: int = 2,
    task: str = "",
    lr: str = "{log: [1.0e-3, 1.0e-2]}",
    nodes: str = NODES,
    search: str = "{sampler: random, trials: 4, seed: 0}",
    objectives: str = "{accuracy: max}",
) -> str:
    """A small, fast space on the test dataset; ``task`` adds ``, key: value`` options."""
    return (
        f"hadnas: 1\nname: {name}\n"
        f'task: {{dataset: "{PLUGIN}", epochs: {epochs}, batch_size: 64, lr: {lr}{task}}}\n'
        f"inputs:\n  x: {{shape: [8]}}\nnodes:\n{nodes}output: head\n"
        f"objectives: {objectives}\nsearch: {search}\n"
    )


@pytest.fixture
def write_space(tmp_path: Path) -> Callable[..., Path]:
    def write(filename: str = "space.yaml", **kwargs: object) -> Path:
        path = tmp_path / filename
        path.write_text(space_text(**kwargs), encoding="utf-8")  # type: ignore[arg-type]
        return path

    return write


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **(extra or {})}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    return env


def hadnas_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "hadnas.cli", "-q", *args]


def run_hadnas(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``hadnas -q ARGS`` in a fresh process, from the repository root."""
    return subprocess.run(
        hadnas_cmd(*args), cwd=REPO, env=_env(env), capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


def start_hadnas(
    *args: str, log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``hadnas -q ARGS`` in the background, in its own process group."""
    with open(log, "wb") as fh:
        return subprocess.Popen(
            hadnas_cmd(*args), cwd=REPO, env=_env(env), stdout=fh, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


@pytest.fixture(scope="session")
def ray_head() -> Iterator[RayHead]:
    """A real Ray head (``ray start --head --block``, token auth) private to this session;
    ``.address`` to connect, ``.env`` for the client's environment."""
    pytest.importorskip("ray.tune")
    head = RayHead(num_cpus=2)
    try:
        yield head
    finally:
        head.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if not PG_BIN_DIRS:
        pytest.skip("PostgreSQL binaries not installed (.ci/run installs them)")
    pytest.importorskip("psycopg2")
    server = PostgresServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> str:
    """A URL of a fresh, empty database on the session's server."""
    return postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}")
