"""Signed checkpoints: the head signed after each recording command, checked by verify --signers
against an allowed_signers file; a forged export (every hash recomputed, header fixed) fails; a key
that is not the signer's fails; entries after the last checkpoint are reported unsigned."""

from __future__ import annotations

import hashlib
import json

import pytest
from logtools import export_lines_of as lines_of
from logtools import write_export as write

from escalate import entry, verify

OPEN = ["open", "--procedure", "london-children", "--trigger", "threshold-misapplied", "--decision", "NFA",
        "--case-ref", "Child Q", "--agency", "Northtown CSC", "--concern", "Bruising",
        "--at", "16/11/2026 09:00"]  # fmt: skip
#: a public key nobody here signs with
STRANGER = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMhZSSo2i3VvxW6Li4+hc8FzpAvh2sGv5P0+su5g8IZY"


@pytest.fixture
def signed(run_cli, tmp_path):
    for key, value in (("name", "Alex Example"), ("role", "DSL"), ("email", "alex@fictional-primary.example")):
        assert run_cli("config", "set", key, value)[0] == 0
    assert run_cli("keys", "new")[0] == 0
    assert run_cli(*OPEN)[0] == 0
    assert run_cli("record", "1", "note", "--summary", "Called the duty manager")[0] == 0
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(run_cli("keys", "allowed-signers")[1])
    return allowed


def test_each_recording_command_signs_the_head_and_verify_checks_it(run_cli, signed):
    code, out, _ = run_cli("show", "1", "--json")
    kinds = [e["kind"] for e in json.loads(out)["chronology"]]
    assert kinds == ["opened", "checkpoint", "note", "checkpoint"]  # one after each command
    code, out, err = run_cli("verify", "--signers", signed)
    assert code == 0, out + err
    assert "OK entries 1 to 3 signed by alex@fictional-primary.example" in out
    assert "not yet signed" not in out  # only the last checkpoint itself follows the head it signed
    assert run_cli("record", "1", "note", "--summary", "no new checkpoint when nothing followed")[0] == 0
    assert run_cli("verify", "--signers", signed)[0] == 0


def test_an_export_carries_a_checkpoint_of_everything_before_it(run_cli, signed, tmp_path):
    path = tmp_path / "e.jsonl"
    assert run_cli("export", "1", "-o", path)[0] == 0
    code, out, err = run_cli("verify", path, "--signers", signed)
    assert code == 0, out + err
    assert "OK entries 1 to 3 signed" in out
    html = tmp_path / "e.html"
    assert run_cli("export", "--all", "--format", "html", "-o", html)[0] == 0  # by the log it carries
    code, out, err = run_cli("verify", html, "--signers", signed)
    assert code == 0, out + err


def test_a_forged_export_with_every_hash_recomputed_fails_the_signatures(run_cli, signed, tmp_path):
    path = tmp_path / "all.jsonl"
    assert run_cli("export", "--all", "-o", path)[0] == 0
    header, records = lines_of(path)
    last, last_of, out = "0" * 64, {}, []
    for r in records:  # the forger recomputes everything the file lets them
        head, content = r["body"].split("\n", 1)
        fields = head.split(" ")
        fields[5], fields[6] = last, last_of.get(r["challenge"], "0" * 64)
        body = " ".join(fields) + "\n" + content.replace("Called the duty manager", "Did not call")
        last = last_of[r["challenge"]] = entry.link(r["seq"], last, hashlib.sha256(body.encode()).hexdigest())
        out.append({**r, "body": body, "hash": last})
    header["store_fingerprint"] = verify.fingerprint(out[-1]["seq"], last)
    write(path, header, out)
    code, said, err = run_cli("verify", path)
    assert code == 0, said + err  # consistent in itself: without a held fingerprint, nothing tells
    code, said, _ = run_cli("verify", path, "--signers", signed)
    assert code == 1 and "FAILED signatures: the header's signature does not hold" in said
    # the header's signature left out: then the checkpoints' heads do not match what was signed
    header.pop("signature"), header.pop("signer")
    write(path, header, out)
    code, said, _ = run_cli("verify", path, "--signers", signed)
    assert code == 1 and "the file's header is not signed" in said
    from escalate import checkpoint

    report = checkpoint.check_lines(out, checkpoint.read_signers(signed))
    assert not report.ok and "is not the one alex@fictional-primary.example signed" in (report.problem or "")


