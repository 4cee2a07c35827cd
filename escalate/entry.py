"""One log entry: its kinds, its fields, and the exact bytes that are stored and hashed.

Entry bytes (documented in docs/log-format.md so anyone can write a verifier):

    E2 <seq> <challenge> <cseq> <kind> <prev> <cprev>\\n<json>

* line 1 is ASCII, fields separated by one space: format tag ``E2``, the store-wide sequence
  number, the challenge id, the entry's number within its challenge, the kind, the hash (hex)
  of the previous entry of the store and of the previous entry of the same challenge (64 zeros
  for none);
* ``<json>`` is the entry's content: JSON, keys sorted, no spaces, UTF-8 (not ASCII-escaped),
  with ``occurred_at``, ``recorded_at``, ``author`` and ``data``; no floats anywhere;
* the entry's hash is sha256 of ``E2 <seq> <prev> <sha256 hex of all those bytes>`` (:func:`link`):
  its place in the store's chain, and a digest of what it says. An export of some challenges can
  then stand for each entry of the others by its number and digest alone (a link line), and still
  be checked against the store's head fingerprint. The store keeps exactly these bytes.

Entries written before E2 are ``E1``: the same bytes with the tag ``E1``, and the hash sha256 of the
bytes themselves. They verify as they are; a store that holds them goes on in E2, never back.

Personal fields (any key named ``case_ref``, ``subject_name`` or ``name``, or ``corrected_`` + one of
those) are never in the bytes in clear: each is replaced by ``{"_sd": "<sha256 hex of the disclosure>"}``, and the
disclosure, the bytes of the JSON array ``["<salt hex>", "<value>"]``, is stored beside the
entry. A redacted export leaves disclosures out; the entry still verifies (selective
disclosure, as in SD-JWT). In a store the salt is keyed by the store's secret, the challenge
and the value, so a person named again in the same challenge has the same digest and one
disclosure (kept with the entry that first named them); another challenge gives another salt,
so digests cannot be matched across challenges.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from escalate import clock
from escalate.errors import FieldError, UsageError, shown

if TYPE_CHECKING:  # (imported where content is read: see parse_content)
    from escalate import entry_kinds

FORMAT_TAG = "E2"
#: every format an entry may be in, oldest first
FORMAT_TAGS = ("E1", "E2")
ZERO_HASH = "0" * 64
#: sealed in every entry written: who the child is, who people are, and what would name the person at the
#: desk (their login name, and the home folder a procedure file was read from)
PERSONAL_KEYS = frozenset({"case_ref", "subject_name", "name", "os_user", "procedure_path"})
#: the outcomes and media a person may record (escalate.entry_kinds' models hold the same: a test
#: keeps them equal; here, so that reading entry bytes (verify, a jsonl export) never loads pydantic)
OUTCOMES = ("resolved", "partly-resolved", "unresolved", "withdrawn", "no-disagreement")
MEDIA = ("phone", "email", "meeting", "letter", "form", "verbal", "video", "in-person")

#: Free-text fields a person may choose to withhold from an export for people (csv, md, html, pdf). They
#: are hashed in clear, so a jsonl export cannot withhold them and still verify.
FREE_TEXT = (
    "concern",
    "evidence",
    "checks",
    "decision",
    "summary",
    "rationale",
    "reason",
    "action",
    "impact",
    "lessons",
    "outcome_sought",
    "new_value",
)

#: What a person can add with `escalate record` (the others have their own commands).
RECORDABLE = (
    "decision-received",
    "contact",
    "response",
    "action-agreed",
    "action-done",
    "deadline-extended",
    "deadline-paused",
    "deadline-resumed",
    "timescale-agreed",
    "notification-sent",
    "notification-not-needed",
    "advice-sought",
    "no-further-escalation",
    "note",
)

MAX_TEXT = 20_000
#: a one-line field (an agency, a name, a reference): long enough for any real one, short enough that
#: a paste of a whole letter into it is refused rather than filling every screen that shows it
MAX_LINE = 200
#: the kinds that may tell of something before their challenge was opened, as earlier history with a
#: reason (``history``); the others happen within the challenge
HISTORY_KINDS = ("contact", "response", "action-agreed", "notification-sent", "advice-sought", "note")


def check_data(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Validate an entry's data against its kind; returns a clean copy or raises UsageError."""
    from escalate.entry_kinds import KINDS  # pydantic and the kinds' models (50 ms; see OUTCOMES)

    if kind not in KINDS:
        raise UsageError(f"unknown entry kind {kind!r}", hint="Expected one of: " + ", ".join(KINDS))
    spec = KINDS[kind]
    clean: dict[str, Any] = {}
    for key in data:
        if key not in spec:
            raise UsageError(f"{kind} entry has no field {key!r}", hint="Fields: " + ", ".join(spec))
    for key, (kind_of, required) in spec.items():
        value = data.get(key)
        if isinstance(value, str) and not value.strip():
            value = None  # blank text says nothing: a required field left blank is missing
        if value is not None and value != []:
            value = _check_value(kind, key, kind_of, value)  # a list of blanks comes back empty
        if value is None or value == []:
            if required:
                raise FieldError(key, f"{kind} entry needs {key.replace('_', ' ')}", hint=f"Give a value for {key}.")
            continue
        clean[key] = value
    if kind == "contact" and clean["direction"] not in ("made", "received"):
        raise FieldError(
            "direction", f"direction {shown(clean['direction'])} is not known", hint="Expected made or received."
        )
    if "medium" in clean and clean["medium"] not in MEDIA:
        raise FieldError(
            "medium", f"medium {shown(clean['medium'])} is not known", hint="Expected one of: " + ", ".join(MEDIA)
        )
    if kind == "resolved" and clean["outcome"] not in OUTCOMES:
        raise FieldError(
            "outcome", f"outcome {shown(clean['outcome'])} is not known", hint="Expected one of: " + ", ".join(OUTCOMES)
        )
    return clean


