"""Human-readable exports: CSV parses back, redaction leaves no personal string in any format,
every export is recorded in the log, and HTML is self-contained."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess

import pytest
from helpers import stored_json
from logtools import SETTINGS, open_fictional

from escalate import journal, verify
from escalate import settings as settings_mod

SECRETS = ("Child Q (fictional)", "Sam Fictional", "Alex Example", "Robin Madeup")


@pytest.fixture
def store_home(isolated_home, backend):
    settings_mod.save(SETTINGS)
    with journal.open_store() as s:
        open_fictional(s, decision_by={"name": "Robin Madeup", "role": "Team manager"})
        journal.record(
            s,
            SETTINGS,
            "C-0001",
            "contact",
            {
                "direction": "made",
                "medium": "phone",
                "with": {"name": "Sam Fictional", "role": "Social worker"},
                "summary": "Raised the disagreement\nand asked for reasons in writing",
            },
            "2026-11-16T10:00",
        )
        journal.record(
            s,
            SETTINGS,
            "C-0001",
            "response",
            {"decision": "Still NFA", "with": {"name": "Sam Fictional"}},
            "2026-11-17T10:00",
        )
        journal.amend(s, SETTINGS, "C-0001", 2, "with.name", "Sam Fictional", "spelling check")
    return isolated_home


def test_csv_parses_back_to_the_same_entries(store_home, tmp_path, run_cli):
    out = tmp_path / "log.csv"
    code, _, err = run_cli("export", "1", "--format", "csv", "-o", out)
    assert code == 0, err
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    with journal.open_store() as s:
        stored = [e for e in s.entries("C-0001") if e.kind != "exported"]
    assert [(int(r["seq"]), r["kind"], r["hash"]) for r in rows] == [(e.seq, e.kind, e.hash) for e in stored]
    assert "\n" in rows[1]["text"]  # a line break inside a field survives quoting
    assert rows[0]["occurred_at"].endswith("Z")


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "md", "html"])
def test_redacted_exports_contain_no_personal_strings(store_home, tmp_path, run_cli, fmt):
    out = tmp_path / f"log.{fmt}"
    code, _, err = run_cli("export", "1", "--format", fmt, "--redact", "-o", out)
    assert code == 0, err
    data = out.read_bytes()
    for secret in SECRETS:
        assert secret.encode() not in data, (fmt, secret)
    if fmt != "jsonl":
        text = data.decode("utf-8-sig")
        assert "Child A" in text and "Social worker 1" in text  # stable pseudonyms, with roles


@pytest.mark.parametrize("fmt", ["csv", "md", "html"])
def test_unredacted_exports_show_names_and_are_recorded(store_home, tmp_path, run_cli, fmt):
    out = tmp_path / f"log.{fmt}"
    assert run_cli("export", "1", "--format", fmt, "-o", out)[0] == 0
    assert b"Sam Fictional" in out.read_bytes()
    with journal.open_store() as s:
        last = s.entries("C-0001")[-1]
    data = stored_json(last)["data"]
    import hashlib

    assert last.kind == "exported" and data["format"] == fmt
    assert data["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()


def test_html_is_self_contained(store_home, tmp_path, run_cli):
    out = tmp_path / "log.html"
    assert run_cli("export", "--all", "--format", "html", "-o", out)[0] == 0
    text = out.read_text()
    # one script element: the carried log, of a type no browser runs (escalate.carried)
    assert re.findall(r"<script[^>]*>", text) == ['<script type="application/x-ndjson" id="escalate-log">']
    # nothing loaded from elsewhere (the log's procedure text, never read by the browser, names its source)
    text = re.sub(r"<script[^>]*>[^<]*</script>", "", text)
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in text
    assert "<svg" in text and "Store head fingerprint" in text


def test_html_renders_in_a_real_browser(store_home, tmp_path, run_cli):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no Chromium installed (apt-get install -y chromium); the HTML render check needs a browser")
    out = tmp_path / "log.html"
    assert run_cli("export", "1", "--format", "html", "-o", out)[0] == 0
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1000,1400",
            out.as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert shot.exists() and shot.stat().st_size > 10_000  # a blank page compresses to far less
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_format_is_refused(store_home, tmp_path, run_cli):
    with pytest.raises(SystemExit) as info:
        run_cli("export", "1", "--format", "docx", "-o", tmp_path / "x.docx")
    assert info.value.code == 2
    assert not (tmp_path / "x.docx").exists()


@pytest.mark.parametrize("fmt", ["md", "html", "pdf"])
def test_dispute_pack(store_home, tmp_path, run_cli, fmt):
    out = tmp_path / f"pack.{fmt}"
    code, _, err = run_cli("pack", "1", "--format", fmt, "-o", out)
    assert code == 0, err
    with journal.open_store() as s:
        last = s.entries("C-0001")[-1]
    assert last.kind == "exported" and stored_json(last)["data"]["scope"] == "dispute pack"
    if fmt == "pdf":
        assert out.read_bytes().startswith(b"%PDF")
        if shutil.which("pdftotext") is None:
            pytest.skip("pdftotext is not installed (apt-get install -y poppler-utils)")
        text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True).stdout
    else:
        text = out.read_text()
    for words in (
        "The concern and the evidence",
        "Timescales of the procedure",
        "Still NFA",
        "Outcome sought",
        "Sam Fictional",
        "Record: ",
    ):  # (what the procedure asks to be recorded at this stage)
        assert words in text, words


def test_the_pack_says_which_timescale_was_extended(store_home, tmp_path, run_cli):
    """The meeting reads the date agreed, and that it was agreed, not the procedure's own."""
    assert (
        run_cli(
            "record",
            "1",
            "deadline-extended",
            "--deadline",
            "resolve",
            "--new-due",
            "2026-12-04T17:00",
            "--reason",
            "Agreed by phone",
            "--at",
            "2026-11-17T11:00",
        )[0]
        == 0
    )
    out = tmp_path / "pack.md"
    assert run_cli("pack", "1", "--format", "md", "-o", out)[0] == 0
    line = next(x for x in out.read_text().splitlines() if "Resolve, or agree" in x)
    assert "due Fri 04 Dec 2026 17:00 +00:00, extended)" in line
    assert not any("extended)" in x for x in out.read_text().splitlines() if "acknowledges" in x)


