"""The scripting CLI over the log: happy path, and every error path with exit code and message.
Each test runs on both stores: the embedded SQLite file and a team store on PostgreSQL."""

from __future__ import annotations

import json

import pytest

from escalate import journal
from escalate.errors import StoreError

pytestmark = pytest.mark.usefixtures("backend")

OPEN = [
    "open",
    "--procedure",
    "lincolnshire-joint",
    "--trigger",
    "disputed-referral",
    "--case-ref",
    "Child Q",
    "--agency",
    "Northtown CSC",
    "--decision",
    "Referral NFA",
    "--concern",
    "Bruising seen twice",
    "--at",
    "2026-11-16T09:00",
]


@pytest.fixture
def configured(run_cli):
    assert run_cli("config", "set", "name", "Alex Example")[0] == 0
    assert run_cli("config", "set", "role", "DSL")[0] == 0
    return run_cli


def test_full_journey(configured, isolated_home):
    run = configured
    code, out, _ = run(*OPEN)
    assert code == 0 and out.strip() == "C-0001"
    assert (
        run(
            "record",
            "C-0001",
            "contact",
            "--with",
            "Sam Fictional, Social worker, Northtown CSC",
            "--summary",
            "Raised it",
            "--at",
            "2026-11-16T10:00",
        )[0]
        == 0
    )
    assert (
        run(
            "record",
            "1",
            "response",
            "--decision",
            "Still NFA",
            "--rationale",
            "Below threshold",
            "--at",
            "2026-11-17T10:00",
        )[0]
        == 0
    )
    code, out, _ = run("step-up", "1", "--reason", "Not resolved")
    assert code == 0 and "stage 2" in out
    assert run("resolve", "1", "--outcome", "resolved", "--rationale", "Strategy meeting held")[0] == 0
    code, out, _ = run("show", "1", "--json")
    data = json.loads(out)
    assert data["status"] == "resolved" and data["stage"] == 2 and data["case_ref"] == "Child Q"
    kinds = [e["kind"] for e in data["chronology"]]
    assert kinds == ["opened", "contact", "response", "stepped-up", "resolved"]
    assert data["chronology"][1]["data"]["with"]["name"] == "Sam Fictional"
    code, out, _ = run("list", "--json")
    assert json.loads(out)[0]["id"] == "C-0001"
    code, out, _ = run("list", "--open", "--json")
    assert json.loads(out) == []
    code, out, _ = run("verify")
    assert code == 0 and out.startswith("OK 5 entries")


def test_list_overdue(configured):
    run = configured
    run(*OPEN)  # Lincolnshire: stage 1 clocks start only when the concern is raised, so nothing is overdue
    london = list(OPEN)
    london[london.index("lincolnshire-joint")] = "london-children"
    london[london.index("2026-11-16T09:00")] = "2026-10-05T09:00"  # a working week from 5 October has passed
    run(*london)
    code, out, _ = run("list", "--overdue", "--json")
    assert [c["id"] for c in json.loads(out)] == ["C-0002"]
    code, out, _ = run("list")
    assert "OVERDUE" in out


def entries_in(home):
    """How many entries the store in use holds (0 if there is none yet)."""
    try:
        with journal.open_store(create=False, readonly=True) as s:
            return s.count()
    except StoreError:  # no store file yet
        return 0


@pytest.mark.parametrize(
    "argv,words,code",
    [
        (["record", "C-0042", "note", "--summary", "x"], "no challenge 'C-0042'", 2),
        (["record", "1", "note"], "note entry needs summary", 2),
        (["record", "1", "note", "--summary", "   "], "note entry needs summary", 2),  # blank is missing
        (["resolve", "1", "--outcome", "resolved", "--rationale", " \t "], "resolved entry needs rationale", 2),
        (["record", "1", "note", "--summary", "x", "--at", "2099-01-01T10:00"], "in the future", 2),
        (["record", "1", "note", "--summary", "x", "--at", "soon"], "not a date or time", 2),
        (["record", "1", "note", "--summary", "x", "--decision", "y"], "does not take --decision", 2),
        (["record", "1", "contact", "--summary", "x", "--medium", "pigeon"], "medium 'pigeon'", 2),
        (["record", "1", "contact", "--summary", "x", "--with", "a,b,c,d"], "not 'Name, Role, Agency'", 2),
        (
            ["record", "1", "deadline-extended", "--deadline", "nope", "--new-due", "2026-12-01", "--reason", "r"],
            "no deadline 'nope'",
            2,
        ),
        (["amend", "1", "x", "--field", "summary", "--value", "v", "--reason", "r"], "not a whole number", 2),
        (["amend", "1", "9", "--field", "summary", "--value", "v", "--reason", "r"], "no entry 9", 2),
    ],
)
def test_record_errors_leave_the_store_as_it_was(configured, isolated_home, argv, words, code):
    configured(*OPEN)
    before = entries_in(isolated_home)
    got, out, err = configured(*argv)
    assert got == code, err
    assert words in err
    assert "Traceback" not in err
    assert entries_in(isolated_home) == before


