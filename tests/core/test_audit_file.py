"""The audit of a big file by two processes: the same figures as one process, or no answer at all
(the caller then reads the file in one process, which names what is wrong)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

import pytest
from logtools import SETTINGS, open_fictional

from escalate import audit, audit_file, entry, journal, verify
from escalate import settings as settings_mod
from escalate.journal import store_at

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(autouse=True)
def split_anything(monkeypatch):
    monkeypatch.setattr(audit_file, "SMALL", 1)  # the test files are small


@pytest.fixture
def exported(isolated_home, run_cli, tmp_path):
    """An export of six challenges, interleaved in time, of every shape the figures count: resolved,
    stepped up, open and overdue, a named worker (disclosed), a late entry."""
    settings_mod.save(SETTINGS)
    with store_at(isolated_home / "escalate.sqlite3") as s:
        for n in range(6):
            open_fictional(
                s,
                at=f"2026-10-{5 + n:02d}T09:00",
                agency=f"Agency {n % 3}",
                procedure="london-children" if n % 2 else "lincolnshire-joint",
            )
        for n in range(6):
            cid = f"C-{n + 1:04d}"
            journal.record(
                s,
                SETTINGS,
                cid,
                "contact",
                {
                    "direction": "made",
                    "medium": "phone",
                    "summary": "call",
                    "with": {"name": f"Worker {n}", "role": "SW"},
                },
                f"2026-10-{12 + n:02d}T10:00",
            )
        for cid in ("C-0001", "C-0004"):
            journal.step_up(s, SETTINGS, cid, "no reply", "2026-10-20T10:00")
        journal.record(
            s, SETTINGS, "C-0002", "resolved", {"outcome": "resolved", "rationale": "agreed"}, "2026-10-26T10:00"
        )
    path = tmp_path / "all.jsonl"
    assert run_cli("export", "--all", "-o", path)[0] == 0
    return path


def one_process(path):
    info, challenges = audit.from_file(str(path), {}, NOW)
    return info, [audit.facts(c, NOW) for c in challenges]


def test_two_processes_give_exactly_what_one_gives(exported, tmp_path, run_cli):
    split = audit_file.read(str(exported), {}, NOW)
    assert split is not None  # the split was used, not fallen back from
    assert split == one_process(exported)
    info, found = split
    assert info.ok and info.entries == 6 + 6 + 2 + 1 and len(found) == 6
    assert [f.key.rsplit(":", 1)[1] for f in found] == [f"C-{n:04d}" for n in range(1, 7)]  # the file's order
    redacted = tmp_path / "redacted.jsonl"
    assert run_cli("export", "--all", "--redact", "-o", redacted)[0] == 0
    split = audit_file.read(str(redacted), {}, NOW)
    assert split is not None and split == one_process(redacted) and split[0].withheld > 0


def test_summarise_gives_the_figures_of_load(exported, tmp_path, run_cli):
    part = tmp_path / "part.jsonl"
    assert run_cli("export", "C-0002", "C-0003", "-o", part)[0] == 0
    files = [str(exported), str(part)]
    assert audit_file.summarise(files, now=NOW) == audit.figures(*audit.load(files, now=NOW), NOW)


def _lines(path):
    return path.read_bytes().split(b"\n")


def _write(path, lines):
    path.write_bytes(b"\n".join(lines))
    return path


def _rechained(lines, changes):
    """The file with the bodies of some entry lines changed (line number -> body text -> body text) and
    every hash and link after them recomputed, and the header's store fingerprint made to match: a
    made-up file that verifies (only a fingerprint held elsewhere tells it from the real one)."""
    out, last, last_of = [lines[0]], "0" * 64, {}
    for number, line in enumerate(lines[1:], 1):
        if not line:
            out.append(line)
            continue
        rec = json.loads(line)
        head, content = rec["body"].split("\n", 1)
        fields = head.split(" ")
        fields[5], fields[6] = last, last_of.get(rec["challenge"], "0" * 64)
        body = " ".join(fields) + "\n" + content
        rec["body"] = changes.get(number, lambda b: b)(body)
        rec["hash"] = entry.link(rec["seq"], last, hashlib.sha256(rec["body"].encode()).hexdigest())
        last = last_of[rec["challenge"]] = rec["hash"]
        out.append(json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    header = json.loads(out[0])
    if header["scope"] == "all":
        header["store_fingerprint"] = verify.fingerprint(header["entries"], last)
        out[0] = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    return out


def _tampered(exported, tmp_path):
    lines = _lines(exported)
    yield "a changed byte", lines[:5] + [lines[5].replace(b"call", b"cell")] + lines[6:]
    yield "a line left out", lines[:4] + lines[5:]
    yield "two lines swapped", lines[:3] + [lines[4], lines[3]] + lines[5:]
    yield "a line twice", lines[:4] + [lines[3]] + lines[4:]
    yield "the tail cut off", lines[:-3] + [b""]
    # JSON allows a line break between values; the file's lines do not
    yield (
        "a line broken in two",
        lines[:2] + lines[2].replace(b',"challenge"', b',\n"challenge"').split(b"\n") + lines[3:],
    )
    # a second "body" (json keeps the last): the challenge the split reads off the start is not the line's
    other = json.loads(lines[8])["body"]
    yield (
        "two bodies",
        lines[:2]
        + [lines[2].replace(b',"challenge"', b',"body":' + json.dumps(other).encode() + b',"challenge"', 1)]
        + lines[3:],
    )
    yield "a made-up opening", _rechained(lines, {1: lambda b: b.replace('"agency":', '"agenda":')})
    yield "an empty line", lines[:3] + [b""] + lines[3:]
    # JSON can spell a lone surrogate, which no escalate entry holds (and no terminal prints)
    yield (
        "a lone surrogate in a content",
        _rechained(lines, {7: lambda b: b.replace('"summary":"', '"summary":"\\ud800', 1)}),
    )
    assert b'"summary\\":\\"' in lines[7] and b'"kind":"' in lines[7]  # (a contact: the openings come first)
    yield (
        "a lone surrogate in a body",
        lines[:7] + [lines[7].replace(b'"summary\\":\\"', b'"summary\\":\\"\\ud800', 1)] + lines[8:],
    )
    yield "a lone surrogate as a kind", lines[:7] + [lines[7].replace(b'"kind":"', b'"kind":"\\udc00', 1)] + lines[8:]


def test_a_file_that_one_process_finds_wrong_gets_no_answer_from_two(exported, tmp_path):
    for name, lines in _tampered(exported, tmp_path):
        path = _write(tmp_path / "t.jsonl", lines)
        assert audit_file.read(str(path), {}, NOW) is None, name
        # and the caller's one-process reading says what is wrong
        inputs = audit_file.summarise([str(path)], now=NOW).inputs
        assert not inputs[0].ok and inputs[0].problem, name
        assert inputs[0].problem.isascii() or "surrogate" not in name, inputs[0].problem  # printable
    assert audit_file.read(str(_write(tmp_path / "t.jsonl", _rechained(_lines(exported), {}))), {}, NOW) is not None


def test_a_disclosure_carried_by_the_other_share_sends_the_file_to_one_process(exported, tmp_path):
    """A line naming a digest that another challenge's line discloses (exports never do this): which
    line came first decides how one process counts it, so two processes do not answer."""
    lines = _lines(exported)
    recs = [json.loads(x) for x in lines[1:-1]]

    def naming(carrier_challenge):
        carrier = next(r for r in recs if r["disclosures"] and r["challenge"] == carrier_challenge)
        digest = next(iter(carrier["disclosures"]))
        target = next(i for i, r in enumerate(recs, 1) if r["challenge"] == "C-0001" and r["kind"] == "contact")
        # the person the contact was with, named by the other challenge's digest (a personal field, so
        # the entry is still one escalate could write; its own digest has its disclosure on its line)
        change = {
            target: lambda b: re.sub(
                r'"with":\{"name":\{"_sd":"[0-9a-f]{64}"\}', f'"with":{{"name":{{"_sd":"{digest}"}}', b, count=1
            )
        }
        return _write(tmp_path / f"{carrier_challenge}.jsonl", _rechained(lines, change))

    other_share = naming("C-0002")  # challenges alternate between the shares in order of first appearance
    assert audit_file.read(str(other_share), {}, NOW) is None
    assert audit_file.summarise([str(other_share)], now=NOW).inputs[0].ok  # it verifies: one process counts it
    same_share = naming("C-0003")
    assert audit_file.read(str(same_share), {}, NOW) == one_process(same_share)


def test_a_worker_that_fails_or_cannot_start_leaves_the_file_to_one_process(exported, monkeypatch):
    from escalate import parallel

    real = parallel.Worker.result
    monkeypatch.setattr(parallel.Worker, "result", lambda self: None)  # it ended without an answer
    assert audit_file.read(str(exported), {}, NOW) is None
    monkeypatch.setattr(parallel.Worker, "result", real)

    def no_process(self):
        raise OSError("no more processes")

    monkeypatch.setattr(parallel.multiprocessing.get_context("spawn").Process, "start", no_process)
    assert audit_file.read(str(exported), {}, NOW) is None
    assert audit_file.summarise([str(exported)], now=NOW).challenges == 6


def test_small_files_are_read_in_one_process(exported, monkeypatch):
    monkeypatch.setattr(audit_file, "SMALL", 16)  # the file holds 15 entries
    assert audit_file.read(str(exported), {}, NOW) is None
    monkeypatch.setattr(audit_file, "SMALL", 15)
    assert audit_file.read(str(exported), {}, NOW) is not None
