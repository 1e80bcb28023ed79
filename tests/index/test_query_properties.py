"""Property test: any text into the query parser gives a ParsedQuery (a notice when it could
not be read as typed), never an exception; deep nesting is answered with a notice. Fixed
seed (derandomize), bounded examples."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.index.query import MAX_DEPTH, ParsedQuery, parse_query

# the query language's own characters and words, so examples are mostly near-queries
PIECES = st.sampled_from(
    [
        "(",
        ")",
        '"',
        "-",
        " ",
        "OR",
        "AND",
        "NOT",
        "|",
        "*",
        "#",
        "@",
        ":",
        "from:",
        "since:",
        "until:",
        "kind:",
        "has:",
        "is:",
        "id:",
        "2024-01-01",
        "9999-12-31",
        "road",
        "x",
        "\u202e",
    ]
)
QUERIES = st.lists(PIECES | st.text(max_size=3), max_size=60).map("".join) | st.text(max_size=200)


@settings(max_examples=400, derandomize=True, deadline=None, database=None)
@given(QUERIES)
def test_any_text_parses(text):
    parsed = parse_query(text)
    assert isinstance(parsed, ParsedQuery)
    assert parsed.query is not None or parsed.empty or not text.strip() or parsed.notice


@settings(max_examples=50, derandomize=True, deadline=None, database=None)
@given(st.integers(MAX_DEPTH + 1, 2000), st.sampled_from(["(", "NOT ", "-", "-(", "(NOT "]))
def test_deep_nesting_is_a_notice(depth, opener):
    parsed = parse_query(opener * depth + "road")
    assert parsed.notice is not None
    assert "road" in parsed.words
