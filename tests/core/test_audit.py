"""The auditor's summary: inputs verified first, failures left out and reported, figures right.
Each test runs on both stores: the embedded SQLite file and a team store on PostgreSQL."""

from __future__ import annotations

import json

import pytest
from logtools import SETTINGS, open_fictional

from escalate import audit_file, entry, journal
from escalate import settings as settings_mod
from escalate.journal import store_at


@pytest.fixture(autouse=True, params=["one process", "two processes"])
def reader(request, monkeypatch):
    """Every audit here runs both ways: files read by one process, and by two (:mod:`escalate.audit_file`,
    which a file needs 20,000 entries to use otherwise)."""
    if request.param == "two processes":
        monkeypatch.setattr(audit_file, "SMALL", 1)
    return request.param


def build(location):
    """Two challenges in the store at ``location`` (the backend fixture's: a file, or a team store)."""
    settings_mod.save(SETTINGS)
    with store_at(location) as s:
        open_fictional(s, at="2026-11-02T09:00")  # Mon 2 Nov
        journal.record(
            s,
            SETTINGS,
            "C-0001",
            "contact",
            {"direction": "made", "medium": "phone", "summary": "x"},
            "2026-11-02T10:00",
        )
        journal.step_up(s, SETTINGS, "C-0001", "no reply", "2026-11-05T10:00")
        journal.record(
            s, SETTINGS, "C-0001", "resolved", {"outcome": "resolved", "rationale": "plan agreed"}, "2026-11-09T10:00"
        )  # Mon 9 Nov: 5 working days
        open_fictional(
            s,
            procedure="london-children",
            at="2026-10-05T09:00",
            agency="Southby MASH",
            triggers=["no-information-sharing", "non-cooperation"],
        )


def test_store_audit_figures(backend, run_cli):
    build(backend)
    code, out, err = run_cli("audit", "--store", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["challenges"] == 2
    assert data["by_trigger"] == {"disputed-referral": 1, "no-information-sharing": 1, "non-cooperation": 1}
    assert data["by_agency"] == {"Northtown CSC": 1, "Southby MASH": 1}
    assert data["outcomes"] == {"resolved": 1, "open": 1}
    assert data["working_days_to_resolution"] == {"resolved": 1, "median": 5, "p90": 5}
    assert data["highest_stage"] == {"Stage 1": 1, "Step 2": 1}
    assert len(data["open_past_deadline"]) == 1 and data["open_past_deadline"][0].endswith("C-0002")
    assert data["late_entries"] == 5  # every entry here was recorded days after it happened


def test_failed_inputs_are_reported_and_left_out(backend, run_cli, tmp_path):
    build(backend)
    good = tmp_path / "good.jsonl"
    assert run_cli("export", "--all", "-o", good)[0] == 0
    lines = good.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b"no reply", b"no replx")
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_bytes(b"\n".join(lines))
    truncated = tmp_path / "truncated.jsonl"
    truncated.write_bytes(b"\n".join(good.read_bytes().split(b"\n")[:3]) + b"\n")
    other = tmp_path / "notes.txt"
    other.write_text("not an export")
    code, out, err = run_cli("audit", good, tampered, truncated, other, "--json")
    assert code == 1
    data = json.loads(out)
    verdicts = {i["label"].rsplit("/", 1)[-1]: i["ok"] for i in data["inputs"]}
    assert verdicts == {"good.jsonl": True, "tampered.jsonl": False, "truncated.jsonl": False, "notes.txt": False}
    assert data["challenges"] == 2  # only the good file counted


def test_audit_needs_something(run_cli):
    code, _, err = run_cli("audit")
    assert code == 2 and "nothing to audit" in err


def test_audit_html_report_with_charts(backend, run_cli, tmp_path):
    build(backend)
    out = tmp_path / "audit.html"
    code, _, err = run_cli("audit", "--store", "--html", out)
    assert code == 0, err
    text = out.read_text()
    assert text.count("<svg") >= 6 and "<script" not in text
    assert "no-information-sharing" in text and "Northtown CSC" in text
    code, _, err = run_cli("audit", "--store", "--html", out)
    assert code == 2 and "already exists" in err


