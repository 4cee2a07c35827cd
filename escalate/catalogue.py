"""Finding procedure files: which folders are searched, in which order, and who wins a clash.

Order (nearest first): ``--procedures PATH`` options, ``ESCALATE_PROCEDURES`` (paths
separated by ``os.pathsep``), the user's config ``procedures/`` folder, the bundled folder.
When two sources hold the same procedure id the nearer one wins and the catalogue says
so (``overridden``): a partnership copies a bundled file, edits it, and their copy is
used. Two files with the same id in the same source are a problem naming both.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from escalate import paths
from escalate.errors import Problem, ProcedureFileError, ProcedureNotFound
from escalate.procedure_file import LoadedProcedure, load

#: The commented template ships with the bundled files but is not a procedure to offer users.
SKIPPED_NAMES = {"TEMPLATE.toml"}


class SourceDir(NamedTuple):
    label: str  # "--procedures", "ESCALATE_PROCEDURES", "user", "bundled"
    path: Path


class Catalogue:
    """The loaded procedures, the problems met on the way, and which file overrode which."""

    def __init__(self, sources: list[SourceDir] | None = None) -> None:
        self.procedures: dict[str, LoadedProcedure] = {}
        self.problems: list[Problem] = []
        self.overridden: list[tuple[LoadedProcedure, LoadedProcedure]] = []  # (winner, loser)
        self.sources: list[SourceDir] = list(sources or [])
        self.origin: dict[str, str] = {}  # procedure id -> source label

    def get(self, procedure_id: str) -> LoadedProcedure:
        try:
            return self.procedures[procedure_id]
        except KeyError:
            known = ", ".join(sorted(self.procedures)) or "none loaded"
            raise ProcedureNotFound(
                f"no procedure with id {procedure_id!r} (loaded: {known})",
                hint="`escalate procedures list` shows the loaded procedures and where they come from.",
            ) from None

    def in_order(self, own: tuple[str, ...] = ()) -> list[LoadedProcedure]:
        """The procedures as lists offer them: the DSL's own partnership's first (``own``: procedure ids,
        the settings' ``partnerships``, in that order), then children's, both, adults', each by
        partnership: a school's DSL is not offered an adults' procedure first."""
        rank = {"children": 0, "both": 1, "adults": 2}

        def key(lp: LoadedProcedure) -> tuple[int, int, str, str]:
            mine = own.index(lp.id) if lp.id in own else len(own)
            return (mine, rank.get(lp.procedure.applies_to, 3), lp.procedure.partnership.lower(), lp.id)

        return sorted(self.procedures.values(), key=key)

    def by_fingerprint(self, fp: str) -> LoadedProcedure | None:
        for loaded in self.procedures.values():
            if loaded.fingerprint == fp:
                return loaded
        return None


#: whom a procedure covers, as a list says it
COVERS = {"children": "children", "adults": "adults", "both": "children and adults"}


def label(lp: LoadedProcedure, own: tuple[str, ...] = ()) -> str:
    """A procedure as a list names it: by partnership, whom it covers, and its version, then its id
    (not by its source's title, which is often a generic "Guidance re dealing with disputes")."""
    p = lp.procedure
    mine = "your partnership · " if lp.id in own else ""
    return f"{mine}{p.partnership} · {COVERS.get(p.applies_to, p.applies_to)} · version {p.version} ({lp.id})"


def source_dirs(extra: list[str] | None = None) -> list[SourceDir]:
    out: list[SourceDir] = [SourceDir("--procedures", Path(p).expanduser()) for p in (extra or [])]
    env = os.environ.get("ESCALATE_PROCEDURES", "")
    out += [SourceDir("ESCALATE_PROCEDURES", Path(p).expanduser()) for p in env.split(os.pathsep) if p.strip()]
    where = paths.locations()
    out.append(SourceDir("user", where.user_procedures))
    out.append(SourceDir("bundled", where.bundled_procedures))
    return out


def files_in(path: Path, *, include_template: bool = False) -> list[Path]:
    """The procedure files a source names: itself if a file, else its *.toml files."""
    if path.is_dir():
        return sorted(p for p in path.glob("*.toml") if include_template or p.name not in SKIPPED_NAMES)
    return [path]


def discover(extra: list[str] | None = None) -> Catalogue:
    """Load every procedure from every source; problems are collected, never raised."""
    catalogue = Catalogue(sources=source_dirs(extra))
    for source in catalogue.sources:
        optional = source.label in ("user", "bundled")
        if optional and not source.path.exists():
            continue
        if not source.path.exists():
            catalogue.problems.append(Problem(str(source.path), f"not found (given by {source.label})"))
            continue
        level: dict[str, LoadedProcedure] = {}
        for file in files_in(source.path):
            try:
                loaded = load(file)
            except ProcedureFileError as exc:
                catalogue.problems.extend(exc.problems)
                continue
            if loaded.id in level:
                catalogue.problems.append(
                    Problem(
                        str(file),
                        f"procedure id {loaded.id!r} is also used by {level[loaded.id].path}; "
                        "give one of them another id (the first is used)",
                        key="id",
                    )
                )
                continue
            level[loaded.id] = loaded
            if loaded.id in catalogue.procedures:
                catalogue.overridden.append((catalogue.procedures[loaded.id], loaded))
            else:
                catalogue.procedures[loaded.id] = loaded
                catalogue.origin[loaded.id] = source.label
    return catalogue
