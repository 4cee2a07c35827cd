"""Tamper evidence: verify catches each kind of change at the right entry."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from dataclasses import replace

import pytest
from helpers import ROOT
from logtools import SETTINGS, open_fictional

from escalate import entry, journal, verify
from escalate.journal import store_at


def build(path, n_notes=6):
    with store_at(path) as store:
        open_fictional(store)
        open_fictional(store, procedure="london-children")
        for i in range(n_notes):
            journal.record(
                store,
                SETTINGS,
                f"C-000{1 + i % 2}",
                "contact",
                {"direction": "made", "medium": "phone", "with": {"name": f"Worker {i}"}, "summary": f"call {i}"},
                f"2026-11-17T1{i}:00",
            )
    return path


def raw(path):
    conn = sqlite3.connect(path, isolation_level=None)
    for t in ("entries_no_update", "entries_no_delete", "disclosures_no_update", "disclosures_no_delete"):
        conn.execute(f"DROP TRIGGER IF EXISTS {t}")
    return conn


def check(path, expect=None):
    """verify_store's answer, which must be the same whether the store is checked in one process or,
    as a large store is, in two halves at once (the second by a child process)."""
    with store_at(path, readonly=True) as store:
        whole = verify.verify_store(store, expect)
        saved, verify.PARALLEL_FROM = verify.PARALLEL_FROM, 1
        try:
            halves = verify.verify_store(store, expect)
        finally:
            verify.PARALLEL_FROM = saved
    assert halves == whole
    return whole


def test_clean_store_verifies(tmp_path):
    report = check(build(tmp_path / "s.db"))
    assert report.ok and report.count == 8 and report.problem is None


def test_changed_byte_is_caught_at_that_entry(tmp_path):
    path = build(tmp_path / "s.db")
    conn = raw(path)
    body = bytes(conn.execute("SELECT body FROM entries WHERE seq = 5").fetchone()[0])
    conn.execute("UPDATE entries SET body = ? WHERE seq = 5", (body.replace(b"call", b"cell"),))
    report = check(path)
    assert not report.ok and report.problem_seq == 5 and "changed" in report.problem


def test_rewritten_hash_is_caught_at_the_next_entry(tmp_path):
    import hashlib

    path = build(tmp_path / "s.db")
    conn = raw(path)
    body = bytes(conn.execute("SELECT body FROM entries WHERE seq = 5").fetchone()[0]).replace(b"call", b"cell")
    prev = conn.execute("SELECT hash FROM entries WHERE seq = 4").fetchone()[0]
    rehashed = entry.link(5, prev, hashlib.sha256(body).hexdigest())  # as the format says
    conn.execute("UPDATE entries SET body = ?, hash = ? WHERE seq = 5", (body, rehashed))
    report = check(path)
    assert not report.ok and report.problem_seq == 6 and "previous entry" in report.problem


def test_deleted_entry_is_caught(tmp_path):
    path = build(tmp_path / "s.db")
    raw(path).execute("DELETE FROM entries WHERE seq = 4")
    report = check(path)
    assert not report.ok and report.problem_seq == 5 and "missing" in report.problem


def test_reordered_entries_are_caught(tmp_path):
    path = build(tmp_path / "s.db")
    conn = raw(path)
    conn.execute("UPDATE entries SET seq = -3 WHERE seq = 3")
    conn.execute("UPDATE entries SET seq = 3 WHERE seq = 4")
    conn.execute("UPDATE entries SET seq = 4 WHERE seq = -3")
    report = check(path)
    assert not report.ok and report.problem_seq == 3


def test_changed_disclosure_is_caught(tmp_path):
    path = build(tmp_path / "s.db")
    conn = raw(path)
    digest, seq = conn.execute("SELECT digest, seq FROM disclosures ORDER BY seq DESC LIMIT 1").fetchone()
    conn.execute("UPDATE disclosures SET bytes = ? WHERE digest = ?", (b'["00","Someone Else"]', digest))
    report = check(path)
    assert not report.ok and report.problem_seq == seq and "personal field" in report.problem


def test_truncated_tail_is_caught_with_the_expected_fingerprint(tmp_path):
    path = build(tmp_path / "s.db")
    held = check(path)
    expect = verify.parse_fingerprint(held.fingerprint)
    raw(path).execute("DELETE FROM entries WHERE seq >= 7")
    assert check(path).ok  # from inside the file a clean truncation cannot be seen ...
    report = check(path, expect)
    assert not report.ok and "removed from the end" in report.problem  # ... but the fingerprint catches it


def test_expected_fingerprint_still_passes_after_more_appends(tmp_path):
    path = build(tmp_path / "s.db")
    expect = verify.parse_fingerprint(check(path).fingerprint)
    with store_at(path) as store:
        journal.record(store, SETTINGS, "C-0001", "note", {"summary": "later"})
    assert check(path, expect).ok


def test_cli_verify_exit_codes(tmp_path, run_cli, isolated_home):
    build(isolated_home / "escalate.sqlite3")
    code, out, _ = run_cli("verify")
    assert code == 0 and out.startswith("OK 8 entries; head fingerprint 8:")
    fp = out.split("fingerprint ")[1].strip()
    code, out, _ = run_cli("verify", "--expect", fp)
    assert code == 0
    raw(isolated_home / "escalate.sqlite3").execute("DELETE FROM entries WHERE seq = 8")
    code, out, _ = run_cli("verify", "--expect", fp)
    assert code == 1 and out.startswith("FAILED")
    code, _, err = run_cli("verify", "--expect", "not-a-fingerprint")
    assert code == 2 and "COUNT:HEX" in err


def test_independent_verifier_agrees(tmp_path):
    path = build(tmp_path / "s.db")
    report = check(path)
    script = ROOT / "tests" / "independent_verifier.py"
    assert len(script.read_text().splitlines()) < 90  # short enough to read in one sitting
    assert "import escalate" not in script.read_text() and "from escalate" not in script.read_text()
    result = subprocess.run([sys.executable, str(script), str(path)], capture_output=True, text=True)
    assert result.stdout.strip() == f"OK {report.count} {report.head}"
    raw(path).execute(
        "UPDATE entries SET body = CAST(replace(CAST(body AS TEXT), 'call 3', 'call 9') AS BLOB) WHERE seq = 6"
    )
    result = subprocess.run([sys.executable, str(script), str(path)], capture_output=True, text=True)
    assert result.stdout.strip() == "entry 6: hash mismatch"


def test_independent_verifier_accepts_exports_redacted_or_not(tmp_path, isolated_home, run_cli):
    from escalate import settings

    settings.save(SETTINGS)
    build(isolated_home / "escalate.sqlite3")
    script = ROOT / "tests" / "independent_verifier.py"
    files = {
        "all.jsonl": ["--all"],
        "red.jsonl": ["--all", "--redact"],
        "one.jsonl": ["C-0002"],
        "one-red.jsonl": ["C-0002", "--redact"],
    }
    for name, args in files.items():
        assert run_cli("export", *args, "-o", tmp_path / name)[0] == 0
        report = verify.verify_file(tmp_path / name)
        assert report.ok
        result = subprocess.run([sys.executable, str(script), str(tmp_path / name)], capture_output=True, text=True)
        withheld = f" withheld {report.withheld}" if report.withheld else ""
        assert result.stdout.strip() == f"OK {report.count} {report.head}{withheld}", result.stderr
        assert ("red" in name) is (report.withheld > 0)
    lines = (tmp_path / "red.jsonl").read_bytes().split(b"\n")
    lines[5] = lines[5].replace(b"call", b"cell", 1)
    (tmp_path / "flipped.jsonl").write_bytes(b"\n".join(lines))
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "flipped.jsonl")], capture_output=True, text=True
    )
    assert result.stdout.strip() == "entry 5: hash mismatch"


def test_independent_verifier_checks_the_header_binding(tmp_path, isolated_home, run_cli):
    """What the header says is bound to the lines: a verifier written from the docs finds each of these
    relabellings, and so does escalate."""
    from escalate import settings

    settings.save(SETTINGS)
    build(isolated_home / "escalate.sqlite3")
    script = ROOT / "tests" / "independent_verifier.py"
    assert run_cli("export", "--all", "-o", tmp_path / "all.jsonl")[0] == 0
    assert run_cli("export", "--all", "--redact", "-o", tmp_path / "red.jsonl")[0] == 0
    assert run_cli("export", "C-0002", "-o", tmp_path / "one.jsonl")[0] == 0

    def relabelled(name, change):
        header, *rest = (tmp_path / name).read_bytes().split(b"\n")
        fields = json.loads(header)
        change(fields)
        out = tmp_path / f"changed-{len(list(tmp_path.glob('changed-*')))}-{name}"
        out.write_bytes(b"\n".join([json.dumps(fields).encode(), *rest]))
        return out

    cases = {
        "the header's redacted is not what the lines hold": [
            relabelled("red.jsonl", lambda h: h.update(redacted=False)),
            relabelled("all.jsonl", lambda h: h.update(redacted=True)),
        ],
        "the header names other challenges than the lines hold": [
            relabelled("one.jsonl", lambda h: h.update(challenges=["C-0001"])),
            relabelled("one.jsonl", lambda h: h.update(challenges=["C-0001", "C-0002"])),
        ],
        "the header's store fingerprint is not the last entry's": [
            relabelled("all.jsonl", lambda h: h.update(store_fingerprint="1:0000-0000-0000-0000")),
        ],
        "expected entry 1": [relabelled("one.jsonl", lambda h: h.update(scope="all"))],
    }
    for said, paths in cases.items():
        for path in paths:
            result = subprocess.run([sys.executable, str(script), str(path)], capture_output=True, text=True)
            assert said in result.stdout, (path.name, result.stdout, result.stderr)
            assert not verify.verify_file(path).ok, path.name


def test_the_log_format_documents_the_independent_verifier():
    spec = (ROOT / "docs" / "log-format.md").read_text()
    assert (ROOT / "tests" / "independent_verifier.py").read_text().strip() in spec


def test_export_round_trip_and_byte_flips(tmp_path, isolated_home, run_cli):
    from escalate import settings

    settings.save(SETTINGS)
    build(isolated_home / "escalate.sqlite3")
    out_file = tmp_path / "all.jsonl"
    code, out, err = run_cli("export", "--all", "--format", "jsonl", "-o", out_file)
    assert code == 0, err
    code, out, _ = run_cli("verify", out_file)
    assert code == 0 and "OK 8 entries" in out
    data = out_file.read_bytes()
    lines = data.split(b"\n")
    # flip one byte inside the body of entry 5 (line 6 of the file): caught at entry 5
    target = lines[5]
    i = target.index(b"call") + 1
    lines[5] = target[:i] + b"X" + target[i + 1 :]
    (tmp_path / "flipped.jsonl").write_bytes(b"\n".join(lines))
    code, out, _ = run_cli("verify", tmp_path / "flipped.jsonl")
    assert code == 1 and "entry 5" in out
    # truncated file: caught by the header's count
    (tmp_path / "cut.jsonl").write_bytes(b"\n".join(data.split(b"\n")[:4]) + b"\n")
    code, out, _ = run_cli("verify", tmp_path / "cut.jsonl")
    assert code == 1 and "truncated" in out
    # export appended an exported entry to each challenge
    with store_at(isolated_home / "escalate.sqlite3") as store:
        assert [e.kind for e in store.entries()][-2:] == ["exported", "exported"]


def test_redacted_export_verifies_and_hides_names(tmp_path, isolated_home, run_cli):
    from escalate import settings

    settings.save(SETTINGS)
    build(isolated_home / "escalate.sqlite3")
    out_file = tmp_path / "red.jsonl"
    code, _, err = run_cli("export", "C-0001", "--redact", "-o", out_file)
    assert code == 0, err
    data = out_file.read_bytes()
    for secret in (b"Child Q", b"Worker 0", b"Alex Example"):
        assert secret not in data
    code, out, _ = run_cli("verify", out_file)
    assert code == 0 and "withheld" in out


@pytest.mark.parametrize(
    "argv,words",
    [
        (["export", "C-0042", "-o", "x.jsonl"], "no challenge"),
        (["export", "-o", "x.jsonl"], "nothing selected"),
        (["export", "--all", "--resolved", "-o", "x.jsonl"], "nothing to export"),  # none resolved yet
    ],
)
def test_export_bad_input_writes_nothing(tmp_path, isolated_home, run_cli, monkeypatch, argv, words):
    from escalate import settings

    settings.save(SETTINGS)
    build(isolated_home / "escalate.sqlite3")
    monkeypatch.chdir(tmp_path)
    before = check(isolated_home / "escalate.sqlite3").count
    code, _, err = run_cli(*argv)
    assert code == 2 and words in err
    assert not (tmp_path / "x.jsonl").exists()
    assert check(isolated_home / "escalate.sqlite3").count == before


def test_export_refuses_to_overwrite_and_unwritable_folder(tmp_path, isolated_home, run_cli):
    from escalate import settings

    settings.save(SETTINGS)
    build(isolated_home / "escalate.sqlite3")
    existing = tmp_path / "e.jsonl"
    existing.write_text("keep me")
    code, _, err = run_cli("export", "1", "-o", existing)
    assert code == 2 and "already exists" in err and existing.read_text() == "keep me"
    code, _, err = run_cli("export", "1", "-o", tmp_path / "no" / "such" / "dir.jsonl")
    assert code == 2 and "does not exist" in err


@pytest.mark.parametrize(
    "content,words",
    [
        (b"", "not an escalate export"),
        (b"hello\n", "not an escalate export"),
        (b'{"escalate_export": 1, "entries": 1}\n{"seq": 1}\n', "not a valid entry"),
        # nested past the parser's recursion limit
        (b'{"escalate_export": 1, "entries": 1}\n' + b"[" * 100_000 + b"\n", "not a valid entry"),
        (b'{"escalate_export": 1, "entries": 2}\n{"seq": 1}\n\xff\xfe\n', "not a valid entry"),
    ],
)
def test_verify_of_non_export_files(tmp_path, run_cli, content, words):
    f = tmp_path / "x.jsonl"
    f.write_bytes(content)
    code, _, err = run_cli("verify", f)
    assert code == 2 and words in err


@pytest.mark.parametrize("tamper", ["none", "disclosure", "entry", "first half"])
def test_large_store_is_checked_in_two_halves_with_the_same_answers(tmp_path, monkeypatch, tamper):
    """Stores past PARALLEL_FROM entries are checked in two halves at once, the second by a child
    process: it must give exactly the answers of the one-process check and catch the same tampering."""
    path = build(tmp_path / "s.db")
    if tamper == "disclosure":
        conn = raw(path)
        digest = conn.execute("SELECT digest FROM disclosures ORDER BY seq DESC LIMIT 1").fetchone()[0]
        conn.execute("UPDATE disclosures SET bytes = ? WHERE digest = ?", (b'["00","Someone Else"]', digest))
        conn.close()
    elif tamper in ("entry", "first half"):
        seq = 6 if tamper == "entry" else 3
        conn = raw(path)
        body = bytes(conn.execute("SELECT body FROM entries WHERE seq = ?", (seq,)).fetchone()[0])
        conn.execute("UPDATE entries SET body = ? WHERE seq = ?", (body.replace(b"call", b"cell"), seq))
        conn.close()
    with store_at(path, readonly=True) as store:
        inline = verify.verify_store(store)
    monkeypatch.setattr(verify, "PARALLEL_FROM", 1)
    spawned = []
    real = verify.parallel.beside

    def counting(work, p, *bounds):
        spawned.append((p, bounds))
        return real(work, p, *bounds)

    monkeypatch.setattr(verify.parallel, "beside", counting)
    with store_at(path, readonly=True) as store:
        parallel = verify.verify_store(store)
        n_disclosures = store.disclosure_rowids()
    assert spawned == [(path, (5, 8, verify.first_share(n_disclosures) + 1, n_disclosures))]  # entries 5-8 beside
    assert parallel == inline
    assert parallel.ok is (tamper == "none")
    if tamper == "none":
        assert parallel.disclosures == n_disclosures and parallel.count == 8
    if tamper == "disclosure":
        assert "disclosed personal field" in parallel.problem and parallel.problem_seq == 8
    if tamper == "entry":
        assert parallel.problem_seq == 6 and "content does not match its hash" in parallel.problem


def _exits(code):
    """A worker's work that ends its process without an answer."""
    import os

    os._exit(code)


