"""Hostile arguments where a challenge id or a folder is expected (issue 16's hostile input): bytes
that are not UTF-8, a 100 KB value, an empty --data-dir. A clear message and exit 2, never a
traceback, and nothing written."""

from __future__ import annotations

import os

import pytest
from helpers import the_store

pytestmark = pytest.mark.usefixtures("backend")  # on a desk's file and on a team store


NOT_UTF8 = os.fsdecode(b"\xff\xfeC-0001")  # as Python hands over bytes that are not UTF-8
LONG = "C-" + "9" * 100_000


@pytest.fixture
def one_challenge(run_cli, isolated_home):
    assert run_cli("config", "set", "name", "Alex Example")[0] == 0
    assert run_cli("config", "set", "role", "DSL")[0] == 0
    opening = ["open", "--procedure", "london-children", "--trigger", "disputed-referral", "--case-ref", "Child Q"]
    opening += ["--agency", "Fictional CSC", "--decision", "NFA", "--concern", "c"]
    assert run_cli(*opening)[0] == 0
    return run_cli


COMMANDS = [
    ["show", "{id}"],
    ["record", "{id}", "note", "--summary", "s"],
    ["step-up", "{id}", "--reason", "r"],
    ["resolve", "{id}", "--outcome", "resolved", "--rationale", "r"],
    ["amend", "{id}", "1", "--field", "concern", "--value", "v", "--reason", "r"],
    ["export", "{id}", "-o", "{out}"],
    ["pack", "{id}", "-o", "{out}"],
]


@pytest.mark.parametrize("bad", [NOT_UTF8, LONG, "", "C-1x", "²"], ids=["not-utf8", "100kb", "empty", "junk", "digit"])
@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_a_challenge_id_that_cannot_be_one_is_named_and_refused(one_challenge, isolated_home, tmp_path, bad, command):
    argv = [a.format(id=bad, out=tmp_path / "out.html") for a in command]
    code, out, err = one_challenge(*argv)
    assert code == 2, (out, err)
    assert "Traceback" not in err and "no challenge" in err
    assert len(err) < 400  # a 100 KB id is not echoed back whole
    with the_store() as s:
        assert s.count() == 1  # nothing written
    assert not (tmp_path / "out.html").exists()


def test_an_empty_data_dir_is_refused_not_taken_as_the_default(one_challenge):
    code, _, err = one_challenge("--data-dir", "", "list")
    assert code == 2 and "--data-dir is empty" in err
    code, _, err = one_challenge("--data-dir", "   ", "list")
    assert code == 2 and "--data-dir is empty" in err


def test_a_redacted_export_holds_nothing_of_the_login_name_or_home_folder(run_cli, isolated_home, tmp_path):
    """The author's login name and the folder a user's procedure was read from (often a home folder
    naming the person) are sealed like names: a redacted export withholds them and still verifies."""
    import getpass

    from escalate import verify

    home = tmp_path / "home" / "alex.example-desk"
    home.mkdir(parents=True)
    from helpers import ROOT

    text = (ROOT / "procedures" / "london-children.toml").read_text(encoding="utf-8")
    (home / "own.toml").write_text(text.replace('id = "london-children"', 'id = "own-london"', 1), encoding="utf-8")
    assert run_cli("config", "set", "name", "Alex Example")[0] == 0
    assert run_cli("config", "set", "role", "DSL")[0] == 0
    opening = ["--procedures", home / "own.toml", "open", "--procedure", "own-london", "--trigger", "disputed-referral"]
    assert run_cli(*opening, "--case-ref", "Q", "--agency", "N", "--decision", "D", "--concern", "c")[0] == 0
    assert run_cli("export", "--all", "--redact", "-o", tmp_path / "r.jsonl")[0] == 0
    redacted = (tmp_path / "r.jsonl").read_text(encoding="utf-8")
    assert "alex.example-desk" not in redacted and f'"{getpass.getuser()}"' not in redacted
    assert verify.verify_file(tmp_path / "r.jsonl").ok
    assert run_cli("export", "--all", "-o", tmp_path / "a.jsonl")[0] == 0
    whole = (tmp_path / "a.jsonl").read_text(encoding="utf-8")
    assert "alex.example-desk" in whole and verify.verify_file(tmp_path / "a.jsonl").ok  # disclosed when not redacted
