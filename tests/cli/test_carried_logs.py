"""Every export format verifies: a file for people carries the log it was made from, and
`escalate verify FILE` checks that log and that the file says what it says (escalate.carried).
Each test runs on both stores (the backend fixture)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from escalate import carried, journal
from escalate import settings as settings_mod
from escalate.journal import store_at
from tests.logtools import SETTINGS, open_fictional

PEOPLE = ("html", "md", "pdf", "csv")


@pytest.fixture
def rich_home(isolated_home, backend):
    """Three fictional challenges: named people, a step up, corrections (a name among them), an
    extension, a resolution, an immediate risk."""
    settings_mod.save(SETTINGS)
    with store_at(backend) as s:
        open_fictional(s, decision_by={"name": "Robin Madeup", "role": "Team manager"})
        journal.record(
            s,
            SETTINGS,
            "C-0001",
            "contact",
            {
                "direction": "made",
                "medium": "phone",
                "with": {"name": "Sam Fictional", "role": "Social worker"},
                "summary": "Raised the disagreement <b>and</b> asked for reasons --> in writing",
            },
            "2026-11-16T10:00",
        )
        journal.step_up(s, SETTINGS, "C-0001", "No reply by the deadline", "2026-11-19T09:00")
        journal.amend(s, SETTINGS, "C-0001", 2, "with.name", "Sam Fictionall", "spelling")
        journal.amend(s, SETTINGS, "C-0001", 1, "agency", "Southtown CSC", "wrong council named")
        open_fictional(s, case_ref="Child R (fictional)", at="2026-11-20T09:00", immediate_risk=True)
        journal.record(
            s,
            SETTINGS,
            "C-0002",
            "contact",
            {
                "direction": "received",
                "medium": "email",
                "with": {"name": "Sam Fictional", "role": "Social worker"},
                "summary": "Strategy discussion booked",
            },
            "2026-11-20T11:00",
        )
        open_fictional(s, case_ref="Child S (fictional)", at="2026-11-23T09:00")
        journal.record(s, SETTINGS, "C-0003", "resolved", {"outcome": "resolved", "rationale": "Strategy meeting held"})
    return isolated_home


def _export(run_cli, path, fmt, *extra):
    code, out, err = run_cli("export", "--all", "--format", fmt, "-o", path, *extra)
    assert code == 0, err
    return path


@pytest.mark.parametrize("redact", [False, True], ids=["named", "redacted"])
@pytest.mark.parametrize("fmt", PEOPLE)
def test_each_format_for_people_verifies_and_a_changed_byte_fails(rich_home, tmp_path, run_cli, fmt, redact):
    path = _export(run_cli, tmp_path / f"log.{fmt}", fmt, *(["--redact"] if redact else []))
    code, out, err = run_cli("verify", path)
    assert code == 0, out + err
    assert re.search(r"OK \d+ entries; head fingerprint \d+:", out)
    assert f"OK the {fmt} file says what the log it carries says" in out
    data = path.read_bytes()
    # a word of the page changed (in the PDF: a byte of its page content; in the CSV: a cell)
    target = {"html": b"Southtown", "md": b"Southtown", "csv": b"Southtown", "pdf": b"/Title"}[fmt]
    at = data.index(target) if target in data else len(data) // 3
    path.write_bytes(data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :])
    code, out, _ = run_cli("verify", path)
    assert code == 1 and "FAILED" in out


@pytest.mark.parametrize("fmt", PEOPLE)
def test_a_redacted_file_carries_no_name(rich_home, tmp_path, run_cli, fmt):
    path = _export(run_cli, tmp_path / f"log.{fmt}", fmt, "--redact")
    held = path.read_bytes() + (carried.companion(path).read_bytes() if fmt == "csv" else b"")
    for name in (b"Sam Fictional", b"Robin Madeup", b"Alex Example", b"Child Q", b"Child R (fictional)"):
        assert name not in held


def test_the_words_a_redacted_file_shows_are_its_stand_ins(rich_home, tmp_path, run_cli):
    text = _export(run_cli, tmp_path / "log.md", "md", "--redact").read_text()
    assert "Child A" in text and "Social worker 1" in text and "Recorder 1" in text


def test_html_keeps_its_log_in_a_block_no_browser_runs(rich_home, tmp_path, run_cli):
    text = _export(run_cli, tmp_path / "log.html", "html").read_text()
    scripts = re.findall(r"<script[^>]*>", text)
    assert scripts == ['<script type="application/x-ndjson" id="escalate-log">']
    block = text.split(scripts[0], 1)[1].split("</script>", 1)[0]
    lines = block.splitlines()
    header = json.loads(lines[0])
    assert header["rendering"]["format"] == "html" and header["entries"] == len(lines) - 1
    # the summary's "<b>" is in the log as JSON's escape, so it cannot end the block
    assert "<" not in block and "\\u003cb>" in block


def test_pdf_attaches_its_log_for_pdfdetach(rich_home, tmp_path, run_cli):
    if shutil.which("pdfdetach") is None:
        pytest.skip("pdfdetach is not installed (apt-get install -y poppler-utils)")
    path = _export(run_cli, tmp_path / "log.pdf", "pdf")
    listing = subprocess.run(["pdfdetach", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    assert "escalate-log.jsonl" in listing
    saved = tmp_path / "saved.jsonl"
    subprocess.run(["pdfdetach", "-save", "1", "-o", str(saved), str(path)], check=True)
    # what pdfdetach gives is a jsonl export of its own, and verifies as one
    code, out, _ = run_cli("verify", saved)
    assert code == 0 and "OK" in out


def test_csv_companion_is_written_beside_and_checked(rich_home, tmp_path, run_cli):
    path = _export(run_cli, tmp_path / "log.csv", "csv")
    beside = carried.companion(path)
    assert beside.name == "log.csv.jsonl"
    assert run_cli("verify", beside)[0] == 0
    beside.unlink()
    code, out, err = run_cli("verify", path)
    assert code != 0 and "log.csv.jsonl" in out + err and "Traceback" not in err


def test_a_csv_refuses_to_replace_a_companion_unless_forced(rich_home, tmp_path, run_cli):
    path = tmp_path / "log.csv"
    carried.companion(path).write_text("mine")
    code, out, err = run_cli("export", "--all", "--format", "csv", "-o", path)
    assert code != 0 and "already exists" in out + err
    assert not path.exists() and carried.companion(path).read_text() == "mine"
    assert run_cli("export", "--all", "--format", "csv", "-o", path, "--force")[0] == 0
    assert run_cli("verify", path)[0] == 0


def test_the_carried_log_is_checked_against_the_fingerprint(rich_home, tmp_path, run_cli):
    path = _export(run_cli, tmp_path / "log.html", "html")
    header = json.loads(path.read_text().split('id="escalate-log">', 1)[1].splitlines()[0])
    fp = header["store_fingerprint"]
    assert run_cli("verify", path, "--expect", fp)[0] == 0
    count, digits = fp.split(":")
    code, out, _ = run_cli("verify", path, "--expect", f"{count}:0000-0000-0000-0000")
    assert code == 1 and "fingerprint you hold" in out


def test_an_edit_to_the_carried_log_fails_its_hashes(rich_home, tmp_path, run_cli):
    path = _export(run_cli, tmp_path / "log.md", "md")
    path.write_bytes(path.read_bytes().replace(b"Bruising seen twice", b"Bruising seen once"))
    code, out, _ = run_cli("verify", path)
    assert code == 1 and "FAILED" in out


def test_words_changed_with_the_log_made_to_agree_fail(rich_home, tmp_path, run_cli):
    """The strongest naive forgery: the page and its log both changed. The log's hashes catch it."""
    path = _export(run_cli, tmp_path / "log.html", "html")
    path.write_bytes(path.read_bytes().replace(b"Southtown CSC", b"Easttown CSC"))
    code, out, _ = run_cli("verify", path)
    assert code == 1 and "FAILED" in out


