"""The team store on a real PostgreSQL server (started by the tests): what differs from the file store.
(What is the same is tested by running the same tests on both: see the ``backend`` fixture.)"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from escalate import journal, pgstore, verify
from escalate import settings as settings_mod
from escalate.errors import StoreError
from tests.logtools import SETTINGS, open_fictional

ROOT = Path(__file__).resolve().parents[2]


def _fill(location: str, notes: int = 3) -> None:
    with journal.store_at(location) as s:
        open_fictional(s, decision_by={"name": "Robin Madeup", "role": "Team manager"})
        open_fictional(s, case_ref="Child R (fictional)")
        for i in range(notes):
            journal.record(s, SETTINGS, f"C-000{1 + i % 2}", "note", {"summary": f"note {i}"})


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE entries SET kind = 'note' WHERE seq = 1",
        "DELETE FROM entries WHERE seq = 3",
        "TRUNCATE entries",
        "UPDATE disclosures SET bytes = 'x'",
        "DELETE FROM disclosures",
        "DELETE FROM challenges WHERE id = 'C-0002'",
        "UPDATE meta SET value = '0' WHERE key = 'schema'",
        "UPDATE state_cache SET state = '{}'",
        "DELETE FROM state_cache",
        "DELETE FROM glances",
    ],
)
def test_the_server_refuses_any_change_to_the_log_even_from_its_owner(team_url, sql):
    _fill(team_url)
    with journal.store_at(team_url) as s:
        journal.summaries(s)  # (list rows and glances cached)
        before = s.head()
    with psycopg.connect(team_url, autocommit=True) as conn:  # the superuser who owns the tables
        with pytest.raises(psycopg.errors.RaiseException, match="escalate:"):
            conn.execute(sql)
    with journal.store_at(team_url) as s:
        assert s.head() == before and verify.verify_store(s).ok


def test_a_desk_store_copied_into_a_team_store_keeps_every_hash(isolated_home, team_url, run_cli):
    settings_mod.save(SETTINGS)
    desk = str(isolated_home / "escalate.sqlite3")
    _fill(desk)
    assert run_cli("export", "--all", "-o", isolated_home / "desk.jsonl")[0] == 0
    code, out, err = run_cli("store", "copy", "--to", team_url)
    assert code == 0, err
    with journal.store_at(desk) as s:
        fingerprint = verify.verify_store(s).fingerprint
    assert f"head fingerprint is {fingerprint}" in out
    # every challenge's caches came with it, current and as the log says (the copy's first readers,
    # who may not keep caches, fold nothing again)
    with psycopg.connect(team_url) as conn:
        cached = conn.execute(
            "SELECT count(*) FROM challenges c JOIN state_cache s ON s.challenge = c.id JOIN glances g "
            "ON g.challenge = c.id WHERE s.cseq = (SELECT max(cseq) FROM entries e WHERE e.challenge = c.id) "
            "AND s.listing IS NOT NULL AND g.cseq = s.cseq"
        ).fetchone()[0]
        assert cached == conn.execute("SELECT count(*) FROM challenges").fetchone()[0] > 0
    with journal.store_at(team_url) as team:
        assert journal.cache_problem(team) is None
        assert verify.verify_store(team).fingerprint == fingerprint
        # the same people keep their digests: a contact naming Robin again discloses nothing new
        count = len(team.disclosures_by_seq())
        journal.record(
            team,
            SETTINGS,
            "C-0001",
            "contact",
            {
                "direction": "made",
                "medium": "phone",
                "summary": "again",
                "with": {"name": "Robin Madeup", "role": "Team manager"},
            },
        )
        assert len(team.disclosures_by_seq()) == count
    # entries exported from either store are the same lines, checked by the same verifier
    assert run_cli("--store", team_url, "export", "--all", "-o", isolated_home / "team.jsonl")[0] == 0
    desk_lines = (isolated_home / "desk.jsonl").read_text().splitlines()[1:]
    team_lines = (isolated_home / "team.jsonl").read_text().splitlines()[1 : len(desk_lines) + 1]
    assert desk_lines == team_lines
    assert verify.verify_file(isolated_home / "team.jsonl").ok


def test_store_copy_refuses_a_team_store_that_holds_entries(isolated_home, team_url, run_cli):
    settings_mod.save(SETTINGS)
    _fill(str(isolated_home / "escalate.sqlite3"))
    _fill(team_url, notes=1)
    code, out, err = run_cli("store", "copy", "--to", team_url)
    assert code == 3 and "already holds entries" in err and "Traceback" not in err
    with journal.store_at(team_url) as team:
        assert team.count() == 3


def test_store_copy_refuses_a_desk_store_that_does_not_verify(isolated_home, team_url, run_cli):
    import sqlite3

    settings_mod.save(SETTINGS)
    desk = isolated_home / "escalate.sqlite3"
    _fill(str(desk))
    conn = sqlite3.connect(desk)
    conn.execute("DROP TRIGGER entries_no_update")
    conn.execute(
        "UPDATE entries SET body = CAST(replace(CAST(body AS TEXT), 'note 1', 'note 9') AS BLOB) WHERE seq = 4"
    )
    conn.commit()
    conn.close()
    code, out, err = run_cli("store", "copy", "--to", team_url)
    assert code == 3 and "does not verify" in err
    with journal.store_at(team_url) as team:
        assert team.count() == 0


@pytest.mark.parametrize(
    "argv,says,code",
    [
        (["--store", "sqlite:///x.db", "list"], "--store needs a PostgreSQL URL", 2),
        (["team", "init", "/tmp/file.db"], "team init needs a PostgreSQL URL", 2),
        (["store", "copy", "--to", "x"], "store copy --to needs a PostgreSQL URL", 2),
        (["--store", "postgresql:///nodb?host=/nonexistent", "list"], "cannot connect to the team store nodb", 3),
        (["--store", "postgresql://[bad", "list"], "", 3),
        (["team", "list"], "no team store named", 2),
        (["team"], "team needs an action", 2),
        (["store"], "store needs an action", 2),
        (
            [
                "--store",
                "postgresql:///x",
                "team",
                "add-person",
                "--login",
                "bad name!",
                "--name",
                "A",
                "--role",
                "B",
                "--setting",
                "C",
                "--group",
                "dsl",
            ],
            "is not a login name",
            2,
        ),
        (
            [
                "--store",
                "postgresql:///x",
                "team",
                "add-person",
                "--login",
                "ann",
                "--name",
                "A\nB",
                "--role",
                "B",
                "--setting",
                "C",
                "--group",
                "dsl",
            ],
            "--name must be one line",
            2,
        ),
    ],
)
def test_a_bad_store_url_is_named_not_a_traceback(run_cli, argv, says, code):
    got, out, err = run_cli(*argv)
    assert got == code and says in err and "Traceback" not in err


def test_a_database_without_a_store_says_so_and_team_init_makes_one_once(pg_cluster, run_cli):
    url = pg_cluster.database()
    got, _, err = run_cli("--store", url, "list")
    assert got == 3 and "holds no escalate store" in err and "team init" in err
    assert run_cli("team", "init", url)[0] == 0
    got, _, err = run_cli("team", "init", url)
    assert got == 3 and "already holds an escalate store" in err
    assert run_cli("--store", url, "list")[0] == 0


WRITER = """
import os, sys
from escalate import journal
from escalate.settings import Settings
me = Settings(name=sys.argv[1], role="Deputy DSL", setting="Fictional Primary School")
with journal.open_store() as s:
    for i in range(int(sys.argv[2])):
        e = journal.record(s, me, sys.argv[3], "note", {"summary": f"{sys.argv[1]} {i}"})
        print(e.seq, flush=True)
