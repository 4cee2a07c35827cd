"""People and permissions on a team store, tried with real logins on a real server: a DSL sees and
records only in their setting, a lead everywhere, an auditor reads and never writes, and nobody
changes the log or writes another person's name."""

from __future__ import annotations

import json

import psycopg
import pytest

from escalate import entry, journal, pgstore, verify
from escalate.errors import EscalateError, StoreError
from escalate.settings import Settings
from tests.helpers import dashboard_loaded

PEOPLE = [
    ("ann", "Ann Example", "DSL", "Fictional Primary A", "dsl"),
    ("bea", "Bea Example", "DSL", "Fictional Primary B", "dsl"),
    ("lee", "Lee Example", "Trust safeguarding lead", "Fictional Trust", "lead"),
    ("aud", "Ade Example", "Partnership auditor", "Fictional Partnership", "auditor"),
]
OPEN = [
    "open",
    "--procedure",
    "lincolnshire-joint",
    "--trigger",
    "disputed-referral",
    "--case-ref",
    "Child A1 (fictional)",
    "--agency",
    "Northtown CSC",
    "--decision",
    "No further action",
    "--concern",
    "Bruising seen twice",
]


def as_login(url: str, login: str) -> str:
    return url.replace("user=postgres", f"user={login}")


@pytest.fixture
def team(team_url, run_cli):
    """A team store with four people, and one challenge opened by Ann at setting A."""
    for login, name, role, setting, group in PEOPLE:
        code, out, err = run_cli(
            "--store", team_url, "team", "add-person", "--login", login, "--name", name, "--role", role,
            "--setting", setting, "--group", group,
        )  # fmt: skip
        assert code == 0, err
    code, out, err = run_cli("--store", as_login(team_url, "ann"), *OPEN)
    assert code == 0, err
    return team_url


def add_ada(team: str, run_cli) -> None:
    """A deputy of Ann's setting."""
    code, _, err = run_cli(
        "--store", team, "team", "add-person", "--login", "ada", "--name", "Ada Example", "--role", "Deputy DSL",
        "--setting", "Fictional Primary A", "--group", "dsl",
    )  # fmt: skip
    assert code == 0, err


def test_team_list_names_everyone_and_their_group(team, run_cli):
    code, out, _ = run_cli("--store", team, "team", "list")
    assert code == 0
    for login, name, role, setting, group in PEOPLE:
        assert f"{login}: {name}, {role}, {setting}; {group}" in out


def test_the_author_of_an_entry_is_the_person_signed_in_not_the_settings_file(team, run_cli):
    # the settings file names nobody, or somebody else: the database's person is the author
    run_cli("config", "set", "name", "Someone Else")
    run_cli("config", "set", "role", "Caretaker")
    assert run_cli("--store", as_login(team, "ann"), "record", "1", "note", "--summary", "seen again")[0] == 0
    code, out, _ = run_cli("--store", as_login(team, "ann"), "show", "1", "--json")
    chronology = __import__("json").loads(out)["chronology"]
    assert {(c["author"]["name"], c["author"]["role"]) for c in chronology} == {("Ann Example", "DSL")}


def test_a_dsl_of_another_setting_cannot_read_list_export_or_record_it(team, run_cli, tmp_path):
    bea = as_login(team, "bea")
    code, out, _ = run_cli("--store", bea, "list")
    assert code == 0 and "C-0001" not in out and "No challenges" in out
    for argv in (
        ["show", "1"],
        ["record", "1", "note", "--summary", "not mine"],
        ["step-up", "1", "--reason", "not mine"],
        ["export", "1", "-o", str(tmp_path / "x.jsonl")],
    ):
        code, out, err = run_cli("--store", bea, *argv)
        assert code == 2 and "no challenge" in err and "Traceback" not in err, argv
    code, _, err = run_cli("--store", bea, "export", "--all", "-o", str(tmp_path / "all.jsonl"))
    assert code != 0 and "no challenges" in err
    with journal.store_at(bea) as s:  # the tables themselves answer nothing of setting A
        assert s.conn.execute("SELECT count(*) FROM entries").fetchone()[0] == 0
        assert s.conn.execute("SELECT count(*) FROM disclosures").fetchone()[0] == 0
        assert s.conn.execute("SELECT count(*) FROM state_cache").fetchone()[0] == 0