def test_pack_refuses_to_overwrite(store_home, tmp_path, run_cli):
    out = tmp_path / "pack.html"
    out.write_text("keep")
    code, _, err = run_cli("pack", "1", "-o", out)
    assert code == 2 and "already exists" in err and out.read_text() == "keep"


def test_pdf_export_has_fingerprint_and_chronology(store_home, tmp_path, run_cli):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (apt-get install -y poppler-utils)")
    out = tmp_path / "log.pdf"
    code, out_text, err = run_cli("export", "1", "--format", "pdf", "-o", out)
    assert code == 0, err
    code, verify_out, _ = run_cli("verify")
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    flat = " ".join(text.split())
    assert "Store head fingerprint" in flat and "Page 1 of" in flat
    assert "Raised the disagreement" in flat and "Response from Sam Fictional: Still NFA" in flat


def test_jsonl_lines_are_canonical(store_home, tmp_path, run_cli):
    """The export's entry lines are built by hand for speed: they must equal the canonical form."""
    from escalate.entry import canonical

    out = tmp_path / "log.jsonl"
    assert run_cli("export", "1", "-o", out)[0] == 0
    for line in out.read_bytes().splitlines()[1:]:
        assert canonical(json.loads(line)) == line


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # (SQLite's own JSON functions)
@pytest.mark.parametrize("redact", [False, True])
@pytest.mark.parametrize("selection", [["C-0001"], ["C-0001", "C-0002"], "all"])
def test_lines_built_by_sqlite_equal_lines_built_in_python(store_home, tmp_path, monkeypatch, redact, selection):
    """Export lines are built by SQLite's JSON functions when its output matches the json module's;
    the Python path is the fallback: both must give the same bytes, for a selection and for all.
    Each opening names four people, so the disclosures' order (by digest) is tested too."""
    from escalate import export as export_mod

    with journal.open_store() as s:
        open_fictional(s, case_ref='Child "Z" \\ (fictional)\tü 中', concern="Line one\nline two \x07 bell")
        for n in range(6):
            open_fictional(
                s,
                case_ref=f"Child {n} (fictional)",
                subject_name=f"Pat Notreal {n}",
                decision_by={"name": f"Lee Madeup {n}", "role": "Team manager"},
            )
        if selection == "all":
            selection = s.challenge_ids()
        assert export_mod.sqlite_json_matches(s)  # this machine's SQLite; CI's is checked the same way
        outputs = []
        for sql in (True, False):
            monkeypatch.setattr(export_mod, "sqlite_json_matches", lambda store, sql=sql: sql)
            out = tmp_path / f"{sql}.jsonl"
            export_mod.export(s, SETTINGS, None, selection, out, redact=redact)
            outputs.append(out.read_bytes().split(b"\n", 1)[1])  # the header holds the time of export
            assert verify.verify_file(out).ok
    # the Python export ran second, so it also holds the `exported` entries of the first
    first, second = outputs
    assert second.startswith(first) and len(second.splitlines()) == len(first.splitlines()) + len(selection)


