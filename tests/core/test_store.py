"""The store: append-only, private, durable, and its errors."""

from __future__ import annotations

import json
import os
import sqlite3
import stat

import pytest
from helpers import stored_json
from logtools import SETTINGS, open_fictional

from escalate import journal
from escalate.errors import ChallengeError, StoreError, UsageError
from escalate.journal import store_at
from escalate.store import MIGRATIONS, SCHEMA_VERSION, Store


@pytest.fixture
def store(tmp_path):
    s = store_at(tmp_path / "data" / "log.sqlite3")
    yield s
    s.close()


def test_created_private_with_wal_and_full_sync(store, tmp_path):
    assert stat.S_IMODE(os.stat(tmp_path / "data").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 6


def test_wal_file_is_private_too(store, tmp_path):
    open_fictional(store)
    wal = store.path.with_name(store.path.name + "-wal")
    assert wal.exists()
    assert stat.S_IMODE(os.stat(wal).st_mode) & 0o077 == 0


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE entries SET kind = 'note'",
        "DELETE FROM entries",
        "UPDATE disclosures SET bytes = x'00'",
        "DELETE FROM disclosures",
        "DELETE FROM challenges",
    ],
)
def test_triggers_refuse_update_and_delete(store, sql):
    open_fictional(store)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute(sql)


def test_api_has_no_update_or_delete():
    public = {name for name in dir(Store) if not name.startswith("_")}
    assert not {n for n in public if any(w in n for w in ("update", "delete", "remove", "edit", "replace"))}


def test_personal_fields_are_not_in_clear_in_entries(store):
    open_fictional(store)
    journal.record(
        store,
        SETTINGS,
        "C-0001",
        "contact",
        {
            "direction": "made",
            "medium": "phone",
            "with": {"name": "Sam Fictional", "role": "Social worker"},
            "summary": "Raised it",
        },
        "2026-11-16T10:00",
    )
    bodies = b"".join(bytes(r[0]) for r in store.conn.execute("SELECT body FROM entries"))
    for secret in (b"Child Q", b"Sam Fictional", b"Alex Example"):
        assert secret not in bodies
    assert b"Social worker" in bodies  # roles are not personal
    rows = journal.chronology(store, "C-0001")
    assert rows[1].data["with"]["name"] == "Sam Fictional"
    assert rows[0].author["name"] == "Alex Example"


def test_failed_append_leaves_store_unchanged(store):
    open_fictional(store)
    before = store.head()
    with pytest.raises(UsageError):
        journal.record(
            store, SETTINGS, "C-0001", "deadline-extended", {"deadline": "nope", "new_due": "2026-12-01", "reason": "x"}
        )
    assert store.head() == before


def test_challenge_ids_are_sequential_and_accept_short_forms(store):
    open_fictional(store)
    open_fictional(store)
    assert store.challenge_ids() == ["C-0001", "C-0002"]
    assert store.resolve_id("2") == "C-0002" and store.resolve_id("c-0001") == "C-0001"
    with pytest.raises(ChallengeError, match="no challenge"):
        store.resolve_id("C-0099")


def test_corrupt_store_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="damaged or is not an escalate store"):
        store_at(bad)


def test_store_path_that_is_a_folder(tmp_path):
    with pytest.raises(StoreError, match="is a folder"):
        store_at(tmp_path)


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "s.sqlite3"
    store_at(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="newer escalate"):
        store_at(path)


def test_locked_store_is_a_clear_error_and_nothing_is_written(tmp_path):
    path = tmp_path / "s.sqlite3"
    store = store_at(path)
    open_fictional(store)
    store.conn.execute("PRAGMA busy_timeout = 100")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="locked"):
            journal.record(store, SETTINGS, "C-0001", "note", {"summary": "x"})
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.count() == 1


def test_read_only_store_refuses_writes(tmp_path):
    path = tmp_path / "s.sqlite3"
    with store_at(path) as s:
        open_fictional(s)
    with store_at(path, readonly=True) as ro:
        with pytest.raises(StoreError, match="read-only"):
            journal.record(ro, SETTINGS, "C-0001", "note", {"summary": "x"})


