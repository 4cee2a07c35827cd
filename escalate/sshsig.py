"""SSH signatures (OpenSSH's PROTOCOL.sshsig) with Ed25519 keys, as ``ssh-keygen -Y sign`` makes them.

A signature made here is checked by ``ssh-keygen -Y verify -f allowed_signers -I ID -n NAMESPACE -s
FILE.sig < FILE``, on any machine with OpenSSH and without escalate; one made by ssh-keygen is checked
here. That is what lets an auditor trust who signed a log's head without trusting escalate itself.
The keys are OpenSSH's own files (``ssh-keygen -t ed25519`` makes one too), read and written by the
``cryptography`` package; only the signature's framing is written here, because no library of the
field offers it.

The signed blob (PROTOCOL.sshsig): the magic ``SSHSIG``, then as SSH strings the namespace, an empty
reserved field, the hash algorithm (sha512) and the hash of the message. The armoured signature holds
the magic, version 1, the public key, the namespace, the reserved field, the hash algorithm and the
Ed25519 signature over that blob.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from escalate.errors import UsageError

MAGIC = b"SSHSIG"
VERSION = 1
HASH = "sha512"
KEY_TYPE = b"ssh-ed25519"
BEGIN = "-----BEGIN SSH SIGNATURE-----"
END = "-----END SSH SIGNATURE-----"


class BadSignature(ValueError):
    """A signature that is not one, or does not hold for the message and key."""


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _read_string(blob: bytes, at: int) -> tuple[bytes, int]:
    if at + 4 > len(blob):
        raise BadSignature("the signature ends early")
    (length,) = struct.unpack(">I", blob[at : at + 4])
    end = at + 4 + length
    if end > len(blob):
        raise BadSignature("the signature ends early")
    return blob[at + 4 : end], end


def public_blob(key: Ed25519PublicKey) -> bytes:
    """The public key as SSH wire bytes (type, then the 32 key bytes)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _string(KEY_TYPE) + _string(raw)


def public_line(key: Ed25519PublicKey, comment: str = "") -> str:
    """``ssh-ed25519 AAAA... comment``: the form of ``.pub`` files and allowed_signers lines."""
    text = "ssh-ed25519 " + base64.b64encode(public_blob(key)).decode("ascii")
    return f"{text} {comment}".strip()


def fingerprint(key: Ed25519PublicKey) -> str:
    """``SHA256:...`` as ``ssh-keygen -l`` prints it."""
    digest = hashlib.sha256(public_blob(key)).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def parse_public(line: str) -> Ed25519PublicKey:
    """An ``ssh-ed25519 AAAA... [comment]`` line (a ``.pub`` file's)."""
    parts = line.strip().split()
    if len(parts) < 2 or parts[0] != KEY_TYPE.decode():
        raise UsageError("not an Ed25519 public key", hint="Expected a line starting 'ssh-ed25519 AAAA'.")
    try:
        blob = base64.b64decode(parts[1], validate=True)
        kind, at = _read_string(blob, 0)
        raw, end = _read_string(blob, at)
    except (ValueError, BadSignature):
        raise UsageError("the public key's text is damaged") from None
    if kind != KEY_TYPE or len(raw) != 32 or end != len(blob):
        raise UsageError("the public key's text is damaged")
    return Ed25519PublicKey.from_public_bytes(raw)


