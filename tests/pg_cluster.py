"""A throwaway PostgreSQL cluster for the test suite.

Each test session gets its own server: `initdb` in a temporary folder, then `postgres` listening
only on 127.0.0.1 (a free port picked at start) and on a unix socket in that folder, with trust
authentication and durability off, since the data is thrown away. No system cluster, no password.

PostgreSQL refuses to run as root, and CI runs as root: then every command runs as the OS user
`postgres` (Debian's package creates it), which is given the folder.

`postgres` is started directly as a child of the test process rather than daemonized by
`pg_ctl start`: a daemon is re-parented to PID 1, and where PID 1 never reaps (containers,
micro-VMs) a stopped server lingers as a zombie whose PID still answers `kill(pid, 0)`.
As our child it is reaped by `wait()`, and Ctrl-C in the terminal reaches it too.

In conftest: `from pg_cluster import postgres_cluster  # noqa` registers the session fixture.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

SUPERUSER = "tarjoman"
DATABASE = "tarjoman_test"
MISSING = "PostgreSQL not found (no initdb on PATH or in /usr/lib/postgresql/*/bin)"


def find_pg_bin() -> Path | None:
    """The folder holding initdb and postgres: PATH first, then the highest /usr/lib/postgresql/*/bin."""
    on_path = shutil.which("initdb")
    # Resolved: a symlink on PATH (here /usr/local/bin/initdb) has no `postgres` beside it.
    candidates = [Path(on_path).resolve().parent] if on_path else []
    installed = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(installed, key=lambda d: [int(x) for x in d.parent.name.split(".") if x.isdigit()], reverse=True)
    return next((d for d in candidates if (d / "initdb").is_file() and (d / "postgres").is_file()), None)


def skip_or_fail(reason: str) -> None:
    """Skip on a developer's machine; on CI a missing PostgreSQL is a broken setup, not a skip."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


class PostgresCluster:
    """A server on 127.0.0.1 with its data in tmp_dir (which, as root, must be reachable by `postgres`)."""

    def __init__(self, tmp_dir: str | os.PathLike, bin_dir: Path | None = None):
        self.tmp_dir = Path(tmp_dir)
        self.data_dir = self.tmp_dir / "data"
        self.log_file = self.tmp_dir / "postgres.log"
        self.bin_dir = bin_dir or find_pg_bin()
        self.port: int | None = None
        self.pid: int | None = None
        self._proc: subprocess.Popen | None = None
        # As root, drop to `postgres` in the child (uid, gid and no supplementary groups), no runuser:
        # then the process we start *is* the postmaster, and its PID is the one we wait for.
        self._as = {}
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            self._as = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
            os.chown(self.tmp_dir, pw.pw_uid, pw.pw_gid)

    @property
    def url(self) -> str:
        return self.database_url(DATABASE)

    def database_url(self, name: str) -> str:
        """The SQLAlchemy URL (psycopg 3 driver) of database `name`."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{name}"

    def start(self) -> PostgresCluster:
        if self.bin_dir is None:
            raise RuntimeError(MISSING)
        try:
            initdb = subprocess.run([self.bin_dir / "initdb", "-D", self.data_dir, "-U", SUPERUSER, "-A", "trust",
                                     "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
                                    capture_output=True, text=True, cwd=self.tmp_dir, **self._as)
            if initdb.returncode != 0:
                raise RuntimeError(f"initdb failed ({initdb.returncode}):\n{initdb.stdout}{initdb.stderr}")
            with socket.socket() as s:  # a free port; the small race with other processes is accepted
                s.bind(("127.0.0.1", 0))
                self.port = s.getsockname()[1]
            settings = {"listen_addresses": "127.0.0.1", "port": self.port, "unix_socket_directories": self.tmp_dir,
                        "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
            args = [a for k, v in settings.items() for a in ("-c", f"{k}={v}")]
            with open(self.log_file, "ab") as log:
                self._proc = subprocess.Popen([self.bin_dir / "postgres", "-D", self.data_dir, *args],
                                              stdout=log, stderr=subprocess.STDOUT, cwd=self.tmp_dir, **self._as)
            atexit.register(self.stop)  # a crashed session must not leave a server behind
            self.pid = self._wait_ready()
            create_database(self, DATABASE)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float = 30) -> int:
        """The postmaster's PID once postmaster.pid says it accepts connections (line 8: "ready")."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"postgres exited ({self._proc.returncode}):\n{self.log_file.read_text()}")
            pid_file = self.data_dir / "postmaster.pid"
            lines = pid_file.read_text().splitlines() if pid_file.exists() else []
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return int(lines[0])
            time.sleep(0.02)
        raise RuntimeError(f"postgres not ready after {timeout} s:\n{self.log_file.read_text()}")

    def stop(self) -> None:
        """Stop the server and check that its process is gone; a second call does nothing."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        atexit.unregister(self.stop)
        # SIGINT, PostgreSQL's "fast" shutdown: SIGTERM ("smart") waits for every client to
        # disconnect, and a test's pooled SQLAlchemy connection never does.
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        try:
            os.kill(proc.pid, 0)
        except ProcessLookupError:
            return
        raise RuntimeError(f"postgres (PID {proc.pid}) still exists after stop")

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def create_database(cluster: PostgresCluster, name: str) -> str:
    """Create an empty database (a copy of template1: milliseconds) and return its URL."""
    import psycopg
    from psycopg import sql

    # CREATE DATABASE cannot run inside a transaction, hence autocommit.
    with psycopg.connect(host="127.0.0.1", port=cluster.port, user=SUPERUSER, dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return cluster.database_url(name)


@pytest.fixture(scope="session")
def postgres_cluster():
    """A started cluster with an empty database `tarjoman_test` (cluster.url), shared by the session."""
    if find_pg_bin() is None:
        skip_or_fail(MISSING)
    # Not tmp_path_factory: pytest makes its base folder 0700 for root, so `postgres` could not enter it.
    with tempfile.TemporaryDirectory(prefix="tarjoman-pg-") as tmp, PostgresCluster(tmp) as cluster:
        yield cluster