def test_a_whole_export_relabelled_as_a_selection_fails_the_header_signature(run_cli, signed, tmp_path):
    """The row the tamper table said needed an outside anchor: a challenge cut from a whole-store
    export, its entries made link lines, the header relabelled as a linked selection of the rest."""
    assert run_cli(*OPEN)[0] == 0  # C-0002
    path = tmp_path / "all.jsonl"
    assert run_cli("export", "--all", "-o", path)[0] == 0
    header, records = lines_of(path)
    out = []
    for r in records:
        if r["challenge"] == "C-0002":
            out.append({"inner": hashlib.sha256(r["body"].encode()).hexdigest(), "seq": r["seq"]})
        else:
            out.append(r)
    header.update(scope="selection", challenges=["C-0001"], linked=True, entries=sum(1 for r in out if "body" in r))
    write(path, header, out)
    code, said, err = run_cli("verify", path)
    assert code == 0, said + err  # a linked selection, consistent in itself
    code, said, _ = run_cli("verify", path, "--signers", signed)
    assert code == 1 and "the header's signature does not hold" in said


def test_checkpoints_stripped_from_an_export_leave_nothing_signed(run_cli, signed, tmp_path):
    path = tmp_path / "all.jsonl"
    assert run_cli("export", "--all", "-o", path)[0] == 0
    code, said, _ = run_cli("verify", path, "--signers", signed)
    assert code == 0
    header, records = lines_of(path)
    kept = [r for r in records if r.get("kind") != "checkpoint"]
    assert len(kept) < len(records)
    write(path, header, kept)
    code, said, _ = run_cli("verify", path, "--signers", signed)
    assert code == 1  # the chain breaks where they were; and with no checkpoint, nothing is signed


def test_a_checkpoint_signed_with_a_key_that_is_not_the_signers_fails(run_cli, signed, tmp_path):
    assert run_cli("keys", "new", "--replace")[0] == 0  # same person, another key: not the one the auditor holds
    assert run_cli("record", "1", "note", "--summary", "signed with the new key")[0] == 0
    code, out, _ = run_cli("verify", "--signers", signed)
    assert code == 1 and "not a key of alex@fictional-primary.example in the signers file" in out
    other = tmp_path / "other_signers"
    other.write_text(signed.read_text().replace("alex@fictional-primary.example", "sam@fictional-primary.example"))
    code, out, _ = run_cli("verify", "--signers", other)
    assert code == 1 and "who is not in the signers file" in out


def test_entries_after_the_last_checkpoint_are_reported_unsigned(run_cli, signed, isolated_home):
    (isolated_home / "signing_key").rename(isolated_home / "away")  # no key: nothing signs
    assert run_cli("record", "1", "note", "--summary", "recorded without the key")[0] == 0
    code, out, _ = run_cli("verify", "--signers", signed)
    assert code == 0 and "not yet signed: the 1 entry after entry 3" in out


def test_a_store_never_signed_fails_verify_signers(run_cli, tmp_path):
    for key, value in (("name", "Alex Example"), ("role", "DSL")):
        run_cli("config", "set", key, value)
    assert run_cli(*OPEN)[0] == 0
    allowed = tmp_path / "allowed"
    allowed.write_text(f'alex@escalate namespaces="escalate" {STRANGER}\n')
    code, out, _ = run_cli("verify", "--signers", allowed)
    assert code == 1 and "nothing is signed" in out


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("", "names no signer"),
        ("# only a comment\n", "names no signer"),
        ("alex@escalate\n", "not an allowed_signers line"),
        ("alex@escalate ssh-ed25519 !!!\n", "damaged"),
        (f'alex@escalate namespaces="git" {STRANGER}\n',
         "names no signer"),
    ],
)  # fmt: skip
def test_a_signers_file_that_is_not_one_is_refused(run_cli, signed, tmp_path, content, says):
    bad = tmp_path / "bad"
    bad.write_text(content)
    code, _, err = run_cli("verify", "--signers", bad)
    assert code == 2 and says in err
    code, _, err = run_cli("verify", "--signers", tmp_path / "missing")
    assert code == 2 and "cannot read the signers file" in err


