"""End to end in a real terminal: tmux runs escalate; we type like a DSL and read the screen."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest
from helpers import ROOT, run_escalate

pytestmark = pytest.mark.e2e

if shutil.which("tmux") is None:  # .ci/run installs tmux; a developer machine may lack it
    pytest.skip(
        "tmux is not installed (apt-get install -y tmux); the end-to-end test needs a real terminal",
        allow_module_level=True,
    )


class Terminal:
    def __init__(self, home, width=100, height=30, args=""):
        self.name = f"escalate-{uuid.uuid4().hex[:8]}"
        self.socket = ["-L", self.name]
        command = (
            # (the tests' COLUMNS=100 would tell the app a width the terminal does not have)
            f"unset COLUMNS LINES; cd {ROOT} && ESCALATE_HOME={home} {sys.executable} -m escalate {args}; "
            "echo ESCALATE-EXITED $?; sleep 30"
        )
        subprocess.run(
            ["tmux", *self.socket, "new-session", "-d", "-x", str(width), "-y", str(height), "-s", self.name, command],
            check=True,
            env={**os.environ, "TERM": "xterm-256color"},
        )

    def screen(self) -> str:
        return subprocess.run(
            ["tmux", *self.socket, "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        ).stdout

    def wait_for(self, text: str, timeout: float = 20.0, settle: float = 0.3) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                # a screen is drawn a moment before its first field takes focus: keys sent at once
                # could land elsewhere under load (seen in CI), as a person's would not
                time.sleep(settle)
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear; the screen shows:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        for key in keys:
            subprocess.run(["tmux", *self.socket, "send-keys", "-t", self.name, key], check=True)
            time.sleep(0.15)

    def type(self, text: str) -> None:
        subprocess.run(["tmux", *self.socket, "send-keys", "-t", self.name, "-l", text], check=True)
        time.sleep(0.15)

    def close(self) -> None:
        subprocess.run(["tmux", *self.socket, "kill-server"], capture_output=True)


def test_a_dsl_runs_a_challenge_from_concern_to_resolution(tmp_path):
    home = tmp_path / "home"
    env = {"ESCALATE_HOME": str(home)}
    assert run_escalate("config", "set", "name", "Alex Example", env=env).returncode == 0
    assert run_escalate("config", "set", "role", "DSL", env=env).returncode == 0
    term = Terminal(home)
    try:
        term.wait_for("No challenges yet")
        term.keys("n")
        term.wait_for("step 1 of 7")
        term.type("Child Q")
        term.keys("C-n")
        term.wait_for("step 2 of 7")
        term.type("Northtown CSC")
        term.keys("Tab")
        term.type("Referral closed with no further action")
        term.keys("C-n")
        term.wait_for("step 3 of 7")
        term.keys("Down", "Space", "C-n")
        term.wait_for("step 4 of 7")
        term.keys("C-n")
        term.wait_for("step 5 of 7")
        term.keys("Space", "C-n")
        term.wait_for("step 6 of 7")
        term.type("Bruising seen twice in one week")
        term.keys("C-n")
        term.wait_for("You start at")
        term.keys("C-n")
        term.wait_for("Stage 1 (1 of")
        term.keys("c")
        term.wait_for("Record a contact", settle=2.0)
        term.keys("Tab", "Tab")
        term.type("Sam Fictional, Social worker, Northtown CSC")
        term.keys("Tab")
        term.type("Raised the disagreement by phone")
        term.wait_for(
            "Raised the disagreement by phone", timeout=10
        )  # typed into the form, not lost while it took focus
        term.keys("C-s")
        term.wait_for("Saved: #2 contact")
        term.keys("r")
        term.wait_for("Record their response", settle=2.0)
        term.keys("Tab")
        term.type("Still no further action")
        term.wait_for("Still no further action", timeout=10)  # typed into the form, not lost while it took focus
        term.keys("C-s")
        term.wait_for("Saved: #3 response")
        term.keys("u")
        term.wait_for("Why you are stepping up", settle=2.0)
        term.type("Not resolved at step 1")
        term.wait_for("Not resolved at step 1", timeout=10)  # typed into the form, not lost while it took focus
        term.keys("C-s")
        term.wait_for("Stage 2 (2 of")
        term.keys("s")
        term.wait_for("Outcome *", settle=2.0)  # the resolve form's first label (it opens at its start)
        term.keys("Tab")
        term.type("Strategy discussion agreed")
        term.wait_for("Strategy discussion agreed", timeout=10)  # typed into the form, not lost while it took focus
        term.keys("C-s")
        term.wait_for("RESOLVED")
        term.keys("C-q")
        term.wait_for("ESCALATE-EXITED 0")
    finally:
        term.close()
    verified = run_escalate("verify", env=env)
    assert verified.returncode == 0 and verified.stdout.startswith("OK 5 entries"), verified.stdout + verified.stderr
    shown = json.loads(run_escalate("show", "C-0001", "--json", env=env).stdout)
    assert [e["kind"] for e in shown["chronology"]] == ["opened", "contact", "response", "stepped-up", "resolved"]
    assert shown["case_ref"] == "Child Q" and shown["status"] == "resolved" and shown["stage"] == 2
    assert shown["chronology"][1]["data"]["with"]["name"] == "Sam Fictional"
    assert shown["chronology"][2]["data"]["decision"] == "Still no further action"


def test_at_80x24_a_dsl_writes_the_letter_sees_the_agenda_records_the_reply_and_finds_the_child(tmp_path):
    home = tmp_path / "home"
    env = {"ESCALATE_HOME": str(home)}
    for key, value in (("name", "Alex Example"), ("role", "DSL"), ("email", "dsl@fictional-primary.example")):
        assert run_escalate("config", "set", key, value, env=env).returncode == 0
    letter = tmp_path / "stage-1.docx"
    term = Terminal(home, width=80, height=24)
    try:
        term.wait_for("No challenges yet")
        term.keys("n")
        term.wait_for("step 1 of 7")
        term.type("Child Q")
        term.keys("Tab")
        term.type("Jamie Fictional")
        term.wait_for("Jamie Fictional", timeout=10)
        term.keys("C-n")
        term.wait_for("step 2 of 7")
        term.type("Northtown CSC")
        term.keys("Tab")
        term.type("Referral closed with no further action")
        term.keys("C-n")
        term.wait_for("step 3 of 7")
        term.keys("Down", "Space", "C-n")
        term.wait_for("step 4 of 7")
        term.keys("C-n")
        term.wait_for("step 5 of 7")
        term.keys("Space", "C-n")
        term.wait_for("step 6 of 7")
        term.type("Bruising seen twice in one week")
        term.keys("C-n")
        term.wait_for("step 7 of 7")
        term.keys("C-n")
        term.wait_for("Stage 1 (1 of")
        # the stage-1 letter, in Word
        term.keys("l")
        term.wait_for("Letter for", settle=2.0)
        term.keys("Tab", "Tab", "Tab", "C-u")
        term.type(str(letter))
        term.wait_for(letter.name, timeout=10)
        term.keys("C-s")
        term.wait_for("Wrote the letter")  # (the rest of the message wraps where the path is long)
        # its deadline on the agenda, above the dashboard
        term.keys("Escape")
        screen = term.wait_for("Agenda:")
        assert "C-0001 Child Q" in screen and "Resolve the difference" in screen
        # the reply, recorded
        term.keys("Enter")
        term.wait_for("Stage 1 (1 of")
        term.keys("r")
        term.wait_for("Record their response", settle=2.0)
        term.keys("Tab")
        term.type("Still no further action")
        term.wait_for("Still no further action", timeout=10)
        term.keys("C-s")
        term.wait_for("Saved: #3 response")
        # found by the child's name
        term.keys("Escape")
        term.wait_for("Agenda:")
        term.keys("/")
        term.type("jamie")
        screen = term.wait_for("searching all challenges")
        assert "Child Q" in screen.split("searching all challenges", 1)[1]
        term.keys("C-q")
        term.wait_for("ESCALATE-EXITED 0")
    finally:
        term.close()
    import docx

    text = "\n".join(p.text for p in docx.Document(str(letter)).paragraphs)
    assert "Northtown CSC" in text and "Alex Example" in text and "dsl@fictional-primary.example" in text
    assert "that is by" in text  # the stage's due date
    shown = json.loads(run_escalate("show", "C-0001", "--json", env=env).stdout)
    assert [e["kind"] for e in shown["chronology"]] == ["opened", "exported", "response"]
    found = json.loads(run_escalate("search", "jamie", "--json", env=env).stdout)
    assert [f["challenge"] for f in found] == ["C-0001"]


def test_restore_asks_a_person_before_replacing_a_store(tmp_path):
    home = tmp_path / "home"
    env = {"ESCALATE_HOME": str(home)}
    for key, value in (("name", "Alex Example"), ("role", "DSL")):
        assert run_escalate("config", "set", key, value, env=env).returncode == 0
    opening = ["open", "--procedure", "london-children", "--trigger", "threshold-misapplied", "--decision", "NFA",
               "--case-ref", "Child Q", "--agency", "Northtown CSC", "--concern", "Bruising"]  # fmt: skip
    assert run_escalate(*opening, env=env).returncode == 0
    backup = tmp_path / "b.sqlite3"
    assert run_escalate("backup", str(backup), env=env).returncode == 0
    assert run_escalate(*opening, env=env).returncode == 0  # the store moves on: 2 entries
    for answer, entries in (("n", 2), ("y", 1)):
        term = Terminal(home, width=80, height=24, args=f"restore {backup}")
        try:
            term.wait_for("Replace it with the backup")
            term.type(answer)
            term.keys("Enter")
            term.wait_for("ESCALATE-EXITED 0")
        finally:
            term.close()
        verified = run_escalate("verify", env=env)
        assert verified.stdout.startswith(f"OK {entries} entries"), verified.stdout + verified.stderr


def test_an_auditor_opens_exported_files_read_only_in_a_real_terminal(tmp_path):
    home = tmp_path / "home"
    env = {"ESCALATE_HOME": str(home)}
    for argv in (
        ["config", "set", "name", "Alex Example"],
        ["config", "set", "role", "DSL"],
        [
            "open",
            "--procedure",
            "london-children",
            "--trigger",
            "unrecognised-harm",
            "--case-ref",
            "Child T (fictional)",
            "--agency",
            "Eastvale CSC",
            "--decision",
            "NFA",
            "--concern",
            "Repeated injuries",
            "--at",
            "2026-11-16T09:00",
        ],
        ["export", "--all", "--redact", "-o", str(tmp_path / "for-audit.jsonl")],
    ):
        assert run_escalate(*argv, env=env).returncode == 0
    before = (tmp_path / "for-audit.jsonl").read_bytes()
    term = Terminal(tmp_path / "auditor-home", width=80, height=24, args=f"audit {tmp_path / 'for-audit.jsonl'} --tui")
    try:
        screen = term.wait_for("VERIFIED")
        assert "1 challenge(s)" in screen and "(withheld)" in screen and "Child T" not in screen
        term.keys("Enter")
        screen = term.wait_for("read-only")
        assert "Eastvale CSC" in screen
        term.keys("m", "s", "Escape")  # recording keys in the DSL's view do nothing here
        term.wait_for("VERIFIED")
        term.keys("C-q")
        term.wait_for("ESCALATE-EXITED 0")
    finally:
        term.close()
    assert (tmp_path / "for-audit.jsonl").read_bytes() == before
    assert not (tmp_path / "auditor-home" / "escalate.sqlite3").exists()
