"""A whole-log jsonl export made by SQLite in chunks: the same bytes as the lines made one by one in
Python, whatever the chunk size; damage and disorder refused, nothing written."""

from __future__ import annotations

import pytest
from logtools import SETTINGS, open_fictional

from escalate import export as export_mod
from escalate import export_lines, journal, verify
from escalate.errors import StoreError
from escalate.journal import store_at
from escalate.store import Store


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
def test_chunks_are_the_lines_python_makes(store, monkeypatch, redact, size):
    monkeypatch.setattr(export_lines, "SIZE", size)
    assert _made(store, redact) == _expected(store, redact)


@pytest.mark.parametrize("damage", ["a line cannot be made", "lines out of order"])
def test_damage_or_disorder_in_any_chunk_fails_the_export_and_nothing_is_written(store, tmp_path, monkeypatch, damage):
    """SQLite reports how many lines it made and the numbers of the first and last: a line it could
    not make (a row changed outside escalate) or lines out of order, in any chunk, fail the whole
    export; no file, nothing recorded."""
    monkeypatch.setattr(export_lines, "SIZE", 4)
    real = Store.whole_log_chunk_sql
    spoil = (
        ("count(line)", "count(line) - (min(seq) > 4)")
        if damage.startswith("a line")
        else ("min(seq), max(seq)", "min(seq) + (min(seq) > 4), max(seq)")
    )

    def spoiled(self, redact):
        return real(self, redact).replace(*spoil)  # the second chunk on

    monkeypatch.setattr(Store, "whole_log_chunk_sql", spoiled)
    before = store.count()
    with pytest.raises(StoreError, match="cannot be exported" if damage.startswith("a line") else "out of order"):
        export_mod.export(store, SETTINGS, None, store.challenge_ids(), tmp_path / "out.jsonl")
    assert store.count() == before and not (tmp_path / "out.jsonl").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_a_whole_store_export_in_chunks_verifies(store, tmp_path, monkeypatch):
    monkeypatch.setattr(export_lines, "SIZE", 2)
    export_mod.export(store, SETTINGS, None, store.challenge_ids(), tmp_path / "all.jsonl")
    report = verify.verify_file(tmp_path / "all.jsonl")
    assert report.ok and report.count == 30
