"""Shared fixtures. Every test runs with its own empty ESCALATE_HOME, so a developer's
own data and settings are never read or touched."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    home = tmp_path / "escalate-home"
    monkeypatch.setenv("ESCALATE_HOME", str(home))
    monkeypatch.delenv("ESCALATE_PROCEDURES", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    from escalate import paths

    paths.configure(None)
    yield home
    paths.configure(None)


@pytest.fixture
def run_cli(capsys):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    from escalate.cli import main

    def run(*argv: str):
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