def test_open_errors(configured, isolated_home):
    bad = list(OPEN)
    bad[bad.index("disputed-referral")] = "bad-vibes"
    code, _, err = configured(*bad)
    assert code == 2 and "unknown trigger 'bad-vibes'" in err
    assert entries_in(isolated_home) == 0
    blank = list(OPEN)
    blank[blank.index("Child Q")] = "   "
    code, _, err = configured(*blank)
    assert code == 2 and "needs case ref" in err
    assert entries_in(isolated_home) == 0


def test_step_up_past_last_stage_and_resolved_challenge(configured, isolated_home):
    run = configured
    run(*OPEN)
    for _ in range(3):
        assert run("step-up", "1", "--reason", "r")[0] == 0
    code, _, err = run("step-up", "1", "--reason", "r")
    assert code == 2 and "last stage" in err
    run("resolve", "1", "--outcome", "unresolved", "--rationale", "no agreement")
    code, _, err = run("record", "1", "note", "--summary", "late thought")
    assert code == 0  # notes are allowed after resolution
    code, _, err = run("record", "1", "contact", "--summary", "x")
    assert code == 2 and "reopen it" in err
    code, _, err = run("resolve", "1", "--outcome", "resolved", "--rationale", "x")
    assert code == 2 and "already resolved" in err


def test_commands_without_settings_explain(run_cli):
    code, _, err = run_cli(*OPEN)
    assert code == 2 and "config set name" in err


def test_text_that_is_not_utf8_is_refused_and_paths_that_are_not_still_work(configured, isolated_home, tmp_path):
    """A terminal not set to UTF-8 passes bytes Python keeps as lone surrogates, which the log and
    the settings (UTF-8) cannot hold: a text value holding one is named and refused (it once crashed
    `config set` with a traceback). A file name in such bytes is a file name like any other."""
    import os

    odd = os.fsdecode(b"North\xfftown")
    code, _, err = configured("config", "set", "name", odd)
    assert code == 2 and "name (North?town) is not UTF-8 text" in err
    assert "Traceback" not in err
    assert "name = Alex Example" in configured("config", "show")[1]
    bad = list(OPEN)
    bad[bad.index("Northtown CSC")] = odd
    code, _, err = configured(*bad)
    assert code == 2 and "agency (North?town) is not UTF-8 text" in err
    assert entries_in(isolated_home) == 0
    configured(*OPEN)
    code, _, err = configured("record", "1", "contact", "--with", f"{odd}, SW", "--summary", "call")
    assert code == 2 and "contact with name (North?town) is not UTF-8 text" in err
    assert entries_in(isolated_home) == 1
    folder = tmp_path / odd
    folder.mkdir()
    code, out, err = configured("export", "--all", "-o", folder / "log.jsonl")
    assert code == 0 and "North\\udcfftown" in out, err  # printed, not a traceback after the work
    assert configured("verify", folder / "log.jsonl")[0] == 0


def test_a_nul_character_in_any_argument_or_file_name_is_refused(configured, isolated_home, tmp_path):
    """No shell can pass a NUL, but a program calling escalate can, and a form field can hold one:
    no file name or text may hold it. Each path says so instead of a traceback."""
    from pathlib import Path

    from escalate.errors import ExportError
    from escalate.export import check_output
    from escalate.verify import read_jsonl

    configured(*OPEN)
    for argv in (
        ["verify", "a\x00b"],
        ["export", "--all", "-o", "a\x00b"],
        ["--data-dir", "a\x00b", "list"],
        ["record", "1", "contact", "--summary", "x\x00y"],
    ):
        code, _, err = configured(*argv)
        assert code == 2 and "holds a NUL character" in err and "Traceback" not in err, argv
    assert entries_in(isolated_home) == 1
    for call in (lambda: check_output(Path(tmp_path / "a\x00b"), False), lambda: read_jsonl(tmp_path / "a\x00b")):
        with pytest.raises(ExportError, match="holds a NUL character"):
            call()


