"""Demo data: a realistic, entirely fictional public-body account (@ExampleshirePolice,
"Examplefordshire Police") written as an official X archive ZIP, and the public's replies to
it as twarc2 JSONL. The quick start imports, indexes and searches these.

    write_demo_archive(path, posts=3000, seed=7) -> DemoSummary
    write_demo_mentions_jsonl(path, posts=3000, seed=7) -> MentionsSummary

Same arguments, same bytes. See ops/docs/demo.md.
"""

from archiver.demo.archive_zip import DemoSummary, write_demo_archive
from archiver.demo.county import FORCE as DEMO_ACCOUNT
from archiver.demo.mentions import MentionsSummary, write_demo_mentions_jsonl
from archiver.demo.timeline import MAX_POSTS, MIN_POSTS, DemoDataError

__all__ = [
    "DEMO_ACCOUNT",
    "MAX_POSTS",
    "MIN_POSTS",
    "DemoDataError",
    "DemoSummary",
    "MentionsSummary",
    "write_demo_archive",
    "write_demo_mentions_jsonl",
]