def test_export_reports_progress_to_the_end(store_home, tmp_path):
    from escalate.catalogue import discover
    from escalate.export import export

    seen = []
    with journal.open_store() as s:
        export(s, SETTINGS, discover(), ["C-0001"], tmp_path / "p.jsonl", progress=lambda d, t: seen.append((d, t)))
    # jsonl is written as the header, then chunks of LINES_PER_CHUNK entries: here header + one chunk
    assert seen and seen[-1][0] == seen[-1][1] == 2


def test_large_export_reports_progress_in_steps(store_home, tmp_path, monkeypatch):
    from escalate import export as export_mod
    from escalate import export_lines

    monkeypatch.setattr(export_mod, "LINES_PER_CHUNK", 1)  # a selection's lines
    monkeypatch.setattr(export_lines, "SIZE", 1)  # the whole log's (here the one challenge is all of it)
    seen = []
    with journal.open_store() as s:
        export_mod.export(
            s, SETTINGS, None, ["C-0001"], tmp_path / "p.jsonl", progress=lambda d, t: seen.append((d, t))
        )
    assert seen[-1] == (5, 5)  # header + 4 entries, one per chunk
    assert verify.verify_file(tmp_path / "p.jsonl").ok  # chunking never changes the bytes that verify


@pytest.mark.parametrize("argv", [["export", "1", "--format", "html"], ["pack", "1", "--format", "md"]])
def test_export_that_cannot_be_recorded_leaves_no_file(store_home, tmp_path, run_cli, monkeypatch, argv):
    """If the log cannot record the export (e.g. a locked store), the file is removed: nothing leaves unrecorded."""
    from escalate.errors import StoreError
    from escalate.store import Store as StoreClass

    def locked(self, *a, **k):
        raise StoreError("the store is locked by another program")

    from escalate.pgstore import PgStore

    monkeypatch.setattr(StoreClass, "append_many", locked)
    monkeypatch.setattr(PgStore, "append_many", locked)  # (the team store appends its own way)
    out = tmp_path / "out.file"
    code, _, err = run_cli(*argv, "-o", out)
    assert code == 3 and "locked" in err
    assert not out.exists()
    assert not list(tmp_path.glob(".out.file*"))  # no temporary file left either


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        'quote " and \\ backslash',
        "line\nbreak",
        "tab\there",
        "bell\x07",
        "é ü 中文 \u2028 emoji 🙂",
        "\x7f del",
        "",
    ],
)
def test_json_string_matches_the_json_module(text):
    """The export's fast JSON string writer must give exactly json.dumps's bytes for any text."""
    from escalate.export import _json_strings

    texts = [text, "plain", text + "\x00 nul", "after"]  # a NUL, or any control character, takes the slow path
    assert _json_strings([t.encode("utf-8") for t in texts]) == [
        json.dumps(t, ensure_ascii=False).encode("utf-8") for t in texts
    ]
    assert _json_strings([text.encode("utf-8")]) == [json.dumps(text, ensure_ascii=False).encode("utf-8")]