def test_a_lead_reads_and_records_in_every_setting(team, run_cli):
    lee = as_login(team, "lee")
    assert "C-0001" in run_cli("--store", lee, "list")[1]
    assert run_cli("--store", lee, "record", "1", "note", "--summary", "reviewed by the trust")[0] == 0


def test_a_lead_records_on_a_challenge_the_administrator_opened_without_a_setting(team, run_cli):
    """The administrator's own desk (whose settings name no setting) opened it, as a copied desk's
    entries may have been: no DSL's setting holds it, and a lead still records on it."""
    assert run_cli("config", "set", "name", "Alex Example")[0] == 0
    assert run_cli("config", "set", "role", "Administrator")[0] == 0
    code, out, err = run_cli("--store", team, *OPEN)
    assert code == 0 and out.strip() == "C-0002", err
    assert "C-0002" not in run_cli("--store", as_login(team, "ann"), "list")[1]
    code, _, err = run_cli("--store", as_login(team, "lee"), "record", "2", "note", "--summary", "seen by the trust")
    assert code == 0, err
    with journal.store_at(team) as s:
        rows = s.conn.execute("SELECT author_login, setting FROM entries WHERE challenge = 'C-0002' ORDER BY seq")
        assert [tuple(r) for r in rows] == [("postgres", None), ("lee", None)]


def test_an_administrator_who_is_also_a_person_records_as_that_person(team, run_cli):
    """A small team's administrator may also be one of its people (here the server's own superuser,
    added as a lead): their entries are checked and recorded as that person's."""
    code, _, err = run_cli(
        "--store", team, "team", "add-person", "--login", "postgres", "--name", "Pat Example",
        "--role", "Trust safeguarding lead", "--setting", "Fictional Trust", "--group", "lead",
    )  # fmt: skip
    assert code == 0, err
    code, _, err = run_cli("--store", team, "record", "1", "note", "--summary", "reviewed by the trust")
    assert code == 0, err
    code, out, _ = run_cli("--store", team, "show", "1", "--json")
    assert json.loads(out)["chronology"][-1]["author"]["name"] == "Pat Example"
    with journal.store_at(team) as s:
        row = s.conn.execute("SELECT author_login, setting FROM entries WHERE seq = 2").fetchone()
        assert tuple(row) == ("postgres", "Fictional Primary A") and verify.verify_store(s).ok


def test_an_auditor_reads_everything_and_cannot_record(team, run_cli):
    aud = as_login(team, "aud")
    assert "C-0001" in run_cli("--store", aud, "list")[1]
    code, out, err = run_cli("--store", aud, "record", "1", "note", "--summary", "an auditor's note")
    assert code == 3 and "no right" in err and "Traceback" not in err
    code, out, _ = run_cli("--store", aud, "verify")
    assert code == 0 and "OK 1 entries" in out


def test_an_auditor_named_to_some_settings_sees_only_those(team, run_cli):
    code, _, err = run_cli(
        "--store", team, "team", "add-person", "--login", "aub", "--name", "Abe Example", "--role", "Auditor",
        "--setting", "Fictional Partnership", "--group", "auditor", "--sees", "Fictional Primary B",
    )  # fmt: skip
    assert code == 0, err
    assert "C-0001" not in run_cli("--store", as_login(team, "aub"), "list")[1]


