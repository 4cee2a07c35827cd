"""A whole-log jsonl export made in chunks, by this process and a helper process: the same bytes as
the lines made one by one in Python, whatever the helper does; damage and disorder refused."""

from __future__ import annotations

import os

import pytest
from logtools import SETTINGS, open_fictional

from escalate import export as export_mod
from escalate import export_lines, journal, verify
from escalate.errors import StoreError
from escalate.journal import store_at
from escalate.store import Store


@pytest.fixture(autouse=True)
def two_cores(monkeypatch):
    """The helper is started only where there is a second core; these tests want it anywhere."""
    monkeypatch.setattr(export_lines.os, "cpu_count", lambda: 2)


@pytest.fixture
def store(tmp_path):
    """Five challenges of six entries, openings naming four people (disclosures in digest order)."""
    with store_at(tmp_path / "log.sqlite3") as s:
        for n in range(5):
            c = open_fictional(
                s,
                case_ref=f"Child {n} (fictional)",
                subject_name=f"Pat Notreal {n}",
                decision_by={"name": f"Lee Madeup {n}", "role": "Team manager"},
            ).challenge
            for k in range(5):
                journal.record(
                    s,
                    SETTINGS,
                    c,
                    "contact",
                    {
                        "direction": "made",
                        "medium": "phone",
                        "with": {"name": f"Worker {n}-{k}"},
                        "summary": f'Call {k}: "quoted" \\ and\nsecond line',
                    },
                    f"2026-11-17T1{k}:00",
                )
    s = store_at(tmp_path / "log.sqlite3")
    yield s
    s.close()


def _expected(store, redact):
    """The lines as Python makes them (export's fallback, compared byte for byte elsewhere)."""
    rows = [r for r in store.iter_rows()]
    return b"".join(list(export_mod._jsonl_lines(store, rows, {}, redact, None))[1:])


def _made(store, redact, **kw):
    sql = store.whole_log_chunk_sql(redact)
    assert sql is not None  # this machine's SQLite walks the index in order
    return b"".join(export_lines.chunks(store, sql, 0, store.count(), **kw))


@pytest.mark.parametrize("redact", [False, True])
@pytest.mark.parametrize("size", [1, 4, 7, 1000])
def test_chunks_with_and_without_the_helper_are_the_lines_python_makes(store, monkeypatch, redact, size):
    monkeypatch.setattr(export_lines, "SIZE", size)
    expected = _expected(store, redact)
    assert _made(store, redact) == expected  # this process alone (a small export)
    assert _made(store, redact, helper_from=1) == expected  # with the helper making every other chunk


HELPER_FAILS = {
    "exits after one chunk": "import os\nos._exit(0)\n",
    "dies part way through a chunk": "import os, struct\nos.write(1, struct.pack('<5q', 4, 4, 5, 8, 999))\n"
    "os.write(1, b'{\"body\":')\nos._exit(3)\n",
    "writes nonsense": "import os\nos.write(1, b'\\xff' * 100)\n",
}


@pytest.mark.parametrize("how", sorted(HELPER_FAILS))
def test_a_helper_that_fails_leaves_its_chunks_to_this_process_and_the_file_is_the_same(store, monkeypatch, how):
    monkeypatch.setattr(export_lines, "SIZE", 3)
    expected = _expected(store, False)
    # the helper's code: its first chunk as usual, then the failure
    code = export_lines._HELPER.replace(
        "for start in range(lo + size, hi, 2 * size):", "for start in range(lo + size, lo + 2 * size, 2 * size):"
    )
    monkeypatch.setattr(export_lines, "_HELPER", code + HELPER_FAILS[how])
    assert _made(store, False, helper_from=1) == expected


def test_a_helper_that_cannot_start_leaves_every_chunk_to_this_process(store, monkeypatch):
    monkeypatch.setattr(export_lines, "SIZE", 2)
    monkeypatch.setattr(export_lines.sys, "executable", "/nonexistent/python3")
    assert _made(store, False, helper_from=1) == _expected(store, False)


@pytest.mark.parametrize("helper", [False, True])
@pytest.mark.parametrize("damage", ["a line cannot be made", "lines out of order"])
def test_damage_or_disorder_in_any_chunk_fails_the_export_and_nothing_is_written(
    store, tmp_path, monkeypatch, helper, damage
):
    """SQLite reports how many lines it made and the numbers of the first and last: a line it could
    not make (a row changed outside escalate) or lines out of order fail the whole export, whether
    this process or the helper made the chunk; no file, nothing recorded."""
    monkeypatch.setattr(export_lines, "SIZE", 4)
    if helper:
        monkeypatch.setattr(export_lines, "HELPER_FROM", 1)
    real = Store.whole_log_chunk_sql
    spoil = (
        ("count(line)", "count(line) - (min(seq) > 4)")
        if damage.startswith("a line")
        else ("min(seq), max(seq)", "min(seq) + (min(seq) > 4), max(seq)")
    )

    def spoiled(self, redact):
        return real(self, redact).replace(*spoil)  # the second chunk on: made by the helper if there is one

    monkeypatch.setattr(Store, "whole_log_chunk_sql", spoiled)
    before = store.count()
    with pytest.raises(StoreError, match="cannot be exported" if damage.startswith("a line") else "out of order"):
        export_mod.export(store, SETTINGS, None, store.challenge_ids(), tmp_path / "out.jsonl")
    assert store.count() == before and not (tmp_path / "out.jsonl").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_a_caller_that_stops_early_leaves_no_helper_running(store, monkeypatch):
    monkeypatch.setattr(export_lines, "SIZE", 1)
    lines = export_lines.chunks(store, store.whole_log_chunk_sql(False), 0, store.count(), helper_from=1)
    next(lines), next(lines)  # one chunk of each process
    lines.close()
    with pytest.raises(ChildProcessError):  # every child has been waited for
        os.waitpid(-1, os.WNOHANG)


def test_a_big_whole_store_export_uses_the_helper_and_verifies(store, tmp_path, monkeypatch):
    """Through export(): the file verifies, and the helper was asked for its half."""
    monkeypatch.setattr(export_lines, "SIZE", 2)
    monkeypatch.setattr(export_lines, "HELPER_FROM", 1)
    started = []
    real = export_lines._Helper.__init__

    def spy(self, *args):
        started.append(args[2:])
        real(self, *args)

    monkeypatch.setattr(export_lines._Helper, "__init__", spy)
    export_mod.export(store, SETTINGS, None, store.challenge_ids(), tmp_path / "all.jsonl")
    assert started == [(0, 30)]
    report = verify.verify_file(tmp_path / "all.jsonl")
    assert report.ok and report.count == 30
