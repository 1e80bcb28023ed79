"""Writing a signed Bluesky repository: for the demo data and the PDS double in the tests.

The atproto SDK reads repositories but has no writer, so the Merkle Search Tree is built with
atmst (the same library repo.py walks it with), blocks encoded with cbrrr, and each commit
signed with an secp256k1 (ES256K) or P-256 (ES256) key through `cryptography`, deterministic
(RFC 6979) and low-S, as atproto requires. Records are given in the atproto JSON form
(`{"$link": cid}` for blob refs), exactly what repo.py hands back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cbrrr
from atmst.blockstore import MemoryBlockStore
from atmst.mst.node_store import NodeStore
from atmst.mst.node_walker import NodeWalker
from atmst.mst.node_wrangler import NodeWrangler
from atproto_crypto.did import format_did_key
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from archiver.platforms.bluesky.repo import signing_input, write_car

_TID = "234567abcdefghijklmnopqrstuvwxyz"
_ORDERS = {"secp256k1": (ec.SECP256K1(), "ES256K"), "secp256r1": (ec.SECP256R1(), "ES256")}
_N = {
    "secp256k1": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
    "secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
}


def tid(micros: int, clock: int = 0) -> str:
    """A TID (record key / revision) for a moment in microseconds since the epoch."""
    value = (micros << 10) | (clock & 0x3FF)
    return "".join(_TID[(value >> (5 * i)) & 31] for i in range(12, -1, -1))


@dataclass
class SigningKey:
    private: ec.EllipticCurvePrivateKey

    @classmethod
    def from_secret(cls, secret: int, curve: str = "secp256k1") -> SigningKey:
        return cls(ec.derive_private_key(secret, _ORDERS[curve][0]))

    @classmethod
    def generate(cls, curve: str = "secp256k1") -> SigningKey:
        return cls(ec.generate_private_key(_ORDERS[curve][0]))

    @property
    def _curve(self) -> str:
        return self.private.curve.name

    @property
    def did_key(self) -> str:
        point = self.private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return format_did_key(_ORDERS[self._curve][1], point)

    @property
    def multibase(self) -> str:
        return self.did_key[len("did:key:") :]

    def sign(self, data: bytes) -> bytes:
        der = self.private.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        r, s = decode_dss_signature(der)
        n = _N[self._curve]
        s = min(s, n - s)  # low-S: the form atproto accepts
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def did_document(did: str, key: SigningKey, handle: str, pds: str) -> dict[str, Any]:
    """The W3C DID document a PLC directory serves for such an account."""
    return {
        "@context": [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/multikey/v1",
            "https://w3id.org/security/suites/secp256k1-2019/v1",
        ],
        "id": did,
        "alsoKnownAs": [f"at://{handle}"],
        "verificationMethod": [
            {
                "id": f"{did}#atproto",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": key.multibase,
            }
        ],
        "service": [
            {"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": pds}
        ],
    }


@dataclass
class Commit:
    rev: str
    cid: bytes
    data: cbrrr.CID
    blocks: set[bytes]  # every block this revision's repository is made of


@dataclass
class RepoBuilder:
    """An account's repository, revision by revision, with every block it ever held."""

    did: str
    key: SigningKey
    blocks: dict[bytes, bytes] = field(default_factory=dict)
    commits: list[Commit] = field(default_factory=list)
    records: dict[str, cbrrr.CID] = field(default_factory=dict)  # path -> record CID

    def __post_init__(self) -> None:
        self._ns = NodeStore(MemoryBlockStore(self.blocks))
        self._wrangler = NodeWrangler(self._ns)
        self._root = self._ns.get_node(None).cid

    def put(self, collection: str, rkey: str, value: dict[str, Any]) -> str:
        """Add or replace a record (atproto JSON form); its AT URI."""
        body = cbrrr.encode_dag_cbor(value, atjson_mode=True)
        cid = cbrrr.CID.cidv1_dag_cbor_sha256_32_from(body)
        self.blocks[bytes(cid)] = body
        path = f"{collection}/{rkey}"
        self._root = self._wrangler.put_record(self._root, path, cid)
        self.records[path] = cid
        return f"at://{self.did}/{path}"

    def delete(self, collection: str, rkey: str) -> None:
        path = f"{collection}/{rkey}"
        self._root = self._wrangler.del_record(self._root, path)
        self.records.pop(path, None)

    def commit(self, rev: str, *, sign_with: SigningKey | None = None) -> Commit:
        """Sign the current tree as revision `rev` (revisions must increase)."""
        unsigned = {
            "did": self.did,
            "version": 3,
            "data": self._root,
            "rev": rev,
            "prev": None,
        }
        signed = {**unsigned, "sig": (sign_with or self.key).sign(signing_input(unsigned))}
        body = cbrrr.encode_dag_cbor(signed)
        cid = bytes(cbrrr.CID.cidv1_dag_cbor_sha256_32_from(body))
        self.blocks[cid] = body
        used = {cid, *(bytes(n) for n in NodeWalker(self._ns, self._root).iter_node_cids())}
        used |= {bytes(c) for c in self.records.values()}
        commit = Commit(rev, cid, self._root, used)
        self.commits.append(commit)
        return commit

    def car(self, commit: Commit | None = None, *, since: str | None = None) -> bytes:
        """The CAR getRepo serves: the whole repository at `commit` (the latest by default),
        or with `since` only the blocks that revision did not already hold."""
        commit = commit or self.commits[-1]
        held: set[bytes] = set()
        if since is not None:
            base = next((c for c in self.commits if c.rev == since), None)
            held = base.blocks if base is not None else set()
        order = [commit.cid, *sorted(commit.blocks - {commit.cid})]
        return write_car(commit.cid, [(c, self.blocks[c]) for c in order if c not in held])


def plc_data(did: str, key: SigningKey, handle: str, pds: str) -> dict[str, Any]:
    """The PLC directory's `/data` for such an account (what backups save as `_plc.json`)."""
    return {
        "did": did,
        "verificationMethods": {"atproto": key.did_key},
        "rotationKeys": [key.did_key],
        "alsoKnownAs": [f"at://{handle}"],
        "services": {"atproto_pds": {"type": "AtprotoPersonalDataServer", "endpoint": pds}},
    }


def blob_ref(data: bytes, mime: str) -> dict[str, Any]:
    """A record's reference to a blob, in the atproto JSON form."""
    from archiver.platforms.bluesky.imports import raw_blob_cid

    return {
        "$type": "blob",
        "ref": {"$link": raw_blob_cid(data)},
        "mimeType": mime,
        "size": len(data),
    }


def write_backup_folder(
    folder: Path, builder: RepoBuilder, handle: str, pds: str, blobs: dict[str, bytes]
) -> Path:
    """The common backup tools' layout: <handle>.car, .json (DID doc), _plc.json, _blobs/."""
    import orjson

    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{handle}.car").write_bytes(builder.car())
    doc = did_document(builder.did, builder.key, handle, pds)
    opts = orjson.OPT_INDENT_2
    (folder / f"{handle}.json").write_bytes(orjson.dumps(doc, option=opts))
    plc = plc_data(builder.did, builder.key, handle, pds)
    (folder / f"{handle}_plc.json").write_bytes(orjson.dumps(plc, option=opts))
    if blobs:
        (folder / f"{handle}_blobs").mkdir(exist_ok=True)
        for cid, data in sorted(blobs.items()):
            (folder / f"{handle}_blobs" / cid).write_bytes(data)
    return folder