@pytest.mark.parametrize("login", ["ann", "lee", "aud"])
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE entries SET kind = 'note'",
        "DELETE FROM entries",
        "TRUNCATE entries",
        "UPDATE disclosures SET seq = 0",
        "DELETE FROM challenges",
        "UPDATE people SET name = 'x'",
        "UPDATE state_cache SET cseq = 0",
        "INSERT INTO state_cache VALUES ('C-0001', 9, '{}', NULL, NULL)",
        "DELETE FROM glances",
        "UPDATE meta SET value = 'x'",
        "DELETE FROM meta",
        "INSERT INTO people (login, name, role, setting, grp) VALUES ('eve', 'Eve', 'DSL', 'A', 'lead')",
        "UPDATE person_keys SET public_key = 'ssh-ed25519 AAAA'",
        "DELETE FROM person_keys",
        "INSERT INTO person_keys (login, public_key) VALUES ('ann', 'ssh-ed25519 AAAA')",
        "UPDATE search_text SET words = ''",
        "DELETE FROM search_text",
        "INSERT INTO search_text (seq, challenge, words) VALUES (999, 'C-0001', 'x')",
        # people record through escalate_append alone, never by INSERT
        "INSERT INTO entries (seq, challenge, cseq, kind, occurred_at, recorded_at, body, hash) "
        "VALUES (2, 'C-0001', 2, 'note', 'x', 'x', '\\x00', 'x')",
        "INSERT INTO disclosures VALUES ('" + "1" * 64 + "', 1, '\\x00')",
        "INSERT INTO challenges (id, opened_seq) VALUES ('C-0002', 2)",
    ],
)
def test_no_application_role_may_change_the_log(team, login, sql):
    with psycopg.connect(as_login(team, login), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO challenges (id, opened_seq, setting) VALUES ('C-9999', 99, 'Fictional Partnership')",
        "INSERT INTO disclosures VALUES ('" + "0" * 64 + "', 1, '\\x00')",
        "SELECT escalate_keep_fold('C-0001', 1, '{}')",
    ],
)
def test_an_auditor_writes_nothing_at_all(team, sql):
    with psycopg.connect(as_login(team, "aud"), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(sql)


def test_a_client_cannot_write_another_persons_name(team):
    """The client makes the entry's bytes; the server checks the author they state is the session's."""
    with journal.store_at(as_login(team, "ann")) as s:
        bea = {"name": "Bea Example", "role": "DSL", "setting": "Fictional Primary A"}
        with pytest.raises(StoreError, match="names another author"):
            s.append("C-0001", "note", "2026-11-20T09:00:00.000000Z", bea, {"summary": "in Bea's name"})
        wrong_setting = {"name": "Ann Example", "role": "DSL", "setting": "Fictional Primary B"}
        with pytest.raises(StoreError, match="another role or setting"):
            s.append("C-0001", "note", "2026-11-20T09:00:00.000000Z", wrong_setting, {"summary": "x"})
        assert s.count() == 1


def _append_directly(s, challenge: str, after: int, author: dict[str, str]) -> None:
    """What a changed client could send the server: the entry's content made as escalate makes it, sent
    straight to escalate_append (no reading of the challenge first, no check of the desk's)."""
    content, disclosures, _ = s._content(challenge, "note", "2026-11-20T09:00:00.000000Z", author, {"summary": "x"})
    s._pg.pg.execute(
        "SELECT * FROM escalate_append(%s, %s, 'note', %s, %s, %s, %s, %s)",
        (challenge, after, content["occurred_at"], content["recorded_at"], entry.canonical(content),
         [d for d, _ in disclosures], [b for _, b in disclosures]),
    )  # fmt: skip


def test_the_server_itself_refuses_a_record_in_another_setting(team):
    """Bea's desk never shows her setting A's challenge; were her client changed to send an entry for
    it straight to the server, the server refuses it, and the log is as it was."""
    bea = {"name": "Bea Example", "role": "DSL", "setting": "Fictional Primary B"}
    with journal.store_at(as_login(team, "bea")) as s:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="bea may not record in Fictional Primary A"):
            _append_directly(s, "C-0001", 1, bea)
    ann = {"name": "Ann Example", "role": "DSL", "setting": "Fictional Primary A"}
    with journal.store_at(as_login(team, "ann")) as s:
        _append_directly(s, "C-0001", 1, ann)  # (the same call, by a person of the setting, is taken)
        with pytest.raises(psycopg.errors.SerializationFailure, match="moved on meanwhile"):
            _append_directly(s, "C-0001", 1, ann)  # made after an entry that is no longer the last
    with journal.store_at(team) as s:
        assert [(e.cseq, e.kind) for e in s.entries("C-0001")] == [(1, "opened"), (2, "note")]
        assert verify.verify_store(s).ok


