"""`archiver demo`: the quick start's main job on the embedded default.

Generate the fictional @ExampleshirePolice archive ZIP, the public's replies and the force's
followers and following a month later (twarc2 JSONL), import them, bring the index up to date,
run a search, then serve the UI on localhost. Every step is idempotent: a second run imports
nothing new and reuses the generated files.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from archiver.archive import Archive
from archiver.demo import DEMO_ACCOUNT, write_demo_archive, write_demo_mentions_jsonl
from archiver.demo.network import COLLECTIONS, write_demo_network_jsonl
from archiver.exports.signing import generate_key, load_signing_key
from archiver.imports import import_path
from archiver.index import Index, open_index
from archiver.index.searching import Hit
from archiver.paths import local_dir
from archiver.wording import plural

if TYPE_CHECKING:
    from search_ui.users import UserFile

DEMO_USER = "demo"
SAMPLE_QUERY = "witness appeal"


def demo_files(archive: Archive, posts: int, seed: int) -> tuple[Path, list[Path]]:
    """The demo's source files, in the archive's local folder (archiver/paths.py): the
    archive ZIP, and the twarc2 JSONL of the public's mentions and of the force's followers
    and following a month later (names, counts, and the gains and losses since the ZIP)."""
    folder = local_dir(archive.config) / "demo-sources"
    folder.mkdir(parents=True, exist_ok=True)
    zip_path = folder / f"exampleshire-archive-{posts}-{seed}.zip"
    jsonl_path = folder / f"exampleshire-mentions-{posts}-{seed}.jsonl"
    if not zip_path.exists():
        write_demo_archive(zip_path, posts=posts, seed=seed)
    if not jsonl_path.exists():
        write_demo_mentions_jsonl(jsonl_path, posts=posts, seed=seed)
    jsonl = [jsonl_path]
    for collection in COLLECTIONS:
        path = folder / f"exampleshire-{collection}-{posts}-{seed}.jsonl"
        if not path.exists():
            write_demo_network_jsonl(path, collection, posts=posts, seed=seed)
        jsonl.append(path)
    return zip_path, jsonl


def demo_mastodon_file(archive: Archive, seed: int) -> Path:
    """The demo force's Mastodon account archive ZIP, beside the X sources."""
    from archiver.demo.mastodon import write_demo_mastodon_archive

    path = local_dir(archive.config) / "demo-sources" / f"exampleshire-mastodon-{seed}.zip"
    if not path.exists():
        write_demo_mastodon_archive(path, seed=seed)
    return path


def demo_bluesky_folder(folder: Path, seed: int) -> Path:
    """The force's Bluesky account as a repository backup folder (signed CAR, DID document)."""
    from archiver.demo.bluesky import write_demo_bluesky

    path = folder / f"exampleshire-bluesky-{seed}"
    if not path.exists():
        write_demo_bluesky(path, seed=seed)
    return path


def demo_signing_key(archive: Archive, say: Callable[[str], None]) -> None:
    """Evidence export works in the demo: without a configured key, the demo makes one
    beside its sources (once) and uses it for this process."""
    cfg = archive.config
    if cfg.export.signing_key_env or cfg.export.signing_key_path:
        return
    folder = local_dir(cfg) / "demo-keys"
    path = folder / "demo-signing-key.pem"
    key = (
        load_signing_key(dataclasses.replace(cfg.export, signing_key_path=str(path)))
        if path.exists()
        else generate_key(path)
    )
    archive.config = dataclasses.replace(
        cfg, export=dataclasses.replace(cfg.export, signing_key_path=str(path))
    )
    assert key is not None
    say(f"demo signing key {path} ({key.fingerprint}); evidence bundles are signed with it")


def run_demo(archive: Archive, *, posts: int, seed: int, say: Callable[[str], None]) -> Index:
    """Build the demo archive and index; returns the up-to-date index."""
    demo_signing_key(archive, say)
    zip_path, jsonl_paths = demo_files(archive, posts, seed)
    say(f"demo sources in {zip_path.parent}")
    say(import_path(archive, str(zip_path)).describe())
    for path in jsonl_paths:
        say(import_path(archive, str(path), account=DEMO_ACCOUNT.username).describe())
    say(import_path(archive, str(demo_mastodon_file(archive, seed))).describe())
    say(import_path(archive, str(demo_bluesky_folder(zip_path.parent, seed))).describe())
    index = open_index(archive)
    runs = index.update(archive)
    say(f"index {index.path}: caught up with {plural(runs, 'run')}")
    result = index.search(SAMPLE_QUERY, per_page=5, highlight=False, facets=False)
    say(f'search "{SAMPLE_QUERY}": {plural(result.total, "item")}; the first {len(result.hits)}:')
    for hit in result.hits:
        say(hit_line(hit))
    return index


def hit_line(hit: Hit) -> str:
    """One search hit on a terminal line (an item may have no date: old archives' likes)."""
    text = " ".join((hit.text or "").split())
    day = hit.created_at[:10] if hit.created_at else "undated   "
    return f"  {day} @{hit.author or '?'} [{hit.kind}] {text[:100]}"


def demo_login(users: UserFile) -> str:
    """(Re)create the local demo admin with a fresh password; returns the password."""
    password = secrets.token_urlsafe(12)
    if users.get(DEMO_USER) is not None:
        users.remove(DEMO_USER)
    users.add(DEMO_USER, password, "admin")
    return password
