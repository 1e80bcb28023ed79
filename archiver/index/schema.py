"""The index schema: one definition of every field, its analysis, and how it is read.

The UI, the exports and the CLI name fields through these constants, never by string.
Choices here are measured by ops/bench/search_bench.py (see ops/docs/search.md).
"""

from __future__ import annotations

import re

from whoosh import fields as wf
from whoosh.analysis import StemmingAnalyzer
from whoosh.columns import NumericColumn

from storage.records import COLLECTION_OF_KIND, KINDS, UNINDEXED_KINDS
from storage.view import EVENTS

# Bump when a field or its analysis changes: an older index must then be rebuilt.
FORMAT = 4  # 3: membership state (is:ended); 4: platform (x, bluesky, mastodon)

# Collections whose items are searchable (the profile describes the account itself; other
# apps' records in a Bluesky repository are kept and counted, never searched as posts).
INDEXED_COLLECTIONS = frozenset(COLLECTION_OF_KIND.values()) - {
    "profile",
    *(COLLECTION_OF_KIND[kind] for kind in UNINDEXED_KINDS),
}
# Collections read while indexing: the items, plus the deletion events that name them.
READ_COLLECTIONS = INDEXED_COLLECTIONS | {EVENTS}
# Kinds whose "text" is a person: their name and username are what people search for.
PEOPLE_KINDS = frozenset({"follower", "following", "list_member", "block"})

# Stemmed words, no stop list: records staff search for "not" and "to" too, and a phrase
# must match what was written. t.co links are dropped (the expanded urls have a field).
ANALYZER = StemmingAnalyzer(stoplist=None)
LINK = re.compile(r"https?://\S+")

# unique "<item id>/<collection>/<account id>": what an update replaces. Collections and
# account ids never hold "/", so the id is everything before the last two slashes (an AT URI
# or a Mastodon status URI has slashes of its own)
KEY = "key"
# the other ids of an edited item's chain (id: and deletion events); an id that is not all
# digits (AT URI, status URI, DID, acct) is here too, lowercased, since a prefix of the key
# cannot name it exactly
IDS = "ids"
TEXT = "text"  # words of the latest and earlier versions (people: name and username)
ACCOUNT = "account"  # the archived account: its handle and its account id, lowercased
PLATFORM = "platform"  # x, bluesky, mastodon (storage.records.platform_of)
KIND = "kind"  # post, reply, repost, quote, mention, like, dm, follower, ...
AUTHOR = "from"  # who wrote it (or who the follower is): username and numeric id
TO = "to"  # who a reply is addressed to: the leading @handles of a reply
HASHTAGS = "hashtag"  # hashtags without "#", lowercased
MENTIONS = "mention"  # mentioned usernames without "@", lowercased
URLS = "url"  # expanded urls and their host names (with and without "www.")
HAS = "has"  # media, images, videos, links, hashtags, mentions
IS = "is"  # deleted, ended, edited, reply, quote, repost
LANG = "lang"  # the language code the source gave
CONVERSATION = "conversation"  # thread id, when the item is not the thread's first post
RUN = "run"  # ids of the runs that captured a version of the item
# column: date order, created_at in epoch seconds << TIE_BITS plus a tie-break taken from the
# item id (0 = undated), so equal times sort the same in a rebuilt and an updated index; also
# what since:/until: read (no numeric postings: 8 terms a document that nothing needs)
CREATED = "created"
# column: numeric account id, for account facets: X's own number, a negative hash of a
# platform-qualified id (items.account_number)
ACCOUNT_NUM = "account_num"
KIND_NUM = "kind_num"  # column: position of the kind in KINDS, for kind facets
STATE = "state"  # stored JSON of the item's versions: shown in hits, merged on update

# Only the meta document has this key: it records which runs the index holds.
META_KEY = "~meta"


def _keywords() -> wf.KEYWORD:
    # not scorable: no per-document length to store; these fields filter, not rank
    return wf.KEYWORD(lowercase=True, commas=False, scorable=False)


def build_schema() -> wf.Schema:
    return wf.Schema(
        **{
            KEY: wf.ID(unique=True, stored=True),
            IDS: _keywords(),
            TEXT: wf.TEXT(analyzer=ANALYZER, phrase=True),
            ACCOUNT: _keywords(),
            KIND: wf.ID(),
            PLATFORM: wf.ID(),
            AUTHOR: _keywords(),
            TO: _keywords(),
            HASHTAGS: _keywords(),
            MENTIONS: _keywords(),
            URLS: _keywords(),
            HAS: _keywords(),
            IS: _keywords(),
            LANG: wf.ID(),
            CONVERSATION: wf.ID(),
            RUN: _keywords(),
            # columns only (no postings): read whole for sorting and facets
            CREATED: wf.COLUMN(NumericColumn("q")),
            ACCOUNT_NUM: wf.COLUMN(NumericColumn("q")),
            KIND_NUM: wf.COLUMN(NumericColumn("B")),
            STATE: wf.STORED(),
        }
    )


TIE_BITS = 20
KIND_NUMBER = {kind: i + 1 for i, kind in enumerate(KINDS)}  # 0 = unknown
