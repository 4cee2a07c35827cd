"""The auditor's summary across many challenges, from exported files or the store.

Every input is verified first; one that fails is reported and left out of the figures,
never silently counted. Challenges are folded and derived with the same code as every
view, from the procedure snapshot each one carries.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, NamedTuple

from escalate import clock, entry, workcalendar
from escalate.challenge import derive, fold
from escalate.store import StoredEntry


class Input(NamedTuple):
    label: str
    ok: bool
    problem: str | None
    entries: int


def _from_file(path: str) -> tuple[Input, dict[str, list[Any]]]:
    from escalate.errors import ExportError
    from escalate.export import read_jsonl, verify_file

    try:
        report = verify_file(path)
    except ExportError as exc:
        return Input(path, False, exc.message, 0), {}
    if not report.ok:
        return Input(path, False, report.problem, report.count), {}
    _, records = read_jsonl(path)
    groups: dict[str, list[Any]] = {}
    for rec in records:
        body = rec["body"].encode("utf-8")
        content = entry.split(body)[1]
        groups.setdefault(rec["challenge"], []).append(
            StoredEntry(rec["seq"], rec["challenge"], rec["cseq"], rec["kind"], content["occurred_at"],
                        content["recorded_at"], body, rec["hash"]))
    return Input(path, True, None, report.count), groups


def _from_store(store: Any) -> tuple[Input, dict[str, list[Any]]]:
    from escalate.verify import verify_store

    report = verify_store(store)
    label = f"store {store.path}"
    if not report.ok:
        return Input(label, False, report.problem, report.count), {}
    return Input(label, True, None, report.count), {c: store.entries(c) for c in store.challenge_ids()}


def summarise(files: Iterable[str] = (), store: Any = None, now: dt.datetime | None = None) -> dict[str, Any]:
    from escalate.procedure_file import parse

    now = now or clock.now()
    inputs: list[Input] = []
    challenges: list[tuple[str, list[Any]]] = []
    loaded = [_from_store(store)] if store is not None else []
    loaded += [_from_file(f) for f in files]
    for info, groups in loaded:
        inputs.append(info)
        for cid, rows in groups.items():
            if rows and rows[0].kind == "opened":  # a selection export always starts a challenge at entry 1
                challenges.append((f"{Path(info.label).name}:{cid}", rows))
    snapshots: dict[str, Any] = {}
    by_trigger: Counter[str] = Counter()
    by_agency: Counter[str] = Counter()
    by_procedure: Counter[str] = Counter()
    highest: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    missed = Counter({"us": 0, "them": 0, "both": 0})
    days_to_resolution: list[int] = []
    overdue, late, exports = [], 0, 0
    for key, rows in challenges:
        state = fold(rows)
        fp = state["fingerprint"]
        if fp not in snapshots:
            text = rows[0].content()["data"]["procedure_text"]
            snapshots[fp] = parse(text.encode("utf-8"), f"snapshot of {state['procedure_id']}").procedure
        procedure = snapshots[fp]
        view = derive(state, procedure, now)
        by_trigger.update(state["triggers"])
        by_agency[state["agency"]] += 1
        by_procedure[f"{procedure.partnership} ({state['procedure_id']})"] += 1
        highest[f"{procedure.stage_label} {state['highest_stage']}"] += 1
        outcomes[state["outcome"] or "open"] += 1
        for side, n in view["missed_by"].items():
            missed[side] += n
        if state["resolved_at"]:
            days_to_resolution.append(workcalendar.working_days_between(
                clock.from_iso(state["opened_at"]), clock.from_iso(state["resolved_at"]), procedure.region))
        if view["overdue"]:
            overdue.append(key)
        late += len(state["late"])
        exports += state["exports"]
    days = sorted(days_to_resolution)
    return {
        "inputs": inputs,
        "challenges": len(challenges),
        "by_trigger": dict(by_trigger.most_common()),
        "by_agency": dict(by_agency.most_common()),
        "by_procedure": dict(by_procedure.most_common()),
        "highest_stage": dict(sorted(highest.items())),
        "outcomes": dict(outcomes.most_common()),
        "working_days_to_resolution": {
            "resolved": len(days),
            "median": statistics.median(days) if days else None,
            "p90": days[min(len(days) - 1, int(round(0.9 * (len(days) - 1))))] if days else None,
        },
        "timescales_missed": dict(missed),
        "open_past_deadline": overdue,
        "late_entries": late,
        "exports": exports,
    }