def test_a_file_that_withholds_free_text_says_it_carries_no_log(rich_home, tmp_path, run_cli):
    path = _export(run_cli, tmp_path / "log.html", "html", "--withhold", "summary")
    text = path.read_text()
    assert "cannot carry the log" in text and "escalate-log" not in text
    code, out, err = run_cli("verify", path)
    assert code != 0 and "carries no log" in out + err and "Traceback" not in err


def test_a_file_made_by_another_version_is_not_passed(rich_home, tmp_path, run_cli, monkeypatch):
    path = _export(run_cli, tmp_path / "log.md", "md")
    monkeypatch.setattr(carried, "made_by", lambda fmt: "escalate 99.0")
    code, out, _ = run_cli("verify", path)
    assert code == 1 and "check the file with the version that made it" in out


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: t.replace(b'"tz":"Europe/London"', b'"tz":"Mars/Base"'),
        lambda t: t.replace(b'"format":"md"', b'"format":"html"', 1),
        lambda t: t.replace(b"<!-- escalate-log\n", b"<!-- escalate-log\nnot json\n"),
        lambda t: t.split(b"<!-- escalate-log")[0],
    ],
    ids=["unknown-zone", "other-format", "not-a-log", "log-cut-off"],
)
def test_a_damaged_carried_log_is_named_not_a_traceback(rich_home, tmp_path, run_cli, damage):
    path = _export(run_cli, tmp_path / "log.md", "md")
    path.write_bytes(damage(path.read_bytes()))
    code, out, err = run_cli("verify", path)
    assert code != 0 and "Traceback" not in err and (out + err).strip()


def test_a_big_csv_from_two_processes_is_the_file_its_log_makes(backend, tmp_path, run_cli, monkeypatch):
    """The two-process CSV (escalate.export._in_two) reads the store; its bytes must be the ones made
    from the carried log, or a genuine big CSV would fail to verify."""
    from escalate import export

    settings_mod.save(SETTINGS)
    with store_at(backend) as s:
        for i in range(6):
            open_fictional(s, case_ref=f"Child {i} (fictional)", at=f"2026-11-{16 + i}T09:00")
            journal.record(
                s, SETTINGS, f"C-{i + 1:04d}", "note", {"summary": f'Fictional note {i}, with "quotes",\nand a comma'}
            )
    monkeypatch.setattr(export, "SPLIT_FROM", 2)
    path = _export(run_cli, tmp_path / "big.csv", "csv")
    assert run_cli("verify", path)[0] == 0


def test_the_carried_log_meets_the_published_schema(rich_home, tmp_path, run_cli):
    import jsonschema

    _export(run_cli, tmp_path / "log.csv", "csv", "--redact")
    schema = json.loads(run_cli("export", "--schema")[1])
    validator = jsonschema.Draft202012Validator(schema)
    lines = carried.companion(tmp_path / "log.csv").read_text().splitlines()
    assert json.loads(lines[0])["rendering"]["names"]  # redacted: the stand-ins are named
    for line in lines:
        validator.validate(json.loads(line))