def test_a_failing_second_process_is_never_taken_for_success(tmp_path, monkeypatch):
    path = build(tmp_path / "s.db")
    conn = raw(path)
    digest = conn.execute("SELECT digest FROM disclosures ORDER BY seq DESC LIMIT 1").fetchone()[0]
    conn.execute("UPDATE disclosures SET bytes = ? WHERE digest = ?", (b'["00","Someone Else"]', digest))
    conn.close()
    monkeypatch.setattr(verify, "PARALLEL_FROM", 1)
    # a worker that ends without an answer (killed, say): its half is checked here, never assumed
    real = verify.parallel.beside
    monkeypatch.setattr(verify.parallel, "beside", lambda work, *args: real(_exits, 3))
    with store_at(path, readonly=True) as store:
        report = verify.verify_store(store)
    assert not report.ok and "disclosed personal field" in report.problem  # its half was checked here instead


def test_halves_that_do_not_join_are_not_taken_for_success():
    """The second half must continue the first: at the entry where they meet and at every challenge
    it meets under way. Each half holding on its own is not enough."""
    a, b, head = "a" * 64, "b" * 64, "c" * 64
    first = verify.Span(True, 4, verify.ZERO_HASH, a, True, True, [], {"C-0001": (3, a), "C-0002": (3, b)}, 2)
    second = verify.Span(True, 4, a, head, True, True, [("C-0001", 3, a), ("C-0002", 3, b)], {}, 2)
    assert verify._joined(first, second, head)
    assert not verify._joined(first, replace(second, first_prev=b), head)  # does not follow entry 4
    assert not verify._joined(first, replace(second, junctions=[("C-0001", 3, b)]), head)  # wrong challenge link
    assert not verify._joined(first, replace(second, junctions=[("C-0001", 4, a)]), head)  # an entry skipped
    assert not verify._joined(first, replace(second, junctions=[("C-0003", 2, a)]), head)  # never opened
    assert not verify._joined(replace(first, junctions=[("C-0001", 2, a)]), second, head)  # first half under way
    assert not verify._joined(first, second, b)  # the head moved
    assert not verify._joined(first, replace(second, first_e2=False), head)  # E1 after E2: never back
    empty = verify.Span(True, 0, None, None, False, False, [], {}, 0)  # a store of one entry: the first half is empty
    assert verify._joined(empty, verify.Span(True, 1, verify.ZERO_HASH, head, True, True, [], {}, 1), head)
    assert not verify._joined(empty, verify.Span(True, 1, a, head, True, True, [], {}, 1), head)