def test_full_disk_is_a_clear_error(store, monkeypatch):
    open_fictional(store)
    real = store.conn

    class Full:
        def __getattr__(self, name):
            return getattr(real, name)

        def execute(self, sql, *args):
            if sql.startswith("INSERT INTO entries"):
                raise sqlite3.OperationalError("database or disk is full")
            return real.execute(sql, *args)

    store.conn = Full()
    with pytest.raises(StoreError, match="disk .* is full"):
        journal.record(store, SETTINGS, "C-0001", "note", {"summary": "x"})
    store.conn = real
    assert store.count() == 1 and not real.in_transaction


def test_cached_state_equals_full_fold(store):
    from escalate.challenge import fold

    open_fictional(store)
    journal.record(
        store,
        SETTINGS,
        "C-0001",
        "contact",
        {"direction": "made", "medium": "email", "summary": "a"},
        "2026-11-16T10:00",
    )
    journal.record(store, SETTINGS, "C-0001", "response", {"decision": "no"}, "2026-11-17T10:00")
    journal.step_up(store, SETTINGS, "C-0001", "unresolved", "2026-11-18T10:00")
    assert store.state("C-0001") == fold(store.entries("C-0001"))
    store.conn.execute("DROP TRIGGER state_cache_no_delete")  # (as someone with the file would)
    store.conn.execute("DELETE FROM state_cache")  # the cache is not the record: it rebuilds
    assert store.states()[0] == fold(store.entries("C-0001"))