def test_json_string_matches_the_json_module_for_any_text():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from escalate.export import _json_strings

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.text(), min_size=1, max_size=5))
    def check(texts):
        assert _json_strings([t.encode("utf-8") for t in texts]) == [
            json.dumps(t, ensure_ascii=False).encode("utf-8") for t in texts
        ]

    check()


@pytest.mark.parametrize("failure", ["while writing", "while recording"])
def test_a_failed_write_leaves_no_file_not_even_a_temporary_one(tmp_path, failure):
    from escalate.export import write_atomic

    def chunks():
        yield b"first part\n"
        if failure == "while writing":
            raise RuntimeError("the store went away")
        yield b"second part\n"

    def record(sha):
        if failure == "while recording":
            raise RuntimeError("the log refused the entry")

    with pytest.raises(RuntimeError):
        write_atomic(tmp_path / "out.jsonl", chunks(), record)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("when", ["as the log records it", "as it is renamed into place"])
def test_a_ctrl_c_once_an_export_is_being_recorded_is_too_late_to_stop_it(tmp_path, monkeypatch, when):
    """A ^C that lands after the log has recorded the export but before the file had its name left
    a record of a file that was then removed. From the recording on, the export completes."""
    import os
    import signal

    from escalate import export as export_mod

    recorded = []

    def record(sha):
        if when.startswith("as the log"):
            os.kill(os.getpid(), signal.SIGINT)
        recorded.append(sha)

    real_replace = os.replace

    def replace(src, dst):
        if when.startswith("as it is"):
            os.kill(os.getpid(), signal.SIGINT)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    target = tmp_path / "x.jsonl"
    export_mod.write_atomic(target, iter([b"a line\n"]), record)
    assert target.read_bytes() == b"a line\n" and len(recorded) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.jsonl"]
    # and a ^C while the file is written still stops it, with nothing recorded and no file
    with pytest.raises(KeyboardInterrupt):
        export_mod.write_atomic(
            tmp_path / "y.jsonl", (os.kill(os.getpid(), signal.SIGINT) or b"x" for _ in "ab"), record
        )
    assert len(recorded) == 1 and sorted(p.name for p in tmp_path.iterdir()) == ["x.jsonl"]


def test_a_request_to_stop_cleans_up_while_writing_and_waits_for_the_rename_while_recording(tmp_path):
    """SIGTERM (a shutdown, say) while the file is written stops the export as an error would: no
    temporary file left (it holds personal data) and nothing recorded. While the log records the
    export, it waits until the file has its name. Either way the command then stops (exit 143)."""
    import os
    import signal

    from escalate.export import write_atomic

    recorded = []
    handler = signal.getsignal(signal.SIGTERM)

    def chunks():
        yield b"a line\n"
        os.kill(os.getpid(), signal.SIGTERM)
        yield b"another\n"

    with pytest.raises(SystemExit) as stopped:
        write_atomic(tmp_path / "early.jsonl", chunks(), recorded.append)
    assert stopped.value.code == 143 and list(tmp_path.iterdir()) == [] and recorded == []

    def record(sha):
        os.kill(os.getpid(), signal.SIGTERM)
        recorded.append(sha)

    with pytest.raises(SystemExit) as stopped:
        write_atomic(tmp_path / "late.jsonl", iter([b"a line\n"]), record)
    assert stopped.value.code == 143 and len(recorded) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["late.jsonl"]
    assert signal.getsignal(signal.SIGTERM) == handler  # put back as it was