@pytest.mark.parametrize("number", ["C-0003", "C-0001", "C-1", "X-0002", "C-00002"])
def test_an_opening_under_any_id_but_the_next_is_refused(team, number):
    """Challenges are numbered one after another, by the server: an id that is taken, skips one, or is
    not written as escalate writes them is refused as if another challenge had been opened meanwhile."""
    ann = {"name": "Ann Example", "role": "DSL", "setting": "Fictional Primary A"}
    with journal.store_at(as_login(team, "ann")) as s:
        with pytest.raises(psycopg.errors.SerializationFailure, match="another challenge was opened meanwhile"):
            _append_directly(s, number, 0, ann)
        _append_directly(s, "C-0002", 0, ann)  # (the next one is taken)
        assert s.challenge_ids() == ["C-0001", "C-0002"]


@pytest.mark.parametrize("as_group", [False, True])
def test_a_person_given_insert_by_hand_still_cannot_write_the_log(team, as_group):
    """Were an administrator to give the groups INSERT on the log again, a person's own row is still
    refused: only escalate_append, running as the tables' owner, records a person's entries."""
    with psycopg.connect(team, autocommit=True) as conn:
        conn.execute("GRANT INSERT ON entries TO escalate_dsl")
    with psycopg.connect(as_login(team, "ann"), autocommit=True) as conn:
        if as_group:
            conn.execute("SET ROLE escalate_dsl")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="records through escalate_append only"):
            conn.execute(
                "INSERT INTO entries VALUES (2, 'C-0001', 2, 'note', 'x', 'x', '\\x00', 'x', "
                "'Fictional Primary A', 'ann')"
            )


def _second_appends() -> str:
    """The second version's appends, as a store made before this one has them: people inserted entries
    themselves under the policies, their names checked at commit."""
    team = pgstore.TEAM

    def block(start: str) -> str:
        i = team.index(start)
        return team[i : team.index("END $$;", i) + len("END $$;")].replace(
            "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"
        )

    return "\n".join(
        [
            "ALTER TABLE meta DISABLE TRIGGER meta_guard;",
            "DELETE FROM meta WHERE key = 'functions-3';",
            "ALTER TABLE meta ENABLE TRIGGER meta_guard;",
            block("CREATE FUNCTION escalate_append("),
            block("CREATE FUNCTION escalate_entry_author()"),
            block("CREATE FUNCTION escalate_entry_name()"),
            "CREATE CONSTRAINT TRIGGER entries_name AFTER INSERT ON entries DEFERRABLE INITIALLY DEFERRED "
            "FOR EACH ROW EXECUTE FUNCTION escalate_entry_name();",
            "GRANT INSERT ON entries, disclosures, challenges TO escalate_dsl, escalate_lead;",
        ]
    )


