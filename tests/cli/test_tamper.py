"""Tampering with a store or an export, as someone with the files and the documentation would
(issue 16, deliverable 4). Each test here is a kind of tampering that `escalate verify` passed before;
docs/tamper-table.md lists every kind tried and what catches it."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from logtools import export_lines_of as lines_of
from logtools import write_export as write

from escalate import entry, verify

OPENING = ["open", "--procedure", "london-children", "--trigger", "disputed-referral", "--agency", "Fictional CSC"]
OPENING += ["--decision", "NFA", "--concern", "c"]


@pytest.fixture
def store(run_cli, isolated_home):
    """A store of three challenges, each with a contact naming someone."""
    assert run_cli("config", "set", "name", "Alex Example")[0] == 0
    assert run_cli("config", "set", "role", "DSL")[0] == 0
    for n in (1, 2, 3):
        assert run_cli(*OPENING, "--case-ref", f"Child {n}")[0] == 0
        argv = ["record", str(n), "contact", "--with", f"Sam Fictional {n}, Social worker", "--summary", "call"]
        assert run_cli(*argv)[0] == 0
    return isolated_home / "escalate.sqlite3"


def fingerprint(run_cli) -> str:
    code, out, _ = run_cli("verify")
    assert code == 0
    return out.split("head fingerprint ")[1].split(";")[0].strip()


def export(run_cli, tmp_path, *args: str, name: str = "all.jsonl"):
    path = tmp_path / name
    assert run_cli("export", *args, "-o", path)[0] == 0
    return path


def rechained(records: list[dict], change) -> list[dict]:
    """The records of a whole-store export with ``change(body) -> body`` applied to each, and every
    hash and link recomputed."""
    import hashlib

    last, last_of, out = "0" * 64, {}, []
    for r in records:
        head, content = r["body"].split("\n", 1)
        fields = head.split(" ")
        fields[5] = last
        fields[6] = last_of.get(r["challenge"], "0" * 64)
        body = change(" ".join(fields) + "\n" + content)
        digest = entry.link(r["seq"], last, hashlib.sha256(body.encode()).hexdigest())
        out.append({**r, "body": body, "hash": digest})
        last = last_of[r["challenge"]] = digest
    return out


def failed(run_cli, *argv, says: str) -> None:
    code, out, err = run_cli(*argv)
    assert code != 0, (out, err)
    assert says in out + err, out + err
    assert "Traceback" not in err


# --- fingerprints -------------------------------------------------------------------------


def test_expect_checks_the_hash_of_a_file_not_only_its_count(store, run_cli, tmp_path):
    held = fingerprint(run_cli)
    path = export(run_cli, tmp_path, "--all")
    assert run_cli("verify", path, "--expect", held)[0] == 0
    header, records = lines_of(path)
    forged = rechained(records, lambda b: b.replace('"summary":"call"', '"summary":"no call"'))
    header["store_fingerprint"] = verify.fingerprint(len(forged), forged[-1]["hash"])
    write(path, header, forged)
    assert run_cli("verify", path)[0] == 0  # consistent in itself: only the fingerprint held tells
    failed(run_cli, "verify", path, "--expect", held, says="does not match the fingerprint you hold")


def test_a_made_up_fingerprint_does_not_pass_a_genuine_file(store, run_cli, tmp_path):
    count = int(fingerprint(run_cli).split(":")[0])
    path = export(run_cli, tmp_path, "--all")
    failed(run_cli, "verify", path, "--expect", f"{count}:0000-0000-0000-0000", says="does not match")
    failed(run_cli, "verify", path, "--expect", f"{count + 3}:0000-0000-0000-0000", says="removed from the end")


@pytest.mark.parametrize("short", ["6:a", "6:e13d", "6:e13d-5a1d-2cea"])
def test_a_fingerprint_too_short_to_mean_anything_is_refused(store, run_cli, tmp_path, short):
    failed(run_cli, "verify", "--expect", short, says="too few to tell the log from a rewritten one")
    path = export(run_cli, tmp_path, "--all")
    failed(run_cli, "verify", path, "--expect", short, says="too few")


def test_a_selection_follows_the_chain_to_the_head_and_is_checked_against_it(store, run_cli, tmp_path):
    held = fingerprint(run_cli)
    path = export(run_cli, tmp_path, "1")  # the head entry is challenge 3's: it stands as a link line
    header, records = lines_of(path)
    assert header["linked"] is True and header["store_fingerprint"] == held
    assert any("inner" in r for r in records) and {r["challenge"] for r in records if "body" in r} == {"C-0001"}
    code, out, _ = run_cli("verify", path, "--expect", held)
    assert code == 0 and f"head fingerprint {held}" in out


def test_an_entry_of_a_selection_rewritten_with_every_hash_recomputed_fails_the_fingerprint(store, run_cli, tmp_path):
    """The finding: in a selection whose challenges never touch in store order, an entry edited with its
    hashes recomputed passed --expect. Now each link line carries on the chain to the head."""
    held = fingerprint(run_cli)
    path = export(run_cli, tmp_path, "1", "3", name="some.jsonl")
    header, records = lines_of(path)
    last, last_of, out = None, {}, []
    for r in records:  # the forger recomputes everything the file lets them
        if "body" not in r:
            last = entry.link(r["seq"], last, r["inner"])
            out.append(r)
            continue
        head, content = r["body"].split("\n", 1)
        fields = head.split(" ")
        fields[5] = last or fields[5]
        fields[6] = last_of.get(r["challenge"], "0" * 64)
        body = " ".join(fields) + "\n" + content.replace('"summary":"call"', '"summary":"no call"')
        last = last_of[r["challenge"]] = entry.link(r["seq"], fields[5], hashlib.sha256(body.encode()).hexdigest())
        out.append({**r, "body": body, "hash": last})
    header["store_fingerprint"] = verify.fingerprint(out[-1]["seq"], last)
    write(path, header, out)
    assert run_cli("verify", path)[0] == 0  # consistent in itself: only the fingerprint held tells
    failed(run_cli, "verify", path, "--expect", held, says="does not match the fingerprint you hold")


def test_an_unlinked_selection_without_the_fingerprinted_entry_says_it_cannot_be_checked(store, run_cli, tmp_path):
    """A selection exported before escalate linked them (or from a store whose entries are E1)."""
    held = fingerprint(run_cli)
    path = export(run_cli, tmp_path, "1")
    header, records = lines_of(path)
    header.pop("linked")
    write(path, header, [r for r in records if "body" in r])
    assert run_cli("verify", path)[0] == 0
    failed(run_cli, "verify", path, "--expect", held, says="cannot be checked against that fingerprint")


def test_link_lines_cut_from_a_linked_selection_are_caught(store, run_cli, tmp_path):
    path = export(run_cli, tmp_path, "1", name="one.jsonl")  # links after its entries only
    header, records = lines_of(path)
    write(path, header, [r for r in records if "body" in r])
    failed(run_cli, "verify", path, says="a linked export ends at the store's head")
    path = export(run_cli, tmp_path, "1", "3", name="some.jsonl")  # links between its entries
    header, records = lines_of(path)
    write(path, header, [r for r in records if "body" in r])
    failed(run_cli, "verify", path, says="an entry is missing")


# --- the export header is bound to the entries ---------------------------------------------


def test_a_challenge_cut_from_a_whole_export_is_caught_without_relabelling(store, run_cli, tmp_path):
    path = export(run_cli, tmp_path, "--all")
    header, records = lines_of(path)
    kept = [r for r in records if r["challenge"] != "C-0002"]
    header["entries"] = len(kept)
    write(path, header, kept)
    failed(run_cli, "verify", path, says="an entry is missing")


def test_a_header_naming_other_challenges_than_the_lines_is_caught(store, run_cli, tmp_path):
    path = export(run_cli, tmp_path, "1", "2", name="some.jsonl")
    header, records = lines_of(path)
    kept = [r for r in records if r.get("challenge") == "C-0001"]
    header["entries"] = len(kept)  # the challenge cut, the count fixed, its id left in the header
    header.pop("linked", None)  # (and the file made to look unlinked, so that no gap gives it away)
    write(path, header, kept)
    failed(run_cli, "verify", path, says="header's list of challenges is not the challenges")


def test_disclosures_stripped_from_an_unredacted_file_are_caught(store, run_cli, tmp_path):
    path = export(run_cli, tmp_path, "--all")
    header, records = lines_of(path)
    assert header["redacted"] is False
    stripped = [{**r, "disclosures": {}} if r["seq"] == 2 else r for r in records]
    write(path, header, stripped)
    failed(run_cli, "verify", path, says="the header says nothing was withheld")


def test_a_redacted_file_relabelled_as_complete_is_caught(store, run_cli, tmp_path):
    path = export(run_cli, tmp_path, "--all", "--redact")
    assert run_cli("verify", path)[0] == 0
    header, records = lines_of(path)
    write(path, {**header, "redacted": False}, records)
    failed(run_cli, "verify", path, says="the header says nothing was withheld")


def test_a_whole_export_relabelled_with_another_store_fingerprint_is_caught(store, run_cli, tmp_path):
    path = export(run_cli, tmp_path, "--all")
    header, records = lines_of(path)
    write(path, {**header, "store_fingerprint": "6:0000-0000-0000-0000"}, records)
    failed(run_cli, "verify", path, says="header's store fingerprint")


# --- files that are not a store ------------------------------------------------------------


def test_a_zero_byte_store_is_not_an_empty_log(run_cli, tmp_path):
    folder = tmp_path / "desk"
    folder.mkdir()
    (folder / "escalate.sqlite3").write_bytes(b"")
    failed(run_cli, "--data-dir", folder, "verify", says="is empty: it holds no log")
    assert (folder / "escalate.sqlite3").read_bytes() == b""  # left as it was


def test_a_foreign_sqlite_file_is_refused_and_left_untouched(run_cli, tmp_path):
    folder = tmp_path / "desk"
    folder.mkdir()
    db = sqlite3.connect(folder / "escalate.sqlite3")
    db.execute("CREATE TABLE pupils (name TEXT)")
    db.commit()
    db.close()
    before = (folder / "escalate.sqlite3").read_bytes()
    for argv in (["verify"], ["list"], ["record", "1", "note", "--summary", "x"]):
        failed(run_cli, "--data-dir", folder, *argv, says="is not an escalate store")
    assert (folder / "escalate.sqlite3").read_bytes() == before


def test_a_damaged_page_the_hashes_cannot_see_fails_verify(store, run_cli):
    db = sqlite3.connect(store)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'disclosures_seq_digest'").fetchone()[0]
    size = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    raw = bytearray(store.read_bytes())
    raw[(root - 1) * size : (root - 1) * size + 8] = b"\x0d" + b"\xff" * 7  # an index page, not an entry
    store.write_bytes(bytes(raw))
    failed(run_cli, "verify", says="SQLite finds it damaged")


# --- the caches lists and screens read -----------------------------------------------------


def edit(store, *statements: str) -> None:
    """SQL run on the store as someone with the file would, dropping the triggers in the way first."""
    db = sqlite3.connect(store)
    for name in ("challenges_no_delete", "state_cache_no_update", "state_cache_no_delete", "glances_no_update"):
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
    for sql in statements:
        db.execute(sql)
    db.commit()
    db.close()


def test_the_caches_refuse_edits_in_place(store, run_cli):
    assert run_cli("list")[0] == 0  # list rows and glances cached
    db = sqlite3.connect(store)
    for sql in (
        'UPDATE state_cache SET state = replace(state, \'"status":"open"\', \'"status":"resolved"\')',
        "DELETE FROM state_cache",
        "UPDATE glances SET glance = glance",
        "DELETE FROM glances",
        "DELETE FROM challenges WHERE id = 'C-0002'",
    ):
        with pytest.raises(sqlite3.IntegrityError):
            db.execute(sql)
    db.close()


def test_a_challenge_hidden_from_the_index_is_caught(store, run_cli):
    edit(store, "DELETE FROM challenges WHERE id = 'C-0002'")
    assert "C-0002" not in run_cli("list")[1]  # what the edit does
    failed(run_cli, "verify", says="challenge C-0002 is missing from the index of challenges")


def test_a_cached_state_changed_to_resolved_is_caught(store, run_cli):
    edit(store, 'UPDATE state_cache SET state = replace(state, \'"status":"open"\', \'"status":"resolved"\')')
    failed(run_cli, "verify", says="its cached folded state is not what its entries say")
    assert run_cli("verify", "--chain-only")[0] == 0  # the entries themselves are whole


@pytest.mark.parametrize("state", ["[]", "not json", '{"late": 3, "backwards": "x"}', '{"late": [], "backwards": 1.5}'])
def test_a_cached_fold_of_another_shape_is_not_read_for_the_warnings(store, run_cli, state):
    """A cache that is not a fold is read by nothing (every reader folds the log again), verify's
    warnings included: they come from the log (here: none), not from what the cache says."""
    edit(store, "UPDATE state_cache SET state = '" + state.replace("'", "''") + "' WHERE challenge = 'C-0001'")
    for argv in (["verify", "--chain-only"], ["verify"]):
        code, out, err = run_cli(*argv)
        assert code == 0 and out.startswith("OK 6 entries") and "warning" not in err, out + err


def test_a_cached_list_row_changed_is_caught(store, run_cli):
    assert run_cli("list")[0] == 0
    edit(store, "UPDATE state_cache SET listing = replace(listing, 'Fictional CSC', 'Another CSC')")
    assert "Another CSC" in run_cli("list")[1]  # what the edit does
    failed(run_cli, "verify", says="its cached list row is not what its entries say")


def test_a_cached_glance_changed_is_caught(store, run_cli):
    assert run_cli("list")[0] == 0
    edit(store, "UPDATE glances SET glance = replace(glance, '\"open\"', '\"resolved\"')")
    failed(run_cli, "verify", says="its cached glance is not what its entries say")


def test_a_deleted_disclosure_row_is_reported(store, run_cli):
    db = sqlite3.connect(store)
    digest = db.execute("SELECT digest FROM disclosures ORDER BY seq DESC LIMIT 1").fetchone()[0]
    db.close()
    edit(store, "DROP TRIGGER disclosures_no_delete", f"DELETE FROM disclosures WHERE digest = '{digest}'")
    failed(run_cli, "verify", says="disclosure is missing from the store")


def test_the_tamper_table_names_tests_that_exist():
    """docs/tamper-table.md says which test tries each kind of tampering: each one named is there."""
    import re

    from helpers import ROOT

    table = (ROOT / "docs" / "tamper-table.md").read_text(encoding="utf-8")
    named = re.findall(r"`((?:core|cli)/test_\w+\.py)::(test_\w+)`", table)
    named += [(path, name) for path, name in re.findall(r"`((?:core|cli)/test_\w+\.py)::\w+`, `::(test_\w+)`", table)]
    assert len(named) >= 25
    for path, name in named:
        source = (ROOT / "tests" / path).read_text(encoding="utf-8")
        assert re.search(rf"^(async )?def {name}\(", source, re.M), f"{path}::{name}"


def test_a_changed_cache_is_caught_when_two_processes_check_the_caches(store, run_cli, monkeypatch):
    """A big store's caches are checked in two halves, the second by a worker process: a change in
    either half is caught (here the second half's last challenge, then the first half's)."""
    from escalate import journal

    monkeypatch.setattr(journal, "CACHES_BESIDE", 1)
    code, out, err = run_cli("verify")
    assert code == 0, out + err
    for challenge in ("C-0003", "C-0001"):
        edit(
            store,
            'UPDATE state_cache SET state = replace(state, \'"status":"open"\', \'"status":"resolved"\') '
            f"WHERE challenge = '{challenge}'",
        )
        failed(run_cli, "verify", says=f"challenge {challenge}: its cached folded state is not what its entries say")
        edit(store, f"DELETE FROM state_cache WHERE challenge = '{challenge}'")  # worked out again when read
        assert run_cli("verify")[0] == 0
