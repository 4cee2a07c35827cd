"""Rewriting a format 1 procedure file as format 2, keeping the author's comments and layout.

Format 2 only adds constructs to format 1, so a format 1 file means the same once its ``format``
says 2: what the upgrade changes is the number, and nothing else of what the author wrote.
tomlkit edits the document in place (comments, blank lines, key order and quoting are kept), and
the result is read back through the loader before it is written, so a file is never left invalid.
"""

from __future__ import annotations

from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError

from escalate import atomic
from escalate.errors import Problem, ProcedureFileError
from escalate.procedure import FORMAT_VERSION
from escalate.procedure_file import MAX_BYTES, LoadedProcedure, parse


class AlreadyCurrent(Exception):
    """The file already says the newest format: there is nothing to upgrade."""


def upgraded_text(text: str, name: str) -> str:
    """``text`` of a valid format 1 procedure file, as format 2 (raises ProcedureFileError for a file
    that is not one, AlreadyCurrent for a format 2 file)."""
    loaded = parse(text.encode("utf-8"), name)  # every problem of the file, as validate says them
    if loaded.procedure.format == FORMAT_VERSION:
        raise AlreadyCurrent(name)
    try:
        document = tomlkit.parse(text)
    except TOMLKitError as exc:  # (tomllib read it above; tomlkit is stricter about a few forms)
        raise ProcedureFileError([Problem(name, f"cannot be rewritten keeping its layout: {exc}")]) from None
    document["format"] = FORMAT_VERSION
    return tomlkit.dumps(document)


def upgrade(path: Path, output: Path | None = None) -> LoadedProcedure:
    """Upgrade the procedure file at ``path``, written atomically to ``output`` (default: in place)."""
    name = str(path)
    try:
        data = path.read_bytes()[: MAX_BYTES + 1]
    except OSError as exc:
        raise ProcedureFileError([Problem(name, f"cannot be read: {exc.strerror or exc}")]) from None
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        parse(data, name)  # says where the bytes stop being UTF-8
        raise
    new = upgraded_text(text, name)
    target = output or path
    loaded = parse(new.encode("utf-8"), str(target))  # the rewritten file is a valid format 2 file
    try:
        atomic.write_bytes(target, new.encode("utf-8"))
    except OSError as exc:
        raise ProcedureFileError([Problem(str(target), f"cannot be written: {exc.strerror or exc}")]) from None
    return loaded
