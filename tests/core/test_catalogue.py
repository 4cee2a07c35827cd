"""Where procedures are found, and what happens when two share an id."""

from __future__ import annotations

import json
import shutil

from helpers import DATA, ROOT

from escalate.catalogue import discover


def test_bundled_procedures_are_found_by_default():
    catalogue = discover()
    assert "london-children" in catalogue.procedures
    assert "my-partnership" not in catalogue.procedures  # the template is skipped
    assert catalogue.origin["london-children"] == "bundled"
    assert not catalogue.problems


def test_nearer_source_wins_and_says_so(tmp_path, run_cli):
    mine = tmp_path / "mine"
    mine.mkdir()
    text = (
        (ROOT / "procedures" / "london-children.toml")
        .read_text()
        .replace('version = "revised September 2021"', 'version = "local copy"')
    )
    (mine / "london.toml").write_text(text)
    catalogue = discover([str(mine)])
    assert catalogue.procedures["london-children"].procedure.version == "local copy"
    assert catalogue.origin["london-children"] == "--procedures"
    assert catalogue.overridden and catalogue.overridden[0][1].path.endswith("london-children.toml")
    code, out, err = run_cli("procedures", "list", "--procedures", mine)
    assert code == 0 and "overrides" in err


def test_environment_and_user_folder_are_searched(tmp_path, monkeypatch, isolated_home):
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    shutil.copy(DATA / "minimal.toml", env_dir / "fictional.toml")
    monkeypatch.setenv("ESCALATE_PROCEDURES", str(env_dir))
    assert discover().origin["fictional-test"] == "ESCALATE_PROCEDURES"
    monkeypatch.delenv("ESCALATE_PROCEDURES")
    user = isolated_home / "procedures"
    user.mkdir(parents=True)
    shutil.copy(DATA / "minimal.toml", user / "fictional.toml")
    assert discover().origin["fictional-test"] == "user"


def test_same_id_twice_in_one_folder_names_both_files(tmp_path):
    folder = tmp_path / "dup"
    folder.mkdir()
    shutil.copy(DATA / "minimal.toml", folder / "a.toml")
    shutil.copy(DATA / "minimal.toml", folder / "b.toml")
    catalogue = discover([str(folder)])
    [problem] = [p for p in catalogue.problems if "also used by" in p.message]
    assert problem.path.endswith("b.toml") and "a.toml" in problem.message


def test_invalid_files_are_reported_and_valid_ones_still_load(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(DATA / "minimal.toml", folder / "good.toml")
    shutil.copy(DATA / "bad_procedures" / "unknown_region.toml", folder / "bad.toml")
    catalogue = discover([str(folder)])
    assert "fictional-test" in catalogue.procedures
    assert any(p.path.endswith("bad.toml") for p in catalogue.problems)


def test_missing_procedures_path_is_a_problem(tmp_path):
    catalogue = discover([str(tmp_path / "absent")])
    assert any("not found" in p.message for p in catalogue.problems)


def test_list_json_and_show(run_cli):
    code, out, _ = run_cli("procedures", "list", "--json")
    rows = json.loads(out)
    assert {r["id"] for r in rows} >= {"london-children", "lincolnshire-joint"}
    assert all(len(r["fingerprint"]) == 64 for r in rows)
    code, out, _ = run_cli("procedures", "show", "lincolnshire-joint")
    assert code == 0
    assert "Step 1" in out and "2 working days" in out and "Skip rule" in out
    text = " ".join(out.split())
    # the whole procedure: what it does not cover, the outcomes it names, the complaints route, its notes
    assert "Not covered by this procedure" in text and "Complaints about a specific professional: go to" in text
    assert "Outcomes it names Agreed action plan at step 1" in text
    assert "If still dissatisfied Not a replacement for complaints processes" in text
    code, out, _ = run_cli("procedures", "show", "bcp-dorset-adults")
    assert "Notes" in out and "The list of areas of disagreement is not exhaustive." in " ".join(out.split())


def test_show_unknown_procedure(run_cli):
    code, out, err = run_cli("procedures", "show", "nowhere")
    assert code == 2
    assert "no procedure with id 'nowhere'" in err


def test_locate_prints_every_folder(run_cli, isolated_home):
    code, out, _ = run_cli("locate")
    assert code == 0
    for label in ("data folder", "store", "settings", "user procedures", "bundled procedures"):
        assert label in out
    assert str(isolated_home) in out


def test_data_dir_option_overrides_environment(run_cli, tmp_path):
    code, out, _ = run_cli("locate", "--data-dir", tmp_path / "elsewhere")
    assert str(tmp_path / "elsewhere") in out
