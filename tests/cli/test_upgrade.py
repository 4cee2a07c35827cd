"""`escalate procedures upgrade`: a format 1 file rewritten as format 2, its comments and meaning kept."""

from __future__ import annotations

import shutil

import pytest
from helpers import DATA

from escalate.procedure_file import load

#: the four procedures bundled in format 1, as they were before format 2 (kept as they were written)
FORMAT_1 = sorted((DATA / "format1").glob("*.toml"))


@pytest.mark.parametrize("source", [*FORMAT_1, DATA / "minimal.toml"], ids=lambda p: p.name)
def test_a_format_1_file_upgrades_keeping_its_comments_and_meaning(run_cli, tmp_path, source):
    path = tmp_path / source.name
    shutil.copy(source, path)
    before_text = path.read_text(encoding="utf-8")
    before = load(path).procedure
    assert before.format == 1
    code, out, err = run_cli("procedures", "upgrade", path)
    assert code == 0, err
    assert "to format 2" in out
    after_text = path.read_text(encoding="utf-8")
    after = load(path).procedure
    assert after.format == 2
    assert after.model_dump(exclude={"format"}) == before.model_dump(exclude={"format"})
    comments = [line for line in before_text.splitlines() if line.lstrip().startswith("#")]
    assert comments == [line for line in after_text.splitlines() if line.lstrip().startswith("#")]
    # only the format line differs
    changed = [(a, b) for a, b in zip(before_text.splitlines(), after_text.splitlines()) if a != b]
    assert len(changed) == 1 and changed[0][1].startswith("format = 2")
    code, out, _ = run_cli("procedures", "upgrade", path)
    assert code == 0 and "already format 2" in out


def test_upgrade_to_another_file_leaves_the_original(run_cli, tmp_path):
    path = tmp_path / "london.toml"
    shutil.copy(DATA / "format1" / "london-children.toml", path)
    original = path.read_bytes()
    code, _, err = run_cli("procedures", "upgrade", path, "-o", tmp_path / "london-2.toml")
    assert code == 0, err
    assert path.read_bytes() == original and load(tmp_path / "london-2.toml").procedure.format == 2


@pytest.mark.parametrize(
    "name,words",
    [
        ("syntax_error.toml", "TOML syntax error"),
        ("unknown_region.toml", "no bank-holiday calendar"),
        ("binary.toml", "binary"),
    ],
)
def test_a_file_that_is_not_valid_is_not_upgraded_and_not_touched(run_cli, tmp_path, name, words):
    path = tmp_path / name
    shutil.copy(DATA / "bad_procedures" / name, path)
    original = path.read_bytes()
    code, _, err = run_cli("procedures", "upgrade", path)
    assert code == 2 and words in err and "was not upgraded: nothing was written" in err
    assert path.read_bytes() == original


def test_a_missing_file_is_named(run_cli, tmp_path):
    code, _, err = run_cli("procedures", "upgrade", tmp_path / "nowhere.toml")
    assert code == 2 and ("file not found" in err or "cannot be read" in err)