def test_many_processes_opening_a_new_store_at_once(tmp_path):
    """Opening a brand-new store from several processes at once must not fail with 'locked'."""
    import subprocess
    import sys

    from helpers import ROOT

    path = tmp_path / "fresh.sqlite3"
    code = "import sys\nfrom escalate.journal import store_at\nstore_at(sys.argv[1]).close()\n"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    with store_at(path) as s:
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def _first_release_store(path):
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    for statement in MIGRATIONS[0].split(";\n"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO meta VALUES ('store_id', 'abcdef0123456789')")
    conn.close()
    return path


def test_a_first_release_store_is_upgraded_and_keeps_every_entry(tmp_path):
    """A store written by schema 1 (no list-row columns) opens, migrates forward and still verifies."""
    from escalate import verify

    path = _first_release_store(tmp_path / "v1.sqlite3")
    with store_at(path) as s:  # the current code appends to it only after migrating
        assert s.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        open_fictional(s)
        assert [row[1] for row in s.conn.execute("PRAGMA table_info(state_cache)")][-2:] == ["listing_key", "listing"]
        indexes = {row[1] for row in s.conn.execute("PRAGMA index_list(disclosures)")}
        assert "disclosures_seq_digest" in indexes and "disclosures_seq" not in indexes  # schema 4
    with store_at(path) as s:
        assert verify.verify_store(s).ok
        assert s.count() == 1


def test_list_rows_are_cached_until_the_next_entry_and_equal_a_fresh_derivation(store):
    from escalate import challenge, clock
    from escalate.wording import describe_timescale

    first, second = open_fictional(store), open_fictional(store, case_ref="Child R (fictional)")
    journal.record(
        store,
        SETTINGS,
        first.challenge,
        "contact",
        {"direction": "made", "medium": "phone", "summary": "Raised the concern"},
        at="2026-11-16T10:00",
    )
    now = clock.from_iso("2026-11-17T12:00:00.000000Z")
    fresh = journal.summaries(store, now=now)
    assert all(text is not None for _, text in store.listings(_listing_key()))
    for _, text in store.listings(_listing_key()):  # facts, never English, in what the store keeps
        assert all(isinstance(r["timescale"], dict) for r in json.loads(text)["deadlines"])
    cached = journal.summaries(store, now=now)
    assert _comparable(cached) == _comparable(fresh)
    assert [bool(v.next_deadline) for v in cached] == [True, False]  # one timed deadline, one waiting
    # the same answers as the full derivation, from the fold and the snapshot
    for view in cached:
        state = store.state(view.state.challenge)
        full = challenge.derive(state, journal.procedure_of(store, state), now, history=False)
        assert view.overdue == full.overdue
        assert (view.next_deadline and view.next_deadline.due) == (full.next_deadline and full.next_deadline.due)
        assert [r.status for r in view.deadlines] == [r.status for r in full.deadlines]
        # the same words for each timescale, from facts the cached row keeps (not its sentences)
        assert [describe_timescale(r.timescale) for r in view.deadlines] == [
            describe_timescale(r.timescale) for r in full.deadlines
        ]
        assert (view.stage_index, view.stage_count, view.stage_title) == (
            full.stage_index,
            full.stage_count,
            full.stage.title,
        )
    # an entry makes that challenge's row stale (and only that one); the next list shows the change
    journal.record(
        store,
        SETTINGS,
        second.challenge,
        "contact",
        {"direction": "made", "medium": "phone", "summary": "Called the team manager"},
        at="2026-11-17T10:00",
    )
    rows = {cid: text for cid, text in store.listings(_listing_key())}
    assert rows[first.challenge] is not None and rows[second.challenge] is None
    after = {v.state.challenge: v for v in journal.summaries(store, now=now)}
    assert after[second.challenge].state.entries == 2
    # a row made under other bank-holiday data is never used
    assert all(text is None for _, text in store.listings("L1/other-holiday-data"))


def test_list_rows_are_not_kept_while_another_program_writes(store, tmp_path):
    open_fictional(store)
    other = store_at(store.path)
    other.conn.execute("BEGIN IMMEDIATE")
    try:
        views = journal.summaries(store)  # still answers, from the fold
        assert len(views) == 1
        assert [text for _, text in store.listings(_listing_key())] == [None]
    finally:
        other.conn.execute("ROLLBACK")
        other.close()


def _listing_key():
    from escalate import challenge, workcalendar

    return f"{challenge.LISTING_FORMAT}/{workcalendar.data_version()}"


def _comparable(views):
    return [(v.state, v.case_ref, v.overdue, v.next_deadline, v.stage_index) for v in views]


def test_a_read_only_command_upgrades_an_older_store_instead_of_refusing_it(tmp_path):
    """After an upgrade of escalate, `verify` or `audit --store` (read-only) must still read the log."""
    from escalate import verify

    path = _first_release_store(tmp_path / "v1.sqlite3")
    with store_at(path, readonly=True) as ro:
        assert ro.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert verify.verify_store(ro).ok
        assert journal.summaries(ro) == []


def test_an_older_store_that_cannot_be_upgraded_is_a_clear_error(tmp_path, monkeypatch):
    path = _first_release_store(tmp_path / "v1.sqlite3")

    def refuse(self, current):
        raise StoreError(f"the store {self.path} is read-only", hint="Check the file's permissions.")

    monkeypatch.setattr(Store, "_migrate", refuse)
    with pytest.raises(StoreError, match="older escalate and cannot be upgraded: .*read-only"):
        store_at(path, readonly=True)


def test_a_schema_3_store_that_cannot_be_upgraded_is_still_read_as_it_is(tmp_path, monkeypatch):
    """Schema 4 only adds an index for exports: a schema-3 store on read-only media still verifies
    and lists (and a jsonl export of it, where one can be written, makes the same lines)."""
    from escalate import verify

    path = tmp_path / "v3.sqlite3"
    with store_at(path) as s:
        open_fictional(s, decision_by={"name": "Lee Madeup", "role": "Team manager"})
    with sqlite3.connect(path) as conn:  # as schema 3 left it
        conn.execute("DROP INDEX disclosures_seq_digest")
        conn.execute("CREATE INDEX disclosures_seq ON disclosures (seq)")
        conn.execute("PRAGMA user_version = 3")

    def refuse(self, current):
        raise StoreError(f"the store {self.path} is read-only", hint="Check the file's permissions.")

    monkeypatch.setattr(Store, "_migrate", refuse)
    with store_at(path, readonly=True) as ro:
        assert ro.conn.execute("PRAGMA user_version").fetchone()[0] == 3
        assert verify.verify_store(ro).ok
        assert [s.state.challenge for s in journal.summaries(ro)] == ["C-0001"]
        assert ro.whole_log_chunk_sql(False) is None  # no index to walk: exports ask for the order instead


def _contact(store, challenge, name, at):
    return journal.record(
        store,
        SETTINGS,
        challenge,
        "contact",
        {
            "direction": "made",
            "medium": "phone",
            "with": {"name": name, "role": "Social worker"},
            "summary": "Asked for the strategy discussion notes",
        },
        at=at,
    )


def test_a_person_named_again_in_a_challenge_keeps_one_disclosure_and_other_challenges_get_other_digests(store):
    first = open_fictional(store)
    again = _contact(store, first.challenge, "Sam Fictional", "2026-11-16T10:00")
    twice = _contact(store, first.challenge, "Sam Fictional", "2026-11-16T11:00")
    other = open_fictional(store, case_ref="Child R (fictional)")
    elsewhere = _contact(store, other.challenge, "Sam Fictional", "2026-11-16T12:00")

    def digests(e):
        return {
            k: v["_sd"]
            for k, v in (
                ("author", stored_json(e)["author"]["name"]),
                ("with", stored_json(e)["data"].get("with", {}).get("name")),
            )
            if isinstance(v, dict)
        }

    assert digests(again) == digests(twice)  # the same people, the same digests
    assert digests(first)["author"] == digests(again)["author"]
    assert digests(elsewhere)["with"] != digests(again)["with"]  # not linkable across challenges
    assert digests(elsewhere)["author"] != digests(again)["author"]
    per_entry = dict(store.conn.execute("SELECT seq, count(*) FROM disclosures GROUP BY seq").fetchall())
    # opening: case ref, author, their login and the procedure's folder; first contact: the social
    # worker; second contact: nothing new
    assert per_entry == {first.seq: 4, again.seq: 1, other.seq: 4, elsewhere.seq: 1}
    # a page of the chronology that starts after the first naming still shows the names
    page = journal.chronology(store, first.challenge, after=2)
    assert [(i.author["name"], i.data["with"]["name"]) for i in page] == [("Alex Example", "Sam Fictional")]
    from escalate import verify

    report = verify.verify_store(store)
    assert report.ok and report.disclosures == 10


def test_disclosure_salts_are_keyed_by_a_secret_of_the_store(tmp_path):
    """Two stores naming the same person in the same challenge id give different digests: without the
    store's key, a digest cannot be matched against a list of likely names."""
    with store_at(tmp_path / "a.sqlite3") as a, store_at(tmp_path / "b.sqlite3") as b:
        ea, eb = open_fictional(a), open_fictional(b)
        assert ea.challenge == eb.challenge
        assert stored_json(ea)["data"]["case_ref"] != stored_json(eb)["data"]["case_ref"]
        key_a = a.conn.execute("SELECT value FROM meta WHERE key = 'disclosure_key'").fetchone()[0]
        assert len(bytes.fromhex(key_a)) == 32


def test_an_older_store_gets_a_disclosure_key_and_its_old_entries_still_verify(tmp_path):
    from escalate import verify

    path = _first_release_store(tmp_path / "v1.sqlite3")
    with store_at(path) as s:
        old = open_fictional(s)
    with sqlite3.connect(path) as conn:  # as a schema-2 store left it: no key yet
        conn.execute("DELETE FROM meta WHERE key = 'disclosure_key'")
        conn.execute("PRAGMA user_version = 2")
    with store_at(path) as s:
        assert s.conn.execute("SELECT count(*) FROM meta WHERE key = 'disclosure_key'").fetchone()[0] == 1
        new = _contact(s, old.challenge, "Sam Fictional", "2026-11-16T10:00")
        assert stored_json(new)["data"]["with"]["name"]["_sd"]
        assert verify.verify_store(s).ok


def test_a_store_in_a_folder_named_with_uri_characters_opens_and_verifies(tmp_path):
    """'?', '#' and '%' in a folder name would end or change an SQLite URI: they are escaped."""
    from escalate import verify

    path = tmp_path / "odd ?#% name" / "log.sqlite3"
    with store_at(path) as s:
        open_fictional(s)
    assert path.exists() and not (tmp_path / "odd ").exists()
    with store_at(path, readonly=True) as s:
        assert s.count() == 1
        for parallel_from in (verify.PARALLEL_FROM, 1):
            verify.PARALLEL_FROM, saved = parallel_from, verify.PARALLEL_FROM
            try:
                assert verify.verify_store(s).ok
            finally:
                verify.PARALLEL_FROM = saved


def test_details_list_every_field_of_an_entry_with_corrections_marked(store):
    from escalate import clock

    first = open_fictional(store)
    contact = _contact(store, first.challenge, "Sam Fictional", "2026-11-16T10:00")
    journal.amend(
        store,
        SETTINGS,
        first.challenge,
        contact.cseq,
        "summary",
        "Asked for the notes again",
        "typo",
        at="2026-11-16T11:00",
    )
    items = journal.chronology(store, first.challenge)
    opened = dict(journal.details(items[0], "Europe/London"))
    assert opened["concern"] == "Bruising seen twice in a week" and opened["case ref"] == "Child Q (fictional)"
    assert "procedure text" not in opened  # shown as the ladder, not as 20,000 characters
    assert opened["by"] == "Alex Example, DSL, Fictional Primary School"
    assert opened["occurred"] == clock.show(clock.from_iso("2026-11-16T09:00:00.000000Z"), "Europe/London")
    rows = dict(journal.details(items[1]))
    assert rows["with"] == "Sam Fictional, Social worker"
    assert rows["summary"] == "Asked for the notes again [corrected; was: Asked for the strategy discussion notes]"
    assert rows["amended by"] == "#3" and rows["hash"] == contact.hash


def test_revealing_the_fields_that_can_be_sealed_equals_walking_the_whole_content():
    """entry.reveal_content looks only where escalate seals a value (a top-level data field, a person's
    name, the author's name); for every content parse_content accepts it must give what the walk of
    every value (entry.reveal) gives, for any values, known or withheld."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from escalate import entry

    tricky = st.sampled_from(['{"_sd":"', '"}', "\\", '"', "é", "\n", "(withheld)"])
    values = st.lists(st.one_of(st.text(max_size=6), tricky), max_size=6).map("".join)

    @settings(max_examples=200, deadline=None)
    @given(values, values, values, st.integers(0, 4))
    def check(author, someone, text, known_count):
        someone = someone.strip() or "y"
        kinds = {
            "contact": {"direction": "made", "medium": "phone", "summary": text or "s", "with": {"name": someone}},
            "opened": {
                **{k: "x" for k in ("procedure_id", "procedure_version", "procedure_fingerprint", "procedure_text")},
                **{"agency": "A", "decision": "NFA", "concern": text or "c", "route": "main"},
                **{"case_ref": someone, "subject_name": author or "z", "triggers": [text or "t"], "start_stage": 1},
                **{"immediate_risk": False, "decision_by": {"name": someone, "role": "TM"}},
            },
            "amendment": {"target_seq": 2, "field": "with.name", "new_value": "(see disclosure)", "reason": "r"},
        }
        kinds["amendment"]["corrected_name"] = someone
        for kind, data in kinds.items():
            disclosures = []
            content = {
                "author": entry.conceal({"name": author.strip() or "x", "role": "DSL"}, disclosures),
                "data": entry.conceal(data, disclosures),
                "occurred_at": "2026-11-02T09:00:00.000000Z",
                "recorded_at": "2026-11-02T09:00:00.000000Z",
            }
            entry.parse_content(kind, content)  # what escalate stores
            known = {d: entry.disclosed_value(b) for d, b in disclosures[:known_count]}
            assert entry.reveal_content(content, known, "(withheld)") == entry.reveal(content, known, "(withheld)")

    check()


@pytest.mark.parametrize(
    "damage",
    [
        "DELETE FROM meta WHERE key = 'disclosure_key'",
        "UPDATE meta SET value = 'not hex' WHERE key = 'disclosure_key'",
        "UPDATE meta SET value = '' WHERE key = 'disclosure_key'",
    ],
)
def test_a_missing_or_damaged_disclosure_key_is_replaced_and_nothing_before_changes(tmp_path, damage):
    from escalate import verify

    path = tmp_path / "log.sqlite3"
    with store_at(path) as s:
        first = open_fictional(s)
        before = _contact(s, first.challenge, "Sam Fictional", "2026-11-16T10:00")
    with sqlite3.connect(path) as conn:
        conn.execute(damage)
    with store_at(path) as s:
        after = _contact(s, first.challenge, "Sam Fictional", "2026-11-16T11:00")
        key = s.conn.execute("SELECT value FROM meta WHERE key = 'disclosure_key'").fetchone()[0]
        assert len(bytes.fromhex(key)) == 32
        assert s.entry(first.challenge, before.cseq).body == before.body
        assert verify.verify_store(s).ok
        names = [i.data["with"]["name"] for i in journal.chronology(s, first.challenge)[1:]]
        assert names == ["Sam Fictional", "Sam Fictional"] and after.seq == before.seq + 1


def test_the_outcomes_and_media_a_person_may_record_are_those_the_entry_models_hold():
    """entry.OUTCOMES and entry.MEDIA are spelled beside the entry bytes (reading bytes never loads
    pydantic); the kinds' models must hold exactly the same."""
    from typing import get_args

    from escalate import entry, entry_kinds

    def values(annotated):
        return get_args(get_args(annotated)[0])

    assert values(entry_kinds.Outcome) == entry.OUTCOMES
    assert values(entry_kinds.Medium) == entry.MEDIA


def test_reading_entry_bytes_does_not_load_pydantic():
    """verify (and its worker) and a jsonl export read bytes only: pydantic's 50 ms stays off them."""
    import subprocess
    import sys

    code = "import sys, escalate.verify, escalate.export_lines; print('pydantic' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_a_glance_counts_orders_and_filters_as_the_full_list_row_does(store, monkeypatch):
    """The dashboard counts, orders and filters 10,000 challenges by their glances and reads full rows
    only for the page it shows: a glance must say what the judged row says (overdue, next deadline)
    at any moment, through an agreed action, a step up and a resolution."""
    from escalate import challenge, clock

    monkeypatch.setattr(clock, "now", lambda: clock.from_iso("2026-12-20T12:00:00.000000Z"))
    first, second = open_fictional(store), open_fictional(store, case_ref="Child R (fictional)")
    third = open_fictional(store, case_ref="Child S (fictional)")
    contact = {"direction": "made", "medium": "phone", "summary": "Raised the concern"}
    journal.record(store, SETTINGS, first.challenge, "contact", contact, at="2026-11-16T10:00")
    action = {"action": "Send the notes", "due": "2026-11-25T12:00"}
    journal.record(store, SETTINGS, second.challenge, "action-agreed", action, at="2026-11-16T11:00")
    journal.step_up(store, SETTINGS, second.challenge, "no reply", at="2026-11-18T10:00")
    journal.record(store, SETTINGS, third.challenge, "resolved", {"outcome": "resolved", "rationale": "agreed"})
    glances = {g.challenge: g for g in journal.glances(store)}
    assert list(journal.case_refs(store, list(glances.values())).values()) == [
        "Child Q (fictional)",
        "Child R (fictional)",
        "Child S (fictional)",
    ]
    seen = set()
    for moment in ("2026-11-16T12:00", "2026-11-17T18:00", "2026-11-24T09:00", "2026-11-26T09:00", "2027-02-01T09:00"):
        now = clock.parse_time(moment)
        for view in journal.summaries(store, now=now):
            g = glances[view.state.challenge]
            assert g.overdue(now) == view.overdue, (moment, view.state.challenge)
            assert g.next_due == (view.next_deadline.due if view.next_deadline else None), moment
            assert g.is_open == view.state.is_open and g.agency == view.state.agency
            seen.add((view.overdue, view.next_deadline is not None))
    assert seen == {(False, False), (False, True), (True, True)}  # none timed, one due, one overdue
    # kept until the challenge's next entry, which makes its glance (and only its) stale
    key = journal._listing_key()
    assert all(text is not None for _, text in store.glances(key))
    journal.record(store, SETTINGS, first.challenge, "note", {"summary": "still waiting"})
    assert [text is None for _, text in store.glances(key)] == [True, False, False]
    assert [g.challenge for g in journal.glances(store)] == [first.challenge, second.challenge, third.challenge]
    assert all(text is not None for _, text in store.glances(key))
    # one that cannot be read (changed outside escalate) is worked out again
    before = journal.glances(store)
    store.conn.execute("DROP TRIGGER glances_no_update")  # (as someone with the file would)
    store.conn.execute("UPDATE glances SET glance = '{\"nonsense\": 1}' WHERE challenge = ?", (second.challenge,))
    assert challenge.load_glance(store.glances(key)[1][1] or "") is None
    assert journal.glances(store) == before
    assert challenge.load_glance(store.glances(key)[1][1] or "") is not None  # and kept again
