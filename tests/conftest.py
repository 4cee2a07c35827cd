"""Shared fixtures. Every test runs with its own empty ESCALATE_HOME, so a developer's
own data and settings are never read or touched.

``backend`` runs a test once on the embedded SQLite store and once on a team store in a throwaway
PostgreSQL server the tests start themselves (tests/pgcluster.py): the same test, both stores."""

from __future__ import annotations

import os

import pytest

from escalate import paths


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    home = tmp_path / "escalate-home"
    monkeypatch.setenv("ESCALATE_HOME", str(home))
    monkeypatch.delenv("ESCALATE_PROCEDURES", raising=False)
    monkeypatch.delenv("ESCALATE_STORE", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    from escalate import paths

    paths.configure(None)
    paths.configure_store(None)
    yield home
    paths.configure(None)
    paths.configure_store(None)


@pytest.fixture(scope="session")
def pg_cluster():
    """A PostgreSQL server for this test process (skipped where none is installed, except in CI)."""
    from tests.pgcluster import Cluster, binaries

    if binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: .ci/run installs it (apt-get install -y postgresql)")
        pytest.skip("PostgreSQL is not installed (apt-get install -y postgresql): team-store tests skipped")
    cluster = Cluster()
    yield cluster
    cluster.stop()


@pytest.fixture
def team_url(pg_cluster):
    """A new team store (its tables made, no entries) in a database of its own."""
    from escalate import pgstore

    url = pg_cluster.database()
    pgstore.create(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, isolated_home, monkeypatch):
    """Where the store is: the file in ESCALATE_HOME, or a team store named by ESCALATE_STORE. Returns
    what :func:`escalate.journal.store_at` opens."""
    if request.param == "sqlite":
        return str(isolated_home / "escalate.sqlite3")
    url = request.getfixturevalue("team_url")
    monkeypatch.setenv("ESCALATE_STORE", url)
    return url


@pytest.fixture
def run_cli(capsys):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    from escalate.cli import main

    def run(*argv: str):
        try:
            code = main([str(a) for a in argv])
        finally:
            paths.configure_store(None)  # (--store is one command's, as in its own process)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
