"""Reading one procedure file: bytes -> TOML -> validated :class:`Procedure`, or every problem found.

Every way a file can be wrong ends as a :class:`ProcedureFileError` listing
:class:`Problem` objects with the file, the dotted key, the line and what was expected.
Nothing else may escape: a property test feeds random bytes and TOML to :func:`parse`.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

import typing

from escalate.errors import Problem, ProcedureFileError

if TYPE_CHECKING:  # pydantic is imported only when a file is read
    from escalate.procedure import Procedure

#: Real procedures are a few kilobytes; anything this large is not one.
MAX_BYTES = 1024 * 1024


class LoadedProcedure(NamedTuple):
    procedure: Procedure
    path: str
    fingerprint: str  # sha256 of the file's bytes, hex
    text: str

    @property
    def id(self) -> str:
        return self.procedure.id


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load(path: str | Path) -> LoadedProcedure:
    """Read and validate the procedure file at ``path``."""
    name = str(path)
    p = Path(path)
    try:
        if not p.exists():
            raise ProcedureFileError([Problem(name, "file not found")])
        if p.is_dir():
            raise ProcedureFileError([Problem(name, "is a directory, expected a .toml procedure file")])
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise ProcedureFileError(
                [Problem(name, f"file is {size:,} bytes; a procedure file is at most {MAX_BYTES:,} bytes")]
            )
        with p.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except PermissionError:
        raise ProcedureFileError([Problem(name, "cannot be read: permission denied")]) from None
    except OSError as exc:
        raise ProcedureFileError([Problem(name, f"cannot be read: {exc.strerror or exc}")]) from None
    return parse(data, name)


def parse(data: bytes, name: str) -> LoadedProcedure:
    """Validate procedure file bytes; ``name`` is used in messages."""
    if len(data) > MAX_BYTES:
        raise ProcedureFileError([Problem(name, f"file is over {MAX_BYTES:,} bytes; not a procedure file")])
    if not data.strip():
        raise ProcedureFileError(
            [Problem(name, "file is empty, expected a TOML procedure (see procedures/TEMPLATE.toml)")]
        )
    if b"\x00" in data:
        raise ProcedureFileError([Problem(name, "file is binary (contains NUL bytes), expected UTF-8 TOML text")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ProcedureFileError(
            [Problem(name, f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8", line=line)]
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProcedureFileError([_toml_problem(name, exc)]) from None
    except (RecursionError, ValueError) as exc:  # pathological nesting
        raise ProcedureFileError([Problem(name, f"TOML could not be read: {exc}")]) from None
    procedure = validate_document(document, text, name)
    return LoadedProcedure(procedure=procedure, path=name, fingerprint=fingerprint(data), text=text)


def validate_document(document: dict[str, Any], text: str, name: str) -> Any:
    from pydantic import ValidationError  # lazy: 18 ms, once a file is read

    from escalate.procedure import Procedure  # lazy: pydantic and the procedure models: 51 ms, once a file is read

    try:
        procedure = Procedure.model_validate(document)
    except ValidationError as exc:
        lines = key_lines(text)
        problems = []
        for err in exc.errors():
            if err.get("type") == "string_pattern_mismatch" and "^other: " in str(err.get("ctx", {}).get("pattern")):
                continue  # the other half of a medium's either-or: said with the common words' problem
            problem = _schema_problem(name, err, lines, document)
            if err.get("type") == "literal_error" and "line-management" in str(err.get("msg")):
                problem = problem._replace(
                    message=problem.message.replace(" (got", ", or 'other: ' and the source's words (got", 1)
                )
            problems.append(problem)
        raise ProcedureFileError(problems) from None
    except RecursionError:
        raise ProcedureFileError([Problem(name, "document is nested too deeply")]) from None
    cross = procedure.problems()
    if cross:
        lines = key_lines(text)
        raise ProcedureFileError(
            [Problem(name, message, key=dotted(loc), line=_find_line(loc, lines)) for loc, message in cross]
        )
    return procedure


_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


def _toml_problem(name: str, exc: Exception) -> Problem:
    message = str(exc)
    match = _TOML_POS.search(message)
    line = getattr(exc, "lineno", None)
    column = getattr(exc, "colno", None)
    if match:
        line, column = int(match.group(1)), int(match.group(2))
        message = _TOML_POS.sub("", message).strip()
    elif hasattr(exc, "msg"):
        message = exc.msg
    if message.startswith("Illegal character '\\n'"):  # a "..." string ran on to the next line
        message += (
            ': a text in "..." must end on the line it starts; for a long text over several lines, '
            'use triple quotes ("""...""")'
        )
    return Problem(name, f"TOML syntax error: {message}", line=line, column=column)


# --- mapping validation errors to keys and lines ----------------------------------------


def _clean_loc(loc: tuple[Any, ...], document: Any) -> tuple[Any, ...]:
    """Drop pydantic's union-tag and validator steps from ``loc`` so it matches the document."""
    out: list[Any] = []
    node = document
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif isinstance(node, dict) and node.get("kind") == part:
            continue  # the tag pydantic adds for a discriminated union
        elif isinstance(part, str) and "[" in part:
            continue  # e.g. 'function-after[...]'
        else:
            out.append(part)  # a missing key, or a key below a value of the wrong type
            node = None
    return tuple(out)


