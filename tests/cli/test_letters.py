"""`escalate letter`: the letter for a stage and the partnership's form, read back as a DSL's mail
client and Word would; each made is recorded in the log like an export. Both stores."""

from __future__ import annotations

import json

import docx
import pytest
from helpers import DATA

from escalate import clock

pytestmark = pytest.mark.usefixtures("backend")

FORM = """
[[forms]]
name = "Escalation notification form"
url = "https://fictional-partnership.example/forms/escalation"
fields = ["Child's reference", "Agencies involved", "Nature of disagreement", "Action taken so far", "Date of birth"]

[[contacts]]
name = "Pat Fictional"
role = "Team manager"
email = "pat.fictional@northtown.example"
"""


@pytest.fixture
def procedures(tmp_path):
    text = (DATA / "minimal.toml").read_text().replace("format = 1", "format = 2")
    text = text.replace(
        'title = "Managers"\n',
        'title = "Managers"\nreceived_by = ["Team manager"]\nforms = ["Escalation notification form"]\n',
    )
    folder = tmp_path / "procedures"
    folder.mkdir()
    (folder / "p.toml").write_text(text + FORM)
    return folder


@pytest.fixture
def run(run_cli, monkeypatch, procedures):
    monkeypatch.setattr(clock, "now", lambda: clock.parse_time("17/11/2026 12:00"))
    for key, value in (
        ("name", "Alex Example"),
        ("role", "Designated safeguarding lead"),
        ("setting", "Fictional Primary School"),
        ("email", "dsl@fictional-primary.example"),
        ("phone", "01632 960000"),
    ):
        assert run_cli("config", "set", key, value)[0] == 0

    def run(*argv):
        return run_cli("--procedures", procedures, *argv)

    code, out, err = run(
        "open", "--procedure", "fictional-test", "--trigger", "disputed-referral", "--case-ref", "Child Q",
        "--subject-name", "Jamie Fictional", "--agency", "Northtown CSC", "--decision", "Referral closed, NFA",
        "--decision-ref", "NT-REF-77", "--decision-by", "Sam Fictional, Social worker, Northtown CSC",
        "--concern", "Bruising seen twice in a week", "--evidence", "Nursery body map, 12 Nov",
        "--outcome-sought", "A strategy discussion", "--at", "16/11/2026 09:00",
    )  # fmt: skip
    assert code == 0, err
    return run


def paragraphs(path) -> str:
    document = docx.Document(str(path))
    return "\n".join(p.text for p in document.paragraphs)


def test_the_stage_1_letter_in_word_holds_the_agency_the_due_date_and_the_dsl(run, tmp_path):
    out = tmp_path / "stage1.docx"
    code, said, err = run("letter", "1", "-o", out)
    assert code == 0, err
    text = paragraphs(out)
    assert "Northtown CSC" in text
    assert "Referral closed, NFA" in text and "made by Sam Fictional, Social worker, Northtown CSC" in text
    assert "Your reference: NT-REF-77" in text and "Our reference: Child Q (C-0001)" in text
    assert "Bruising seen twice in a week" in text and "Nursery body map, 12 Nov" in text
    # stage 1's deadline that is the other side's, with its date: 3 working days from the concern raised
    # theirs, not started (no date until the concern is raised): when its clock starts is said instead
    assert "They reply: the procedure asks for this 3 working days (from our first contact in the stage)." in text
    assert "Raise it" not in text.split("What I am asking for")[1]  # ours, not asked of them
    for detail in ("Alex Example", "Designated safeguarding lead", "Fictional Primary School",
                   "dsl@fictional-primary.example", "01632 960000"):  # fmt: skip
        assert detail in text
    assert "A strategy discussion" in text
    document = docx.Document(str(out))
    assert document.core_properties.author == "Alex Example"
    assert any(p.style.name.startswith("Heading") for p in document.paragraphs)


