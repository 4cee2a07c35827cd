"""SSH signatures both ways with the real ssh-keygen: ours verify with `ssh-keygen -Y verify`, and
ssh-keygen's verify here; keys are OpenSSH files either side reads. Damage and the wrong key fail."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from escalate import sshsig
from escalate.errors import UsageError

NAMESPACE = "escalate"
MESSAGE = b"escalate checkpoint\ncount 1042\nhead 7f3a91c20be45d17\n"

if os.environ.get("CI") and shutil.which("ssh-keygen") is None:  # CI installs it: its absence is a failure there
    raise RuntimeError("ssh-keygen is not installed: .ci/run installs openssh-client")
needs_ssh_keygen = pytest.mark.skipif(
    shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed (.ci/run installs openssh-client)"
)


def keygen(*argv: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["ssh-keygen", *argv], input=stdin, capture_output=True, timeout=30)


@needs_ssh_keygen
def test_ssh_keygen_verifies_our_signature(tmp_path):
    key = sshsig.new_private_key()
    (tmp_path / "allowed_signers").write_text(f"alex@fictional-school.example {sshsig.public_line(key.public_key())}\n")
    (tmp_path / "head.txt").write_bytes(MESSAGE)
    (tmp_path / "head.txt.sig").write_text(sshsig.sign(key, MESSAGE, NAMESPACE))
    checked = keygen("-Y", "verify", "-f", str(tmp_path / "allowed_signers"), "-I", "alex@fictional-school.example",
                     "-n", NAMESPACE, "-s", str(tmp_path / "head.txt.sig"), stdin=MESSAGE)  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert b"Good" in checked.stdout
    # a changed message, another namespace, another signer: ssh-keygen says no
    for argv, stdin in (
        (["-n", NAMESPACE, "-I", "alex@fictional-school.example"], MESSAGE.replace(b"1042", b"1041")),
        (["-n", "git", "-I", "alex@fictional-school.example"], MESSAGE),
        (["-n", NAMESPACE, "-I", "sam@fictional-school.example"], MESSAGE),
    ):
        refused = keygen("-Y", "verify", "-f", str(tmp_path / "allowed_signers"), *argv,
                         "-s", str(tmp_path / "head.txt.sig"), stdin=stdin)  # fmt: skip
        assert refused.returncode != 0


@needs_ssh_keygen
def test_we_verify_ssh_keygens_signature_and_read_its_keys(tmp_path):
    made = keygen("-q", "-t", "ed25519", "-N", "", "-C", "alex", "-f", str(tmp_path / "id_ed25519"))
    assert made.returncode == 0, made.stderr
    (tmp_path / "head.txt").write_bytes(MESSAGE)
    signed = keygen("-Y", "sign", "-f", str(tmp_path / "id_ed25519"), "-n", NAMESPACE, str(tmp_path / "head.txt"))
    assert signed.returncode == 0, signed.stderr
    armoured = (tmp_path / "head.txt.sig").read_text()
    public = sshsig.parse_public((tmp_path / "id_ed25519.pub").read_text())
    sshsig.verify(armoured, MESSAGE, NAMESPACE, public)  # holds
    with pytest.raises(sshsig.BadSignature, match="does not hold"):
        sshsig.verify(armoured, MESSAGE + b"x", NAMESPACE, public)
    private = sshsig.load_private((tmp_path / "id_ed25519").read_bytes())
    assert sshsig.public_line(private.public_key()) == " ".join((tmp_path / "id_ed25519.pub").read_text().split()[:2])
    listed = keygen("-l", "-f", str(tmp_path / "id_ed25519.pub")).stdout.decode()
    assert sshsig.fingerprint(public) in listed


@needs_ssh_keygen
def test_our_key_files_are_openssh_files(tmp_path):
    key = sshsig.new_private_key()
    path = tmp_path / "key"
    path.write_bytes(sshsig.private_file(key, b"a passphrase"))
    path.chmod(0o600)
    derived = keygen("-y", "-P", "a passphrase", "-f", str(path))
    assert derived.returncode == 0, derived.stderr
    assert derived.stdout.decode().split()[:2] == sshsig.public_line(key.public_key()).split()[:2]
    assert keygen("-y", "-P", "wrong", "-f", str(path)).returncode != 0
    with pytest.raises(UsageError, match="protected by a passphrase"):
        sshsig.load_private(path.read_bytes())
    with pytest.raises(UsageError, match="wrong passphrase"):
        sshsig.load_private(path.read_bytes(), b"wrong")
    assert sshsig.public_line(
        sshsig.load_private(path.read_bytes(), b"a passphrase").public_key()
    ) == sshsig.public_line(key.public_key())


def test_a_signature_by_another_key_or_damaged_fails_with_the_reason():
    alex, sam = sshsig.new_private_key(), sshsig.new_private_key()
    armoured = sshsig.sign(alex, MESSAGE, NAMESPACE)
    sshsig.verify(armoured, MESSAGE, NAMESPACE, alex.public_key())
    with pytest.raises(sshsig.BadSignature, match="not by the allowed key"):
        sshsig.verify(armoured, MESSAGE, NAMESPACE, sam.public_key())
    with pytest.raises(sshsig.BadSignature, match="not 'git'"):
        sshsig.verify(armoured, MESSAGE, "git", alex.public_key())
    # sam's signature presented as alex's: it names sam's key, and alex's does not check it
    with pytest.raises(sshsig.BadSignature, match="not by the allowed key"):
        sshsig.verify(sshsig.sign(sam, MESSAGE, NAMESPACE), MESSAGE, NAMESPACE, alex.public_key())
    lines = armoured.splitlines()
    middle = lines[2]
    damaged = "\n".join([*lines[:2], middle[:10] + ("A" if middle[10] != "A" else "B") + middle[11:], *lines[3:]])
    with pytest.raises(sshsig.BadSignature):
        sshsig.verify(damaged, MESSAGE, NAMESPACE, alex.public_key())
    for garbage in ("", "hello", "-----BEGIN SSH SIGNATURE-----\n!!!\n-----END SSH SIGNATURE-----"):
        with pytest.raises(sshsig.BadSignature):
            sshsig.parse(garbage)


@pytest.mark.parametrize(
    "line",
    ["", "ssh-rsa AAAAB3NzaC1yc2E", "ssh-ed25519", "ssh-ed25519 !!!", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA=="],
)
def test_a_public_key_line_that_is_not_one_is_refused(line):
    with pytest.raises(UsageError):
        sshsig.parse_public(line)


@pytest.mark.parametrize(
    "data", [b"", b"not a key", b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"]
)
def test_a_private_key_file_that_is_not_one_is_refused(data):
    with pytest.raises(UsageError):
        sshsig.load_private(data)
