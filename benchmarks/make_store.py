"""Build a large store fast, with the real entry format and fold (bulk inserts, one transaction per batch).

Run: python benchmarks/make_store.py OUT.sqlite3 [--challenges 10000] [--per 100]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from escalate import clock, entry
from escalate.catalogue import discover
from escalate.challenge import FOLD, fold_step
from escalate.journal import store_at
from escalate.store import StoredEntry

AUTHOR = {"name": "Alex Example", "role": "DSL", "setting": "Fictional School", "os_user": "bench"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--challenges", type=int, default=10_000)
    ap.add_argument("--per", type=int, default=100)
    ap.add_argument(
        "--people",
        type=int,
        default=0,
        help="people each challenge's contacts name, in turn (0: a new person every time, the worst "
        "case for disclosures)",
    )
    args = ap.parse_args()
    out = Path(args.out)
    if out.exists():
        out.unlink()
    rng = random.Random(7)
    procedures = list(discover().procedures.values())
    store = store_at(out)
    c = store.conn
    c.execute("PRAGMA synchronous = OFF")  # generation only; the benchmark reopens with FULL
    seq, prev = 0, entry.ZERO_HASH
    start = dt.datetime(2026, 1, 5, 9, tzinfo=dt.timezone.utc)
    rows, discl, states = [], [], []

    def worker(k: int) -> str:
        return f"Worker {k % args.people if args.people else k}"

    key = store._disclosure_key()
    seen: set[str] = set()
    c.execute("BEGIN")
    for n in range(1, args.challenges + 1):
        cid = f"C-{n:04d}"
        lp = procedures[n % len(procedures)]
        opened_at = start + dt.timedelta(minutes=47 * n)
        state, cprev = None, entry.ZERO_HASH
        for k in range(1, args.per + 1):
            seq += 1
            at = clock.iso(opened_at + dt.timedelta(hours=3 * k))
            if k == 1:
                kind = "opened"
                data = {
                    "procedure_id": lp.id,
                    "procedure_version": lp.procedure.version,
                    "procedure_fingerprint": lp.fingerprint,
                    "procedure_text": lp.text,
                    "case_ref": f"Child {n}",
                    "agency": rng.choice(["Northtown CSC", "Southby MASH", "Eastham CSC"]),
                    "decision": "NFA",
                    "triggers": [rng.choice(["disputed-referral", "non-cooperation", "unrecognised-harm"])],
                    "concern": "Fictional concern",
                    "immediate_risk": False,
                    "route": "main",
                    "start_stage": lp.procedure.first_stage().number,
                }
            elif k % 10 == 0:
                kind, data = "response", {"decision": "Under review", "with": {"name": worker(k), "role": "SW"}}
            else:
                kind = "contact"
                data = {
                    "direction": "made",
                    "medium": "phone",
                    "with": {"name": worker(k), "role": "SW"},
                    "summary": f"Follow-up call {k} about the referral outcome",
                }
            ds: list[tuple[str, bytes]] = []
            salt = entry.keyed_salt(key, cid)  # as Store.append salts them: one disclosure per person per challenge
            content = {
                "author": entry.conceal(AUTHOR, ds, salt),
                "data": entry.conceal(data, ds, salt),
                "occurred_at": at,
                "recorded_at": at,
            }
            body = entry.build(seq, cid, k, kind, prev, cprev, content)
            h = entry.hash_of(seq, prev, body)
            e = StoredEntry(seq, cid, k, kind, at, at, body, h)
            rows.append(e)
            for d, b in ds:
                if d not in seen:
                    seen.add(d)
                    discl.append((d, seq, b))
            state = fold_step(state, e, entry.parse_content(kind, content))
            prev = cprev = h
        assert state is not None
        states.append((cid, args.per, FOLD.dump(state)))
        c.execute("INSERT INTO challenges VALUES (?, ?)", (cid, seq - args.per + 1))
        if len(rows) >= 50_000:
            c.executemany("INSERT INTO entries VALUES (?,?,?,?,?,?,?,?)", rows)
            c.executemany("INSERT INTO disclosures VALUES (?,?,?)", discl)
            rows, discl = [], []
    c.executemany("INSERT INTO entries VALUES (?,?,?,?,?,?,?,?)", rows)
    c.executemany("INSERT INTO disclosures VALUES (?,?,?)", discl)
    c.executemany("INSERT INTO state_cache (challenge, cseq, state) VALUES (?,?,?)", states)
    c.execute("COMMIT")
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    print(f"{out}: {args.challenges} challenges, {seq} entries")


if __name__ == "__main__":
    main()
