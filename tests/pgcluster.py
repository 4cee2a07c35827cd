"""A throwaway PostgreSQL server for the tests: initdb in a temporary folder, started on a Unix socket
of its own (no TCP port), stopped and removed at the end. Run as the user ``postgres`` when the tests
run as root (the server refuses root). Each test gets a database of its own (:meth:`Cluster.database`).

Where PostgreSQL is not installed, the team-store tests are skipped, except in CI (``CI`` set), where
``.ci/run`` installs it and a missing server is a failure.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path


def binaries() -> Path | None:
    """The folder of initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/N/bin (newest)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(candidates[-1]).parent if candidates else None


class Cluster:
    """One server for a test session."""

    def __init__(self) -> None:
        bindir = binaries()
        if bindir is None:
            raise FileNotFoundError("PostgreSQL is not installed (apt-get install -y postgresql)")
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="escalate-pg-"))
        self.data = self.root / "data"
        self.socket = self.root / "socket"
        self.socket.mkdir()
        self.as_root = os.geteuid() == 0 if hasattr(os, "geteuid") else False
        self.superuser = "postgres" if self.as_root else os.environ.get("USER", "postgres")
        if self.as_root:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.socket, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", self.superuser, "--auth=trust", "-E", "UTF8", "--no-locale")
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-o",
            f"-k {self.socket} -c listen_addresses='' -c fsync=on -c max_connections=60",
            "start",
        )
        self._names = itertools.count(1)

    def _run(self, tool: str, *args: str) -> None:
        argv = [str(self.bindir / tool), *args]
        if self.as_root:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, capture_output=True, timeout=120)

    def url(self, database: str = "postgres", user: str | None = None) -> str:
        return f"postgresql:///{database}?host={self.socket}&user={user or self.superuser}"

    def database(self) -> str:
        """A new, empty database; its URL (as the superuser)."""
        import psycopg

        name = f"escalate_test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
