"""Crash safety and concurrent writers: no acknowledged entry is lost, the chain stays one line."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

from helpers import ROOT, stored_json
from logtools import open_fictional

from escalate import verify
from escalate.journal import store_at

WRITER = r"""
import sys
from escalate.journal import store_at
store = store_at(sys.argv[1])
n = 0
while True:
    e = store.append(sys.argv[2], "note", "2026-11-20T10:00:00.000000Z", {"name": "Writer", "role": "DSL"},
                     {"summary": f"{sys.argv[3]} {n}"})
    # only after append returned (committed with synchronous=FULL) do we say it is saved
    sys.stdout.write(f"{e.seq}\n")
    sys.stdout.flush()
    n += 1
    if len(sys.argv) > 4 and n >= int(sys.argv[4]):
        break
"""


def seeded(tmp_path):
    path = tmp_path / "s.db"
    with store_at(path) as store:
        open_fictional(store)
    return path


def test_sigkill_never_loses_an_acknowledged_entry(tmp_path):
    path = seeded(tmp_path)
    rng = random.Random(1234)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for round_ in range(25):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), "C-0001", f"r{round_}"],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        acknowledged = []
        deadline = time.monotonic() + rng.uniform(0.25, 0.6)
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            acknowledged.append(int(line))
        os.kill(proc.pid, signal.SIGKILL)
        rest, _ = proc.communicate()
        acknowledged += [int(x) for x in rest.split()]
        with store_at(path) as store:
            report = verify.verify_store(store)
            assert report.ok, report.problem
            present = {e.seq for e in store.entries("C-0001")}
        assert set(acknowledged) <= present, f"round {round_}: lost {sorted(set(acknowledged) - present)[:5]}"


def test_concurrent_writers_keep_one_chain(tmp_path):
    path = seeded(tmp_path)
    with store_at(path) as store:
        open_fictional(store)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), f"C-000{1 + i % 2}", f"w{i}", "60"],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(3)
    ]
    acknowledged = []
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        acknowledged += [int(x) for x in out.split()]
    assert len(acknowledged) == 180 and len(set(acknowledged)) == 180
    with store_at(path) as store:
        report = verify.verify_store(store)
        assert report.ok, report.problem
        assert report.count == 182
        summaries = [stored_json(e)["data"]["summary"] for e in store.entries() if e.kind == "note"]
    for i in range(3):
        assert [s for s in summaries if s.startswith(f"w{i} ")] == [f"w{i} {n}" for n in range(60)]


def test_checkpoints_happen_while_the_writer_is_idle_not_inside_appends(tmp_path):
    """After a pause the entries are in the main database file itself, so the WAL was copied
    over by the background checkpointer, not by an append; the store stays open meanwhile."""
    import shutil
    import sqlite3

    path = seeded(tmp_path)
    store = store_at(path)
    try:
        from escalate.store import _Checkpointer

        for n in range(_Checkpointer.BATCH):  # a batch worth checkpointing
            store.append(
                "C-0001",
                "note",
                "2026-11-20T10:00:00.000000Z",
                {"name": "Writer", "role": "DSL"},
                {"summary": f"idle {n}"},
            )
        copy = tmp_path / "main-file-only.db"
        deadline = time.monotonic() + 10
        while True:
            shutil.copyfile(path, copy)  # the database file without its -wal: only checkpointed pages
            try:
                count = sqlite3.connect(copy).execute("SELECT count(*) FROM entries").fetchone()[0]
            except sqlite3.DatabaseError:  # copied while the checkpointer was writing pages: torn, look again
                count = -1
            if count == 1 + _Checkpointer.BATCH or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert count == 1 + _Checkpointer.BATCH
        assert store._checkpointer is not None and store._checkpointer.thread.is_alive()
    finally:
        store.close()
    assert not store._checkpointer.thread.is_alive()  # closing stops the thread
