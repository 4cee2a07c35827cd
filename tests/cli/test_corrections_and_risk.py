"""Corrections flow everywhere, and immediate risk is followed through (issue 16, deliverables 2 and
3). Before, a corrected agency or case reference changed only the chronology, and immediate risk was
mentioned nowhere after the wizard."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from escalate import clock

OPENING = ["open", "--procedure", "london-children", "--trigger", "disputed-referral", "--case-ref", "Child Q"]
OPENING += ["--agency", "Northtown CSC", "--decision", "NFA", "--concern", "bruising"]


@pytest.fixture
def cli(run_cli, isolated_home, tmp_path, monkeypatch, backend):
    monkeypatch.chdir(tmp_path)
    assert run_cli("config", "set", "name", "Alex Example")[0] == 0
    assert run_cli("config", "set", "role", "DSL")[0] == 0
    return run_cli


def amend(cli, field: str, value: str) -> None:
    code, out, err = cli("amend", "1", "1", "--field", field, "--value", value, "--reason", "typed wrongly")
    assert code == 0, err


def test_a_corrected_agency_and_case_reference_show_everywhere(cli, tmp_path):
    assert cli(*OPENING)[0] == 0
    amend(cli, "agency", "Southtown CSC")
    amend(cli, "case_ref", "Child R")
    code, out, _ = cli("show", "1")
    assert out.splitlines()[0] == "C-0001 · case Child R (corrected) · Southtown CSC (corrected) · OPEN"
    assert "Corrected since it was opened: agency, case ref" in out
    assert "Southtown CSC [corrected; was: Northtown CSC]" in " ".join(out.split())  # the original, one line away
    listed = cli("list")[1]
    assert "Southtown CSC" in listed and "Child R" in listed and "Northtown" not in listed
    shown = json.loads(cli("show", "1", "--json")[1])
    assert shown["agency"] == "Southtown CSC" and shown["case_ref"] == "Child R"
    assert shown["corrected"] == ["agency", "case_ref"] and shown["suspect"] == []
    assert cli("export", "1", "--format", "md", "-o", tmp_path / "c.md")[0] == 0
    md = (tmp_path / "c.md").read_text(encoding="utf-8")
    assert "- Agency challenged: Southtown CSC (corrected)" in md and "## C-0001: Child R" in md
    assert cli("export", "--all", "-o", tmp_path / "all.jsonl")[0] == 0
    audit = json.loads(cli("audit", tmp_path / "all.jsonl", "--json")[1])
    assert "Southtown CSC" in json.dumps(audit) and "Northtown CSC" not in json.dumps(audit)


def test_corrected_triggers_and_immediate_risk_are_taken_into_the_state(cli):
    assert cli(*OPENING)[0] == 0
    amend(cli, "triggers", "unrecognised-harm, threshold-misapplied")
    amend(cli, "immediate_risk", "yes")
    shown = json.loads(cli("show", "1", "--json")[1])
    assert shown["triggers"] == ["unrecognised-harm", "threshold-misapplied"]
    out = cli("show", "1")[1]
    assert "· OPEN · IMMEDIATE RISK" in out.splitlines()[0]
    assert "at risk of immediate harm (as corrected)" in out


def test_immediate_risk_is_flagged_in_every_face_until_the_challenge_ends(cli, tmp_path):
    assert cli(*OPENING, "--immediate-risk")[0] == 0
    out = cli("show", "1")[1]
    assert "· OPEN · IMMEDIATE RISK" in out.splitlines()[0]
    assert "Not yet recorded as done" in out
    assert "none is recorded" in out  # London's protective timescale is asked for
    assert "open · RISK" in cli("list")[1]
    assert json.loads(cli("list", "--json")[1])[0]["immediate_risk"] is True
    assert cli("export", "1", "--format", "md", "-o", tmp_path / "c.md")[0] == 0
    assert "- Status: open · IMMEDIATE RISK" in (tmp_path / "c.md").read_text(encoding="utf-8")
    assert cli("pack", "1", "--format", "md", "-o", tmp_path / "p.md")[0] == 0
    pack = " ".join((tmp_path / "p.md").read_text(encoding="utf-8").split())
    assert "Status: open · IMMEDIATE RISK" in pack
    assert "IMMEDIATE RISK" in pack.split("Status:")[0] and "Not yet recorded as done" in pack  # a section, first
    # the instruction stays until a contact records it done; the prompt until a protective date is agreed
    assert cli("record", "1", "contact", "--with", "Sam Fictional, Police", "--summary", "called 999")[0] == 0
    soon = (clock.now() + dt.timedelta(days=2)).strftime("%Y-%m-%d")
    argv = ["record", "1", "timescale-agreed", "--deadline", "resolve", "--due", soon, "--reason", "agreed"]
    assert cli(*argv)[0] == 0
    out = cli("show", "1")[1]
    assert "A contact or notification is recorded since the opening" in out
    assert "Not yet recorded as done" not in out and "none is recorded" not in out


def test_no_risk_section_for_a_challenge_without_immediate_risk(cli):
    assert cli(*OPENING)[0] == 0
    out = cli("show", "1")[1]
    assert "IMMEDIATE RISK" not in out and "RISK" not in cli("list")[1]


def test_a_stage_stepped_up_before_its_deadline_is_not_said_to_have_met_it(cli, tmp_path):
    """The dispute pack's ladder said "timescales met" for a stage left before its timescale fell due
    (issue 16): "met" is said only of timescales met."""
    from escalate.report import settled_words

    sefton = [a if a != "london-children" else "sefton-children" for a in OPENING]  # step-up meets none
    assert cli(*sefton)[0] == 0
    assert cli("step-up", "1", "--reason", "no agreement in the discussion")[0] == 0
    assert cli("pack", "1", "--format", "html", "-o", tmp_path / "p.html")[0] == 0
    page = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert "timescales met" not in page and "left before its timescale fell due" in page
    assert settled_words(["met", "met"], "left") == "timescales met"
    assert settled_words(["met", "not reached"], "left") == "left before its timescale fell due"
    assert settled_words([], "left") == "no timescale stated"
    assert settled_words(["met"], None) == "no timescale missed yet"


def test_html_pdf_and_markdown_exports_say_the_same_things(cli, tmp_path):
    """One challenge with a correction, immediate risk, a step-up and an earlier export: each format
    shows the same summary lines, the same chronology (each entry marked where it was amended), and
    the same export register, kept apart from the chronology (issue 16, deliverable 6)."""
    import html as html_mod
    import re
    import shutil
    import subprocess

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (apt-get install -y poppler-utils)")
    assert cli(*OPENING, "--immediate-risk")[0] == 0
    amend(cli, "agency", "Southtown CSC")
    assert cli("record", "1", "contact", "--with", "Sam Fictional, SW", "--summary", "called the duty desk")[0] == 0
    assert cli("export", "1", "--format", "csv", "-o", tmp_path / "first.csv")[0] == 0
    texts = {}
    for fmt in ("md", "html", "pdf"):
        assert cli("export", "1", "--format", fmt, "-o", tmp_path / f"c.{fmt}")[0] == 0
    texts["md"] = (tmp_path / "c.md").read_text(encoding="utf-8").replace("*", "")
    raw = (tmp_path / "c.html").read_text(encoding="utf-8")
    texts["html"] = html_mod.unescape(re.sub(r"<[^>]+>", "\n", raw))
    pdf = subprocess.run(["pdftotext", str(tmp_path / "c.pdf"), "-"], capture_output=True, text=True).stdout
    texts["pdf"] = pdf
    said = [
        "Agency challenged: Southtown CSC (corrected)",
        "Stage: Stage 1 (1 of 3)",
        "Status: open · IMMEDIATE RISK",
        "Timescales missed: ours 0, theirs 0, shared 0",
        "(amended by #2)",
        "called the duty desk",
        "Export register",
        "selection as csv, not redacted",
    ]
    for fmt, text in texts.items():
        flat = " ".join(text.split())
        for line in said:
            assert line in flat, (fmt, line)
        chronology = flat.split("Export register")[0]
        assert "selection as csv" not in chronology, fmt  # the register is apart from the chronology


def test_corrections_of_times_dates_and_outcomes_move_what_depends_on_them(cli, isolated_home):
    """A correction of when the disagreement arose, of an extension's new date or of an outcome is
    taken into the deadlines and the status (the challenge is folded again, reading each entry as
    corrected); the cached state is then what a fold from the entries gives."""
    from escalate import journal

    def due() -> str:
        return json.loads(cli("show", "1", "--json")[1])["next_deadline"]["due"]

    three_days_ago = (clock.now() - dt.timedelta(days=3)).strftime("%Y-%m-%dT09:00")
    assert cli(*OPENING, "--at", three_days_ago)[0] == 0
    before = due()
    amend(cli, "occurred_at", (clock.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT09:00"))
    assert due() > before  # the stage's clock starts two days later
    later = (clock.now() + dt.timedelta(days=20)).strftime("%Y-%m-%d")
    assert cli("record", "1", "deadline-extended", "--deadline", "resolve", "--new-due", later, "--reason", "r")[0] == 0
    extended = due()
    assert cli("amend", "1", "3", "--field", "new_due", "--value", "2099-01-05", "--reason", "typo")[0] == 0
    assert due() == "2099-01-05T00:00:00.000000Z" != extended
    assert cli("resolve", "1", "--outcome", "resolved", "--rationale", "plan agreed")[0] == 0
    assert cli("amend", "1", "5", "--field", "outcome", "--value", "withdrawn", "--reason", "wrong one")[0] == 0
    shown = json.loads(cli("show", "1", "--json")[1])
    assert (shown["status"], shown["outcome"]) == ("withdrawn", "withdrawn")
    with journal.open_store() as s:
        assert s.state("C-0001") == s.state("C-0001", fresh=True)
    assert cli("verify")[0] == 0