def test_a_store_made_before_gets_appends_checked_before_the_lock(team, run_cli):
    with psycopg.connect(team, autocommit=True) as conn:
        conn.execute(_second_appends())
        assert conn.execute("SELECT has_table_privilege('escalate_dsl', 'entries', 'INSERT')").fetchone()[0]
    ann = as_login(team, "ann")
    assert run_cli("--store", ann, "record", "1", "note", "--summary", "before the upgrade")[0] == 0
    code, out, err = run_cli("--store", team, "team", "upgrade", team)
    assert code == 0 and "appends checked before the append lock" in out, err
    with psycopg.connect(team, autocommit=True) as conn:
        assert not conn.execute("SELECT has_table_privilege('escalate_dsl', 'entries', 'INSERT')").fetchone()[0]
        assert conn.execute("SELECT to_regproc('escalate_entry_name')").fetchone()[0] is None
    assert run_cli("--store", ann, "record", "1", "note", "--summary", "after the upgrade")[0] == 0
    with journal.store_at(team) as s:
        assert [str(r[0]) for r in s.conn.execute("SELECT author_login FROM entries ORDER BY seq")] == ["ann"] * 3
        assert verify.verify_store(s).ok


def test_a_removed_person_signs_in_no_more_and_their_entries_stay_theirs(team, run_cli):
    assert run_cli("--store", team, "team", "remove-person", "--login", "ann")[0] == 0
    code, _, err = run_cli("--store", as_login(team, "ann"), "list")
    assert code == 3 and "cannot connect" in err and "permission denied for database" in err
    code, out, _ = run_cli("--store", team, "team", "list")
    assert "ann: Ann Example, DSL, Fictional Primary A; dsl - removed" in out
    with journal.store_at(team) as s:
        assert s.conn.execute("SELECT author_login FROM entries WHERE seq = 1").fetchone()[0] == "ann"


def test_a_person_removed_while_their_app_is_open_records_nothing_more(team):
    """Removal takes effect on a connection already open: the next entry is refused, and nothing of it
    is kept."""
    with journal.store_at(as_login(team, "ann")) as s:
        journal.record(s, Settings(), "C-0001", "note", {"summary": "before leaving"})
        pgstore.remove_person(team, "ann")
        with pytest.raises(StoreError, match="no right"):
            journal.record(s, Settings(), "C-0001", "note", {"summary": "after leaving"})
    with journal.store_at(team) as s:
        assert [e.kind for e in s.entries("C-0001")] == ["opened", "note"] and verify.verify_store(s).ok


def test_without_its_policies_the_store_would_show_one_setting_to_another(team, run_cli):
    """The permission tests above depend on the policies: with row-level security switched off, the
    DSL of setting B would see setting A's challenge (so each of them would fail)."""
    with psycopg.connect(team, autocommit=True) as conn:
        conn.execute("ALTER TABLE challenges DISABLE ROW LEVEL SECURITY")
        conn.execute("ALTER TABLE entries DISABLE ROW LEVEL SECURITY")
    assert "C-0001" in run_cli("--store", as_login(team, "bea"), "list")[1]


def test_a_dsl_verifies_and_exports_their_challenges_through_the_others(team, run_cli, tmp_path):
    """Bea sees only her setting: verify follows the whole chain through Ann's entries by their digests,
    and her export is linked to the store's head."""
    bea = as_login(team, "bea")
    opening = [*OPEN]
    opening[opening.index("Child A1 (fictional)")] = "Child B1 (fictional)"
    assert run_cli("--store", bea, *opening)[0] == 0
    assert run_cli("--store", as_login(team, "ann"), "record", "1", "note", "--summary", "after Bea's")[0] == 0
    code, out, err = run_cli("--store", bea, "verify")
    assert code == 0, out + err
    assert "head fingerprint 3:" in out  # the whole store's head, though Bea reads one entry of three
    with journal.store_at(team) as s:
        held = verify.verify_store(s).fingerprint
    assert held in out
    code, out, err = run_cli("--store", bea, "export", "2", "-o", tmp_path / "b.jsonl")
    assert code == 0, err
    report = verify.verify_file(tmp_path / "b.jsonl", verify.parse_fingerprint(held))
    assert report.ok, report.problem
    assert b"Child A1" not in (tmp_path / "b.jsonl").read_bytes()


