"""A ZIP member's name is checked without a path object when it cannot be unsafe: the same
answer as the whole rule for any name."""

from __future__ import annotations

from pathlib import PurePosixPath

from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.zipsafety import UnsafeZip, check_name

NAMES = st.lists(
    st.sampled_from(["data", "..", ".", "/", "\\", "a:", "C:", "x.js", "...", "..x", ""]),
    max_size=6,
).map("".join) | st.text(max_size=12)


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(NAMES)
def test_the_quick_name_check_answers_as_the_path_rule(name):
    path = PurePosixPath(name.replace("\\", "/"))
    unsafe = path.is_absolute() or ".." in path.parts or name[1:2] == ":"
    try:
        check_name(name)
        refused = False
    except UnsafeZip:
        refused = True
    assert refused == unsafe
