"""A Bluesky repository CAR, read and verified: the one place that decides a repository is
what its account signed.

A repository export (`com.atproto.sync.getRepo`, or the file a user downloads) is a CAR v1 file:
a header naming the signed commit, then blocks, each its CID and its DAG-CBOR bytes. It is
trusted only when

1. every block hashes to its CID (SHA-256, as the CID says) and the file is not cut short;
2. the root block is a commit for the expected DID, and its signature verifies against the
   account's signing key (from the DID document);
3. every record is reached through the Merkle Search Tree from the commit's `data` root (a
   missing node or record block is a broken repository, not a smaller one).

An incremental export (`since`) carries only the blocks changed since a revision: the blocks
the archive already holds are passed as `prior`, and the same checks run over both.

Blocks are hashed and framed here (a small, strict reader: every byte accounted for); the MST
is walked with atmst, DAG-CBOR decoded with cbrrr (whose `atjson_mode` is the atproto JSON form
the SDK writes: `{"$link": cid}`, `{"$bytes": base64}`), and the signature checked with the
atproto SDK's atproto_crypto.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import cbrrr
import libipld
from atmst.blockstore import MemoryBlockStore
from atmst.mst.node_store import NodeStore
from atmst.mst.node_walker import NodeWalker
from atproto_core.exceptions import AtProtocolError as _CryptoError
from atproto_crypto.verify import verify_signature

from archiver.errors import ArchiveFormatError

# CIDv1 prefixes the repository uses: DAG-CBOR (0x71) or raw (0x55), SHA-256 (0x12), 32 bytes
_DAG_CBOR = b"\x01\x71\x12\x20"
_RAW = b"\x01\x55\x12\x20"
_CID_LEN = 36
MAX_BLOCK = 16 << 20  # no repository block comes near this; a larger length is a broken file


class RepoError(ArchiveFormatError):
    """A repository that is not what its account signed; the message is one line."""


@dataclass(frozen=True)
class RepoRecord:
    collection: str
    rkey: str
    cid: str
    value: dict[str, Any]  # the record in the atproto JSON form

    def uri(self, did: str) -> str:
        return f"at://{did}/{self.collection}/{self.rkey}"


@dataclass
class Repository:
    did: str
    rev: str
    commit_cid: str
    data_cid: str
    version: int
    commit: dict[str, Any]  # the commit as signed (JSON form), for evidence
    signing_key: str  # the did:key the signature verified against ("": not checked)
    records: list[RepoRecord] = field(default_factory=list)
    blocks: dict[bytes, bytes] = field(default_factory=dict)  # every block the checks used
    unreached: int = 0  # blocks in the file no path from the commit reaches

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for rec in self.records:
            out[rec.collection] = out.get(rec.collection, 0) + 1
        return out


def cid_text(cid: bytes | cbrrr.CID) -> str:
    """A CID's text form (multibase base32, "b..."), by the SDK's libipld (Rust; cbrrr's
    pure-Python `encode` was a third of an import's time)."""
    return str(libipld.encode_cid(bytes(cid)))


def _varint(data: memoryview, pos: int, what: str) -> tuple[int, int]:
    n = shift = 0
    while True:
        if pos >= len(data):
            raise RepoError(f"truncated CAR: the file ends inside {what}")
        byte = data[pos]
        pos += 1
        n |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return n, pos
        shift += 7
        if shift > 63:
            raise RepoError(f"not a CAR file: {what} is not a valid length")


def read_car(data: bytes) -> tuple[bytes, dict[bytes, bytes]]:
    """(root CID bytes, {CID bytes: block bytes}), every block checked against its CID."""
    view = memoryview(data)
    size, pos = _varint(view, 0, "the header length")
    if size == 0 or size > MAX_BLOCK:
        raise RepoError("not a CAR file: the header length is implausible")
    if pos + size > len(view):
        raise RepoError("truncated CAR: the file ends inside the header")
    try:
        header = cbrrr.decode_dag_cbor(bytes(view[pos : pos + size]))
    except (ValueError, cbrrr.CbrrrDecodeError) as exc:
        raise RepoError(f"not a CAR file: the header is not DAG-CBOR ({exc})") from None
    pos += size
    if not isinstance(header, dict) or header.get("version") != 1:
        raise RepoError("not a CAR v1 file: the header has no version 1")
    roots = header.get("roots")
    if not isinstance(roots, list) or not roots or not isinstance(roots[0], cbrrr.CID):
        raise RepoError("not a repository CAR: the header names no root commit")
    blocks: dict[bytes, bytes] = {}
    while pos < len(view):
        start = pos
        length, pos = _varint(view, pos, f"the length of block {len(blocks) + 1}")
        if length < _CID_LEN or length > MAX_BLOCK:
            raise RepoError(
                f"not a repository CAR: block {len(blocks) + 1} at byte {start} "
                "has an impossible length"
            )
        if pos + length > len(view):
            raise RepoError(
                f"truncated CAR: block {len(blocks) + 1} at byte {start} needs {length} bytes, "
                f"the file has {len(view) - pos}"
            )
        cid = bytes(view[pos : pos + _CID_LEN])
        body = view[pos + _CID_LEN : pos + length]
        pos += length
        if cid[:4] not in (_DAG_CBOR, _RAW):
            raise RepoError(
                f"not a repository CAR: block {len(blocks) + 1} has a CID that is not "
                "SHA-256 DAG-CBOR or raw"
            )
        if hashlib.sha256(body).digest() != cid[4:]:
            raise RepoError(
                f"block {cbrrr.CID(cid).encode()} does not hash to its CID "
                "(the file was altered or damaged)"
            )
        blocks[cid] = bytes(body)
    return bytes(roots[0]), blocks


def signing_input(commit: Mapping[str, Any]) -> bytes:
    """What the account's key signs: the commit without `sig`, as DAG-CBOR."""
    return cbrrr.encode_dag_cbor({k: v for k, v in commit.items() if k != "sig"})


def _decode(blocks: Mapping[bytes, bytes], cid: bytes, what: str, atjson: bool = False) -> Any:
    body = blocks.get(cid)
    if body is None:
        raise RepoError(f"incomplete repository: {what} {cbrrr.CID(cid).encode()} is missing")
    try:
        return cbrrr.decode_dag_cbor(body, atjson_mode=atjson)
    except (ValueError, cbrrr.CbrrrDecodeError) as exc:
        raise RepoError(f"{what} {cbrrr.CID(cid).encode()} is not DAG-CBOR ({exc})") from None


def check_commit(commit: object, *, did: str | None, key: str | None) -> tuple[str, str, cbrrr.CID]:
    """(did, rev, data root) of a commit whose DID and signature are right."""
    if not isinstance(commit, dict):
        raise RepoError("the root block is not a commit object")
    cdid, rev, data, sig = (commit.get(k) for k in ("did", "rev", "data", "sig"))
    if not isinstance(cdid, str) or not isinstance(data, cbrrr.CID) or not isinstance(sig, bytes):
        raise RepoError("the root block is not a signed repository commit (did, data, sig)")
    if commit.get("version") not in (2, 3):
        raise RepoError(f"unsupported repository version {commit.get('version')!r}")
    if did is not None and cdid != did:
        raise RepoError(f"the commit is for {cdid}, not the account's {did}")
    if key is not None:
        try:
            good = verify_signature(key, signing_input(commit), sig)
        except (_CryptoError, ValueError) as exc:
            raise RepoError(f"the signing key {key} cannot be used ({exc})") from None
        if not good:
            raise RepoError(f"the commit signature does not verify against the account's key {key}")
    return cdid, str(rev or ""), data


def verify_car(
    data: bytes,
    *,
    did: str | None,
    key: str | None,
    prior: Mapping[bytes, bytes] | None = None,
) -> Repository:
    """Read, check and walk a repository CAR (see the module docstring). `key` None: the
    signature is not checked (an import the user allowed to be partial, with a gap)."""
    root, blocks = read_car(data)
    repo = verify_blocks(root, {**prior, **blocks} if prior else blocks, did=did, key=key)
    repo.unreached = len(set(blocks) - set(repo.blocks))
    return repo


def verify_blocks(
    root: bytes | str, available: Mapping[bytes, bytes], *, did: str | None, key: str | None
) -> Repository:
    """Check the commit `root` (CID bytes or text) and walk its tree through `available`."""
    if isinstance(root, str):
        root = bytes(cbrrr.CID.decode(root))
    commit = _decode(available, root, "the commit block")
    cdid, rev, data_root = check_commit(commit, did=did, key=key)
    store = NodeStore(MemoryBlockStore(dict(available)))
    records: list[RepoRecord] = []
    used = {root}
    try:
        for node_cid in NodeWalker(store, data_root).iter_node_cids():
            used.add(bytes(node_cid))
        for path, rcid in NodeWalker(store, data_root).iter_kv():
            collection, _, rkey = path.partition("/")
            cid = bytes(rcid)
            value = _decode(available, cid, f"record {path}", atjson=True)
            if not isinstance(value, dict):
                raise RepoError(f"record {path} is not an object")
            used.add(cid)
            records.append(RepoRecord(collection, rkey, cid_text(cid), value))
    except KeyError:  # atmst names no CID: the node under a present one is absent
        raise RepoError(
            "incomplete repository: a Merkle tree node is missing (a partial or cut-short file)"
        ) from None
    except ValueError as exc:  # atmst's checks of a node's shape and key order
        if isinstance(exc, RepoError):
            raise
        raise RepoError(f"the repository's Merkle tree is malformed ({exc})") from None
    return Repository(
        did=cdid,
        rev=rev,
        commit_cid=cid_text(root),
        data_cid=cid_text(data_root),
        version=int(commit["version"]),
        commit=_decode(available, root, "the commit block", atjson=True),
        signing_key=key or "",
        records=records,
        blocks={c: available[c] for c in used},
    )


def iter_paths(repo: Repository) -> Iterator[str]:
    for rec in repo.records:
        yield f"{rec.collection}/{rec.rkey}"


def proof_car(repo: Repository, collection: str, rkey: str) -> bytes:
    """A small CAR proving one record: the signed commit, the MST nodes on the record's path,
    and the record itself (atmst's inclusion proof), rooted at the commit."""
    from atmst.mst.proof import build_inclusion_proof

    store = NodeStore(MemoryBlockStore(dict(repo.blocks)))
    root = cbrrr.CID.decode(repo.commit_cid)
    data_root = cbrrr.CID.decode(repo.data_cid)
    nodes = build_inclusion_proof(store, data_root, f"{collection}/{rkey}")
    record = next(r for r in repo.records if r.collection == collection and r.rkey == rkey)
    cids = [bytes(root), *sorted(bytes(n) for n in nodes), bytes(cbrrr.CID.decode(record.cid))]
    return write_car(bytes(root), [(c, repo.blocks[c]) for c in cids])


def write_car(root: bytes, blocks: list[tuple[bytes, bytes]]) -> bytes:
    """A CAR v1 file of these blocks (CID bytes, block bytes), rooted at `root`."""
    header = cbrrr.encode_dag_cbor({"version": 1, "roots": [cbrrr.CID(root)]})
    out = bytearray(_uvarint(len(header)) + header)
    for cid, body in blocks:
        out += _uvarint(len(cid) + len(body)) + cid + body
    return bytes(out)


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    out.append(n)
    return bytes(out)
