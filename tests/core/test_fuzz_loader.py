"""The loader's only outcomes are a procedure or the project's own error."""

from __future__ import annotations

from helpers import DATA
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalate.errors import ProcedureFileError
from escalate.procedure_file import parse

MINIMAL = (DATA / "minimal.toml").read_text()


def outcome(data: bytes) -> None:
    try:
        parse(data, "fuzz.toml")
    except ProcedureFileError as exc:
        assert exc.problems and all(p.path == "fuzz.toml" for p in exc.problems)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes(data):
    outcome(data)


toml_keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-", min_size=1, max_size=12)
toml_scalars = st.one_of(
    st.integers(-(10**6), 10**6),
    st.text(max_size=20),
    st.booleans(),
    st.dates(),
    st.floats(allow_nan=False, allow_infinity=False),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(toml_keys, inner, max_size=4)),
    max_leaves=20,
)


def to_toml(doc: dict) -> str:
    """A tiny TOML writer for generated documents (inline tables only)."""
    import datetime as dt
    import json

    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return "{" + ", ".join(f'"{k}" = {value(x)}' for k, x in v.items()) + "}"

    return "\n".join(f'"{k}" = {value(v)}' for k, v in doc.items()) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(toml_keys, toml_values, max_size=8))
def test_random_toml_documents(doc):
    outcome(to_toml(doc).encode())


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(MINIMAL) - 1), st.integers(1, 30), st.text(max_size=10))
def test_mutated_valid_procedure(position, length, replacement):
    mutated = MINIMAL[:position] + replacement + MINIMAL[position + length :]
    outcome(mutated.encode("utf-8", "replace"))