def test_a_letter_for_the_next_stage_goes_to_its_named_contact_with_the_due_date(run, tmp_path):
    run(
        "record",
        "1",
        "contact",
        "--medium",
        "phone",
        "--summary",
        "Raised it with the social worker",
        "--at",
        "16/11/2026 10:00",
    )
    assert run("step-up", "1", "--reason", "Not resolved", "--at", "17/11/2026 09:00")[0] == 0
    out = tmp_path / "stage2.txt"
    assert run("letter", "1", "-o", out)[0] == 0
    text = out.read_text()
    lines = text.splitlines()
    assert lines[:3] == ["Pat Fictional", "Team manager", "Northtown CSC"]
    assert "Dear Pat Fictional," in text
    assert (
        "Managers reply: the procedure asks for this 5 working days, that is by Tue 24 Nov 2026 17:00 +00:00." in text
    )
    assert "Raised it with the social worker" in text  # what has happened so far
    word = tmp_path / "stage2.docx"
    assert run("letter", "1", "-o", word)[0] == 0
    in_word = paragraphs(word)
    assert "that is by Tue 24 Nov 2026 17:00 +00:00" in in_word and "Pat Fictional" in in_word
    assert run("letter", "1", "-o", tmp_path / "again.md", "--stage", "1")[0] == 0
    assert (tmp_path / "again.md").read_text().startswith("Northtown CSC  \n")


def test_the_form_is_filled_from_the_record(run, tmp_path):
    out = tmp_path / "form.docx"
    code, _, err = run("letter", "1", "--form", "escalation notification form", "-o", out)
    assert code == 0, err
    table = docx.Document(str(out)).tables[0]
    rows = {r.cells[0].text: r.cells[1].text for r in table.rows}
    assert rows["Child's reference"] == "Child Q"
    assert rows["Agencies involved"] == "Northtown CSC"
    assert rows["Nature of disagreement"] == "Bruising seen twice in a week"
    assert rows["Date of birth"] == "(to complete)"  # never guessed


def test_each_letter_is_recorded_like_an_export_with_the_files_hash(run, tmp_path):
    import hashlib

    out = tmp_path / "l.txt"
    assert run("letter", "1", "-o", out, "--redact")[0] == 0
    code, shown, _ = run("show", "1", "--json")
    last = json.loads(shown)["chronology"][-1]
    assert last["kind"] == "exported"
    assert last["data"]["scope"] == "letter: Stage 1" and last["data"]["format"] == "txt"
    assert last["data"]["redacted"] is True
    assert last["data"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    text = out.read_text()
    assert "Child Q" not in text and "Sam Fictional" not in text and "Child A" in text


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["-o", "{tmp}/l.pdf"], "not 'pdf'"),
        (["-o", "{tmp}/l"], "without an extension"),
        (["-o", "{tmp}/l.txt", "--format", "docx"], "ends .txt but the format is docx"),
        (["-o", "{tmp}/l.txt", "--stage", "9"], "has no stage '9'"),
        (["-o", "{tmp}/l.txt", "--form", "No such form"], "names no form"),
        (["-o", "{tmp}/l.txt", "--form", "x", "--stage", "1"], "give one of them"),
        (["-o", "{tmp}/exists.txt"], "already exists"),
        (["-o", "{tmp}/missing/l.txt"], "does not exist"),
    ],
)
def test_garbage_is_refused_and_nothing_is_recorded(run, tmp_path, argv, says):
    (tmp_path / "exists.txt").write_text("mine")
    before = run("show", "1", "--json")[1]
    code, _, err = run("letter", "1", *[a.format(tmp=tmp_path) for a in argv])
    assert code == 2 and says in err
    assert run("show", "1", "--json")[1] == before
    assert (tmp_path / "exists.txt").read_text() == "mine"


def test_a_letter_needs_the_name_and_role_it_is_signed_with(run, tmp_path, isolated_home):
    (isolated_home / "settings.toml").write_text('name = ""\nrole = ""\n')
    code, _, err = run("letter", "1", "-o", tmp_path / "l.txt")
    assert code != 0 and ("name and role are not set" in err)