def test_changed_time_columns_cannot_move_a_deadline(tmp_path):
    """occurred_at / recorded_at are also table columns (an index). Views and deadlines read the times
    inside the hashed bytes, so editing the columns changes nothing that is shown."""
    path = build(tmp_path / "s.db")
    with store_at(path) as store:
        before = store.state("C-0001")
        chron_before = journal.chronology(store, "C-0001")
    conn = raw(path)
    conn.execute(
        "UPDATE entries SET occurred_at = '2020-01-01T00:00:00.000000Z', "
        "recorded_at = '2020-01-02T00:00:00.000000Z' WHERE challenge = 'C-0001'"
    )
    conn.execute("DROP TRIGGER state_cache_no_delete")  # (as someone with the file would)
    conn.execute("DELETE FROM state_cache")  # the cache is rebuilt from the entries
    conn.close()
    with store_at(path) as store:
        assert store.state("C-0001") == before
        assert [(c.occurred_at, c.recorded_at) for c in journal.chronology(store, "C-0001")] == [
            (c.occurred_at, c.recorded_at) for c in chron_before
        ]


def test_each_disclosure_travels_once_and_covers_every_mention(tmp_path, isolated_home, run_cli):
    """A person named in several entries has one disclosure, on the line of the entry that first names
    them; the file verifier counts every mention as disclosed (or, redacted, withheld), and a changed
    disclosure is caught at the entry that carries it."""
    from escalate import settings

    settings.save(SETTINGS)
    build(isolated_home / "escalate.sqlite3")
    plain, red = tmp_path / "plain.jsonl", tmp_path / "red.jsonl"
    assert run_cli("export", "--all", "-o", plain)[0] == 0
    assert run_cli("export", "--all", "--redact", "-o", red)[0] == 0
    _, records = verify.read_jsonl(plain)
    mentions = sum(r["body"].count('"_sd":"') for r in records)
    carried = [d for r in records for d in r["disclosures"]]
    assert len(carried) == len(set(carried)) < mentions  # the author is named by every entry, disclosed once
    full, hidden = verify.verify_file(plain), verify.verify_file(red)
    assert (full.ok, full.disclosures, full.withheld) == (True, mentions, 0)
    # the second export also holds the first export's two `exported` entries, each naming its author
    # and their login (both sealed)
    red_mentions = sum(r["body"].count('"_sd":"') for r in verify.read_jsonl(red)[1])
    assert red_mentions == mentions + 4
    assert (hidden.ok, hidden.disclosures, hidden.withheld) == (True, 0, red_mentions)
    lines = plain.read_bytes().split(b"\n")
    # once per challenge: each challenge salts its own digests
    assert (
        [i for i, line in enumerate(lines) if b"Alex Example" in line]
        == [i for i, r in enumerate(records, start=1) if r["cseq"] == 1]
        == [1, 2]
    )
    lines[1] = lines[1].replace(b"Alex Example", b"Alex Exampel")
    (tmp_path / "changed.jsonl").write_bytes(b"\n".join(lines))
    code, out, _ = run_cli("verify", tmp_path / "changed.jsonl")
    assert code == 1 and "entry 1 (opened): a disclosed personal field does not match its digest" in out