@pytest.mark.parametrize("failing", ["every fsync", "the fsync after the last byte"])
def test_a_file_synced_as_it_grows_is_whole_or_absent(tmp_path, monkeypatch, failing):
    """A big export is fsynced as it is written (the disk works while the next lines are built).
    Should those fsyncs fail, from the first or only the last, the export fails as a whole: no
    file, and nothing recorded."""
    import os

    from escalate import atomic
    from escalate import export as export_mod
    from escalate.errors import ExportError

    monkeypatch.setattr(atomic, "SYNC_EVERY", 10)
    parts = [b"%d: twelve bytes\n" % i for i in range(20)]
    recorded = []
    target = tmp_path / "synced.jsonl"
    export_mod.write_atomic(target, iter(parts), recorded.append)
    assert target.read_bytes() == b"".join(parts) and len(recorded) == 1

    written = []

    def chunks():
        yield from parts
        written.append(True)

    real = os.fsync

    def fsync(fd):
        if failing == "every fsync" or written:
            raise OSError(5, "Input/output error")
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(ExportError, match="Input/output error"):
        export_mod.write_atomic(tmp_path / "failed.jsonl", chunks(), recorded.append)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["synced.jsonl"]
    assert len(recorded) == 1  # every byte is on disk before the export is recorded: never recorded


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # (SQLite's own JSON functions)
def test_an_export_stops_at_the_head_it_announces(store_home, tmp_path, monkeypatch):
    """Entries appended while an export runs (the app open beside the CLI) are not in the file, which
    still verifies: its header's entry count and fingerprint describe exactly what it holds."""
    from escalate import export as export_mod

    with journal.open_store() as s:
        real_count = s.entry_count

        def count_then_append(challenges=None, upto=None):
            n = real_count(challenges, upto)
            journal.record(s, SETTINGS, "C-0001", "note", {"summary": "written while exporting"})
            return n

        monkeypatch.setattr(s, "entry_count", count_then_append)
        for sql in (True, False):
            monkeypatch.setattr(export_mod, "sqlite_json_matches", lambda store, sql=sql: sql)
            out = tmp_path / f"during-{sql}.jsonl"
            export_mod.export(s, SETTINGS, None, ["C-0001"], out)
            report = verify.verify_file(out)
            assert report.ok, report.problem
            header = json.loads(out.read_bytes().split(b"\n", 1)[0])
            assert report.count == header["entries"]
            assert all(
                json.loads(line)["seq"] <= int(header["store_fingerprint"].split(":")[0])
                for line in out.read_bytes().splitlines()[1:]
            )


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # (edits the file itself)
def test_what_leaves_the_system_is_derived_from_the_entries_not_the_cache(store_home, tmp_path, run_cli):
    """A cache edited behind escalate's back (here: a challenge marked resolved, its trigger dropped)
    must not reach an export or a dispute pack, even before verify is run to find it."""
    import sqlite3

    path = store_home / "escalate.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER IF EXISTS state_cache_no_update")
    state = json.loads(conn.execute("SELECT state FROM state_cache WHERE challenge = 'C-0001'").fetchone()[0])
    state.update(status="resolved", outcome="resolved")
    conn.execute("UPDATE state_cache SET state = ? WHERE challenge = 'C-0001'", (json.dumps(state),))
    conn.commit()
    conn.close()
    assert run_cli("export", "1", "--format", "md", "-o", tmp_path / "c.md")[0] == 0
    assert run_cli("pack", "1", "--format", "md", "-o", tmp_path / "p.md")[0] == 0
    for name in ("c.md", "p.md"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert "status: open" in text.lower() and "status: resolved" not in text.lower(), name


def test_export_schema_is_printed_and_every_line_of_real_exports_matches_it(store_home, tmp_path, run_cli):
    import jsonschema

    code, out, err = run_cli("export", "--schema")
    assert code == 0, err
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for argv in (["--all"], ["--all", "--redact"], ["1"], ["--all", "--open", "--since", "2026-11-01"]):
        out_file = tmp_path / f"{len(argv)}-{'-'.join(a.strip('-') for a in argv)}.jsonl"
        assert run_cli("export", *argv, "-o", out_file)[0] == 0
        lines = out_file.read_bytes().splitlines()
        for line in lines:
            errors = list(validator.iter_errors(json.loads(line)))
            assert not errors, (argv, errors[0].message)
    # and it tells a broken line from a good one
    bad = json.loads(lines[1])
    bad["hash"] = "not a hash"
    assert list(validator.iter_errors(bad))


def test_export_needs_an_output_unless_printing_the_schema(store_home, run_cli):
    code, _, err = run_cli("export", "--all")
    assert code == 2 and "no output file" in err


@pytest.mark.parametrize(
    "argv, words",
    [
        (["1", "--since", "2026-11-01"], "narrow --all"),
        (["--all", "--open", "--resolved"], "not both"),
        (["--all", "--since", "last tuesday"], "not a date or time"),
    ],
)
def test_export_filters_that_make_no_sense_are_refused(store_home, run_cli, tmp_path, argv, words):
    code, _, err = run_cli("export", *argv, "-o", tmp_path / "x.jsonl")
    assert code == 2 and words in err
    assert not (tmp_path / "x.jsonl").exists()


def test_export_since_keeps_whole_challenges_active_on_or_after_the_date(store_home, run_cli, tmp_path):
    with journal.open_store() as s:
        open_fictional(s, at="2026-10-01T09:00", case_ref="Child Old (fictional)")  # C-0002, quiet since
    out = tmp_path / "since.jsonl"
    assert run_cli("export", "--all", "--since", "2026-11-01", "-o", out)[0] == 0
    header = json.loads(out.read_bytes().splitlines()[0])
    assert header["challenges"] == ["C-0001"] and header["scope"] == "since 2026-11-01"
    assert run_cli("verify", out)[0] == 0
    lines = [json.loads(x) for x in out.read_bytes().splitlines()[1:]]
    lines = [x for x in lines if "body" in x]  # (the others' entries stand as link lines)
    assert [x["cseq"] for x in lines] == list(range(1, len(lines) + 1))  # from its opening entry


@pytest.mark.parametrize(
    "filters, scope",
    [(["--open"], "open"), (["--resolved"], None), (["--open", "--since", "2026-11-01"], "open+since 2026-11-01")],
)
def test_export_scope_names_the_filters(store_home, run_cli, tmp_path, filters, scope):
    out = tmp_path / "f.jsonl"
    code, _, err = run_cli("export", "--all", *filters, "-o", out)
    if scope is None:  # nothing resolved in this store
        assert code == 2 and "nothing to export" in err and not out.exists()
    else:
        assert code == 0, err
        assert json.loads(out.read_bytes().splitlines()[0])["scope"] == scope


WITHHELD_TEXT = "Bruising seen twice in a week"  # the fictional concern of open_fictional


@pytest.mark.parametrize("fmt", ["csv", "md", "html", "pdf"])
def test_chosen_free_text_fields_are_withheld_from_exports_for_people(store_home, run_cli, tmp_path, fmt):
    with journal.open_store() as s:
        journal.amend(
            s, SETTINGS, "C-0001", 2, "summary", "Raised the disagreement and asked for reasons", "clearer wording"
        )
    out = tmp_path / f"w.{fmt}"
    code, _, err = run_cli("export", "1", "--format", fmt, "--withhold", "concern", "--withhold", "summary", "-o", out)
    assert code == 0, err
    data = out.read_bytes()
    if fmt == "pdf":
        import shutil
        import subprocess

        if shutil.which("pdftotext") is None:
            pytest.skip("pdftotext is not installed (apt-get install -y poppler-utils)")
        data = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, check=True).stdout
    text = data.decode("utf-8", "replace")
    for secret in (WITHHELD_TEXT, "Raised the disagreement", "asked for reasons"):
        assert secret not in text, secret
    assert "(withheld)" in text
    assert "Northtown CSC" in text  # what was not chosen is still there


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--withhold", "concern"], "cannot withhold free-text fields and still verify"),
        (["--format", "csv", "--withhold", "agency"], "not a free-text field"),
    ],
)
def test_withholding_refused_where_it_cannot_work(store_home, run_cli, tmp_path, argv, words):
    code, _, err = run_cli("export", "1", *argv, "-o", tmp_path / "x.out")
    assert code == 2 and words in err
    assert not (tmp_path / "x.out").exists()