def test_config(run_cli):
    assert run_cli("config", "set", "timezone", "Europe/Belfast")[0] == 0
    code, out, _ = run_cli("config", "show")
    assert "timezone = Europe/Belfast" in out
    for key, value, words in [
        ("timezone", "Mars/Olympus", "unknown time zone"),
        ("region", "wales", "no calendar"),
        ("name", "  ", "cannot be empty"),
        ("theme", "neon", "not known"),
    ]:
        code, _, err = run_cli("config", "set", key, value)
        assert code == 2 and words in err


def test_corrupt_settings_file(run_cli, isolated_home):
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "settings.toml").write_text("name = [1, 2]\n")
    code, _, err = run_cli("config", "show")
    assert code == 2 and "settings.toml" in err


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # (a file of its own)
def test_verify_without_a_store(run_cli):
    code, _, err = run_cli("verify")
    assert code == 3 and "no store" in err


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # (a file of its own)
def test_corrupt_store_via_cli(run_cli, isolated_home):
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "escalate.sqlite3").write_bytes(b"garbage" * 1000)
    code, _, err = run_cli("list")
    assert code == 3 and "damaged" in err


def test_verify_sums_up_warnings_past_the_first_ten(configured):
    """Each of 12 challenges opened a week after the event has a late entry: verify shows ten
    warnings and says how many more, so the result line is not buried; --all-warnings shows all."""
    for _ in range(12):
        assert configured(*OPEN)[0] == 0
    code, out, err = configured("verify")
    assert code == 0 and out.startswith("OK 12 entries")
    assert err.count("recorded more than 24 hours after") == 10
    assert "and 2 more" in err and "--all-warnings" in err
    code, out, err = configured("verify", "--all-warnings")
    assert code == 0 and err.count("recorded more than 24 hours after") == 12 and "more (" not in err


def test_text_that_looks_like_emoji_codes_prints_as_written(configured):
    """Rich would turn ':warning:' in a summary into a picture; the record must print as it was typed."""
    run = configured
    assert run(*OPEN)[0] == 0
    summary = "Told 'not our remit :warning:' at 10:30:00 :ok:"
    assert run("record", "1", "note", "--summary", summary, "--at", "2026-11-16T10:00")[0] == 0
    code, out, _ = run("show", "1")
    assert code == 0
    assert ":warning:" in out and ":ok:" in out and "\u26a0" not in out


def test_data_folder_that_is_a_file(run_cli, tmp_path):
    """--data-dir naming a file: every command says what is wrong with which path, no traceback."""
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("not a folder")
    code, _, err = run_cli("--data-dir", not_a_folder, "list")
    assert code == 2 and "notes.txt/settings.toml" in err and "Not a directory" in err
    code, _, err = run_cli("--data-dir", not_a_folder, "config", "set", "name", "Alex Example")
    assert code == 2 and "Not a directory" in err
    assert not_a_folder.read_text() == "not a folder"


def test_any_other_refusal_by_the_system_is_a_message(run_cli, monkeypatch):
    """An OSError no command foresaw is still shown as a message naming the path, with exit code 2."""
    from escalate.cli import log_cmd

    def refuse(args):
        raise PermissionError(13, "Permission denied", "/srv/escalate/escalate.sqlite3")

    monkeypatch.setattr(log_cmd, "cmd_list", refuse)
    code, _, err = run_cli("list")
    assert code == 2
    assert "File problem: /srv/escalate/escalate.sqlite3: Permission denied" in err and "Traceback" not in err