"""


def _writer(url: str, name: str, n: int, challenge: str) -> subprocess.Popen[str]:
    env = dict(os.environ, ESCALATE_STORE=url, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, name, str(n), challenge], env=env, stdout=subprocess.PIPE, text=True
    )


def test_people_at_several_desks_make_one_chain(team_url):
    """Six deputies, each signed in as themselves, recording on the same two challenges at once: every
    append is checked (who, where, and against the challenge's last entry) before the append lock,
    so most find the challenge moved on meanwhile and are made again; none is lost or doubled."""
    _fill(team_url, notes=0)
    for i in range(6):
        pgstore.add_person(team_url, f"deputy{i}", f"Deputy {i}", "Deputy DSL", "Fictional Primary School", "dsl", [])
    logins = [team_url.replace("user=postgres", f"user=deputy{i}") for i in range(6)]
    writers = [_writer(url, f"Deputy {i}", 25, f"C-000{1 + i % 2}") for i, url in enumerate(logins)]
    acknowledged = []
    for w in writers:
        out, _ = w.communicate(timeout=120)
        assert w.returncode == 0
        acknowledged += [int(x) for x in out.split()]
    assert sorted(acknowledged) == list(range(3, 3 + 6 * 25))  # each number once: one chain, none lost
    with journal.store_at(team_url) as s:
        report = verify.verify_store(s)
        assert report.ok and report.count == 2 + 6 * 25
        said = {
            (json.loads(e.body.split(b"\n", 1)[1])["data"]["summary"].rsplit(" ", 1)[0], str(login))
            for e, (login,) in zip(
                s.entries(None)[2:], s.conn.execute("SELECT author_login FROM entries WHERE seq > 2 ORDER BY seq")
            )
        }
        assert said == {(f"Deputy {i}", f"deputy{i}") for i in range(6)}  # each entry its own person's


def test_a_writer_killed_at_any_moment_loses_no_acknowledged_entry(team_url):
    _fill(team_url, notes=0)
    rng = random.Random(17)
    acknowledged: set[int] = set()
    for trial in range(12):
        w = _writer(team_url, f"Deputy {trial}", 10_000, "C-0001")
        time.sleep(rng.uniform(0.3, 1.0))
        os.kill(w.pid, signal.SIGKILL)
        out, _ = w.communicate(timeout=30)
        acknowledged |= {int(x) for x in out.split()}
    with journal.store_at(team_url) as s:
        report = verify.verify_store(s)
        assert report.ok
        stored = {e.seq for e in s.entries(None)}
    assert acknowledged and acknowledged <= stored


def test_the_store_in_use_is_named_in_messages_without_its_password(pg_cluster):
    assert "secret" not in pgstore.shown_url("postgresql://dsl:secret@school.example/escalate")
    assert pgstore.shown_url("postgresql://dsl:secret@school.example/escalate") == (
        "team store escalate on school.example"
    )


def test_the_settings_can_name_the_team_store(team_url, run_cli):
    code, _, err = run_cli("config", "set", "store", "/srv/escalate.sqlite3")
    assert code == 2 and "not a PostgreSQL URL" in err
    assert run_cli("config", "set", "store", team_url)[0] == 0
    settings_mod.save(SETTINGS._replace(store=team_url))  # (an administrator records under the settings' name)
    assert (
        run_cli(
            *[
                "open",
                "--procedure",
                "lincolnshire-joint",
                "--trigger",
                "disputed-referral",
                "--case-ref",
                "Child Q (fictional)",
                "--agency",
                "Northtown CSC",
                "--decision",
                "NFA",
                "--concern",
                "x",
            ]
        )[0]
        == 0
    )
    with journal.store_at(team_url) as s:
        assert s.count() == 1  # recorded in the team store, not a file
    code, out, err = run_cli("store", "copy", "--to", team_url)
    assert code == 2 and "not a team store" in err


def test_libpqs_own_environment_says_where_the_server_is(team_url, run_cli, monkeypatch):
    """A URL naming only the database: libpq's PGHOST and PGUSER say the rest (and a service file or
    ~/.pgpass would, the same way)."""
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(team_url)
    query = parse_qs(parts.query)
    monkeypatch.setenv("PGHOST", query["host"][0])
    monkeypatch.setenv("PGUSER", query["user"][0])
    settings_mod.save(SETTINGS)
    code, out, err = run_cli("--store", f"postgresql://{parts.path}", "verify")
    assert code == 0 and "OK 0 entries" in out, err


@pytest.mark.parametrize(
    "sql,says",
    [
        ("UPDATE entries SET body = overlay(body PLACING 'x' FROM length(body) - 3) WHERE seq = 4", "entry 4"),
        ("UPDATE disclosures SET bytes = overlay(bytes PLACING 'x' FROM 5) WHERE seq = 1", "disclosed personal field"),
        ("DELETE FROM entries WHERE seq = 3", "entry 4"),
        # two entries' bytes and hashes swapped, each whole: the chain no longer runs through them
        (
            "UPDATE entries e SET body = o.body, hash = o.hash FROM entries o WHERE (e.seq, o.seq) IN ((3, 4), (4, 3))",
            "entry 3",
        ),
        ("UPDATE entries SET kind = 'resolved' WHERE seq = 5", "entry 5"),  # a column, not the bytes
        ("UPDATE entries SET cseq = 9 WHERE seq = 5", "entry 5"),
        ("UPDATE entries SET hash = repeat('0', 64) WHERE seq = 5", "entry 5"),
    ],
)
def test_verify_of_a_team_store_names_what_its_administrator_changed(team_url, run_cli, sql, says):
    """Only someone who can switch the triggers off (the server's administrator) can change the log;
    verify still catches it, and names it."""
    _fill(team_url)
    with psycopg.connect(team_url, autocommit=True) as conn:
        table = sql.split()[1] if sql.startswith("UPDATE") else sql.split()[2]
        conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        conn.execute(sql)
    code, out, err = run_cli("--store", team_url, "verify")
    assert code == 1 and "FAILED" in out and says in out, out + err


def _exits(code):
    """A worker's work that ends its process without an answer."""
    os._exit(code)


@pytest.mark.parametrize(
    "tamper,says",
    [
        ("", None),
        ("UPDATE entries SET body = overlay(body PLACING 'x' FROM length(body) - 3) WHERE seq = 6", "entry 6"),
        ("UPDATE entries SET body = overlay(body PLACING 'x' FROM length(body) - 3) WHERE seq = 2", "entry 2"),
        ("UPDATE entries SET challenge = 'C-0009' WHERE seq = 8", "entry 8"),
        ("UPDATE disclosures SET bytes = overlay(bytes PLACING 'x' FROM 5) WHERE seq = 1", "disclosed personal field"),
        # a disclosure moved past the head, or to no entry: no span reads it, and it is checked all the same
        ("UPDATE disclosures SET bytes = overlay(bytes PLACING 'x' FROM 5), seq = 99 WHERE seq = 1", "disclosed"),
        ("UPDATE disclosures SET bytes = overlay(bytes PLACING 'x' FROM 5), seq = 0 WHERE seq = 2", "disclosed"),
        # a digest split by a comma, which the batch's joined digests would hide
        ("UPDATE disclosures SET digest = overlay(digest PLACING ',' FROM 30) WHERE seq = 1", "disclosed"),
    ],
)
def test_a_big_team_store_is_checked_in_two_halves_with_the_same_answers(team_url, monkeypatch, tamper, says):
    """Past PARALLEL_FROM entries a worker process checks the second half on a connection of its own:
    exactly the answers of the one-process check, the same tampering caught."""
    _fill(team_url, notes=6)
    if tamper:
        with psycopg.connect(team_url, autocommit=True) as conn:
            conn.execute("ALTER TABLE entries DISABLE TRIGGER USER")
            conn.execute("ALTER TABLE disclosures DISABLE TRIGGER USER")
            conn.execute(tamper)
    with journal.store_at(team_url, readonly=True) as store:
        inline = verify.verify_store(store)
    monkeypatch.setattr(verify, "PARALLEL_FROM", 1)
    spawned = []
    real = verify.parallel.beside

    def counting(work, *args):
        spawned.append((work, args))
        return real(work, *args)

    monkeypatch.setattr(verify.parallel, "beside", counting)
    with journal.store_at(team_url, readonly=True) as store:
        split = verify.verify_store(store)
    assert spawned == [(verify.check_team_span, (team_url, 5, 8))]  # entries 5-8 beside
    assert split == inline
    assert split.ok is (says is None), split
    if says is None:
        assert split.count == 8 and split.disclosures > 0
    else:
        assert says in split.problem
    # a worker that ends without an answer: its half is checked here, never assumed
    monkeypatch.setattr(verify.parallel, "beside", lambda work, *args: real(_exits, 3))
    with journal.store_at(team_url, readonly=True) as store:
        assert verify.verify_store(store) == inline


def test_a_copied_log_and_what_is_recorded_later_are_found_by_search(isolated_home, team_url, run_cli):
    """The team store's search table is caught up with the log by a store copy, and when someone
    searches (appends do not wait for it): a desk's log copied in, an entry recorded since, and a
    read-only session all find."""
    from escalate import search

    settings_mod.save(SETTINGS)
    _fill(str(isolated_home / "escalate.sqlite3"))
    assert run_cli("store", "copy", "--to", team_url)[0] == 0
    with psycopg.connect(team_url) as conn:  # indexed by the copy: the first search does not wait
        assert conn.execute("SELECT count(*) FROM search_text").fetchone()[0] == 5
    with journal.store_at(team_url) as s:
        assert [f.challenge for f in search.find(s, "Madeup")] == ["C-0001"]  # a disclosed name
        assert [f.challenge for f in search.find(s, "Child Q")] == ["C-0001"]
        journal.record(s, SETTINGS, "C-0001", "note", {"summary": "Strategy meeting arranged"})
    with journal.store_at(team_url, readonly=True) as s:
        assert [f.challenge for f in search.find(s, "strategy")] == ["C-0001"]
    with psycopg.connect(team_url) as conn:
        indexed, entries = conn.execute("SELECT (SELECT count(*) FROM search_text), max(seq) FROM entries").fetchone()
        assert indexed == entries == 6  # each entry once, however often searched


def test_a_list_row_is_never_older_than_the_challenges_last_entry(team_url, monkeypatch):
    """A team store keeps a challenge's fold and list row after the append's commit, not in it: a desk
    killed in between (or one that keeps folds later) must not leave colleagues a list row of the
    challenge as it was before its last entry."""
    _fill(team_url, notes=0)
    with journal.store_at(team_url) as s:
        before = {v.state.challenge: v for v in journal.summaries(s)}  # list rows kept for both
        assert before["C-0001"].state.stage == 1
    monkeypatch.setattr(pgstore.PgStore, "_keep", lambda self, *a: None)  # the desk dies before keeping
    monkeypatch.setattr(pgstore.PgStore, "close", lambda self: self.conn.close())
    with journal.store_at(team_url) as s:
        journal.step_up(s, SETTINGS, "C-0001", "no reply in time")
    monkeypatch.undo()
    with journal.store_at(team_url) as s:
        assert {v.state.challenge: v.state.stage for v in journal.summaries(s)} == {"C-0001": 2, "C-0002": 1}
        assert [v.state.stage for v in journal.list_views(s, ["C-0001"])] == [2]
        assert journal.cache_problem(s) is None


@pytest.mark.parametrize("state", ["[]", "null", '{"late": 3, "backwards": "x"}', '{"late": [], "backwards": 1.5}'])
def test_a_cached_fold_of_another_shape_leaves_the_warnings_to_the_log(team_url, run_cli, state):
    """verify's warnings are read from each challenge's cached fold; one changed to another shape is
    not read (nor does it stop verify): the warnings come from the log, folded again. (Nothing reads
    a cache that is not a fold: every reader folds the log again, so the full verify has nothing to
    name either.)"""
    _fill(team_url, notes=0)  # (both opened weeks after they say they happened: late entries)
    with journal.store_at(team_url) as s:
        journal.summaries(s)  # (every fold kept)
    with psycopg.connect(team_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE state_cache DISABLE TRIGGER USER")
        conn.execute("UPDATE state_cache SET state = %s WHERE challenge = 'C-0001'", (state,))
    code, out, err = run_cli("--store", team_url, "verify", "--chain-only")
    assert code == 0 and out.startswith("OK 2 entries"), out + err
    assert "C-0001: 1 entry recorded more than 24 hours after" in err
    assert "C-0002: 1 entry recorded more than 24 hours after" in err
    code, out, err = run_cli("--store", team_url, "verify")
    assert code == 0 and "C-0001: 1 entry recorded more than 24 hours after" in err, out + err
    with journal.store_at(team_url) as s:
        assert [v.state.challenge for v in journal.summaries(s)] == ["C-0001", "C-0002"]


def test_a_changed_cache_of_a_team_store_is_caught_by_either_process(team_url, run_cli, monkeypatch):
    """verify checks a big team store's caches in two halves, the second by a worker on a connection of
    its own: a cached fold its administrator changed is caught in either half."""
    from escalate import journal as journal_mod

    _fill(team_url, notes=4)
    with journal.store_at(team_url) as s:
        journal.summaries(s)  # (every cache kept)
    monkeypatch.setattr(journal_mod, "CACHES_BESIDE", 1)
    spawned = []
    real = verify.parallel.beside
    monkeypatch.setattr(verify.parallel, "beside", lambda work, *a: spawned.append(work) or real(work, *a))
    code, out, err = run_cli("--store", team_url, "verify")
    assert code == 0, out + err
    assert journal_mod._caches_problem_at in spawned
    for challenge in ("C-0002", "C-0001"):  # the worker's half, then this process's
        with psycopg.connect(team_url, autocommit=True) as conn:
            conn.execute("ALTER TABLE state_cache DISABLE TRIGGER USER")
            conn.execute(
                'UPDATE state_cache SET state = replace(state, \'"status":"open"\', \'"status":"resolved"\') '
                "WHERE challenge = %s",
                (challenge,),
            )
        code, out, err = run_cli("--store", team_url, "verify")
        assert code == 1 and f"challenge {challenge}: its cached folded state is not what its entries say" in out
        with psycopg.connect(team_url, autocommit=True) as conn:
            conn.execute("DELETE FROM state_cache WHERE challenge = %s", (challenge,))  # worked out again
            conn.execute("ALTER TABLE state_cache ENABLE TRIGGER USER")


def test_a_desk_connects_again_after_the_server_drops_it(team_url):
    """The server drops the desk's connection (restarted overnight, say): the step that finds it lost
    says so, and does not claim nothing was saved; the next step connects again and works."""
    _fill(team_url, notes=1)
    with journal.store_at(team_url) as s:
        pid = s.conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        with psycopg.connect(team_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(StoreError, match="lost the connection") as lost:
            journal.record(s, SETTINGS, "C-0001", "note", {"summary": "after the restart"})
        assert "may have been saved whole" in (lost.value.hint or "")
        journal.record(s, SETTINGS, "C-0001", "note", {"summary": "after the restart"})
        assert s.conn.execute("SELECT pg_backend_pid()").fetchone()[0] != pid
        assert [e.cseq for e in s.entries("C-0001")] == [1, 2, 3] and verify.verify_store(s).ok


def test_a_copy_whose_caches_cannot_be_made_is_still_whole_and_says_so(isolated_home, team_url, run_cli, monkeypatch):
    """Making the caches after the copy saves the team's first readers time; if it fails, the copy (done
    and verified) stands, and the administrator is told what will happen instead."""
    settings_mod.save(SETTINGS)
    _fill(str(isolated_home / "escalate.sqlite3"))

    def cannot(source, target):
        raise StoreError("the server went away")

    monkeypatch.setattr(journal, "keep_caches_of", cannot)
    code, out, err = run_cli("store", "copy", "--to", team_url)
    assert code == 0 and "copied 5 entries" in out
    assert "the server went away" in err and "the copy is whole and verified" in err
    with journal.store_at(team_url) as team:
        assert verify.verify_store(team).ok and len(journal.summaries(team)) == 2


def test_a_team_store_cut_short_fails_against_the_fingerprint_the_auditor_holds(team_url, run_cli):
    """Entries removed from the end leave a chain that holds: the fingerprint an auditor noted says so."""
    _fill(team_url)
    code, out, _ = run_cli("--store", team_url, "verify")
    fingerprint = out.split("head fingerprint ")[1].split()[0].rstrip(";")
    with psycopg.connect(team_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE entries DISABLE TRIGGER USER")
        conn.execute("DELETE FROM entries WHERE seq = 5")
    assert run_cli("--store", team_url, "verify")[0] == 0  # the four left still make a chain
    code, out, _ = run_cli("--store", team_url, "verify", "--expect", fingerprint)
    assert code == 1 and "entries were removed from the end" in out
