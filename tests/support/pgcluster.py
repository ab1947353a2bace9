"""A throw-away PostgreSQL cluster of a test's own, on its own port, that the test may stop and
start again (the shared server on port 5432 must never go down under the other tests)."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.servers import free_port

DATABASE = "daojiao_faults"
# Loose: a busy two-core machine starts or stops a small cluster in a few seconds.
PG_CTL_TIMEOUT_SECONDS = 60


def _binary(name: str) -> str:
    """The PostgreSQL server program `name`: on the PATH, else the newest Debian build."""
    found = shutil.which(name) or max(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), default="")
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed")
    return found


class PgCluster:
    """A cluster in a temporary directory: trust auth, loopback TCP on a free port, its socket
    in the same directory. As root it runs as the `postgres` user (initdb refuses root)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.log = directory / "server.log"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{DATABASE}"
        self._as_owner: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(directory, user="postgres", group="postgres")
            self._as_owner = ["runuser", "-u", "postgres", "--"]

    @property
    def conninfo(self) -> str:
        """The database's address for psycopg itself."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={DATABASE}"

    @property
    def running(self) -> bool:
        """True while the server's postmaster.pid exists (pg_ctl waits for its removal)."""
        return (self.data / "postmaster.pid").exists()

    def _run(self, *argv: str) -> None:
        done = subprocess.run(
            [*self._as_owner, *argv],
            capture_output=True,
            text=True,
            timeout=PG_CTL_TIMEOUT_SECONDS + 30,
            check=False,
        )
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{argv[0]} failed:\n{done.stdout}{done.stderr}\n{log}")

    def create(self) -> None:
        """initdb, start, and create the empty database the URL names."""
        self._run(
            _binary("initdb"),
            "--pgdata",
            str(self.data),
            "--username=postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.directory}'",
            "max_connections": "40",
            "shared_buffers": "16MB",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        self.start()
        self._run(
            _binary("psql"),
            "--host",
            str(self.directory),
            "--port",
            str(self.port),
            "--username=postgres",
            "--dbname=postgres",
            "--command",
            f"CREATE DATABASE {DATABASE}",
        )

    def _pg_ctl(self, *args: str) -> None:
        self._run(
            _binary("pg_ctl"),
            "--pgdata",
            str(self.data),
            "--log",
            str(self.log),
            "--wait",
            f"--timeout={PG_CTL_TIMEOUT_SECONDS}",
            *args,
        )

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._pg_ctl("start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` ends every session cleanly, `immediate` kills them as a
        crash would (the next start recovers from the WAL)."""
        self._pg_ctl("stop", f"--mode={mode}")

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """Suspend the postmaster while the block runs: the kernel still accepts connections
        on its port, but nothing answers them (a server hung, or a network dropping replies).
        Sessions already open go on; they have backends of their own."""
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(pid, signal.SIGCONT)

    def destroy(self) -> None:
        """Stop the server if it runs and remove its files."""
        if self.running:
            self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


@contextmanager
def pg_cluster() -> Iterator[PgCluster]:
    """A running throw-away cluster with an empty database, removed at the end."""
    # Not under pytest's tmp_path: its parents are private to root, out of `postgres`'s reach.
    cluster = PgCluster(Path(tempfile.mkdtemp(prefix="daojiao-pg-")))
    try:
        cluster.create()
        yield cluster
    finally:
        cluster.destroy()