def _check_value(kind: str, key: str, kind_of: str, value: Any) -> Any:
    # (an opening's fields are the challenge's own: "the agency", not "the opened agency")
    where = key.replace("_", " ") if kind == "opened" else f"{kind} {key.replace('_', ' ')}"
    if kind_of in ("str", "instant", "line"):
        if not isinstance(value, str):
            raise FieldError(key, f"{where} must be text")
        return checked_text(key, where, value, line=kind_of == "line")
    if kind_of == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError(key, f"{where} must be a whole number")
        return value
    if kind_of == "bool":
        if not isinstance(value, bool):
            raise FieldError(key, f"{where} must be true or false")
        return value
    if kind_of == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise FieldError(key, f"{where} must be a list of text")
        return [checked_text(key, where, v) for v in value if v.strip()]
    if kind_of == "person":
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise FieldError(key, f"{where} must name a person (name, role, agency)")
        allowed = {"name", "role", "agency"}
        extra = set(value) - allowed
        if extra:
            raise FieldError(key, f"{where} has unknown parts {sorted(extra)}")
        person = {k: checked_text(key, f"{where} {k}", v, line=True) for k, v in value.items() if v and v.strip()}
        if not person:
            raise FieldError(key, f"{where} is empty")
        return person
    raise AssertionError(kind_of)  # pragma: no cover - the table above is fixed


def checked_text(key: str, where: str, value: str, *, line: bool = False) -> str:
    """``value`` stripped, if it can be recorded as text (one line of at most MAX_LINE characters
    when ``line``), else FieldError naming ``key``."""
    value = value.strip()
    limit = MAX_LINE if line else MAX_TEXT
    if len(value) > limit:
        raise FieldError(
            key,
            f"{where} is {len(value):,} characters; at most {limit:,}",
            hint="Keep it to one line: put the detail in a summary or a note." if line else None,
        )
    if "\x00" in value:
        raise FieldError(key, f"{where} contains a NUL character")
    if line and ("\n" in value or "\r" in value):
        raise FieldError(key, f"{where} must be one line", hint="Put the detail in a summary or a note.")
    try:
        return unicode_text(where, value)
    except UsageError as exc:
        raise FieldError(key, exc.message, hint=exc.hint) from None