def test_a_second_copy_of_a_disclosure_is_checked_too(isolated_home, tmp_path, run_cli):
    """A file carrying a disclosure again on a later line, with another value: the first copy matched,
    so the second was once skipped, and the audit (which keeps the last copy it reads) showed it."""
    import json

    from escalate import settings

    settings.save(SETTINGS)
    build(isolated_home / "escalate.sqlite3")
    plain = tmp_path / "plain.jsonl"
    assert run_cli("export", "--all", "-o", plain)[0] == 0
    lines = plain.read_bytes().split(b"\n")
    first = json.loads(lines[1])
    digest, value = next(iter(first["disclosures"].items()))
    later = json.loads(lines[3])
    assert later["challenge"] == first["challenge"] and digest not in later["disclosures"]
    later["disclosures"][digest] = json.dumps([json.loads(value)[0], "Someone Else"])
    lines[3] = json.dumps(later, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    (tmp_path / "again.jsonl").write_bytes(b"\n".join(lines))
    code, out, _ = run_cli("verify", tmp_path / "again.jsonl")
    assert code == 1 and "entry 3 " in out and "does not match its digest" in out
    later["disclosures"][digest] = value  # the same value again is no harm
    lines[3] = json.dumps(later, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    (tmp_path / "same.jsonl").write_bytes(b"\n".join(lines))
    assert run_cli("verify", tmp_path / "same.jsonl")[0] == 0


def test_lone_surrogates_in_a_file_are_refused_not_a_traceback(isolated_home, tmp_path, run_cli):
    """JSON can spell a lone surrogate (\\ud800), which no UTF-8 holds and no terminal prints."""
    import json

    from escalate import settings

    settings.save(SETTINGS)
    build(isolated_home / "escalate.sqlite3")
    plain = tmp_path / "plain.jsonl"
    assert run_cli("export", "--all", "-o", plain)[0] == 0
    lines = plain.read_text().split("\n")
    rec = json.loads(lines[2])
    rec["body"] = rec["body"].replace('"data":{', '"data":{"x":"\ud800",', 1)
    body = list(lines)
    body[2] = json.dumps(rec)
    (tmp_path / "body.jsonl").write_text("\n".join(body), errors="surrogatepass")
    code, out, err = run_cli("verify", tmp_path / "body.jsonl")
    assert code == 1 and "entry 2 (opened): its text holds a character that is not Unicode" in out, out + err
    rec = json.loads(lines[2])
    rec["kind"] = "\udc00"
    kind = list(lines)
    kind[2] = json.dumps(rec)  # ensure_ascii: the surrogate is spelled \udc00
    (tmp_path / "kind.jsonl").write_text("\n".join(kind))
    code, out, err = run_cli("verify", tmp_path / "kind.jsonl")
    assert code == 2 and "kind.jsonl:3: not a valid entry line" in err and "Traceback" not in err


def test_digests_shifted_between_two_disclosures_are_caught(tmp_path):
    """Two stored digests changed so that, end to end, they read as before (one a digit short, the
    next a digit long): every disclosure is checked on its own, in one process or two."""
    path = build(tmp_path / "s.db")
    conn = raw(path)
    (r1, d1), (r2, d2) = conn.execute("SELECT rowid, digest FROM disclosures ORDER BY rowid LIMIT 2").fetchall()
    conn.execute("DROP INDEX IF EXISTS disclosures_seq")
    conn.execute("UPDATE disclosures SET digest = ? WHERE rowid = ?", (d1[:-1], r1))
    conn.execute("UPDATE disclosures SET digest = ? WHERE rowid = ?", (d1[-1] + d2, r2))
    conn.close()
    report = check(path)
    assert not report.ok and "disclosed personal field does not match its digest" in report.problem


def _loose_disclosures(conn):
    """The disclosures table as someone rewriting the file could leave it: no constraints at all."""
    conn.execute("CREATE TABLE loose (digest, seq, bytes)")
    conn.execute("INSERT INTO loose (rowid, digest, seq, bytes) SELECT rowid, digest, seq, bytes FROM disclosures")
    conn.execute("DROP TABLE disclosures")
    conn.execute("ALTER TABLE loose RENAME TO disclosures")


@pytest.mark.parametrize(
    "how",
    ["two digests in one, the other NULL", "two values in one, the other NULL", "a value NULL", "a value as text"],
)
def test_two_disclosures_folded_into_one_row_are_caught(tmp_path, how):
    """The quick check reads a batch of disclosures joined end to end; a row made to hold two of
    them beside a row left empty must not line up as before, in one process or two. A value that
    is not bytes at all is named as such, never a traceback."""
    path = build(tmp_path / "s.db")
    conn = raw(path)
    _loose_disclosures(conn)
    (r1, d1, v1), (r2, d2, v2) = conn.execute(
        "SELECT rowid, digest, bytes FROM disclosures ORDER BY rowid LIMIT 2"
    ).fetchall()
    if how.startswith("two digests"):
        conn.execute("UPDATE disclosures SET digest = ? WHERE rowid = ?", (d1 + "," + d2, r1))
        conn.execute("UPDATE disclosures SET digest = NULL WHERE rowid = ?", (r2,))
    elif how.startswith("two values"):
        conn.execute("UPDATE disclosures SET bytes = ? WHERE rowid = ?", (bytes(v1) + b"\n" + bytes(v2), r1))
        conn.execute("UPDATE disclosures SET bytes = NULL WHERE rowid = ?", (r2,))
    else:
        conn.execute("UPDATE disclosures SET bytes = ? WHERE rowid = ?", (None if "NULL" in how else "text", r2))
    conn.close()
    report = check(path)
    expected = "does not match its digest" if how.startswith("two") else "is missing or is not bytes"
    assert not report.ok and f"disclosed personal field {expected}" in report.problem


def as_e1(path, upto):
    """Rewrite entries 1..upto as escalate wrote them before E2 (tag E1, hash sha256 of the bytes), with
    every link after them recomputed: a store begun under E1 and carried on under E2."""

    conn = raw(path)
    rows = conn.execute("SELECT seq, challenge, body FROM entries ORDER BY seq").fetchall()
    last, last_of = entry.ZERO_HASH, {}
    for seq, challenge, body in rows:
        head, content = bytes(body).split(b"\n", 1)
        fields = head.split(b" ")
        fields[0] = b"E1" if seq <= upto else b"E2"
        fields[5], fields[6] = last.encode(), last_of.get(challenge, entry.ZERO_HASH).encode()
        new = b" ".join(fields) + b"\n" + content
        digest = entry.hash_of(seq, last, new)
        conn.execute("UPDATE entries SET body = ?, hash = ? WHERE seq = ?", (new, digest, seq))
        last = last_of[challenge] = digest
    conn.close()


def test_a_store_begun_in_e1_goes_on_in_e2_and_verifies(tmp_path, isolated_home):
    path = build(tmp_path / "s.db")
    as_e1(path, 5)
    assert check(path).ok
    with store_at(path) as store:  # what is appended now is E2, after the E1 entries
        journal.record(store, SETTINGS, "C-0001", "note", {"summary": "a note in E2"})
        assert store.entries(None)[-1].body.startswith(b"E2 ")
    report = check(path)
    assert report.ok and report.count == 9


def test_an_e1_entry_after_an_e2_one_is_caught(tmp_path):
    path = build(tmp_path / "s.db")
    as_e1(path, 5)
    conn = raw(path)  # entry 7 in E1 after entry 6 in E2: its hash recomputed as E1 would have it
    import hashlib

    body = bytes(conn.execute("SELECT body FROM entries WHERE seq = 7").fetchone()[0]).replace(b"E2 ", b"E1 ", 1)
    conn.execute("UPDATE entries SET body = ?, hash = ? WHERE seq = 7", (body, hashlib.sha256(body).hexdigest()))
    conn.close()
    report = check(path)
    assert not report.ok and report.problem_seq == 7


def test_a_selection_of_a_store_with_e1_entries_between_is_exported_unlinked(tmp_path, isolated_home, run_cli):
    from escalate import settings

    settings.save(SETTINGS)
    path = build(isolated_home / "escalate.sqlite3")
    as_e1(path, 6)  # C-0002's entries among the first six cannot stand as link lines
    assert run_cli("export", "C-0001", "-o", tmp_path / "one.jsonl")[0] == 0
    header, *lines = [json.loads(x) for x in (tmp_path / "one.jsonl").read_text().splitlines()]
    assert "linked" not in header and all("body" in x for x in lines)
    assert verify.verify_file(tmp_path / "one.jsonl").ok
    as_e1(path, 0)  # all E2 now: the same selection is linked
    assert run_cli("export", "C-0001", "-o", tmp_path / "two.jsonl")[0] == 0
    header = json.loads((tmp_path / "two.jsonl").read_text().splitlines()[0])
    assert header["linked"] is True and verify.verify_file(tmp_path / "two.jsonl").ok
