"""The core never imports Textual; the package root stays lazy; the README and CI agree."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from helpers import ROOT

CORE = sorted(p.stem for p in (ROOT / "escalate").glob("*.py") if p.stem not in ("__main__",))


@pytest.mark.parametrize("module", CORE)
def test_core_module_does_not_import_textual(module):
    code = f"import sys, escalate.{module}; print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_cli_commands_do_not_import_textual():
    code = (
        "import sys\nfrom escalate.cli import main\nmain(['procedures', 'validate', 'procedures'])\n"
        "sys.stderr.write(str('textual' in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stderr.strip().endswith("False")


def test_package_root_is_lazy():
    code = "import sys, escalate; print(sorted(m for m in ('pydantic', 'rich', 'textual') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", quick, re.S)
    lines = [line.strip() for block in commands for line in block.strip().splitlines() if line.strip()]
    assert len(lines) == 2, lines
    assert lines[1] in (ROOT / ".ci" / "run").read_text()


def test_readme_is_the_front_door():
    """Under 12 KB, with a link to every guide in docs/ (the rest lives there)."""
    readme = (ROOT / "README.md").read_text()
    assert len(readme.encode()) < 12 * 1024
    for doc in sorted((ROOT / "docs").glob("*.md")):
        assert f"](docs/{doc.name})" in readme, doc.name


def test_command_word_is_found_past_global_options():
    from escalate.cli.parser import _command_of

    assert _command_of(["--data-dir", "procedures", "list"]) == "list"  # a folder named like a command
    assert _command_of(["--procedures", "x.toml", "procedures", "validate", "p"]) == "procedures"
    assert _command_of(["-h"]) is None and _command_of([]) is None


def test_procedure_commands_do_not_load_the_log(tmp_path):
    """`procedures validate` builds only its own grammar: the log's entry format is never imported,
    and the full help still lists every command."""
    import subprocess
    import sys

    from helpers import ROOT

    code = (
        "import sys; from escalate.cli import main; rc = main(['procedures', 'validate', sys.argv[1]]); "
        "print('escalate.entry' in sys.modules, rc)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "procedures")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**__import__("os").environ, "ESCALATE_HOME": str(tmp_path)},
    )
    assert out.stdout.split()[-2:] == ["False", "0"], out.stderr
    help_text = subprocess.run(
        [sys.executable, "-m", "escalate", "--help"], capture_output=True, text=True, cwd=ROOT
    ).stdout
    for command in ("procedures", "open", "record", "verify", "export", "audit"):
        assert command in help_text


def test_every_package_is_listed_for_installation():
    """A plain (non-editable) install ships only the packages pyproject.toml lists: every folder of
    escalate/ with an __init__.py must be there, and the data files beside the code."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    from helpers import ROOT

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "escalate").rglob("__init__.py")}
    assert found <= listed, found - listed
    assert "*.json" in config["package-data"]["escalate"]  # export-schema.json
    assert (ROOT / "escalate" / "export-schema.json").exists()


def test_pydantic_plugins_stay_off_and_metadata_is_never_scanned(tmp_path):
    """escalate turns pydantic's plugins off (a plugin sees every value validated) without paying for
    pydantic's plugin discovery: validating every bundled file must work, find no plugin and never import
    importlib.metadata (25-45 ms of every start)."""
    code = (
        "import os, sys; from escalate.cli import main; rc = main(['procedures', 'validate', sys.argv[1]]); "
        "from pydantic.plugin._loader import get_plugins; "
        "print(rc, list(get_plugins()), 'importlib.metadata' in sys.modules, os.environ['PYDANTIC_DISABLE_PLUGINS'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "procedures")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**__import__("os").environ, "ESCALATE_HOME": str(tmp_path)},
    )
    assert out.stdout.split("\n")[-2].split() == ["0", "[]", "False", "__all__"], out.stderr


def test_installed_command_exits_with_the_commands_code(tmp_path):
    """`python -m escalate` goes through run(), which freezes the collector before exit: the exit code and
    the output must be those of main()."""
    import os

    env = {**os.environ, "ESCALATE_HOME": str(tmp_path)}
    ok = subprocess.run(
        [sys.executable, "-m", "escalate", "procedures", "validate", str(ROOT / "procedures")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert ok.returncode == 0 and ok.stdout.rstrip().endswith("file(s) valid.")
    bad = subprocess.run(
        [sys.executable, "-m", "escalate", "show", "C-9999"], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and bad.stderr.strip()


def test_the_collector_is_off_for_a_command_and_on_for_the_apps(monkeypatch):
    """run() turns Python's cyclic collector off for a command (short-lived, few cycles); the terminal
    apps, which stay open, turn it back on before they start."""
    import gc

    from escalate import launch
    from escalate.tui import app as dsl_app
    from escalate.tui import audit_app

    seen = {}
    monkeypatch.setattr(launch, "main", lambda open_app: seen.setdefault("command", gc.isenabled()) and 0)
    monkeypatch.setattr(dsl_app.EscalateApp, "run", lambda self: seen.setdefault("app", gc.isenabled()))
    monkeypatch.setattr(audit_app.AuditApp, "run", lambda self: seen.setdefault("audit", gc.isenabled()))
    try:
        assert launch.run() == 0
        gc.disable()
        dsl_app.run()
        gc.disable()
        audit_app.run([])
    finally:
        gc.unfreeze()
        gc.enable()
    assert seen == {"command": False, "app": True, "audit": True}


def test_the_cli_hands_the_app_to_the_launcher(tmp_path):
    """The CLI never imports the TUI: `escalate` with no command asks the launcher for the app, and
    without a launcher (a program calling main) it says so instead of opening one."""
    from escalate.cli import AppRequest, main

    asked = []
    assert main(["--procedures", str(tmp_path)], open_app=lambda r: asked.append(r) or 0) == 0
    assert asked == [AppRequest(procedures=[str(tmp_path)])]
    assert main([]) == 2


def test_relative_due_words_are_the_same_for_every_face():
    from escalate.wording import relative_due

    assert relative_due(3, False) == "in 3 working days"
    assert relative_due(1, False) == "in 1 working day"
    assert relative_due(0, False) == "due today"
    assert relative_due(0, True) == "OVERDUE today"
    assert relative_due(-2, True) == "OVERDUE by 2 working days"