def unicode_text(where: str, value: str) -> str:
    """``value``, if it can be stored: a terminal not set to UTF-8 hands Python bytes it keeps as
    lone surrogates, which no UTF-8 (the log's and the settings' encoding) can hold."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        shown = value.encode("utf-8", "replace").decode("utf-8")  # each one shown as ?
        raise UsageError(
            f"{where} ({shown}) is not UTF-8 text",
            hint="Type it again, or set the terminal's character encoding to UTF-8.",
        ) from None
    return value


def parse_person(text: str) -> dict[str, str]:
    """'Name, Role, Agency' -> {'name':..., 'role':..., 'agency':...}; parts may be left empty."""
    parts = [p.strip() for p in (text or "").split(",")]
    if len(parts) > 3 or not any(parts):
        raise UsageError(
            f"person {text!r} is not 'Name, Role, Agency'",
            hint='e.g. --with "Sam Fictional, Social worker, Northtown CSC" (role and agency optional)',
        )
    keys = ("name", "role", "agency")
    return {k: v for k, v in zip(keys, parts) if v}


def is_personal(key: str) -> bool:
    """Personal keys: case_ref, subject_name, name, and their corrections (corrected_name ...)."""
    return key in PERSONAL_KEYS or (key.startswith("corrected_") and key[len("corrected_") :] in PERSONAL_KEYS)


#: json.loads without its per-call work (guessing the encoding of bytes, reading its options): a tenth
#: of reading 100,000 entries. UnicodeDecodeError and JSONDecodeError are ValueErrors, as json.loads raises.
_read_json = json.JSONDecoder().decode


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def seal(value: str, salt: str | None = None) -> tuple[str, bytes]:
    """Return (digest, disclosure bytes) for a personal value; a random salt unless one is given."""
    disclosure = canonical([salt or secrets.token_hex(16), value])
    return hashlib.sha256(disclosure).hexdigest(), disclosure


def keyed_salt(key: bytes, challenge: str) -> Callable[[str], str]:
    """Salts for one challenge's personal values: HMAC of the challenge and value under the store's
    secret key. Without the key a digest cannot be guessed from a list of likely names (the salt's
    purpose); with it, the same person in the same challenge gets the same digest, so a store keeps
    one disclosure per person per challenge rather than one per mention."""
    prefix = challenge.encode("utf-8") + b"\x00"
    return lambda value: hmac.new(key, prefix + value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def conceal(obj: Any, disclosures: list[tuple[str, bytes]], salt: Callable[[str], str] | None = None) -> Any:
    """Replace personal fields in ``obj`` by digests, collecting their disclosures. ``salt`` gives
    each value's salt (:func:`keyed_salt`); without it every value gets a random one."""
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for key, value in obj.items():
            if is_personal(key) and isinstance(value, str) and value:
                digest, disclosure = seal(value, salt(value) if salt else None)
                disclosures.append((digest, disclosure))
                out[key] = {"_sd": digest}
            else:
                out[key] = conceal(value, disclosures, salt)
        return out
    if isinstance(obj, list):
        return [conceal(v, disclosures, salt) for v in obj]
    return obj


class DamagedEntry(ValueError):
    """Stored bytes that do not hold what escalate writes: the one error where entries are read."""


def content_object(value: object) -> dict[str, Any]:
    """An entry's parsed content, which escalate always writes as a JSON object."""
    if not isinstance(value, dict):
        raise DamagedEntry("an entry's content is not a JSON object")
    return value


@dataclass(frozen=True)
class Content:
    """An entry's content, read into its types: what the fold and the rules work with."""

    occurred_at: str  # clock.iso text (it sorts as text)
    recorded_at: str
    author: entry_kinds.Author
    data: entry_kinds.EntryData
    occurred: dt.datetime  # the same times, read
    recorded: dt.datetime


def _instant(value: object, what: str) -> dt.datetime:
    """A stored time, read: the form clock.iso writes (checked by its length, the T, the point and the Z, and by
    datetime, which reads nothing else of that length) and a real time (not 31 February)."""
    if isinstance(value, str) and len(value) == 27 and value[10] == "T" and value[19] == "." and value[26] == "Z":
        try:
            return clock.from_iso(value)
        except ValueError:
            pass
    raise DamagedEntry(f"an entry's {what} is not a time as escalate writes it")


_CONTENT_KEYS = frozenset({"occurred_at", "recorded_at", "author", "data"})


