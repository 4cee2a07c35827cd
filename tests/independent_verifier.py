"""An independent verifier of an escalate store or export, written from docs/log-format.md (no escalate import)."""
import hashlib
import json
import sqlite3
import sys

ZERO = "0" * 64


def read(path):  # (an export's header or None for a store, disclosures by digest, rows)
    if path.endswith(".jsonl"):
        header, *records = [json.loads(line) for line in open(path, encoding="utf-8").read().splitlines()]
        disclosures = {d: v.encode() for r in records for d, v in r.get("disclosures", {}).items()}
        return header, disclosures, [
            (r["seq"], None, None, None, r["inner"], None) if "inner" in r  # a link line
            else (r["seq"], r["challenge"], r["cseq"], r["kind"], r["body"].encode(), r["hash"]) for r in records]
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    return None, dict(db.execute("SELECT digest, bytes FROM disclosures")), db.execute(
        "SELECT seq, challenge, cseq, kind, body, hash FROM entries ORDER BY seq")


def entry_hash(seq, prev, inner, tag):  # E2: the entry's place and the digest of its bytes; E1: the digest
    return inner if tag == "E1" else hashlib.sha256(f"E2 {seq} {prev} {inner}".encode()).hexdigest()


def verify(path):
    header, disclosures, rows = read(path)
    linked = bool(header and header.get("linked"))  # some challenges, and the store's chain from their first entry
    whole = header is None or header["scope"] == "all"  # every entry from entry 1
    prev, last, last_seq, count, withheld, e2 = ZERO, {}, 0, 0, 0, False
    for seq, challenge, cseq, kind, body, stored in rows:
        if challenge is None:  # a link line: another challenge's entry, followed by number and digest
            if not linked or not last_seq or seq != last_seq + 1:
                return f"entry {seq}: a link line out of place"
            prev, last_seq = entry_hash(seq, prev, body, "E2"), seq
            continue
        head, content = bytes(body).split(b"\n", 1)
        tag, h_seq, h_challenge, h_cseq, h_kind, h_prev, h_cprev = head.decode("ascii").split(" ")
        if tag not in ("E1", "E2") or (tag == "E1" and e2):
            return f"entry {seq}: not in a known format (or E1 after E2)"
        if (int(h_seq), h_challenge, int(h_cseq), h_kind) != (seq, challenge, cseq, kind):
            return f"entry {seq}: header does not match its row"
        if seq <= last_seq or (whole or (linked and last_seq)) and seq != last_seq + 1:
            return f"entry {seq}: expected entry {last_seq + 1}"
        digest = entry_hash(seq, h_prev, hashlib.sha256(body).hexdigest(), tag)
        if digest != stored:
            return f"entry {seq}: hash mismatch"
        if seq == last_seq + 1 and h_prev != prev:  # an export of some challenges, unlinked, skips the others
            return f"entry {seq}: broken store chain"
        want = last.get(challenge, (0, ZERO))
        if (int(h_cseq), h_cprev) != (want[0] + 1, want[1]):
            return f"entry {seq}: broken challenge chain"
        for sd in find_digests(json.loads(content)):
            if sd in disclosures and hashlib.sha256(disclosures[sd]).hexdigest() != sd:
                return f"entry {seq}: disclosure mismatch"
            withheld += sd not in disclosures
        prev, last[challenge], last_seq, count, e2 = digest, (cseq, digest), seq, count + 1, tag == "E2"
    problem = header and header_problem(header, count, last_seq, prev, set(last), withheld, len(disclosures))
    return problem or f"OK {count} {prev}" + (f" withheld {withheld}" if withheld else "")


def header_problem(header, count, last_seq, head, challenges, withheld, disclosed):  # bound to the lines
    if count != header["entries"]:
        return f"{count} entries, but the header announces {header['entries']}"
    if sorted(header["challenges"]) != sorted(challenges):
        return "the header names other challenges than the lines hold"
    if (withheld and not header["redacted"]) or (disclosed and header["redacted"]):
        return "the header's redacted is not what the lines hold"
    fingerprint = f"{last_seq}:{head[0:4]}-{head[4:8]}-{head[8:12]}-{head[12:16]}"
    if (header["scope"] == "all" or header.get("linked")) and header["store_fingerprint"] != fingerprint:
        return "the header's store fingerprint is not the last entry's"


def find_digests(node):
    if isinstance(node, dict) and set(node) == {"_sd"}:
        yield node["_sd"]
    for value in node.values() if isinstance(node, dict) else node if isinstance(node, list) else ():
        yield from find_digests(value)


if __name__ == "__main__":
    print(verify(sys.argv[1]))