def test_locate_lists_folders_it_cannot_use(run_cli, tmp_path, monkeypatch):
    """locate is where a user looks when a folder is wrong: a folder the system refuses is listed with
    the reason, and the rest of the list still follows."""
    import pathlib

    forbidden = tmp_path / "forbidden"
    real_exists = pathlib.Path.exists

    def exists(self, *args, **kwargs):
        if str(self).startswith(str(forbidden)):
            raise PermissionError(13, "Permission denied", str(self))
        return real_exists(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "exists", exists)
    code, out, err = run_cli("--data-dir", forbidden, "locate")
    assert code == 0, err
    assert "store:" in out and "(cannot be used: Permission denied)" in out
    assert "bundled procedures:" in out and "procedure search order" in out


def test_a_required_list_of_blanks_is_missing():
    """Blank text in a required list says nothing, like a blank required text field."""
    from escalate import entry, entry_kinds
    from escalate.errors import UsageError

    data = {
        key: {
            "str": "x",
            "line": "x",
            "instant": "2026-11-16T09:00:00.000000Z",
            "int": 1,
            "bool": False,
            "list": ["disputed-referral"],
            "person": {"name": "Sam Fictional"},
        }[kind_of]
        for key, (kind_of, required) in entry_kinds.KINDS["opened"].items()
        if required
    }
    assert entry.check_data("opened", {**data, "triggers": ["disputed-referral"]})["triggers"] == ["disputed-referral"]
    assert "triggers" not in entry.check_data("opened", {**data, "triggers": ["  ", "\t"]})  # (optional: a referral)
    with pytest.raises(UsageError, match="decision-received entry needs decision"):
        entry.check_data("decision-received", {"decision": "  "})


def test_blank_triggers_are_no_triggers(configured):
    code, _, err = configured(*[a if a != "disputed-referral" else "  " for a in OPEN])
    assert code == 2 and "choose at least one trigger" in err


def test_an_extended_deadline_says_so_where_it_is_shown(configured, isolated_home):
    """show prints the new date with "(extended)", so nobody reads it as the procedure's own."""
    run = configured
    assert run(*OPEN)[0] == 0
    _, before, _ = run("show", "1")
    assert "(extended)" not in before
    assert (
        run(
            "record",
            "1",
            "deadline-extended",
            "--deadline",
            "resolve",
            "--new-due",
            "2026-12-04T17:00",
            "--reason",
            "Agreed by phone",
        )[0]
        == 0
    )
    _, after, _ = run("show", "1")
    line = next(x for x in after.splitlines() if "Resolve, or agree" in x)
    assert "[DUE]" in line or "[OVERDUE]" in line or "[DUE SOON]" in line
    assert "(extended)" in " ".join(after.split())
    _, data, _ = run("show", "1", "--json")
    rows = {r["id"]: r for r in json.loads(data)["deadlines"]}
    assert rows["resolve"]["extended"] and rows["resolve"]["due"].startswith("2026-12-04T17:00")
    assert not rows["acknowledge"]["extended"]


@pytest.mark.parametrize(
    ("procedure", "care"),
    [
        ("pan-lancashire-cumbria-adults", "refer to adult social care now"),
        ("london-children", "refer to children's social care now"),
    ],
)
def test_immediate_risk_without_a_skip_rule_names_the_right_social_care(configured, procedure, care):
    """A procedure with no skip rule gets the safety fallback, worded for whom it covers: an adults'
    DSL is never told to ring children's social care."""
    argv = [a if a != "lincolnshire-joint" else procedure for a in OPEN]
    code, _, err = configured(*argv, "--immediate-risk")
    assert code == 0
    assert "no skip rule" in err and care in " ".join(err.split())


def test_immediate_risk_with_a_skip_rule_prints_it_with_whom_to_contact(configured, tmp_path):
    """`open --immediate-risk` prints the rule as the wizard shows it: when, what to do, whom to contact."""
    from helpers import ROOT

    text = (ROOT / "procedures" / "TEMPLATE.toml").read_text(encoding="utf-8")
    text = text.replace('id = "my-partnership"', 'id = "with-contacts"', 1)
    text = text.replace('"Duty social work manager"', '"Duty manager (fictional)"')
    assert "Duty manager (fictional)" in text
    (tmp_path / "p.toml").write_text(text, encoding="utf-8")
    argv = [a if a != "lincolnshire-joint" else "with-contacts" for a in OPEN]
    code, _, err = configured("--procedures", tmp_path / "p.toml", *argv, "--immediate-risk")
    assert code == 0, err
    assert "Contact directly: Duty manager (fictional)" in " ".join(err.split())