@pytest.mark.parametrize(
    "argv, wrong, fmt",
    [
        (["export", "1", "--format", "pdf"], "report.html", "pdf"),
        (["export", "--all", "--format", "jsonl"], "log.csv", "jsonl"),
        (["pack", "1", "--format", "md"], "pack.pdf", "md"),
        (["audit", "--store", "--html"], "audit.pdf", "html"),
    ],
)
def test_a_file_named_for_another_format_is_refused(store_home, tmp_path, run_cli, argv, wrong, fmt):
    """A PDF saved as report.html opens as garbage on the auditor's machine: a file name whose extension
    is one of escalate's formats must be that format. Nothing is written and nothing recorded."""
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / wrong
    with journal.open_store() as s:
        before = s.count()
    code, _, err = run_cli(*argv, *([] if argv[0] == "audit" else ["-o"]), target)
    assert code == 2, err
    assert f"ends .{wrong.rsplit('.', 1)[1]} but the format is {fmt}" in " ".join(err.split())
    assert list(folder.iterdir()) == []
    with journal.open_store() as s:
        assert s.count() == before
    # an extension escalate does not write is the user's choice
    code, _, err = run_cli(*argv, *([] if argv[0] == "audit" else ["-o"]), folder / "for-the-auditor.txt")
    assert code == 0, err


