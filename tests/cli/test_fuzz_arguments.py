"""1,000 random argument lists over every command (issue 16, hostile input): options of the command
given values that are garbage, bytes that are not UTF-8, 100 KB texts, control characters and
plausible values mixed. Whatever the answer (a result, a refusal with exit 2, argparse's usage
error), it is never a traceback, and a refusal is short enough to read."""

from __future__ import annotations

import argparse
import os
import random

import pytest

from escalate.cli import main
from escalate.cli.parser import build_parser

RUNS, CHUNKS = 1000, 8
SEED = 20261203


def commands() -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every command (and action, for those with actions) with its parser."""
    found: dict[tuple[str, ...], argparse.ArgumentParser] = {}

    def walk(prefix: tuple[str, ...], parser: argparse.ArgumentParser) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if prefix:
            found[prefix] = parser
        for action in subs:
            for name, child in action.choices.items():
                walk((*prefix, name), child)

    walk((), build_parser())
    return found


COMMANDS = commands()


def garbage(rng: random.Random, tmp) -> str:
    """One value: plausible or hostile."""
    kind = rng.randrange(14)
    if kind == 0:
        return os.fsdecode(bytes(rng.randrange(128, 256) for _ in range(rng.randrange(1, 12))))  # not UTF-8
    if kind == 1:
        return rng.choice("ab€\U0001f600-") * 100_000  # 100 KB
    if kind == 2:
        return "".join(chr(rng.randrange(0, 32)) for _ in range(rng.randrange(1, 8))).replace("\x00", "\x1b")
    if kind == 3:
        return rng.choice(["", " ", "\t", "-", "--", "-1", "0", "1", "2", "99999999999999999999", "nan", "1e309"])
    if kind == 4:
        return rng.choice(["C-0001", "1", "C-9999", "c-1", "C-", "C-00011"])
    if kind == 5:
        return rng.choice(["2026-11-30", "2026-11-30T10:00", "2099-01-01", "1999-12-31", "2026-02-30", "yesterday"])
    if kind == 6:
        return rng.choice(["london-children", "wales-children", "made-up", "../../etc", "LONDON-CHILDREN"])
    if kind == 7:
        return rng.choice(["disputed-referral", "unrecognised-harm", "made-up", "disputed-referral,made-up"])
    if kind == 8:
        return str(tmp / rng.choice(["out.jsonl", "out.html", "out.pdf", "out.csv", "out.md", "x/y/z.jsonl", "d"]))
    if kind == 9:
        return rng.choice(["jsonl", "html", "pdf", "csv", "md", "docx", "yaml"])
    if kind == 10:
        return rng.choice(["Sam Fictional, Social worker, Northtown CSC", ",,", "a,b,c,d", "Sam"])
    if kind == 11:
        return "[bold]x[/] \x1b[31mred\x1b[0m %s {0} ${HOME}"
    if kind == 12:
        return rng.choice(["summary", "occurred_at", "with.name", "agency", "triggers", "immediate_risk", "x.y.z"])
    return "".join(chr(rng.randrange(32, 0x3000)) for _ in range(rng.randrange(1, 30)))


def argument_list(rng: random.Random, tmp) -> list[str]:
    words, parser = rng.choice(list(COMMANDS.items()))
    argv = list(words)
    options = [a for a in parser._actions if a.option_strings and "-h" not in a.option_strings]
    positionals = [a for a in parser._actions if not a.option_strings and not isinstance(a, argparse._SubParsersAction)]

    def value(action: argparse.Action) -> str:
        if action.choices and rng.random() < 0.7:
            return str(rng.choice(list(action.choices)))
        return garbage(rng, tmp)

    for action in positionals:
        if rng.random() < 0.95:
            argv.append(value(action))
    # the required options nearly always, so that most lists get past the grammar to the command
    chosen = [a for a in options if a.required and rng.random() < 0.95]
    chosen += [rng.choice(options) for _ in range(rng.randrange(0, 6))] if options else []
    for action in chosen:
        argv.append(rng.choice(action.option_strings))
        if action.nargs != 0:
            argv.append(value(action))
    if rng.random() < 0.1:
        argv.insert(rng.randrange(len(argv) + 1), garbage(rng, tmp))  # one more, anywhere
    return [a.replace("\x00", "") for a in argv]  # (a NUL is refused before parsing: tested on its own)


@pytest.fixture
def a_store(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # whatever a command writes by default lands here
    assert run_cli("config", "set", "name", "Alex Example")[0] == 0
    assert run_cli("config", "set", "role", "DSL")[0] == 0
    opening = ["open", "--procedure", "london-children", "--trigger", "disputed-referral", "--case-ref", "Child Q"]
    assert run_cli(*opening, "--agency", "Fictional CSC", "--decision", "NFA", "--concern", "c")[0] == 0
    assert run_cli("record", "1", "contact", "--with", "Sam Fictional, SW", "--summary", "call")[0] == 0
    return tmp_path


def test_every_command_is_in_the_fuzzed_set():
    assert {w[0] for w in COMMANDS} >= {"open", "record", "amend", "show", "verify", "export", "pack", "audit"}
    assert ("procedures", "upgrade") in COMMANDS and ("config", "set") in COMMANDS


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_random_argument_lists_never_give_a_traceback(a_store, capsys, chunk):
    rng = random.Random(SEED + chunk)
    for run in range(RUNS // CHUNKS):
        argv = argument_list(rng, a_store)
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own usage error, or --help / --version
            code = exc.code if isinstance(exc.code, int) else 2
        except Exception as exc:  # noqa: BLE001 - the point of the test: report which list, then fail
            pytest.fail(f"run {chunk}/{run}: {[a[:80] for a in argv]!r} raised {exc!r}")
        out, err = capsys.readouterr()
        assert "Traceback" not in err, (argv, err[-2000:])
        if code not in (0, None):
            assert len(err) < 6000, ([a[:80] for a in argv], err[:500])  # a 100 KB value is not echoed whole