def new_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_file(key: Ed25519PrivateKey, passphrase: bytes | None = None) -> bytes:
    """The private key as an OpenSSH key file (what ``ssh-keygen -t ed25519`` writes)."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, encryption)


def load_private(data: bytes, passphrase: bytes | None = None) -> Ed25519PrivateKey:
    """An OpenSSH private key file's key; it must be Ed25519."""
    try:
        key = serialization.load_ssh_private_key(data, password=passphrase)
    except TypeError:  # encrypted and no passphrase, or a passphrase for a key without one
        raise UsageError(
            "the key file is protected by a passphrase" if passphrase is None else "the key has no passphrase",
            hint="Give its passphrase." if passphrase is None else "Leave the passphrase out.",
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise UsageError("not an OpenSSH private key, or a wrong passphrase") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError("the key is not Ed25519", hint="Make one with `ssh-keygen -t ed25519`.")
    return key


def _signed_blob(message: bytes, namespace: str) -> bytes:
    return (
        MAGIC
        + _string(namespace.encode())
        + _string(b"")
        + _string(HASH.encode())
        + _string(hashlib.sha512(message).digest())
    )


def sign(key: Ed25519PrivateKey, message: bytes, namespace: str) -> str:
    """The armoured SSH signature of ``message`` in ``namespace`` (the text of a ``.sig`` file)."""
    signature = key.sign(_signed_blob(message, namespace))
    blob = (
        MAGIC
        + struct.pack(">I", VERSION)
        + _string(public_blob(key.public_key()))
        + _string(namespace.encode())
        + _string(b"")
        + _string(HASH.encode())
        + _string(_string(KEY_TYPE) + _string(signature))
    )
    text = base64.b64encode(blob).decode("ascii")
    lines = [text[i : i + 70] for i in range(0, len(text), 70)]
    return "\n".join([BEGIN, *lines, END]) + "\n"


@dataclass(frozen=True)
class Signature:
    """What an armoured signature says: who (the key), in which namespace."""

    key: Ed25519PublicKey
    namespace: str
    hash_algorithm: str
    raw: bytes


def parse(armoured: str) -> Signature:
    text = armoured.strip()
    if not (text.startswith(BEGIN) and text.endswith(END)):
        raise BadSignature("not an SSH signature (no BEGIN/END SSH SIGNATURE lines)")
    body = "".join(text[len(BEGIN) : -len(END)].split())
    try:
        blob = base64.b64decode(body, validate=True)
    except ValueError:
        raise BadSignature("the signature's text is damaged") from None
    if not blob.startswith(MAGIC) or len(blob) < 10:
        raise BadSignature("not an SSH signature (no SSHSIG magic)")
    (version,) = struct.unpack(">I", blob[6:10])
    if version != VERSION:
        raise BadSignature(f"SSH signature version {version}, not {VERSION}")
    key_blob, at = _read_string(blob, 10)
    namespace, at = _read_string(blob, at)
    _reserved, at = _read_string(blob, at)
    hash_algorithm, at = _read_string(blob, at)
    sig_blob, at = _read_string(blob, at)
    if at != len(blob):
        raise BadSignature("the signature has bytes after its end")
    kind, k = _read_string(key_blob, 0)
    raw_key, k = _read_string(key_blob, k)
    if kind != KEY_TYPE or len(raw_key) != 32 or k != len(key_blob):
        raise BadSignature("the signature's key is not an Ed25519 key")
    sig_kind, s = _read_string(sig_blob, 0)
    raw_sig, s = _read_string(sig_blob, s)
    if sig_kind != KEY_TYPE or len(raw_sig) != 64 or s != len(sig_blob):
        raise BadSignature("the signature is not an Ed25519 signature")
    return Signature(
        Ed25519PublicKey.from_public_bytes(raw_key),
        namespace.decode("utf-8", "replace"),
        hash_algorithm.decode(),
        raw_sig,
    )


def verify(armoured: str, message: bytes, namespace: str, allowed: Ed25519PublicKey) -> None:
    """Check that ``armoured`` signs ``message`` in ``namespace`` with the ``allowed`` key; raises
    BadSignature saying why not."""
    sig = parse(armoured)
    if public_blob(sig.key) != public_blob(allowed):
        raise BadSignature(f"signed by {fingerprint(sig.key)}, not by the allowed key {fingerprint(allowed)}")
    if sig.namespace != namespace:
        raise BadSignature(f"signed for {sig.namespace!r}, not {namespace!r}")
    if sig.hash_algorithm not in ("sha512", "sha256"):
        raise BadSignature(f"an SSH signature over {sig.hash_algorithm}, which SSH signatures do not use")
    digest = hashlib.new(sig.hash_algorithm, message).digest()
    signed = MAGIC + _string(namespace.encode()) + _string(b"") + _string(sig.hash_algorithm.encode()) + _string(digest)
    try:
        allowed.verify(sig.raw, signed)
    except InvalidSignature:
        raise BadSignature("the signature does not hold for this message") from None