def test_two_deputies_stepping_up_one_challenge_at_once_one_succeeds(team, run_cli):
    """Each action is checked against the state inside the append lock: the second finds the challenge
    already at the stage it wanted to leave, and is told."""
    add_ada(team, run_cli)
    settings = Settings()
    with journal.store_at(as_login(team, "ann")) as one, journal.store_at(as_login(team, "ada")) as two:
        first = one.state("C-0001")
        journal.step_up(one, settings, "C-0001", "no reply")
        assert two.state("C-0001").stage == first.stage + 1  # the colleague's view is current on reading
        # a step up prepared on the stage as it was (both read it before either recorded) is refused
        with pytest.raises(EscalateError, match="moved on meanwhile"):
            journal.step_up(two, settings, "C-0001", "no reply", seen_stage=first.stage)
        assert two.count() == 2


async def test_the_app_says_which_team_store_and_who_is_signed_in(team, monkeypatch):
    from escalate.tui.app import EscalateApp

    monkeypatch.setenv("ESCALATE_STORE", as_login(team, "bea"))  # (no challenge of Bea's: the intro shows)
    app = EscalateApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await dashboard_loaded(pilot, app)
        assert app.screen.sub_title.startswith("Bea Example, DSL, Fictional Primary B · team store escalate_test_")
        # the settings file names nobody, and need not: the database knows who is signed in
        intro = str(app.screen.query_one("#intro").render())
        assert "No challenges yet" in intro and "name and role are not set" not in intro


async def test_the_settings_form_on_a_team_store_says_who_is_signed_in_and_asks_no_name(team, monkeypatch):
    """F2 on a team store does not ask for a name and role the store does not use: it says whom the
    store records you as, and saves the rest (here the time zone) without a name."""
    from escalate import settings as settings_mod
    from escalate.tui.app import EscalateApp
    from escalate.tui.dialogs import FormDialog

    monkeypatch.setenv("ESCALATE_STORE", as_login(team, "ann"))
    app = EscalateApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await dashboard_loaded(pilot, app)
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        assert not app.screen.query("#f-name") and not app.screen.query("#f-role")
        intro = str(app.screen.query_one("#form-intro Static").render())
        assert "you record as Ann Example, DSL, Fictional Primary A" in intro
        app.screen.query_one("#f-timezone").value = "Europe/Dublin"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
    saved = settings_mod.load()
    assert saved.timezone == "Europe/Dublin" and saved.name == ""


def test_a_letter_is_signed_by_the_person_signed_in_not_the_settings_file(team, run_cli, tmp_path):
    """On a team store the log records who is signed in; the letter it records making is signed by
    the same person (the settings file's email and phone kept: contact details, not who)."""
    for key, value in (("name", "Someone Else"), ("role", "Caretaker"), ("email", "dsl@school.example")):
        assert run_cli("config", "set", key, value)[0] == 0
    code, _, err = run_cli("--store", as_login(team, "ann"), "letter", "1", "-o", tmp_path / "letter.md")
    assert code == 0, err
    text = (tmp_path / "letter.md").read_text()
    assert "Ann Example" in text and "I am writing as DSL at Fictional Primary A" in text
    assert "Someone Else" not in text and "Caretaker" not in text and "dsl@school.example" in text
    code, out, _ = run_cli("--store", as_login(team, "ann"), "show", "1", "--json")
    made = json.loads(out)["chronology"][-1]
    assert made["kind"] == "exported" and made["author"]["name"] == "Ann Example"
    assert json.loads(out)["chronology"][0]["data"]["setting"] == "Fictional Primary A"  # the opening's, too


# --- signing keys ------------------------------------------------------------------------------


