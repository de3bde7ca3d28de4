"""Real services for the distributed tests: a Ray head and a PostgreSQL server, both on
127.0.0.1 with explicit free ports and throw-away directories, started as their own process
groups and stopped by pid (never ``ray stop``, which would stop every Ray on the machine)."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout_s: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on port {port} after {timeout_s} s")


def stop_group(
    proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, wait_s: float = 30
) -> None:
    """Signal the process group we started, then SIGKILL what is left of it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=wait_s)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers of the group (workers, agents)
    except ProcessLookupError:
        pass
    if proc.poll() is None:
        proc.wait()


def group_alive(pgid: int) -> list[int]:
    """Pids still in process group ``pgid``."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                out.append(int(entry.name))
    return out


class RayHead:
    """``ray start --head --block`` on 127.0.0.1 with its own port and temp dir, and token
    authentication with its own token: clients need :attr:`env` (``RAY_AUTH_MODE=token``,
    ``RAY_AUTH_TOKEN``), as with any cluster that is not open to everyone on the network."""

    def __init__(self, num_cpus: int = 2) -> None:
        self.env = {
            "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": secrets.token_hex(32),
        }
        self.port = free_port()
        self.tmp = tempfile.mkdtemp(prefix="hdr-", dir="/tmp")  # short: unix socket paths
        self.log = Path(self.tmp) / "head.log"
        ray = Path(sys.executable).with_name("ray")
        args = [
            str(ray), "start", "--head", "--block",
            "--port", str(self.port),
            "--node-ip-address", "127.0.0.1",
            "--temp-dir", self.tmp,
            "--num-cpus", str(num_cpus),
            "--include-dashboard=false",
            "--object-store-memory", str(100_000_000),
            "--ray-client-server-port", str(free_port()),
            "--dashboard-agent-listen-port", str(free_port()),
            "--disable-usage-stats",
        ]  # fmt: skip
        env = {**os.environ, **self.env}
        with open(self.log, "wb") as fh:
            self.proc = subprocess.Popen(
                args, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        try:
            wait_port(self.port, self.proc, 120, self.log)
            deadline = time.monotonic() + 120
            while b"Ray runtime started" not in self.log.read_bytes():
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"ray head did not start:\n{self.log.read_text()[-3000:]}")
                time.sleep(0.2)
        except BaseException:
            self.stop()
            raise

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop_group(self.proc, signal.SIGINT)  # SIGINT: 2 s here; SIGTERM: over 30 s
        shutil.rmtree(self.tmp, ignore_errors=True)


class PostgresServer:
    """A throw-away PostgreSQL on 127.0.0.1 (TCP only), run as an unprivileged user."""

    def __init__(self) -> None:
        if not PG_BIN_DIRS:
            raise FileNotFoundError("no /usr/lib/postgresql/*/bin (apt-get install postgresql)")
        self.bin = PG_BIN_DIRS[0]
        self.port = free_port()
        self.tmp = tempfile.mkdtemp(prefix="hadnas-pg-", dir="/tmp")
        self.data = Path(self.tmp) / "data"
        self.log = Path(self.tmp) / "server.log"
        user = _unprivileged_user()
        os.chmod(self.tmp, 0o755)
        if user is not None:
            os.chown(self.tmp, user.pw_uid, user.pw_gid)
        demote = _demote(user)
        subprocess.run(
            [str(self.bin / "initdb"), "-D", str(self.data), "-U", "hadnas", "--auth=trust",
             "--no-sync", "-E", "UTF8"],
            check=True, capture_output=True, preexec_fn=demote,
        )  # fmt: skip
        args = [
            str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=100",
        ]  # fmt: skip
        with open(self.log, "wb") as fh:
            self.proc = subprocess.Popen(
                args, stdout=fh, stderr=subprocess.STDOUT, preexec_fn=demote,
                start_new_session=True,
            )  # fmt: skip
        try:
            wait_port(self.port, self.proc, 60, self.log)
        except BaseException:
            self.stop()
            raise

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg2://hadnas@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="hadnas", dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return self.url(name)

    def stop(self) -> None:
        stop_group(self.proc, signal.SIGINT)  # SIGINT: the server's "fast" shutdown
        shutil.rmtree(self.tmp, ignore_errors=True)


def _unprivileged_user() -> pwd.struct_passwd | None:
    """PostgreSQL refuses to run as root: use the ``postgres`` (or ``nobody``) account."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root, and neither a postgres nor a nobody account exists")


def _demote(user: pwd.struct_passwd | None):  # type: ignore[no-untyped-def]
    if user is None:
        return None

    def demote() -> None:
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)

    return demote