def test_a_key_whose_passphrase_is_not_given_warns_and_records_all_the_same(run_cli, tmp_path, monkeypatch, capsys):
    for key, value in (("name", "Alex Example"), ("role", "DSL")):
        run_cli("config", "set", key, value)
    monkeypatch.setenv("ESCALATE_KEY_PASSPHRASE", "a passphrase")
    assert run_cli("keys", "new", "--passphrase")[0] == 0
    monkeypatch.delenv("ESCALATE_KEY_PASSPHRASE")
    code, out, err = run_cli(*OPEN)
    assert code == 0 and out.strip() == "C-0001"
    assert "not signed" in err and "passphrase" in err
    code, out, _ = run_cli("show", "1", "--json")
    assert [e["kind"] for e in json.loads(out)["chronology"]] == ["opened"]


def test_the_auditors_guide_commands_check_a_checkpoint_with_ssh_keygen_alone(run_cli, signed, tmp_path):
    """The guide's script and ssh-keygen command, run exactly as written, without escalate."""
    import os
    import re
    import shutil
    import subprocess
    import sys

    from helpers import ROOT

    if shutil.which("ssh-keygen") is None:
        if os.environ.get("CI"):
            pytest.fail("ssh-keygen is not installed: .ci/run installs openssh-client")
        pytest.skip("ssh-keygen is not installed")
    guide = (ROOT / "docs" / "auditor-guide.md").read_text(encoding="utf-8")
    script = re.search(r"<!-- checkpoint-extract -->\n```python\n(.*?)```\n<!-- end -->", guide, re.S).group(1)
    commands = re.findall(r"^(ssh-keygen -Y verify .*)$", guide, re.M)
    assert len(commands) == 2  # the last checkpoint, and the export's header
    command = commands[0]
    work = tmp_path / "auditor"
    work.mkdir()
    (work / "checkpoint.py").write_text(script)
    shutil.copy(signed, work / "allowed_signers")
    assert run_cli("export", "--all", "-o", work / "log.jsonl")[0] == 0
    env = {"PATH": os.environ["PATH"]}  # nothing of escalate's: not its package, not its settings
    extracted = subprocess.run([sys.executable, "-I", "checkpoint.py", "log.jsonl"], cwd=work, env=env,
                               capture_output=True, text=True, timeout=30)  # fmt: skip
    assert extracted.returncode == 0, extracted.stderr
    assert "the file's entry there matches: True" in extracted.stdout
    checked = subprocess.run(command, shell=True, cwd=work, env=env, capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    assert 'Good "escalate" signature for alex@fictional-primary.example' in checked.stdout + checked.stderr
    header_checked = subprocess.run(
        commands[1], shell=True, cwd=work, env=env, capture_output=True, text=True, timeout=30
    )
    assert header_checked.returncode == 0, header_checked.stderr
    # the same commands on a forged text say no
    (work / "checkpoint.txt").write_text((work / "checkpoint.txt").read_text().replace("count ", "count 9"))
    forged = subprocess.run(command, shell=True, cwd=work, env=env, capture_output=True, text=True, timeout=30)
    assert forged.returncode != 0


def test_an_export_of_another_challenge_carries_its_own_checkpoint(run_cli, signed, tmp_path):
    assert run_cli(*OPEN)[0] == 0  # C-0002: the last checkpoint is an entry of C-0002 now
    path = tmp_path / "first.jsonl"
    assert run_cli("export", "1", "-o", path)[0] == 0
    header, records = lines_of(path)
    assert header["challenges"] == ["C-0001"]
    carried = [r for r in records if r.get("kind") == "checkpoint"]
    assert carried and carried[-1]["challenge"] == "C-0001"
    code, out, err = run_cli("verify", path, "--signers", signed)
    assert code == 0, out + err
    last = max(int(r["seq"]) for r in records)
    assert f"OK entries 1 to {last - 1} signed" in out  # everything before the export, C-0002's included


def test_an_export_names_whose_keys_to_ask_for(run_cli, signed, tmp_path):
    path = tmp_path / "e.jsonl"
    assert run_cli("export", "1", "-o", path)[0] == 0
    header, _ = lines_of(path)
    assert header["signers"] == [signed.read_text().strip()]  # the exporter's own line, as keys prints it
    # the file's word only: a signers list edited in the file changes nothing verify trusts
    header["signers"] = ['mallory@example namespaces="escalate" ssh-ed25519 AAAA']
    write(path, header, lines_of(path)[1])
    code, out, _ = run_cli("verify", path, "--signers", signed)
    assert code == 0 and "signed by alex@fictional-primary.example" in out