def test_a_stage_title_cut_in_the_ladder_says_so_and_is_whole_in_its_tooltip(isolated_home, backend, run_cli, tmp_path):
    """The ladder picture has room for 70 characters of a stage's title: a longer one used to stop
    mid-word with nothing to show it was cut."""
    import html as html_mod

    from escalate.report import _shorten

    settings_mod.save(SETTINGS)
    with journal.open_store() as s:
        open_fictional(s, procedure="london-children")
    out = tmp_path / "ladder.html"
    assert run_cli("export", "1", "--format", "html", "-o", out)[0] == 0
    text = html_mod.unescape(out.read_text(encoding="utf-8"))
    full = "Stage 3: Not captured (paragraph 1.7: 'If agreement cannot be reached...')"  # the stored source stops
    assert len(full) > 70 and f"<title>{full}</title>{full[:69].rstrip()}\u2026" in text
    assert _shorten("short", 70) == "short" and _shorten("x" * 80, 10) == "x" * 9 + "\u2026"


def test_the_pack_says_who_made_the_decision_and_their_reference_for_it(isolated_home, backend, run_cli, tmp_path):
    """The other agency's reference for the decision challenged could not be recorded (the log had a
    field for it; neither face set it), and the pack left out who made the decision."""
    settings_mod.save(SETTINGS)
    code, out, err = run_cli(
        "open",
        "--procedure",
        "london-children",
        "--trigger",
        "disputed-referral",
        "--case-ref",
        "Child Q (fictional)",
        "--agency",
        "Northtown CSC",
        "--decision",
        "Referral closed",
        "--decision-by",
        "Robin Madeup, Team manager, Northtown CSC",
        "--decision-ref",
        "REF-0042",
        "--decision-at",
        "2026-11-13T15:00",
        "--subject-name",
        "Quinn Fictional",
        "--concern",
        "Bruising seen twice",
        "--at",
        "2026-11-16T09:00",
    )
    assert code == 0, err
    with journal.open_store() as s:
        data = stored_json(s.entries("C-0001")[0])["data"]
        assert data["decision_ref"] == "REF-0042"
        assert set(data["subject_name"]) == {"_sd"}  # the name is a personal field: held as a digest
    redacted = tmp_path / "redacted.md"
    assert run_cli("export", "1", "--format", "md", "--redact", "-o", redacted)[0] == 0
    assert "Quinn Fictional" not in redacted.read_text(encoding="utf-8")
    out = tmp_path / "pack.md"
    assert run_cli("pack", "1", "--format", "md", "-o", out)[0] == 0
    assert (
        "Decision challenged: Referral closed (made by Robin Madeup, Team manager, Northtown CSC; their "
        "reference REF-0042; received Fri 13 Nov 2026 15:00 +00:00)"
    ) in out.read_text(encoding="utf-8")
    challenger = ", ".join(v for v in (SETTINGS.name, SETTINGS.role, SETTINGS.setting) if v)
    assert f"Raised by: {challenger}" in out.read_text(encoding="utf-8")  # who is challenging, for the meeting


