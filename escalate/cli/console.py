"""Rich consoles for the CLI, created on first use (Rich is not free to import)."""

from __future__ import annotations

import os
import sys
from functools import cache
from typing import Any

from escalate.wording import printable


@cache
def out() -> Any:
    from rich.console import Console  # lazy: 15 ms; --version and errors before it need none

    return Console(highlight=False, emoji=False, no_color=bool(os.environ.get("NO_COLOR")))


@cache
def err() -> Any:
    from rich.console import Console  # lazy: 15 ms; --version and errors before it need none

    return Console(stderr=True, highlight=False, emoji=False, no_color=bool(os.environ.get("NO_COLOR")))


def escape(text: str) -> str:
    """Make ``text`` print literally inside Rich markup. (Rich's own rule: a backslash escapes only
    a tag-like ``[``, so doubling every backslash, as this did once, printed them doubled.)"""
    from rich.markup import escape as rich_escape  # lazy: rich.console has loaded it already

    return rich_escape(printable(str(text)))  # and no control character reaches the terminal raw


#: the longest message printed whole: one that quotes a huge value the user gave is cut in the middle
LONGEST_MESSAGE = 1000


def readable(text: str) -> str:
    """A message short enough to read: cut in the middle, saying how much was left out."""
    if len(text) <= LONGEST_MESSAGE:
        return text
    half = LONGEST_MESSAGE // 2
    return f"{text[:half]}... ({len(text) - 2 * half:,} characters left out) ...{text[-half:]}"


def print_error(exc: Any) -> None:
    console = err()
    # soft_wrap: the terminal wraps long messages; Rich would split them mid-phrase.
    console.print(f"[bold red]{escape(exc.title)}:[/] {escape(readable(exc.message))}", soft_wrap=True)
    if getattr(exc, "hint", None):
        console.print(f"[dim]Hint: {escape(readable(exc.hint))}[/]", soft_wrap=True)


def plain(text: str) -> None:
    """Print exactly ``text`` (no markup), for machine-readable output such as JSON."""

    sys.stdout.write(text if text.endswith("\n") else text + "\n")
