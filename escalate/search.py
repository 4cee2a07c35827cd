"""Finding challenges by what was recorded: the child's name, a case reference, any entry's words.

Only what the store holds in clear is searched: entries' text, and personal values (names, case
references) through their disclosures, which the store keeps beside the log. A redacted export holds
neither, so there is nothing to search in one. Each word typed must begin a word of the same entry
(``jam fict`` finds "Jamie Fictional"); case is ignored, and on a desk's store accents too. The store keeps the index:
SQLite's FTS5 on a desk, PostgreSQL's full-text search on a team store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from escalate import journal
from escalate.errors import UsageError

#: entries read per search before they are grouped by challenge (the newest first)
HITS_READ = 1000
MAX_WORDS = 12


@dataclass(frozen=True)
class Found:
    """A challenge a search found, with its newest matching entry."""

    challenge: str
    case_ref: str
    agency: str
    status: str
    seq: int  # the matching entry's number in the log
    snippet: str  # its text around the match
    entries: int  # how many of its entries match


def words(text: str) -> list[str]:
    """The words of a search, lower case, letters and digits only (punctuation separates words)."""
    found = [w for w in re.findall(r"[^\W_]+", text.lower()) if w]
    if not found:
        raise UsageError(f"search {text[:40]!r} has no words", hint="Type a name, a reference or a word recorded.")
    if len(found) > MAX_WORDS:
        raise UsageError(f"search has {len(found)} words; at most {MAX_WORDS}")
    return found


def find(store: journal.LogStore, text: str, limit: int = 100) -> list[Found]:
    """The challenges whose entries hold every word of ``text``, the most recently matched first."""
    hits = store.search(words(text), HITS_READ)
    first: dict[str, tuple[int, str]] = {}
    counts: dict[str, int] = {}
    for challenge, seq, snippet in hits:
        first.setdefault(challenge, (seq, snippet))
        counts[challenge] = counts.get(challenge, 0) + 1
    chosen = list(first)[:limit]
    views = {v.state.challenge: v for v in journal.list_views(store, chosen)}
    return [
        Found(
            c,
            views[c].case_ref,
            views[c].state.agency,
            views[c].state.status,
            first[c][0],
            " ".join(first[c][1].split()),
            counts[c],
        )
        for c in chosen
        if c in views
    ]
