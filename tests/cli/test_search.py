"""`escalate search`: challenges found by the child's name, a case reference or any recorded words,
on both stores; only what the store holds in clear, and garbage refused."""

from __future__ import annotations

import json

import pytest

from escalate import journal

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def run(run_cli):
    assert run_cli("config", "set", "name", "Alex Example")[0] == 0
    assert run_cli("config", "set", "role", "DSL")[0] == 0
    return run_cli


def opened(run, ref: str, name: str, concern: str, agency: str = "Northtown CSC") -> str:
    code, out, err = run(
        "open", "--procedure", "london-children", "--trigger", "threshold-misapplied", "--decision", "NFA",
        "--case-ref", ref, "--subject-name", name, "--agency", agency, "--concern", concern,
        "--at", "16/11/2026 09:00",
    )  # fmt: skip
    assert code == 0, err
    return out.strip()


def found(run, *words: str) -> list[str]:
    code, out, err = run("search", *words, "--json")
    assert code == 0, err
    return [f["challenge"] for f in json.loads(out)]


def test_by_the_childs_name_a_reference_and_recorded_words(run):
    q = opened(run, "REF-1001", "Jamie Fictional", "Bruising seen twice in a week")
    r = opened(run, "REF-2002", "Robin Example", "Missed health appointments", agency="Southtown CSC")
    assert found(run, "jamie") == [q]
    assert found(run, "Jam", "FICT") == [q]  # word starts, any case
    assert found(run, "fictional", "robin") == []  # every word, in one entry
    assert found(run, "REF-2002") == [r]
    assert found(run, "bruising") == [q]
    assert found(run, "southtown") == [r]
    assert found(run, "csc") == [r, q]  # the newest match first
    run(
        "record", q, "contact", "--medium", "phone", "--summary", "Spoke to the duty manager about the strategy meeting"
    )
    assert found(run, "strategy", "meeting") == [q]  # entries recorded after the first search are found
    assert found(run, "nothing-recorded-like-this") == []


def test_a_corrected_name_is_found_and_so_is_the_one_it_corrected(run):
    q = opened(run, "REF-1001", "Jamie Fictional", "Bruising")
    assert run("amend", q, "1", "--field", "subject_name", "--value", "Jaime Fictional", "--reason", "Misspelt")[0] == 0
    assert found(run, "jaime") == [q]
    assert found(run, "jamie") == [q]  # the log keeps what was first recorded


def test_the_words_of_the_procedure_and_the_program_are_not_searched(run):
    opened(run, "REF-1001", "Jamie Fictional", "Bruising")
    for word in ("escalation", "procedures", "2026", "escalate.sqlite3"):  # its text, its times, its path
        assert found(run, word) == [], word


def test_plain_output_names_the_challenge_and_shows_the_match(run):
    q = opened(run, "REF-1001", "Jamie Fictional", "Bruising seen twice in a week")
    code, out, _ = run("search", "bruising")
    assert code == 0
    first, snippet = out.splitlines()[:2]
    assert first == f"{q} · REF-1001 · Northtown CSC · open · 1 entry"
    assert "Bruising seen twice" in snippet
    code, out, _ = run("search", "absent")
    assert code == 0 and out.strip() == "No challenge holds 'absent'."


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["!!!"], "has no words"),
        (["' OR 1=1 --"], None),  # words only: no query syntax reaches the index
        (['"jamie'], None),
        (["jamie", "--limit", "0"], "is not a number of challenges"),
        (["a b c d e f g h i j k l m"], "at most 12"),
        (["NEAR(jamie", "AND", "*"], None),
    ],
)
def test_garbage_is_refused_or_read_as_words(run, argv, says):
    q = opened(run, "REF-1001", "Jamie Fictional", "Bruising")
    code, out, err = run("search", *argv, "--json")
    if says is None:
        assert code == 0, err
        assert {f["challenge"] for f in json.loads(out)} <= {q}
    else:
        assert code == 2 and says in err


def test_an_index_made_by_another_version_or_missing_is_made_again(run, backend):
    q = opened(run, "REF-1001", "Jamie Fictional", "Bruising")
    assert found(run, "jamie") == [q]
    if backend.startswith("postgresql"):  # a team store an older escalate made: its administrator upgrades it
        import psycopg

        with psycopg.connect(backend, autocommit=True) as admin:
            admin.execute("DROP TABLE search_text")
        code, _, err = run("search", "jamie")
        assert code == 3 and "made before search" in err and "team upgrade" in err
        code, out, err = run("team", "upgrade", backend)
        assert code == 0 and "added search" in out, err
        assert run("team", "upgrade", backend)[1].endswith("has everything this escalate needs\n")
    else:  # a desk's index is a cache: one of another format is made again from the log
        with journal.store_at(backend) as store:
            store.conn.execute("UPDATE meta SET value = 'S0' WHERE key = 'search_format'")
            store.conn.execute("DELETE FROM search_index")
    assert found(run, "jamie") == [q]
