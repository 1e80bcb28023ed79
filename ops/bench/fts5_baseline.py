"""The baseline: SQLite FTS5 (porter) over the same runs, doing the same work per query.

Each query counts every match, fetches the top 20 (by bm25 or by date) with highlights, and
counts facets by account, kind and month, as Index.search does with its defaults.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from storage.records import item_key
from storage.runs import iter_records, list_runs
from storage.store import ObjectStore

SCHEMA = """
CREATE VIRTUAL TABLE posts USING fts5(
    text, account UNINDEXED, kind UNINDEXED, created UNINDEXED, tokenize='porter unicode61'
);
CREATE TABLE keys(key TEXT PRIMARY KEY, id INTEGER) WITHOUT ROWID;
"""
COLLECTIONS = ("tweets", "mentions")


def build(store: ObjectStore, path: Path) -> int:
    """Every post's latest text, one transaction per build (FTS5's fast path)."""
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    count = _insert(db, store, list_runs(store))
    db.close()
    return count


def add_runs(path: Path, store: ObjectStore, manifests: list[Any]) -> int:
    db = sqlite3.connect(path)
    count = _insert(db, store, manifests)
    db.close()
    return count


def _insert(db: sqlite3.Connection, store: ObjectStore, manifests: list[Any]) -> int:
    count = 0
    with db:
        for manifest in manifests:
            for collection in COLLECTIONS:
                for rec in iter_records(store, manifest, collection):
                    key = f"{manifest.account_id}/{collection}/{item_key(rec)}"
                    old = db.execute("SELECT id FROM keys WHERE key = ?", (key,)).fetchone()
                    if old:
                        db.execute("DELETE FROM posts WHERE rowid = ?", old)
                    cur = db.execute(
                        "INSERT INTO posts(text, account, kind, created) VALUES (?, ?, ?, ?)",
                        (rec["text"], rec["account"], rec["kind"], rec["created_at"] or ""),
                    )
                    db.execute("INSERT OR REPLACE INTO keys VALUES (?, ?)", (key, cur.lastrowid))
                    count += 1
    return count


class Searcher:
    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False)

    def search(
        self,
        match: str,
        *,
        account: str | None = None,
        since: str | None = None,
        until: str | None = None,
        sort: str = "relevance",
        highlight: bool = True,
        facets: bool = True,
    ) -> tuple[int, list[Any], list[Any]]:
        where, args = "posts MATCH ?", [match]
        if account:
            where += " AND account = ?"
            args.append(account)
        if since:
            where += " AND created >= ?"
            args.append(since)
        if until:
            where += " AND created < ?"
            args.append(until)
        total = self.db.execute(f"SELECT count(*) FROM posts WHERE {where}", args).fetchone()[0]
        shown = "highlight(posts, 0, '<b class=\"match\">', '</b>')" if highlight else "text"
        order = "rank" if sort == "relevance" else "created DESC"
        hits = self.db.execute(
            f"SELECT rowid, {shown}, account, kind, created FROM posts WHERE {where} "
            f"ORDER BY {order} LIMIT 20",
            args,
        ).fetchall()
        counts = []
        if facets:
            counts = self.db.execute(
                f"SELECT account, kind, substr(created, 1, 7), count(*) FROM posts "
                f"WHERE {where} GROUP BY 1, 2, 3",
                args,
            ).fetchall()
        return total, hits, counts
