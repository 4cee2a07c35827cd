"""The DSL's signing key: an Ed25519 key in OpenSSH's own files, for signatures anyone can check with
``ssh-keygen -Y verify`` (see :mod:`escalate.sshsig`).

A key made here lives in the config folder as ``signing_key`` (owner-only) and ``signing_key.pub``;
an existing one (``~/.ssh/id_ed25519``) can be used instead, and the settings remember which. A key is
never overwritten: a new one moves the old pair aside under a dated name, so what it signed stays
checkable. A passphrase is asked for at a terminal, or read from ``ESCALATE_KEY_PASSPHRASE`` by a
scheduled job.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from escalate import atomic, clock, paths, settings, sshsig
from escalate.errors import ConfigError, UsageError

KEY_FILE = "signing_key"
#: the namespace every escalate signature is made in (ssh-keygen's -n)
NAMESPACE = "escalate"
PASSPHRASE_ENV = "ESCALATE_KEY_PASSPHRASE"


@dataclass(frozen=True)
class Key:
    path: Path  # the private key file
    public: str  # its public line (ssh-ed25519 AAAA... comment)
    fingerprint: str  # SHA256:...


def default_path() -> Path:
    return paths.locations().config_dir / KEY_FILE


def in_use(mine: settings.Settings) -> Path:
    """The private key file the settings name, or the config folder's own."""
    return Path(mine.signing_key).expanduser() if mine.signing_key else default_path()


def _public_of(path: Path, passphrase: bytes | None) -> str:
    beside = path.with_name(path.name + ".pub")
    if beside.is_file():
        try:
            line = beside.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {beside}: {exc}") from None
        sshsig.parse_public(line)  # (refused with the reason if it is not a key)
        return line
    return sshsig.public_line(load(path, passphrase).public_key())


def load(path: Path, passphrase: bytes | None = None) -> Ed25519PrivateKey:
    """The private key in ``path``, with the passphrase given or from ESCALATE_KEY_PASSPHRASE."""
    if not path.is_file():
        raise UsageError(f"no key file at {path}", hint="`escalate keys new` makes one; `keys use PATH` adopts one.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the key file {path}: {exc.strerror or exc}") from None
    if passphrase is None and os.environ.get(PASSPHRASE_ENV):
        passphrase = os.environ[PASSPHRASE_ENV].encode("utf-8")
    try:
        return sshsig.load_private(data, passphrase)
    except UsageError as exc:
        raise UsageError(f"key file {path}: {exc.message}", hint=exc.hint) from None


def current(mine: settings.Settings, passphrase: bytes | None = None) -> Key:
    path = in_use(mine)
    if not path.is_file():
        raise UsageError(
            f"no signing key at {path}", hint="`escalate keys new` makes one; `keys use PATH` adopts an existing one."
        )
    public = _public_of(path, passphrase)
    return Key(path, public, sshsig.fingerprint(sshsig.parse_public(public)))


def new(mine: settings.Settings, passphrase: bytes | None, *, replace: bool = False) -> tuple[Key, Path | None]:
    """Make a key pair in the config folder and use it. An existing pair is refused unless ``replace``,
    and then moved aside under a dated name (returned), never overwritten."""
    path = default_path()
    kept: Path | None = None
    if path.exists() and not replace:
        raise UsageError(
            f"a signing key already exists at {path}",
            hint="`escalate keys show` shows it; --replace makes a new one and keeps the old pair, renamed.",
        )
    paths.ensure_private_dir(path.parent)
    if path.exists():
        kept = path.with_name(f"{KEY_FILE}.before-{clock.now().strftime('%Y%m%dT%H%M%SZ')}")
        os.replace(path, kept)
        old_public = path.with_name(KEY_FILE + ".pub")
        if old_public.exists():
            os.replace(old_public, kept.with_name(kept.name + ".pub"))
    key = sshsig.new_private_key()
    comment = mine.email or mine.name.replace(" ", ".").lower() or "escalate"
    try:
        atomic.write_bytes(path, sshsig.private_file(key, passphrase))  # (written owner-only)
        atomic.write_bytes(
            path.with_name(KEY_FILE + ".pub"), (sshsig.public_line(key.public_key(), comment) + "\n").encode()
        )
    except OSError as exc:
        raise ConfigError(f"cannot write the key to {path.parent}: {exc.strerror or exc}") from None
    if mine.signing_key:
        settings.set_value("signing_key", "")
    return current(settings.load(), passphrase), kept


def use(path: Path, passphrase: bytes | None = None) -> Key:
    """Sign with an existing OpenSSH Ed25519 key (checked first: it must open)."""
    path = path.expanduser().absolute()
    load(path, passphrase)
    settings.set_value("signing_key", str(path))
    return current(settings.load(), passphrase)


def principal(mine: settings.Settings) -> str:
    """Who a signer is in an allowed_signers file: the email, or the name as one word."""
    return mine.email or (mine.name.replace(" ", ".").lower() + "@escalate" if mine.name else "dsl@escalate")


def allowed_signers_line(mine: settings.Settings, key: Key) -> str:
    """The key's line for an auditor's allowed_signers file (ssh-keygen's format), for escalate's
    signatures only."""
    kind, body = key.public.split()[:2]
    return f'{principal(mine)} namespaces="{NAMESPACE}" {kind} {body}'
