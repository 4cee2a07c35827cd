"""An independent verifier of an escalate store, written from the README alone (no escalate import)."""
import hashlib
import json
import sqlite3
import sys

ZERO = "0" * 64


def verify(path):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    disclosures = dict(db.execute("SELECT digest, bytes FROM disclosures"))
    prev, last = ZERO, {}
    count = 0
    for seq, challenge, cseq, kind, body, stored in db.execute(
            "SELECT seq, challenge, cseq, kind, body, hash FROM entries ORDER BY seq"):
        head, content = bytes(body).split(b"\n", 1)
        tag, h_seq, h_challenge, h_cseq, h_kind, h_prev, h_cprev = head.decode("ascii").split(" ")
        if tag != "E1" or (int(h_seq), h_challenge, int(h_cseq), h_kind) != (seq, challenge, cseq, kind):
            return f"entry {seq}: header does not match its row"
        if seq != count + 1:
            return f"entry {seq}: expected entry {count + 1}"
        digest = hashlib.sha256(body).hexdigest()
        if digest != stored:
            return f"entry {seq}: hash mismatch"
        if h_prev != prev:
            return f"entry {seq}: broken store chain"
        want = last.get(challenge, (0, ZERO))
        if (int(h_cseq), h_cprev) != (want[0] + 1, want[1]):
            return f"entry {seq}: broken challenge chain"
        for sd in find_digests(json.loads(content)):
            if sd in disclosures and hashlib.sha256(disclosures[sd]).hexdigest() != sd:
                return f"entry {seq}: disclosure mismatch"
        prev, last[challenge], count = digest, (cseq, digest), count + 1
    return f"OK {count} {prev}"


def find_digests(node):
    if isinstance(node, dict):
        if set(node) == {"_sd"}:
            yield node["_sd"]
        for value in node.values():
            yield from find_digests(value)
    elif isinstance(node, list):
        for value in node:
            yield from find_digests(value)


if __name__ == "__main__":
    print(verify(sys.argv[1]))