def test_a_challenge_in_two_files_is_counted_once(backend, run_cli, tmp_path):
    """Two exports of the same store overlap: the figures count each challenge once and say so."""
    build(backend)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    assert run_cli("export", "C-0001", "-o", first)[0] == 0
    assert run_cli("export", "--all", "-o", second)[0] == 0
    code, out, err = run_cli("audit", first, second, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["challenges"] == 2 and data["duplicates"] == 1
    assert data["outcomes"] == {"resolved": 1, "open": 1}
    assert [i["challenges"] for i in data["inputs"]] == [1, 2]
    # said as copies, not as challenges ("1 found in more than one file" read as a third challenge)
    code, out, err = run_cli("audit", first, second)
    assert code == 0 and "1 more copy in other files, each challenge counted once" in " ".join(out.split()), out
    report = tmp_path / "audit.html"
    assert run_cli("audit", first, second, "--html", report)[0] == 0
    assert "1 more copy in other files, each challenge counted once." in report.read_text()


def test_audit_charts_name_each_partnership_and_procedure_whole(backend, run_cli, tmp_path):
    """The chart by partnership and procedure cut its labels at 40 characters, which hid the
    procedure's id: labels are shown whole up to 72 characters; a longer one keeps its closing
    "(procedure id)" and is whole in a tooltip."""
    from escalate.report import LABEL_CHARS, bar_chart

    build(backend)
    out = tmp_path / "audit.html"
    assert run_cli("audit", "--store", "--html", out)[0] == 0
    code, data, _ = run_cli("audit", "--store", "--json")
    names = list(json.loads(data)["by_procedure"])
    text = out.read_text()
    for name in names:
        assert f"<title>{name}</title>" in text, name
        shown = text.split(f"<title>{name}</title>", 1)[1].split("</text>", 1)[0]
        assert len(shown) <= LABEL_CHARS and shown.endswith(name[name.rfind(" (") :]), shown
        assert shown == name or "\u2026" in shown
    assert any(len(name) > LABEL_CHARS for name in names)
    plain = "A label with no procedure id that runs on and on and on and on past the width"
    chart = bar_chart("By agency challenged", {plain: 3})
    assert f">{plain[: LABEL_CHARS - 1]}\u2026</text>" in chart


def _made_up(good, tmp_path, name, change):
    """A file that verifies (its hashes are recomputed) but whose first challenge's opening entry was
    made up by ``change`` (content text -> content text): the chain is intact, the content is not ours."""

    header, *records = [json.loads(line) for line in good.read_text().splitlines()]
    records = [r for r in records if r["challenge"] == "C-0002"][:1]  # C-0002 has just its opening entry
    head, content = records[0]["body"].split("\n", 1)
    body = head + "\n" + change(content)
    records[0]["body"], records[0]["hash"] = body, entry.stated_hash(body.encode())
    header.update(entries=1, challenges=["C-0002"], scope="selection")
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(x) for x in [header, *records]) + "\n")
    return path


def test_a_verifying_file_whose_content_was_made_up_is_reported_and_left_out(backend, run_cli, tmp_path):
    build(backend)
    good = tmp_path / "good.jsonl"
    assert run_cli("export", "--all", "-o", good)[0] == 0

    def procedure(text):
        content = json.loads(text)
        content["data"]["procedure_text"] = "id = [not toml"
        return json.dumps(content)

    def stage(text):
        content = json.loads(text)
        content["data"]["start_stage"] = 99
        return json.dumps(content)

    files = {
        "not-json.jsonl": (_made_up(good, tmp_path, "not-json.jsonl", lambda t: "{not json"), "not an escalate entry"),
        "no-times.jsonl": (
            _made_up(good, tmp_path, "no-times.jsonl", lambda t: '{"author":{},"data":{}}'),
            "not an escalate entry",
        ),
        "procedure.jsonl": (_made_up(good, tmp_path, "procedure.jsonl", procedure), "cannot be read"),
        "stage.jsonl": (_made_up(good, tmp_path, "stage.jsonl", stage), "do not fit the procedure"),
    }
    for name, (path, words) in files.items():
        assert run_cli("verify", path)[0] == 0  # the chain itself is intact
        code, out, err = run_cli("audit", good, path, "--json")
        assert code == 1, err
        data = json.loads(out)
        verdicts = {i["label"].rsplit("/", 1)[-1]: (i["ok"], i["problem"] or "") for i in data["inputs"]}
        assert verdicts["good.jsonl"] == (True, "")
        assert verdicts[name][0] is False and words in verdicts[name][1], verdicts[name]
        assert data["challenges"] == 2  # only the good file's