def parse_content(kind: str, value: object) -> Content:
    """An entry's content (the parsed JSON of its bytes) as escalate wrote it, or DamagedEntry."""
    from escalate import entry_kinds  # pydantic and the kinds' models (50 ms; see OUTCOMES)

    obj = content_object(value)
    if obj.keys() != _CONTENT_KEYS:
        raise DamagedEntry(f"an entry's content has the keys {sorted(obj)}")
    try:
        author = entry_kinds.Author.model_validate(obj["author"])
        data = entry_kinds.parse(kind, obj["data"])
    except (entry_kinds.UnfitData, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        raise DamagedEntry(str(exc)) from None
    occurred, recorded = _instant(obj["occurred_at"], "occurred_at"), _instant(obj["recorded_at"], "recorded_at")
    return Content(obj["occurred_at"], obj["recorded_at"], author, data, occurred, recorded)


def reveal(obj: Any, known: dict[str, str], withheld: str | None = None) -> Any:
    """Put disclosed values back in place of digests; unknown digests become ``withheld``."""
    if isinstance(obj, dict):
        if len(obj) == 1 and "_sd" in obj:
            return known.get(obj["_sd"], withheld)
        return {k: reveal(v, known, withheld) for k, v in obj.items()}
    if isinstance(obj, list):
        return [reveal(v, known, withheld) for v in obj]
    return obj


def reveal_content(content: dict[str, Any], known: dict[str, str], withheld: str) -> dict[str, Any]:
    """``reveal(content, known, withheld)`` for an entry's content that :func:`parse_content` has read:
    its sealed values can only be a top-level data field, a person's name (the author's, or a data
    field's that names someone) or the author's login, so only those are looked at, and only what
    holds one is copied.
    (Walking every value of 100,000 entries was a quarter of a CSV export.)"""

    def shown(value: Any) -> Any:
        if type(value) is dict:
            sealed = value.get("_sd")
            if sealed is not None and len(value) == 1:
                return known.get(sealed, withheld)
            name, login = value.get("name"), value.get("os_user")
            if type(login) is dict and "_sd" in login:  # (the author's login: sealed since schema 6's escalate)
                value = {**value, "os_user": known.get(login["_sd"], withheld)}
            if type(name) is dict and "_sd" in name:
                return {**value, "name": known.get(name["_sd"], withheld)}
        return value

    data = content["data"]
    return {
        "author": shown(content["author"]),
        "data": {k: shown(v) if type(v) is dict else v for k, v in data.items()},  # (text, numbers: as they are)
        "occurred_at": content["occurred_at"],
        "recorded_at": content["recorded_at"],
    }


def disclosed_value(disclosure: bytes) -> str:
    salt, value = _read_json(disclosure.decode("utf-8"))
    if not isinstance(value, str):
        raise DamagedEntry("a disclosure's value is not text")
    return value


#: shown for a stored disclosure that cannot be read (changed outside escalate; verify names it)
UNREADABLE = "(cannot be read: run escalate verify)"


def readable_value(disclosure: bytes) -> str:
    """:func:`disclosed_value`, or :data:`UNREADABLE` for bytes that are not a disclosure."""
    try:
        value = disclosed_value(disclosure)
    except (ValueError, TypeError, RecursionError):
        return UNREADABLE
    return value if isinstance(value, str) else UNREADABLE


def header(seq: int, challenge: str, cseq: int, kind: str, prev: str, cprev: str) -> bytes:
    return f"{FORMAT_TAG} {seq} {challenge} {cseq} {kind} {prev} {cprev}\n".encode("ascii")


def build(seq: int, challenge: str, cseq: int, kind: str, prev: str, cprev: str, content: dict[str, Any]) -> bytes:
    return header(seq, challenge, cseq, kind, prev, cprev) + canonical(content)


def split(body: bytes) -> tuple[list[str], dict[str, Any]]:
    """(header fields, content) of stored entry bytes."""
    head, _, rest = body.partition(b"\n")
    return head.decode("ascii").split(" "), content_object(_read_json(rest.decode("utf-8")))


#: fields never searched: a procedure's whole text is in every opening and would match everything;
#: fingerprints, times and who ran the program are not what anyone looks for
NOT_SEARCHED = frozenset(
    {
        "procedure_text",
        "procedure_path",
        "procedure_fingerprint",
        "procedure_version",
        "os_user",
        "due",
        "new_due",
        "decision_at",
        "protective_by",
    }
)


def searchable(body: bytes) -> tuple[str, frozenset[str]]:
    """What a search reads of stored entry bytes: the text values of its data and author (no field
    name, digest or :data:`NOT_SEARCHED` field), and the digests of the personal values sealed in it
    whose disclosed values are searched too (names and case references, not paths). Bytes that cannot
    be read give nothing (verify names them)."""
    try:
        content = split(body)[1]
    except (ValueError, UnicodeDecodeError, RecursionError):
        return "", frozenset()
    out: list[str] = []
    sealed: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict):
            if isinstance(value.get("_sd"), str):
                sealed.add(value["_sd"])
                return
            for key, item in value.items():
                if key not in NOT_SEARCHED:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(content.get("data"))
    walk(content.get("author"))
    return " ".join(out), frozenset(sealed)


def link(seq: int, prev: str, inner: str) -> str:
    """An E2 entry's hash, from its number, the hash before it, and the sha256 (hex) of its bytes."""
    return hashlib.sha256(b"E2 %d %s %s" % (seq, prev.encode("ascii"), inner.encode("ascii"))).hexdigest()


def hash_of(seq: int, prev: str, body: bytes) -> str:
    """The hash of entry bytes at number ``seq`` after ``prev``, in the format their tag names."""
    inner = hashlib.sha256(body).hexdigest()
    return inner if body.startswith(b"E1 ") else link(seq, prev, inner)


def stated_hash(body: bytes) -> str:
    """The hash entry bytes have where their own header puts them ("" if the header cannot be read:
    it matches nothing)."""
    head = body[: body.find(b"\n")].split(b" ")
    try:
        return hash_of(int(head[1]), head[5].decode("ascii"), body) if len(head) == 7 else ""
    except (ValueError, UnicodeDecodeError):
        return ""
