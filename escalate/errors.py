"""The project's exceptions: every error a user can meet is one of these.

Each carries a message (what went wrong, naming the thing), a title (the area) and
optionally a hint (what to do). The faces print them; a traceback is a bug.
"""

from __future__ import annotations

from typing import NamedTuple

from escalate.exit_codes import ExitCode


def shown(value: object, limit: int = 60) -> str:
    """A value a user gave, quoted for a message: escapes for what the terminal should not see raw
    (bytes that were not UTF-8 arrive as lone surrogates), and shortened when long, so a 100 KB
    argument is not echoed back whole."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}...' ({len(str(value)):,} characters)"


class EscalateError(Exception):
    title = "Error"
    exit_code = ExitCode.BAD_INPUT

    def __init__(self, message: str, *, hint: str | None = None, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if title is not None:
            self.title = title


class UsageError(EscalateError):
    title = "Invalid input"


class FieldError(UsageError):
    """Input refused because of one named field of an entry (``agency``, ``occurred_at``...): a form
    shows the message next to that field."""

    def __init__(self, field: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.field = field


class ConfigError(EscalateError):
    title = "Settings problem"


class CalendarError(EscalateError):
    title = "Calendar problem"


class Problem(NamedTuple):
    """One thing wrong with one procedure file."""

    path: str
    message: str
    key: str | None = None
    line: int | None = None
    column: int | None = None

    def location(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def __str__(self) -> str:
        key = f" {self.key}:" if self.key else ""
        return f"{self.location()}:{key} {self.message}"


class ProcedureFileError(EscalateError):
    """A procedure file (or several) could not be loaded; holds every problem found."""

    title = "Invalid procedure file"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        files = ", ".join(sorted({p.path for p in self.problems}))
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in {files}:\n{lines}",
            hint="Fix the file, then check it with `escalate procedures validate PATH`.",
        )


class ProcedureNotFound(EscalateError):
    title = "Unknown procedure"


class StoreError(EscalateError):
    title = "Store problem"
    exit_code = ExitCode.STORE


class ChallengeError(EscalateError):
    title = "Challenge problem"


class ExportError(EscalateError):
    title = "Export problem"


class VerificationError(EscalateError):
    title = "Verification failed"
    exit_code = ExitCode.CHECK_FAILED
