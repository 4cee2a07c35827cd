"""`escalate backup` and `escalate restore`: a backup taken while another process writes verifies and
restores; a restore never destroys a store and refuses a backup that does not verify."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import pytest
from helpers import ROOT
from logtools import SETTINGS, open_fictional

from escalate import journal, verify
from escalate.journal import store_at

WRITER = textwrap.dedent(
    """
    import sys, time
    from escalate import journal
    from escalate.settings import Settings
    settings = Settings(name="Writer Example", role="DSL")
    store = journal.store_at(sys.argv[1])
    print("ready", flush=True)
    n = 0
    while True:
        journal.record(store, settings, "C-0001", "note", {"summary": f"note {n}"})
        n += 1
    """
)


@pytest.fixture
def store_path(isolated_home):
    path = isolated_home / "escalate.sqlite3"
    with store_at(path) as s:
        open_fictional(s)
    return path


def head(path) -> tuple[int, str]:
    with store_at(path, create=False, readonly=True) as s:
        report = verify.verify_store(s)
    assert report.ok, report.problem
    return report.count, report.fingerprint


def test_a_backup_taken_while_another_process_writes_verifies_and_restores(run_cli, store_path, tmp_path):
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store_path)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        backups = []
        for n in range(4):
            target = tmp_path / f"backup-{n}.sqlite3"
            code, out, err = run_cli("backup", target)
            assert code == 0, err
            assert "it verifies" in out
            backups.append(target)
    finally:
        writer.kill()
        writer.wait()
    counts = [head(b)[0] for b in backups]
    assert counts == sorted(counts) and counts[-1] > counts[0]  # taken while the log grew
    with sqlite3.connect(backups[-1]) as db:  # one self-contained file
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    other = tmp_path / "restored-home"
    code, out, err = run_cli("--data-dir", other, "restore", backups[1])
    assert code == 0, err
    assert head(other / "escalate.sqlite3") == head(backups[1])
    code, out, _ = run_cli("--data-dir", other, "verify")
    assert code == 0 and out.startswith(f"OK {counts[1]} entries")


def test_restore_keeps_the_store_it_replaces(run_cli, store_path, tmp_path):
    backup = tmp_path / "b.sqlite3"
    assert run_cli("backup", backup)[0] == 0
    with store_at(store_path) as s:
        journal.record(s, SETTINGS, "C-0001", "note", {"summary": "after the backup"})
    newer = head(store_path)
    code, _, err = run_cli("restore", backup)
    assert code == 2 and "holds 2 entries" in err and "--replace" in err
    assert head(store_path) == newer  # asked, not done
    code, out, err = run_cli("restore", backup, "--replace")
    assert code == 0, err
    assert head(store_path) == head(backup)
    kept = [p for p in store_path.parent.iterdir() if ".before-restore-" in p.name]
    assert len(kept) == 1 and head(kept[0]) == newer and str(kept[0]) in out


def test_a_backup_that_does_not_verify_is_refused_and_nothing_changes(run_cli, store_path, tmp_path):
    backup = tmp_path / "b.sqlite3"
    assert run_cli("backup", backup)[0] == 0
    with sqlite3.connect(backup) as db:  # an edit behind escalate's back, its guards dropped first
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            db.execute(f'DROP TRIGGER "{name}"')
        db.execute("UPDATE entries SET body = replace(body, 'Bruising', 'Brushing')")
    before = store_path.read_bytes()
    other = tmp_path / "empty-home"
    for argv in (["restore", backup, "--replace"], ["--data-dir", other, "restore", backup]):
        code, _, err = run_cli(*argv)
        assert code != 0 and "does not verify" in err
    assert store_path.read_bytes() == before
    assert not (other / "escalate.sqlite3").exists()


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["backup", "{tmp}/exists.sqlite3"], "already exists"),
        (["backup", "{tmp}"], "is a folder"),
        (["backup", "{tmp}/missing/b.sqlite3"], "does not exist"),
        (["backup", "{home}/escalate.sqlite3", "--force"], "cannot be the store itself"),
        (["restore", "{tmp}/missing.sqlite3"], "is not a file"),
        (["restore", "{tmp}/garbage.sqlite3"], "not an escalate store"),
        (["restore", "{home}/escalate.sqlite3", "--replace"], "the store itself"),
    ],
)
def test_garbage_is_refused_with_a_reason(run_cli, store_path, tmp_path, argv, says):
    (tmp_path / "exists.sqlite3").write_text("mine")
    (tmp_path / "garbage.sqlite3").write_bytes(b"not a database at all" * 100)
    before = store_path.read_bytes()
    code, _, err = run_cli(*[a.format(tmp=tmp_path, home=store_path.parent) for a in argv])
    assert code != 0 and says in err
    assert (tmp_path / "exists.sqlite3").read_text() == "mine"
    assert store_path.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_team_store_is_pointed_at_pg_dump(run_cli, team_url, monkeypatch, tmp_path):
    monkeypatch.setenv("ESCALATE_STORE", team_url)
    code, _, err = run_cli("backup", tmp_path / "b.sqlite3")
    assert code == 2 and "pg_dump" in err
    code, _, err = run_cli("restore", tmp_path / "b.sqlite3")
    assert code == 2 and "pg_restore" in err


def test_restore_refuses_a_store_another_process_has_open(run_cli, store_path, tmp_path):
    backup = tmp_path / "b.sqlite3"
    assert run_cli("backup", backup)[0] == 0
    with store_at(store_path) as s:
        journal.record(s, SETTINGS, "C-0001", "note", {"summary": "the app is open"})
        before = head(store_path)
        code, _, err = run_cli("restore", backup, "--replace")
        assert code != 0 and "in use" in err
    assert head(store_path) == before
    assert not [p for p in store_path.parent.iterdir() if ".before-restore-" in p.name]