def dotted(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _schema_problem(name: str, err: Mapping[str, Any], lines: dict[tuple[Any, ...], int], document: Any) -> Problem:
    loc = _clean_loc(tuple(err.get("loc", ())), document)
    kind = err.get("type", "")
    message = err.get("msg", "invalid value")
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if kind == "extra_forbidden":
        message = f"unknown key {str(loc[-1])!r}"
        suggestion = _did_you_mean(loc, document)
        if suggestion:
            message += f"; did you mean {suggestion!r}?"
        elif len(loc) > 1 and _is_top_level_key(str(loc[-1])):
            table = dotted(tuple(part for part in loc[:-1] if not isinstance(part, int)))
            message += (
                f"; it is a top-level key, but written after [{table}] it belongs to that table: "
                "move it above the first [table] of the file"
            )
    elif kind == "missing":
        message = f"required key {str(loc[-1])!r} is missing"
    elif kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        message = f"unknown kind {ctx.get('tag')}; expected one of {ctx.get('expected_tags')}"
    elif kind == "union_tag_not_found":
        message = "missing 'kind' (e.g. kind = \"working-days\")"
    elif "input" in err and kind not in ("value_error", "assertion_error"):
        shown = repr(err["input"])
        if len(shown) > 60:
            shown = shown[:57] + "..."
        message = f"{message} (got {shown})"
    if loc == ("format",) and kind == "literal_error":  # a newer file, or a mistyped number
        message = f"format {err.get('input')!r} is not one this escalate reads (1 or 2): a newer escalate may read it"
    line = _find_line(loc, lines)
    return Problem(name, message, key=dotted(loc) or None, line=line)


def _is_top_level_key(key: str) -> bool:
    from escalate.procedure import Procedure  # lazy: as in _did_you_mean

    return key in Procedure.model_fields


def _find_line(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int | None:
    probe = loc
    while probe:
        if probe in lines:
            return lines[probe]
        probe = probe[:-1]
    return None


def _did_you_mean(loc: tuple[Any, ...], document: Any) -> str | None:
    """Suggest the closest allowed key for a misspelt one."""
    from escalate.procedure import Procedure  # lazy: pydantic and the procedure models: 51 ms, once a file is read

    model: Any = Procedure
    node: Any = document
    for part in loc[:-1]:
        node = node[part] if isinstance(node, (dict, list)) else None
        if isinstance(part, int):
            continue
        model = _field_model(model, part, node)
        if model is None:
            return None
    import difflib  # only a misspelt key needs it

    fields = list(getattr(model, "model_fields", {}))
    match = difflib.get_close_matches(str(loc[-1]), fields, n=1, cutoff=0.6)
    return match[0] if match else None


def _field_model(model: Any, field: str, node: Any) -> Any:
    """The pydantic model class that validates ``model.field`` (looking through lists and unions)."""

    info = getattr(model, "model_fields", {}).get(field)
    if info is None:
        return None
    candidates = [info.annotation]
    while candidates:
        annotation = candidates.pop()
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            if isinstance(node, dict) and "kind" in annotation.model_fields:
                kind_field = annotation.model_fields["kind"].annotation
                if node.get("kind") not in typing.get_args(kind_field):
                    continue
            return annotation
        candidates.extend(typing.get_args(annotation))
    return None


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*=")


def _split_key(raw: str) -> list[str]:
    parts = re.findall(r"\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_-]+)", raw)
    return [a or b or c for a, b, c in parts]


def key_lines(text: str) -> dict[tuple[Any, ...], int]:
    """Map document paths (as pydantic locs) to the line where each key or table is written.

    A small line scanner rather than a full TOML parser: tomllib keeps no positions. It
    understands tables, arrays of tables (counting their elements), dotted keys and
    skips the bodies of multi-line strings and arrays.
    """
    lines: dict[tuple[Any, ...], int] = {}
    counts: dict[tuple[Any, ...], int] = {}
    table: tuple[Any, ...] = ()
    in_string: str | None = None
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string:
            if in_string in line:
                in_string = None
            continue
        if depth > 0:
            depth += line.count("[") - line.count("]")
            continue
        header = _HEADER.match(line)
        if header and not _KEY.match(line):
            names = _split_key(header.group(2))
            path = _resolve(names, counts)
            if header.group(1) == "[[":
                counts[path] = counts.get(path, -1) + 1
                path = path + (counts[path],)
                lines.setdefault(path[:-1], number)
            table = path
            lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            path = table + tuple(_split_key(key.group(1)))
            lines.setdefault(path, number)
            rest = line[key.end() :]
            for quote in ('"""', "'''"):
                if rest.count(quote) == 1:
                    in_string = quote
            value = re.sub(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'", "", rest)
            value = value.split("#", 1)[0]
            depth = max(0, value.count("[") - value.count("]"))
    return lines


def _resolve(names: list[str], counts: dict[tuple[Any, ...], int]) -> tuple[Any, ...]:
    """Turn a header like stages.deadlines into ('stages', 2, 'deadlines') using array counts."""
    path: tuple[Any, ...] = ()
    for index, name in enumerate(names):
        path = path + (name,)
        if path in counts and index < len(names) - 1:
            path = path + (counts[path],)
    return path