@pytest.mark.parametrize("worker", ["answers", "gives no answer"])
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # (edits the file itself)
def test_a_csv_written_by_two_processes_is_the_csv_one_process_writes(store_home, tmp_path, monkeypatch, worker):
    """A big CSV export (not redacted) has its later challenges read by escalate.parallel's worker; the
    file must be byte for byte the one a single process writes, whether the worker answers or not
    (then this process reads its challenges too), and record the same number of entries."""
    from escalate import export as export_mod
    from escalate import parallel

    with journal.open_store() as s:
        for n in range(4):  # five challenges in all, with personal fields and a correction in the first
            c = open_fictional(s, case_ref=f"Child {n} (fictional)").challenge
            contact = {"direction": "made", "medium": "email", "summary": f'Wrote, "quoted"\n{n}'}
            journal.record(s, SETTINGS, c, "contact", contact, "2026-11-16T10:00")
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    kept = {f.name: f.read_bytes() for f in store_home.glob("escalate.sqlite3*")}  # (an export is recorded)
    monkeypatch.setattr(export_mod, "SPLIT_FROM", 10**9)
    assert run_cli_export(one) == 0
    for f in store_home.glob("escalate.sqlite3*"):
        f.unlink()
    for name, data in kept.items():
        (store_home / name).write_bytes(data)
    monkeypatch.setattr(export_mod, "SPLIT_FROM", 1)
    if worker == "gives no answer":
        monkeypatch.setattr(parallel.Worker, "result", lambda self: None)
    started = []
    real = parallel.beside
    monkeypatch.setattr(parallel, "beside", lambda work, *args: started.append(args[1]) or real(work, *args))
    assert run_cli_export(two) == 0
    assert started == [["C-0003", "C-0004", "C-0005"]]  # 9 of each 20, the later ones
    assert two.read_bytes() == one.read_bytes()
    with journal.open_store() as s:
        recorded = [stored_json(e)["data"] for e in s.entries(kind="exported")]
    assert [r["entries"] for r in recorded] == [12] * 5  # both exports covered 12 entries; one is kept
    assert recorded[0]["sha256"] == __import__("hashlib").sha256(two.read_bytes()).hexdigest()


def run_cli_export(out):
    from escalate.cli import main

    return main(["export", "--all", "--format", "csv", "-o", str(out)])


def test_a_redacted_csv_is_written_by_one_process(store_home, tmp_path, monkeypatch):
    """Pseudonyms are numbered across the whole file ("Child A", "Social worker 1"): two processes
    would number their parts separately, so a redacted export never uses the worker."""
    from escalate import export as export_mod
    from escalate import parallel
    from escalate.cli import main

    monkeypatch.setattr(export_mod, "SPLIT_FROM", 1)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    with journal.open_store() as s:
        open_fictional(s, case_ref="Child R (fictional)")
    monkeypatch.setattr(parallel, "beside", lambda *a: pytest.fail("a redacted export started a worker"))
    assert main(["export", "--all", "--format", "csv", "--redact", "-o", str(tmp_path / "r.csv")]) == 0
    text = (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    assert "Child A" in text and "Child B" in text and "Child R" not in text
