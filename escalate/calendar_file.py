"""Deadlines as a calendar file (RFC 5545, through the ``icalendar`` package).

Every dated item of the agenda becomes an event ending at its due time, with a reminder the working
day before. An event's UID is made from the challenge's first entry and the item's own key, so a
calendar imported again updates its events rather than adding copies; its SEQUENCE is the challenge's
entry count, which grows whenever something is recorded (calendars take the higher one). The case
reference is left out unless asked for, and ``redact`` leaves out the agency and agreed actions' own
words too: a calendar is often shared or synced to a phone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping

from icalendar import Alarm, Calendar, Event

from escalate import __version__, clock
from escalate.agenda import Agenda, Item

#: how long before its due time an event starts (a deadline is a moment; calendars show a block)
BLOCK = dt.timedelta(minutes=30)
#: when the reminder fires
REMIND_BEFORE = dt.timedelta(days=1)
KIND_WORDS = {
    "deadline": "Deadline",
    "action": "Agreed action",
    "follow-up": "Follow-up",
    "no-clock": "Look at",
    "immediate-risk": "Immediate risk",
}


def uid(first_hash: str, item: Item) -> str:
    """Stable across exports of the same store, distinct between stores (the first entry's hash)."""
    return hashlib.sha256(f"{first_hash}\n{item.key}".encode()).hexdigest()[:32] + "@escalate"


def summary(item: Item, *, case_ref: bool, redact: bool) -> str:
    who = f"{item.challenge}" + (f" {item.case_ref}" if case_ref else "")
    if redact:
        what = KIND_WORDS[item.kind] + (f" (entry {item.action_seq})" if item.action_seq else "")
        return f"{who}: {what}"
    return f"{who}: {item.what}"


def make(book: Agenda, first_hashes: Mapping[str, str], *, case_ref: bool = False, redact: bool = False) -> bytes:
    """The calendar of ``book``'s dated items. ``first_hashes``: each challenge's first entry hash (for
    UIDs); an item's revision (its challenge's entry count) is its SEQUENCE."""
    cal = Calendar()
    cal.add("prodid", f"-//escalate//{__version__}//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "escalate deadlines")
    stamp = book.made_at.astimezone(dt.timezone.utc)
    for item in book.items:
        if item.due is None:
            continue
        due = item.due.astimezone(dt.timezone.utc)
        event = Event()
        event.add("uid", uid(first_hashes[item.challenge], item))
        event.add("dtstamp", stamp)
        event.add("sequence", item.revision)
        event.add("dtstart", due - BLOCK)
        event.add("dtend", due)
        title = summary(item, case_ref=case_ref, redact=redact)
        event.add("summary", ("OVERDUE " if item.when == "overdue" else "Due: ") + title)
        details = [title, f"Due {clock.show(item.due, book.timezone)}"]
        if item.owner:
            details.append(f"Whose: {item.owner}")
        if not redact:
            details.append(f"Agency: {item.agency}")
        details.append(f"Open it with: escalate show {item.challenge}")
        event.add("description", "\n".join(details))
        event.add("categories", ["escalate", KIND_WORDS[item.kind]])
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", title)
        alarm.add("trigger", -REMIND_BEFORE)
        event.add_component(alarm)
        cal.add_component(event)
    data: bytes = cal.to_ical()
    return data