def test_a_person_signs_with_the_key_their_record_holds_and_no_other(team_url, run_cli, tmp_path, isolated_home):
    """Ann's key is on her record (set by the administrator); her checkpoints verify against the team's
    signers, and a checkpoint by a key the store never gave her fails, even if the signers file has it."""
    from escalate import sshsig

    key = sshsig.new_private_key()
    (tmp_path / "ann.pub").write_text(sshsig.public_line(key.public_key(), "ann") + "\n")
    code, _, err = run_cli(
        "--store", team_url, "team", "add-person", "--login", "ann", "--name", "Ann Example", "--role", "DSL",
        "--setting", "Fictional Primary A", "--group", "dsl", "--key", tmp_path / "ann.pub",
    )  # fmt: skip
    assert code == 0, err
    (isolated_home).mkdir(parents=True, exist_ok=True)
    (isolated_home / "signing_key").write_bytes(sshsig.private_file(key))
    ann = as_login(team_url, "ann")
    assert run_cli("--store", ann, *OPEN)[0] == 0  # signs the head as ann
    code, line, err = run_cli("--store", team_url, "keys", "allowed-signers")
    assert code == 0, err
    assert line.startswith('ann namespaces="escalate" ssh-ed25519 ')
    allowed = tmp_path / "allowed"
    allowed.write_text(line)
    code, out, err = run_cli("--store", team_url, "verify", "--signers", allowed)
    assert code == 0, out + err
    assert "signed by ann" in out
    # a key ann holds on her desk but the team store never gave her: the signers file alone is not enough
    other = sshsig.new_private_key()
    (isolated_home / "signing_key").write_bytes(sshsig.private_file(other))
    assert run_cli("--store", ann, "record", "1", "note", "--summary", "signed with another key")[0] == 0
    allowed.write_text(line + f'ann namespaces="escalate" {sshsig.public_line(other.public_key())}\n')
    code, out, _ = run_cli("--store", team_url, "verify", "--signers", allowed)
    assert code == 1 and "a key the team store never gave ann" in out
    # the administrator gives ann that key from now on: what it signs before stays refused
    (tmp_path / "new.pub").write_text(sshsig.public_line(other.public_key()) + "\n")
    code, out, err = run_cli("--store", team_url, "team", "rotate-key", "--login", "ann", "--key", tmp_path / "new.pub")
    assert code == 0, err
    code, out, _ = run_cli("--store", team_url, "verify", "--signers", allowed)
    assert code == 1 and "was given only later" in out


@pytest.mark.parametrize(
    ("content", "says"), [("", "not an Ed25519 public key"), ("ssh-rsa AAAAB3Nza x", "not an Ed25519 public key")]
)
def test_a_key_file_that_is_not_one_is_refused(team_url, run_cli, tmp_path, content, says):
    (tmp_path / "k.pub").write_text(content)
    code, _, err = run_cli(
        "--store", team_url, "team", "add-person", "--login", "ann", "--name", "Ann Example", "--role", "DSL",
        "--setting", "Fictional Primary A", "--group", "dsl", "--key", tmp_path / "k.pub",
    )  # fmt: skip
    assert code == 2 and says in err
    code, out, _ = run_cli("--store", team_url, "team", "list")
    assert "ann" not in out  # nothing half made