def test_opening_entries_are_parsed_exactly_as_json_would_however_their_procedure_text_reads():
    """The audit cuts each opening entry's procedure text out before parsing (decoding each distinct
    text once): whatever the text holds, the result must be what json.loads gives for the whole."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from escalate import audit, entry

    tricky = st.sampled_from(['","procedure_version":', "\\", '"', '\\"', '"procedure_text":"', "\n", "é", "\u2028"])
    texts = st.lists(st.one_of(st.text(max_size=8), tricky), max_size=12).map("".join)

    @settings(max_examples=300, deadline=None)
    @given(texts, texts)
    def check(text, concern):
        content = {
            "author": {"name": {"_sd": "0" * 64}},
            "data": {"concern": concern, "procedure_id": "p", "procedure_text": text, "procedure_version": "1"},
            "occurred_at": "2026-11-02T09:00:00.000000Z",
            "recorded_at": "2026-11-02T09:00:00.000000Z",
        }
        body = ("E1 1 C-0001 1 opened " + "0" * 64 + " " + "0" * 64 + "\n") + entry.canonical(content).decode()
        cache = {}
        assert audit._content(body, cache) == content
        assert audit._content(body, cache) == content  # and again, from the cache

    check()
    # made-up content: the same answer as json, or the same refusal
    for content in [
        '{"data":{"procedure_text":"a\\","procedure_version":"1"}}',
        '{"data":{"x":1},"procedure_text":"t","procedure_version":"1"}',
        '{"data":{"procedure_text":"t","procedure_version":"1"},"procedure_text":"u"}',
    ]:
        try:
            want = json.loads(content)
        except ValueError:
            want = ValueError
        try:
            got = audit._content("E1 header\n" + content, {})
        except ValueError:
            got = ValueError
        assert got == want


def test_suspect_entries_are_warned_of_in_every_audit_face(backend, run_cli, tmp_path):
    """Entries escalate refuses now (a log may hold them from before, or from another program writing
    the documented format) are listed as warnings by the audit of the store, of a file, as JSON and in
    the HTML report: they never fail verification, and they are never silently taken as true."""
    build(backend)
    author = SETTINGS.author()
    with store_at(backend) as s:  # appended as an older escalate would have
        now = "2026-11-10T09:00:00.000000Z"
        s.append(
            "C-0002",
            "deadline-extended",
            now,
            author,
            {"deadline": "resolve", "new_due": "2026-01-05T00:00:00.000000Z", "reason": "agreed"},
        )
        s.append(
            "C-0002",
            "amendment",
            now,
            author,
            {"target_seq": 1, "field": "occurred_at", "new_value": "banana", "reason": "x"},
        )
        s.append("C-0002", "note", "2026-01-01T00:00:00.000000Z", author, {"summary": "before the opening"})
        s.append("C-0002", "note", "2099-01-01T00:00:00.000000Z", author, {"summary": "from the future"})
        late = {"deadline": "resolve", "new_due": "2026-12-20T00:00:00.000000Z", "reason": "agreed"}
        s.append("C-0002", "deadline-extended", now, author, late)
        sooner = {"deadline": "resolve", "new_due": "2026-12-10T00:00:00.000000Z", "reason": "agreed"}
        s.append("C-0002", "deadline-extended", now, author, sooner)
    said = [
        "C-0002 #2: extends deadline 'resolve' to a date already past",
        "C-0002 #3: corrects occurred_at to something that is not a time ('banana')",
        "C-0002 #4: dated before the challenge was opened, and not recorded as earlier history",
        "C-0002 #5: dated after it was recorded (in the future)",
        "C-0002 #7: moves deadline 'resolve' earlier than its last extension",
    ]
    code, out, _ = run_cli("audit", "--store")
    assert code == 0 and "Suspect entries (each says something that cannot be true): 5" in out
    assert all(f"store:{s}" in " ".join(out.split()) for s in said), out
    assert run_cli("export", "--all", "-o", tmp_path / "all.jsonl")[0] == 0
    figures = json.loads(run_cli("audit", tmp_path / "all.jsonl", "--json")[1])
    assert [x.split(":", 1)[1][: len(s)] for x, s in zip(figures["suspect_entries"], said)] == said
    assert all(x.startswith("all.jsonl:C-0002 #") for x in figures["suspect_entries"])
    assert run_cli("audit", tmp_path / "all.jsonl", "--html", tmp_path / "a.html")[0] == 0
    report = (tmp_path / "a.html").read_text(encoding="utf-8")
    assert "Suspect entries" in report and "corrects occurred_at to something that is not a time" in report
    assert run_cli("verify")[0] == 0  # warnings, not failures


def test_the_html_audit_names_the_challenges_past_a_deadline(backend, run_cli, tmp_path):
    build(backend)
    assert run_cli("export", "--all", "-o", tmp_path / "all.jsonl")[0] == 0
    assert run_cli("audit", tmp_path / "all.jsonl", "--html", tmp_path / "a.html")[0] == 0
    report = (tmp_path / "a.html").read_text(encoding="utf-8")
    assert "Open challenges past a deadline: 1</h3>" in report and "all.jsonl:C-0002</li>" in report
    # and each challenge opens on what the figures took from it
    assert "<h2>Each challenge (2)</h2>" in report
    assert '<details id="all.jsonl:C-0002"><summary>all.jsonl:C-0002 · Southby MASH · open' in report
    assert "OVERDUE</summary>" in report and "working days to resolution" in report


def test_an_audit_can_be_limited_by_dates_and_setting(backend, run_cli, tmp_path):
    """C-0001 was open 2 to 9 November, C-0002 from 5 October on; a third challenge was opened at
    another setting. The inputs are verified whole; only the challenges in the limits are counted."""
    build(backend)
    with store_at(backend) as s:
        open_fictional(s, at="2026-11-20T09:00", settings=SETTINGS._replace(setting="Another Fictional School"))
    assert run_cli("export", "--all", "-o", tmp_path / "all.jsonl")[0] == 0

    def counted(*limits):
        code, out, err = run_cli("audit", tmp_path / "all.jsonl", "--json", *limits)
        assert code == 0, err
        return json.loads(out)

    assert counted()["challenges"] == 3
    assert counted("--since", "2026-11-10")["challenges"] == 2  # C-0001 was resolved on the 9th
    assert counted("--until", "2026-10-31")["challenges"] == 1  # only C-0002 was open by then
    assert counted("--since", "2026-11-03", "--until", "2026-11-03")["challenges"] == 2
    only = counted("--setting", "another fictional school")
    assert (only["challenges"], only["out_of_scope"], only["duplicates"]) == (1, 2, 0)
    assert counted("--setting", SETTINGS.setting, "--setting", "Another Fictional School")["challenges"] == 3
    code, out, _ = run_cli("audit", tmp_path / "all.jsonl", "--since", "2026-11-10")
    assert "2 challenge(s) from verified inputs; 1 left out by the limits given" in out
    for bad, says in (
        (["--since", "2026-11-10", "--until", "2026-11-01"], "is not after --since"),
        (["--since", "next week"], "is not a date or time"),
        (["--setting", " "], "--setting is empty"),
    ):
        code, _, err = run_cli("audit", tmp_path / "all.jsonl", *bad)
        assert code == 2 and says in err, err
