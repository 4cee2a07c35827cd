"""`escalate keys`: the DSL's Ed25519 signing key in OpenSSH's files, checked with the real ssh-keygen;
an existing key adopted; a key never overwritten; garbage refused."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from escalate import keys, settings, sshsig

needs_ssh_keygen = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")


def keygen(*argv: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["ssh-keygen", *argv], input=stdin, capture_output=True, timeout=30)


@pytest.fixture
def run(run_cli):
    assert run_cli("config", "set", "name", "Alex Example")[0] == 0
    assert run_cli("config", "set", "email", "alex@fictional-primary.example")[0] == 0
    return run_cli


@needs_ssh_keygen
def test_a_new_key_signs_what_ssh_keygen_checks_against_the_allowed_signers_line(run, isolated_home, tmp_path):
    code, out, err = run("keys", "new")
    assert code == 0, err
    path = isolated_home / "signing_key"
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600
    assert keygen("-y", "-f", str(path)).returncode == 0  # an OpenSSH key file
    code, line, _ = run("keys", "allowed-signers")
    assert line.startswith('alex@fictional-primary.example namespaces="escalate" ssh-ed25519 ')
    (tmp_path / "allowed_signers").write_text(line)
    message = b"escalate checkpoint\ncount 3\n"
    (tmp_path / "m.sig").write_text(sshsig.sign(keys.load(path), message, keys.NAMESPACE))
    checked = keygen("-Y", "verify", "-f", str(tmp_path / "allowed_signers"), "-I", "alex@fictional-primary.example",
                     "-n", "escalate", "-s", str(tmp_path / "m.sig"), stdin=message)  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    code, shown, _ = run("keys", "show")
    assert f"fingerprint {keys.current(settings.load()).fingerprint}" in shown


def test_a_key_is_never_overwritten(run, isolated_home):
    assert run("keys", "new")[0] == 0
    first = (isolated_home / "signing_key").read_bytes()
    code, _, err = run("keys", "new")
    assert code == 2 and "already exists" in err
    assert (isolated_home / "signing_key").read_bytes() == first
    code, out, _ = run("keys", "new", "--replace")
    assert code == 0 and "is kept at" in out
    kept = [p for p in isolated_home.iterdir() if p.name.startswith("signing_key.before-") and p.suffix != ".pub"]
    assert len(kept) == 1 and kept[0].read_bytes() == first
    assert (isolated_home / "signing_key").read_bytes() != first


@needs_ssh_keygen
def test_an_existing_ssh_key_is_used_and_a_protected_one_needs_its_passphrase(run, tmp_path, monkeypatch):
    plain_key = tmp_path / "id_ed25519"
    assert keygen("-q", "-t", "ed25519", "-N", "", "-C", "alex", "-f", str(plain_key)).returncode == 0
    code, out, err = run("keys", "use", plain_key)
    assert code == 0, err
    assert keygen("-l", "-f", str(plain_key)).stdout.decode().split()[1] in out
    protected = tmp_path / "id_protected"
    assert keygen("-q", "-t", "ed25519", "-N", "a long passphrase", "-f", str(protected)).returncode == 0
    code, _, err = run("keys", "use", protected)
    assert code == 2 and "protected by a passphrase" in err
    assert settings.load().signing_key == str(plain_key)  # unchanged by the refusal
    monkeypatch.setenv(keys.PASSPHRASE_ENV, "a long passphrase")
    assert run("keys", "use", protected)[0] == 0
    assert settings.load().signing_key == str(protected)
    monkeypatch.setenv(keys.PASSPHRASE_ENV, "wrong")
    (protected.with_name("id_protected.pub")).unlink()  # the public key must come from the private one now
    code, _, err = run("keys", "show")
    assert code == 2 and "wrong passphrase" in err


@needs_ssh_keygen
def test_a_new_key_with_a_passphrase_is_protected(run, isolated_home, monkeypatch):
    monkeypatch.setenv(keys.PASSPHRASE_ENV, "correct horse battery")
    assert run("keys", "new", "--passphrase")[0] == 0
    path = isolated_home / "signing_key"
    assert keygen("-y", "-P", "", "-f", str(path)).returncode != 0
    assert keygen("-y", "-P", "correct horse battery", "-f", str(path)).returncode == 0


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["keys", "show"], "no signing key"),
        (["keys", "allowed-signers"], "no signing key"),
        (["keys", "use", "{tmp}/missing"], "no key file"),
        (["keys", "use", "{tmp}"], "no key file"),
        (["keys", "use", "{tmp}/junk"], "not an OpenSSH private key"),
        (["keys", "use", "{tmp}/rsa"], "not"),
        (["keys"], "keys needs an action"),
        (["keys", "new", "--passphrase"], "asked for at a terminal"),
    ],
)
def test_garbage_is_refused_with_the_reason(run, tmp_path, argv, says):
    (tmp_path / "junk").write_text("not a key")
    if shutil.which("ssh-keygen"):
        keygen("-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(tmp_path / "rsa"))
    else:
        (tmp_path / "rsa").write_text("-----BEGIN RSA PRIVATE KEY-----\n")
    code, _, err = run(*[a.format(tmp=tmp_path) for a in argv])
    assert code == 2 and says in err
    assert settings.load().signing_key == ""


def test_allowed_signers_keeps_the_keys_that_signed_this_store_before(run, isolated_home):
    assert run("config", "set", "role", "DSL")[0] == 0
    assert run("keys", "new")[0] == 0
    opening = ["open", "--procedure", "london-children", "--trigger", "threshold-misapplied", "--decision", "NFA",
               "--case-ref", "Child Q", "--agency", "Northtown CSC", "--concern", "Bruising"]  # fmt: skip
    assert run(*opening)[0] == 0  # signed with the first key
    first = run("keys", "allowed-signers")[1].strip()
    assert run("keys", "new", "--replace")[0] == 0
    lines = run("keys", "allowed-signers")[1].strip().splitlines()
    assert len(lines) == 2 and first in lines  # what the old key signed stays checkable
