"""Where Ray trials run: a named cluster, or a private loopback-only instance started here.

hadnas never joins a cluster it was not told about: no ``address="auto"``, no ``RAY_ADDRESS``,
no "last ``ray start`` on this machine". Without ``--address`` it starts its own instance:
127.0.0.1 only, no dashboard (so no HTTP job API), a small object store, its own temporary
directory, shut down when the search ends. Importing this module does not import Ray.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

from hadnas.exceptions import SearchError

#: object store of a private instance: hadnas ships configs and small results only
PRIVATE_OBJECT_STORE_BYTES = 100_000_000
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
_CLUSTER_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
_AUTH_LOGGER = "ray._private.authentication.authentication_token_setup"


def check_address(address: str | None) -> None:
    """Refuse addresses that let Ray pick a cluster by itself."""
    if address is not None and address.strip().lower() in ("auto", "local", ""):
        raise SearchError(
            f"--address {address!r}: hadnas joins only a cluster it is told about; give "
            "HOST:PORT of its head (or no --address for a private local instance)"
        )


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _short_tmp() -> str | None:
    return "/tmp" if os.path.isdir("/tmp") else None


def is_loopback(address: str | None) -> bool:
    """True for no address (a private instance) or one on 127.0.0.1 / localhost / ::1."""
    if address is None:
        return True
    host = address.split("://")[-1].rsplit(":", 1)[0]
    return host in _LOOPBACK


def prefer_loopback() -> None:
    """Make Ray name this node 127.0.0.1 (and bind its servers there), not a routable IP.

    Ray reads ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER`` when first imported and its servers
    inherit it. Without it a private instance listens on every interface, and a loopback
    ``--address`` is rewritten to this host's public IP (where a loopback head is not).
    """
    os.environ.setdefault(_CLUSTER_ENV, "0")
    constants = sys.modules.get("ray._private.ray_constants")
    if constants is not None and os.environ[_CLUSTER_ENV] == "0":
        constants.ENABLE_RAY_CLUSTER = False  # type: ignore[attr-defined]  # imported before


def _probe(address: str, timeout_s: float = 10.0) -> None:
    """Fail fast on an address nothing listens at (Ray itself retries for minutes)."""
    if "://" in address:  # ray:// (Ray Client) and the like: let Ray connect
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except (OSError, ValueError) as exc:
        raise SearchError(
            f"no Ray head answers at {address} ({exc}); start one with `ray start --head "
            "--port PORT` and pass --address HOST:PORT"
        ) from None


@contextlib.contextmanager
def ray_session(
    address: str | None, *, num_cpus: int | None = None, log_to_driver: bool = False
) -> Iterator[None]:
    """Connect to the cluster at ``address`` or start a private instance; undo it on exit.

    A Ray session the caller had already started (``ray.init`` in the same process) is used
    as it is and left running.
    """
    check_address(address)
    if is_loopback(address):
        prefer_loopback()
    import ray

    if ray.is_initialized():
        yield
        return
    tmp = None
    common: dict[str, Any] = {"log_to_driver": log_to_driver, "logging_level": logging.WARNING}
    try:
        if address is None:
            # a short path: Ray's unix sockets live under it (108-byte limit)
            tmp = tempfile.mkdtemp(prefix="hadnas-ray-", dir=_short_tmp())
            with _quiet(_AUTH_LOGGER):  # Ray turns token auth on here, and says so: expected
                ray.init(
                    address="local",  # a new instance, whatever RAY_ADDRESS says
                    num_cpus=num_cpus,
                    object_store_memory=PRIVATE_OBJECT_STORE_BYTES,
                    include_dashboard=False,
                    _node_ip_address="127.0.0.1",
                    _temp_dir=tmp,
                    # Ray runs workers at nice 15 so its own servers stay responsive; here the
                    # trials are the user's job, as with the optuna backend's workers
                    _system_config={"worker_niceness": 0},
                    **common,
                )
        else:
            _probe(address)
            ray.init(address=address, **common)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        where = f"the Ray cluster at {address}" if address else "a private local Ray instance"
        hint = ""
        if address and os.environ.get("RAY_AUTH_MODE", "").lower() != "token":
            hint = (
                "; if the cluster uses token authentication, set RAY_AUTH_MODE=token and "
                "its token in RAY_AUTH_TOKEN (or ~/.ray/auth_token)"
            )
        raise SearchError(f"cannot start or reach {where}: {exc}{hint}") from exc
    try:
        yield
    finally:
        ray.shutdown()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
