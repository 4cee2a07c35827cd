"""Text from a procedure file or from a person prints literally in the CLI: square brackets are
never read as Rich markup (a stage group "[informal]" once vanished from `procedures show`)."""

from __future__ import annotations

import json

import pytest
from markup_fixture import CHALLENGE_FIELDS, PROCEDURE_FIELDS, marked, procedure_toml

pytestmark = pytest.mark.usefixtures("backend")  # on a desk's file and on a team store


@pytest.fixture
def marked_up(tmp_path, monkeypatch, run_cli):
    folder = tmp_path / "procs"
    folder.mkdir()
    (folder / "marked-up.toml").write_text(procedure_toml(), encoding="utf-8")
    monkeypatch.setenv("ESCALATE_PROCEDURES", str(folder))
    assert run_cli("config", "set", "name", "Alex Example")[0] == 0
    assert run_cli("config", "set", "role", "DSL")[0] == 0
    return run_cli


def test_the_fixture_marks_every_text_field_of_the_format():
    assert len(PROCEDURE_FIELDS) >= 45


def test_procedures_show_prints_every_field_of_the_file_literally(marked_up):
    code, out, err = marked_up("procedures", "show", "marked-up")
    assert code == 0, err
    out = " ".join(out.split())  # (lines wrapped at the terminal's width)
    missing = [f for f in PROCEDURE_FIELDS if marked(f) not in out]
    assert missing == []
    assert "optional" in out  # the notification's required = false is said


def test_procedures_validate_and_list_print_the_file_literally(marked_up):
    code, out, _ = marked_up("procedures", "list")
    assert code == 0 and marked("name") in " ".join(out.split())


def test_a_challenges_text_prints_literally_in_show_and_list(marked_up):
    run = marked_up
    code, out, err = run(
        "open",
        "--procedure",
        "marked-up",
        "--trigger",
        "disputed-referral",
        "--case-ref",
        marked("case_ref"),
        "--agency",
        marked("agency"),
        "--decision",
        marked("decision"),
        "--concern",
        marked("concern"),
        "--at",
        "2026-11-16T09:00",
    )
    assert code == 0, err
    assert (
        run(
            "record",
            "1",
            "contact",
            "--with",
            f"{marked('with.name')}, Social worker",
            "--summary",
            marked("contact.summary"),
            "--at",
            "2026-11-16T10:00",
        )[0]
        == 0
    )
    assert run("record", "1", "note", "--summary", marked("note.summary"), "--at", "2026-11-16T11:00")[0] == 0
    code, out, _ = run("show", "1")
    assert code == 0
    out = " ".join(out.split())
    assert [f for f in CHALLENGE_FIELDS if marked(f) not in out] == []
    # the procedure's own words shown with the challenge: its name, stage label, stage title, deadline
    for field in ("name", "stage.title", "deadline.what"):
        assert marked(field) in out, field
    code, out, _ = run("list")  # a table: its cells wrap, but a word is never split
    assert code == 0 and out.count("[link=x]l") == 2 and out.count("[bold]b[/]") == 2
    code, out, _ = run("show", "1", "--json")
    assert json.loads(out)["case_ref"] == marked("case_ref")


def test_a_folder_name_with_brackets_prints_literally_in_locate(run_cli, tmp_path, monkeypatch):
    folder = tmp_path / "[bold]procs[red]x"
    folder.mkdir()
    monkeypatch.setenv("ESCALATE_PROCEDURES", str(folder))
    code, out, _ = run_cli("locate")
    assert code == 0 and "[bold]procs[red]x" in out.replace("\n", "")
