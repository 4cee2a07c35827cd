"""Signed checkpoints: the log's head, signed by the person recording, as an entry of the log.

A checkpoint says "the first COUNT entries of store STORE end in the hash HEAD", signed with the
signer's Ed25519 key in the SSH signature format (namespace ``escalate``), so that anyone holding the
signer's public key checks it with ``ssh-keygen -Y verify``, without escalate. A hash chain proves
order and integrity; a checkpoint proves who vouched for it: a log rewritten with every hash
recomputed no longer matches the heads its checkpoints signed, and its author's key is not the
forger's.

A checkpoint is appended, when a signing key is set up (escalate.keys), after each command that
records and when the app closes; it belongs to the challenge of the entry before it. Checking one
needs the hash of entry COUNT: a store has it, and so has a whole-store export or a selection that
links to the head (E2); an E1 selection cannot say, and its checkpoints are reported as not checkable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from escalate import entry, journal, keys, settings, sshsig, verify
from escalate.errors import EscalateError, UsageError
from escalate.store import StoredEntry


def signed_text(count: int, head: str, store_id: str, principal: str) -> bytes:
    """The exact bytes a checkpoint signs (and an auditor feeds ssh-keygen)."""
    return f"escalate checkpoint 1\nstore {store_id}\ncount {count}\nhead {head}\nsigner {principal}\n".encode()


#: what an export's header signature vouches for: what the file says it holds (its scope and
#: challenges, whether it is linked and redacted, how many entries, up to which head)
HEADER_FIELDS = ("escalate_export", "created_at", "scope", "challenges", "redacted", "entries", "linked",
                 "store_fingerprint")  # fmt: skip


def header_text(header: Mapping[str, object], principal: str) -> bytes:
    """The exact bytes an export's header signature signs (and an auditor feeds ssh-keygen)."""
    held = {k: header[k] for k in HEADER_FIELDS if k in header}
    return b"escalate export 1\n" + entry.canonical(held) + f"\nsigner {principal}\n".encode()


def signers_of(store: journal.LogStore, challenges: list[str], upto: int) -> list[str]:
    """The allowed_signers lines of everyone who signed a checkpoint among ``challenges`` up to entry
    ``upto``: an export carries them so an auditor sees whose keys to ask for. They are the file's
    word, not proof: the auditor's own signers file, got from each person, is what verify trusts."""
    wanted, lines = set(challenges), set()
    for e in store.entries(kind="checkpoint"):
        if e.seq <= upto and e.challenge in wanted:
            data = entry.split(e.body)[1].get("data") or {}
            lines.add(f'{data.get("principal")} namespaces="{keys.NAMESPACE}" {data.get("public_key")}')
    return sorted(lines)


def sign_header(header: dict[str, object], store: journal.LogStore, mine: settings.Settings) -> None:
    """Sign an export's header where a signing key is set up (its passphrase given, if it has one):
    a file relabelled (a whole export passed off as a selection, its challenges listed anew) no longer
    matches what its exporter signed. Nothing is added where it cannot be signed."""
    path = keys.in_use(mine)
    if not path.is_file():
        return
    try:
        key = keys.load(path)
    except EscalateError:
        return  # (the checkpoint before the export said why it could not sign)
    principal = keys.principal(mine) if store.local else store.login()
    named = header.get("challenges")
    upto = int(str(header["store_fingerprint"]).split(":")[0])
    listed = signers_of(store, [str(c) for c in named] if isinstance(named, list) else [], upto)
    own = f'{principal} namespaces="{keys.NAMESPACE}" {" ".join(sshsig.public_line(key.public_key()).split()[:2])}'
    header["signers"] = sorted({*listed, own})
    header["signer"] = principal
    header["signature"] = sshsig.sign(key, header_text(header, principal), keys.NAMESPACE)


def make(
    store: journal.LogStore, mine: settings.Settings, passphrase: bytes | None = None, challenge: str | None = None
) -> StoredEntry | None:
    """Sign the store's head now, if there is anything new to sign (None if the last entry is already a
    checkpoint, or the store is empty). The checkpoint is an entry of ``challenge`` (an export's, so
    the file carries it), else of the challenge of the last entry."""
    count, head = store.head()
    if count == 0:
        return None
    last = store.entries(after=count - 1, limit=1)
    if not last or (last[0].kind == "checkpoint" and (challenge is None or last[0].challenge == challenge)):
        return None
    key = keys.load(keys.in_use(mine), passphrase)
    principal = keys.principal(mine) if store.local else store.login()  # (a team store knows its people by login)
    store_id = store.store_id()
    data = {
        "count": count,
        "head": head,
        "store_id": store_id,
        "principal": principal,
        "public_key": " ".join(sshsig.public_line(key.public_key()).split()[:2]),
        "signature": sshsig.sign(key, signed_text(count, head, store_id, principal), keys.NAMESPACE),
    }
    return journal.record(store, mine, challenge or last[0].challenge, "checkpoint", data)


