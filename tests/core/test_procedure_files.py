"""Loading procedure files: the bundled ones, the template, and every way a file can be wrong."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from helpers import DATA, ROOT

from escalate.errors import ProcedureFileError
from escalate.procedure_file import MAX_BYTES, load, parse

BAD = DATA / "bad_procedures"
BUNDLED = sorted((ROOT / "procedures").glob("*.toml"))


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_procedures_are_valid(path):
    loaded = load(path)
    assert loaded.procedure.source.title
    assert "check" in loaded.procedure.check_note.lower()
    assert len(loaded.fingerprint) == 64


def test_the_real_procedures_bundled_are_the_ones_transcribed():
    ids = {load(p).id for p in BUNDLED if p.name != "TEMPLATE.toml"}
    assert ids == {
        "london-children",
        "lincolnshire-joint",
        "bcp-dorset-adults",
        "pan-lancashire-cumbria-adults",
        "wales-children",
        "sefton-children",
        "dumfries-galloway-adults",
        "sunderland-adults",
        "west-yorkshire-children",
        "rotherham-children",
    }


def test_partial_sources_say_not_stated_rather_than_inventing():
    london = load(ROOT / "procedures" / "london-children.toml").procedure
    assert "partial" in london.source.coverage
    stage3 = london.stage(3)
    assert all(d.timescale.kind == "not-stated" for d in stage3.deadlines)
    lancs = load(ROOT / "procedures" / "pan-lancashire-cumbria-adults.toml").procedure
    kinds = {d.timescale.kind for s in lancs.stages for d in s.deadlines}
    assert kinds <= {"not-stated", "as-soon-as-possible"}  # "without delay": no time stated


# (fixture, words the message must contain, dotted key or None, line or None)
CASES = [
    ("empty.toml", "empty", None, None),
    ("binary.toml", "binary", None, None),
    ("directory.toml", "is a directory", None, None),
    ("non_utf8.toml", "not valid UTF-8", None, 3),
    ("syntax_error.toml", "TOML syntax error", None, 6),
    ("misspelt_key.toml", "did you mean 'partnership'", "partnrship", 4),
    ("duplicate_stage.toml", "stage number 1 is used twice", "stages[1].number", 30),
    ("unknown_deadline_start.toml", "starts from deadline 'nowhere'", "stages[0].deadlines[1].starts", 26),
    ("skip_rule_bad_stage.toml", "stage 7, which does not exist", "skip_rules[0].start_stage", 43),
    ("unknown_region.toml", "no bank-holiday calendar for region 'wales-and-england'", "region", 7),
    ("wrong_type.toml", "valid integer", "stages[0].deadlines[1].timescale.amount", 27),
    ("missing_key.toml", "required key 'applies_to' is missing", "applies_to", None),
    ("unknown_timescale_kind.toml", "unknown kind fortnights", "stages[1].deadlines[0].timescale", 37),
    ("unknown_trigger.toml", "unknown trigger 'bad-vibes'", "triggers.bad-vibes", 39),
    ("not_a_table.toml", "valid list", "stages", 1),
    ("unknown_form.toml", "form 'Escalation from' is not one of [[forms]] (Escalation form)", "stages[1].forms[0]", 32),
    ("unknown_clock_start.toml", "got 'when-the-moon-is-full'", "stages[0].deadlines[1].starts", 26),
    ("bad_tolerance.toml", "unknown kind fortnight", "stages[0].deadlines[0].timescale.tolerance", 20),
    ("disagreement_unknown_trigger.toml", "unknown trigger 'bad-vibes'", "disagreements[0].triggers[0]", 42),
    ("disagreement_without_trigger.toml", "at least 1 item", "disagreements[0].triggers", 42),
    ("skip_rule_unknown_route.toml", "names route 'conference', which does not exist", "skip_rules[0].route", 44),
    (
        "skip_rule_offers_no_such_stage.toml",
        "offers stage 9, which does not exist",
        "skip_rules[0].start_stages[1]",
        44,
    ),
    (
        "before_disagreement_after_a_stage.toml",
        "stage 2 is before_disagreement but comes after stage 1",
        "stages[1].before_disagreement",
        32,
    ),
    ("format_3.toml", "format 3 is not one this escalate reads (1 or 2)", "format", 1),
    ("unknown_medium.toml", "or 'other: ' and the source's words (got 'carrier pigeon')", "stages[1].medium[0]", 32),
    ("text_over_two_lines.toml", 'use triple quotes ("""...""")', None, 3),
    (
        "top_level_key_after_a_table.toml",
        "written after [stages.deadlines] it belongs to that table: move it above the first [table]",
        "stages[1].deadlines[0].outcomes",
        39,
    ),
]


@pytest.mark.parametrize("name,words,key,line", CASES, ids=[c[0] for c in CASES])
def test_bad_procedure_files_name_the_problem(name, words, key, line):
    path = BAD / name
    with pytest.raises(ProcedureFileError) as info:
        load(path)
    problems = info.value.problems
    match = [p for p in problems if words in p.message]
    assert match, [str(p) for p in problems]
    problem = match[0]
    assert problem.path == str(path)
    assert problem.key == key
    assert problem.line == line
    assert name in str(problem)


@pytest.mark.parametrize("name,words,key,line", CASES, ids=[c[0] for c in CASES])
def test_validate_command_exits_2_without_traceback(run_cli, name, words, key, line):
    code, out, err = run_cli("procedures", "validate", BAD / name)
    assert code == 2
    assert words in " ".join(err.split()) or words in " ".join(err.replace("\n", "").split())
    assert "Traceback" not in err + out


def test_validate_reports_every_file_then_fails(run_cli):
    code, out, err = run_cli(
        "procedures",
        "validate",
        ROOT / "procedures" / "london-children.toml",
        BAD / "empty.toml",
        BAD / "unknown_region.toml",
    )
    assert code == 2
    assert "ok" in out and "london-children" in out
    assert "empty.toml" in err and "unknown_region.toml" in err


def test_validate_bundled_folder_exits_0(run_cli):
    code, out, err = run_cli("procedures", "validate", ROOT / "procedures")
    assert code == 0, err
    assert f"All {len(BUNDLED)} file(s) valid" in out


def test_file_not_found(run_cli, tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(ProcedureFileError) as info:
        load(missing)
    assert "file not found" in info.value.problems[0].message
    code, _, err = run_cli("procedures", "validate", missing)
    assert code == 2 and "nope.toml" in err


def test_unreadable_file(tmp_path, monkeypatch):
    target = tmp_path / "locked.toml"
    target.write_text((DATA / "minimal.toml").read_text())

    def deny(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    # Tests run as root in CI, where chmod 000 does not stop reads: simulate the denial.
    monkeypatch.setattr(Path, "open", deny)
    with pytest.raises(ProcedureFileError) as info:
        load(target)
    assert "permission denied" in info.value.problems[0].message
    assert info.value.problems[0].path == str(target)


def test_fifty_megabyte_file_is_refused_without_reading_it(tmp_path):
    big = tmp_path / "huge.toml"
    with big.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # sparse: 50 MB that costs nothing to make
    with pytest.raises(ProcedureFileError) as info:
        load(big)
    assert "52,428,800 bytes" in info.value.problems[0].message
    assert f"{MAX_BYTES:,}" in info.value.problems[0].message


def test_misspelt_key_suggestion_inside_a_deadline(tmp_path):
    text = (DATA / "minimal.toml").read_text().replace('what = "Raise it"', 'waht = "Raise it"')
    with pytest.raises(ProcedureFileError) as info:
        parse(text.encode(), "x.toml")
    messages = [p.message for p in info.value.problems]
    assert any("did you mean 'what'" in m for m in messages), messages


def test_fingerprint_is_sha256_of_file_bytes():
    import hashlib

    path = ROOT / "procedures" / "london-children.toml"
    assert load(path).fingerprint == hashlib.sha256(path.read_bytes()).hexdigest()


def test_models_are_frozen():
    from pydantic import ValidationError

    p = load(DATA / "minimal.toml").procedure
    with pytest.raises(ValidationError):
        p.id = "other"


def test_shipped_schema_matches_the_models():
    from escalate.schema import procedure_schema

    shipped = json.loads((ROOT / "procedures" / "schema.json").read_text())
    assert shipped == procedure_schema(), "procedures/schema.json is stale: run `escalate procedures schema`"


def test_schema_command_prints_a_valid_json_schema_that_accepts_the_bundled_files(run_cli):
    import jsonschema

    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    code, out, _ = run_cli("procedures", "schema")
    assert code == 0
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in BUNDLED:
        document = json.loads(json.dumps(tomllib.loads(path.read_text()), default=str))
        errors = list(validator.iter_errors(document))
        assert not errors, (path.name, [e.message for e in errors])
    # and it rejects what the loader rejects
    bad = json.loads(json.dumps(tomllib.loads((BAD / "misspelt_key.toml").read_text())))
    assert list(validator.iter_errors(bad))