def test_an_administrator_sets_a_persons_password(team, run_cli, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("correct horse battery staple\n")
    code, out, err = run_cli("--store", team, "team", "set-password", "--login", "ann", "--password-file", secret)
    assert code == 0, err
    with psycopg.connect(team, autocommit=True) as conn:  # (the administrator may read how it is kept)
        kept = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'ann'").fetchone()[0]
    assert kept.startswith("SCRAM-SHA-256$") and "correct horse" not in kept


@pytest.mark.parametrize(
    ("login", "content", "says"),
    [
        ("ann", "short\n", "at least 12"),
        ("ann", "", "has 0 characters"),
        ("ann", "a password\twith a tab", "control characters"),
        ("nobody", "correct horse battery staple", "is not a person of this team store"),
    ],
)
def test_a_password_that_cannot_be_one_is_refused(team, run_cli, tmp_path, login, content, says):
    secret = tmp_path / "pw"
    secret.write_text(content)
    code, _, err = run_cli("--store", team, "team", "set-password", "--login", login, "--password-file", secret)
    assert code != 0 and says in err
    code, _, err = run_cli("--store", team, "team", "set-password", "--login", "ann")
    assert code == 2 and "typed at a terminal" in err  # (no terminal here, no file: refused, not hung)


#: the read policies of the first team stores: a definer function called for every row
FIRST_READS = """
ALTER TABLE meta DISABLE TRIGGER meta_guard;
DELETE FROM meta WHERE key = 'functions';
ALTER TABLE meta ENABLE TRIGGER meta_guard;
DROP POLICY read ON entries;
CREATE POLICY read ON entries FOR SELECT USING (escalate_sees(setting));
DROP POLICY read ON challenges;
CREATE POLICY read ON challenges FOR SELECT USING (escalate_sees(setting));
DROP POLICY read ON search_text;
CREATE POLICY read ON search_text FOR SELECT USING (escalate_sees_challenge(challenge));
"""


def test_a_store_made_before_gets_the_faster_policies_and_they_keep_settings_apart(team, run_cli, tmp_path):
    with psycopg.connect(team, autocommit=True) as conn:
        conn.execute(FIRST_READS)
    code, out, err = run_cli("--store", team, "team", "upgrade", team)
    assert code == 0 and "faster functions" in out, err
    assert run_cli("--store", team, "team", "upgrade", team)[1].endswith("has everything this escalate needs\n")
    code, _, err = run_cli(
        "--store", team, "team", "add-person", "--login", "aub", "--name", "Abe Example", "--role", "Auditor",
        "--setting", "Fictional Partnership", "--group", "auditor", "--sees", "Fictional Primary B",
    )  # fmt: skip
    assert code == 0, err
    for login, sees in (("ann", True), ("bea", False), ("lee", True), ("aud", True), ("aub", False)):
        url = as_login(team, login)
        assert ("C-0001" in run_cli("--store", url, "list")[1]) is sees, login
        assert ("C-0001" in run_cli("--store", url, "search", "Bruising")[1]) is sees, login
        with psycopg.connect(url) as conn:
            seen = {
                table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("entries", "challenges", "disclosures", "state_cache", "glances", "search_text")
            }
        assert all(n > 0 for n in seen.values()) if sees else not any(seen.values()), (login, seen)


def test_an_action_on_a_challenge_a_colleague_closed_meanwhile_is_refused(team, run_cli):
    """A desk appends from the fold it made at its own last entry, without reading the challenge again;
    a colleague's entry in between makes the server refuse that append, and the action is checked
    again against the challenge as it now is (here: closed), never against what the desk last saw."""
    add_ada(team, run_cli)
    settings = Settings()
    with journal.store_at(as_login(team, "ann")) as one, journal.store_at(as_login(team, "ada")) as two:
        journal.record(one, settings, "C-0001", "note", {"summary": "first"})  # Ann's desk folded it here
        journal.record(two, settings, "C-0001", "note", {"summary": "Ada's, meanwhile"})
        journal.record(one, settings, "C-0001", "note", {"summary": "after Ada's"})  # read again, chained after
        assert [e.cseq for e in one.entries("C-0001")] == [1, 2, 3, 4]
        assert one.state("C-0001", fresh=True) == one.state("C-0001")  # the fold kept is the log's
        code, _, err = run_cli(
            "--store",
            as_login(team, "ada"),
            "resolve",
            "1",
            "--outcome",
            "resolved",
            "--rationale",
            "agreed at the meeting",
        )
        assert code == 0, err
        with pytest.raises(EscalateError, match="closed|resolved"):
            journal.step_up(one, settings, "C-0001", "no reply")
        assert one.count() == 5 and verify.verify_store(one).ok