def after_recording(store: journal.LogStore, mine: settings.Settings, challenge: str | None = None) -> str | None:
    """Sign the head after a command that recorded (or before an export of ``challenge``), where a key
    is set up; what to tell the user when it could not be signed (the command succeeded), else None."""
    if not keys.in_use(mine).is_file():
        return None
    try:
        make(store, mine, challenge=challenge)
    except EscalateError as exc:
        return f"not signed: {exc.message}" + (f" ({exc.hint})" if exc.hint else "")
    return None


# --- checking ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signers:
    """An allowed_signers file (ssh-keygen's format): principal -> the keys it may sign with."""

    keys: Mapping[str, tuple[Ed25519PublicKey, ...]]


def read_signers(path: Path) -> Signers:
    """Read ``path`` as an allowed_signers file; lines for other namespaces are left out."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the signers file {path}: {exc}") from None
    found: dict[str, list[Ed25519PublicKey]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        at = next((i for i, p in enumerate(parts) if p.startswith("ssh-")), None)
        if at is None or at + 1 >= len(parts) or at == 0:
            raise UsageError(
                f"{path}, line {number}: not an allowed_signers line",
                hint='Expected: PRINCIPAL [namespaces="escalate"] ssh-ed25519 AAAA... (as `escalate keys '
                "allowed-signers` prints)",
            )
        options = " ".join(parts[1:at])
        if "namespaces=" in options and "escalate" not in options:
            continue
        key = sshsig.parse_public(" ".join(parts[at : at + 2]))
        for principal in parts[0].split(","):
            found.setdefault(principal, []).append(key)
    if not found:
        raise UsageError(f"the signers file {path} names no signer for escalate")
    return Signers({p: tuple(k) for p, k in found.items()})


@dataclass(frozen=True)
class Signed:
    seq: int  # the checkpoint entry's number
    count: int
    principal: str
    fingerprint: str


@dataclass
class SignedReport:
    ok: bool = True
    problem: str | None = None
    checked: list[Signed] = field(default_factory=list)
    total: int = 0
    #: checkpoints a file cannot check (an E1 selection lacks the hash they signed)
    unchecked: int = 0
    #: every checkpoint's entry number
    seqs: list[int] = field(default_factory=list)

    @property
    def signed_upto(self) -> int:
        return max((c.count for c in self.checked), default=0)

    @property
    def unsigned(self) -> int:
        """Entries after the last head a checked checkpoint signed, checkpoints themselves left out."""
        return self.total - self.signed_upto - sum(1 for s in self.seqs if s > self.signed_upto)


def check(
    checkpoints: Iterable[tuple[int, Mapping[str, object]]],
    hash_at: Callable[[int], str | None],
    total: int,
    signers: Signers,
    store_id: str | None = None,
    vouched: Callable[[int, str, Ed25519PublicKey], str | None] | None = None,
) -> SignedReport:
    """Check each checkpoint (its entry number, its data): signed by a key the signers file gives its
    principal, over the head the log has at its count. The first failure fails the whole."""
    report = SignedReport(total=total)
    for seq, data in checkpoints:
        report.seqs.append(seq)
        try:
            count = int(str(data["count"]))
            head, principal = str(data["head"]), str(data["principal"])
            sid, armoured = str(data["store_id"]), str(data["signature"])
        except (KeyError, ValueError):
            return _fail(report, f"entry {seq}: a checkpoint without its fields")
        if store_id is not None and sid != store_id:
            return _fail(report, f"entry {seq}: a checkpoint of another store ({sid})")
        allowed = signers.keys.get(principal)
        if not allowed:
            return _fail(report, f"entry {seq}: signed as {principal!r}, who is not in the signers file")
        message = signed_text(count, head, sid, principal)
        try:
            used = sshsig.parse(armoured).key
        except sshsig.BadSignature as exc:
            return _fail(report, f"entry {seq}: {exc}")
        key = next((k for k in allowed if sshsig.public_blob(k) == sshsig.public_blob(used)), None)
        if key is None:
            return _fail(
                report,
                f"entry {seq}: signed with {sshsig.fingerprint(used)}, not a key of {principal} in the signers file",
            )
        try:
            sshsig.verify(armoured, message, keys.NAMESPACE, key)
        except sshsig.BadSignature as exc:
            return _fail(report, f"entry {seq}: the checkpoint's signature {exc}")
        refused = vouched(seq, principal, key) if vouched is not None else None
        if refused is not None:
            return _fail(report, f"entry {seq}: {refused}")
        if count >= seq:
            return _fail(report, f"entry {seq}: a checkpoint cannot sign entries after itself ({count})")
        actual = hash_at(count)
        if actual is None:
            report.unchecked += 1
            continue
        if actual != head:
            return _fail(report, f"entry {seq}: the log's entry {count} is not the one {principal} signed")
        report.checked.append(Signed(seq, count, principal, sshsig.fingerprint(key)))
    if not report.checked:
        return _fail(report, "no checkpoint in it could be checked: nothing is signed")
    return report


def _fail(report: SignedReport, problem: str) -> SignedReport:
    report.ok, report.problem = False, problem
    return report


def check_store(store: journal.LogStore, signers: Signers) -> SignedReport:
    """A store's checkpoints; on a team store each must also be by a key the signer's record held
    when it was made (keys are added by an administrator and never taken away)."""
    count, _ = store.head()
    stored = store.entries(kind="checkpoint")
    found = [(e.seq, entry.split(e.body)[1].get("data") or {}) for e in stored]
    if store.local:
        return check(found, store.hash_at, count, signers, store.store_id())
    made_at = {e.seq: e.recorded_at for e in stored}
    held: dict[tuple[str, str], str] = {}
    for login, line, added in store.person_keys():
        held.setdefault((login, " ".join(line.split()[:2])), added)

    def vouched(seq: int, principal: str, key: Ed25519PublicKey) -> str | None:
        added = held.get((principal, sshsig.public_line(key)))
        if added is None:
            return f"signed with a key the team store never gave {principal}"
        if added > made_at[seq]:
            return f"signed with a key {principal} was given only later ({added})"
        return None

    return check(found, store.hash_at, count, signers, store.store_id(), vouched)


def check_header(header: Mapping[str, object], signers: Signers) -> str | None:
    """What is wrong with an export header's signature, or None: it must be there, by a key the
    signers file gives its signer, over what the header says the file holds."""
    principal, armoured = header.get("signer"), header.get("signature")
    if not isinstance(principal, str) or not isinstance(armoured, str):
        return "the file's header is not signed: what it says it holds (its scope, its challenges) is not vouched for"
    allowed = signers.keys.get(principal)
    if not allowed:
        return f"the header is signed as {principal!r}, who is not in the signers file"
    problems = []
    for key in allowed:
        try:
            sshsig.verify(armoured, header_text(header, principal), keys.NAMESPACE, key)
            return None
        except sshsig.BadSignature as exc:
            problems.append(str(exc))
    return f"the header's signature does not hold: {problems[-1]} (its scope or challenges were changed?)"


def check_lines(
    records: list[dict[str, object]], signers: Signers, header: Mapping[str, object] | None = None
) -> SignedReport:
    """Checkpoints of a verified export's lines (entries and link lines), their heads computed from
    the lines as the file verified them; and, given its ``header``, the header's own signature."""
    if header is not None:
        problem = check_header(header, signers)
        if problem is not None:
            return _fail(SignedReport(), problem)
    hashes: dict[int, str] = {}
    previous = entry.ZERO_HASH
    found: list[tuple[int, Mapping[str, object]]] = []
    last = 0
    for rec in sorted((r for r in records if verify.is_line(r)), key=lambda r: int(str(r["seq"]))):
        seq = int(str(rec["seq"]))
        if verify.is_link_line(rec):
            if seq != last + 1:  # a gap: the chain's hashes after it cannot be worked out here
                previous = ""
            hashes[seq] = previous = entry.link(seq, previous, str(rec["inner"])) if previous else ""
        else:
            hashes[seq] = previous = str(rec["hash"])
            if rec.get("kind") == "checkpoint":
                body = verify.entry_bytes(rec)
                found.append((seq, (entry.split(body)[1].get("data") or {}) if body else {}))
        last = seq
    return check(found, lambda n: hashes.get(n) or None, last, signers)


def extract(records: list[dict[str, object]], seq: int | None = None) -> tuple[bytes, str, str]:
    """The signed text, the signature and the principal of a file's checkpoint (the last, or the one
    at entry ``seq``): what `ssh-keygen -Y verify` is given."""
    chosen = None
    for rec in records:
        if verify.is_entry_line(rec) and rec.get("kind") == "checkpoint" and (seq is None or rec.get("seq") == seq):
            chosen = rec
    if chosen is None:
        raise UsageError("no checkpoint" + (f" at entry {seq}" if seq is not None else "") + " in the file")
    body = verify.entry_bytes(chosen)
    data = (entry.split(body)[1].get("data") or {}) if body else {}
    text = signed_text(int(data["count"]), str(data["head"]), str(data["store_id"]), str(data["principal"]))
    return text, str(data["signature"]), str(data["principal"])
