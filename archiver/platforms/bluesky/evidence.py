"""Proof of a Bluesky record for an evidence bundle: the blocks that show the account's own key
signed it, in a form a stranger can check without social-archive.

For each version of an item that came from a repository (source `bluesky-repo`), the bundle
gets `data/bluesky-proofs/<collection>-<rkey>-<rev>/`:

    proof.car              a CAR of the signed commit, the Merkle tree nodes on the record's
                           path and the record (atmst's inclusion proof), rooted at the commit
    blocks/<CID>           the same blocks one file each, named by their CID
    blocks.sha256          their SHA-256, the digest each CID names (sha256sum -c)
    commit-unsigned.cbor   the commit without its signature: the bytes the key signed
    commit-signature.der   the signature, DER-encoded for openssl
    signing-key.pem        the account's public key from its DID document, as PEM
    did.json               the DID document the run kept
    proof.json             what links them: DID, revision, commit, data root, path, record CID
    check.py               a stand-alone check of the links (needs only Python and libipld)

`verify_steps(bag_dir)` gives VERIFY.txt's commands for the proofs a bag holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cbrrr
import orjson
from atproto_crypto.did import parse_did_key
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from archiver.platforms.bluesky.records import SOURCE
from archiver.platforms.bluesky.repo import (
    Repository,
    cid_text,
    proof_car,
    read_car,
    signing_input,
)
from archiver.platforms.bluesky.stored import stored_repository
from storage.runs import Manifest
from storage.store import ObjectStore, read_bytes

FOLDER = "bluesky-proofs"
_CURVES = {"ES256K": ec.SECP256K1(), "ES256": ec.SECP256R1()}

CHECK_PY = '''"""Check a Bluesky record proof: run from the bag's top folder as VERIFY.txt says."""
import hashlib, json, sys
from pathlib import Path

import libipld  # pip install libipld (what the atproto SDK decodes with)

here = Path(sys.argv[1])
proof = json.loads((here / "proof.json").read_text())
header, blocks = libipld.decode_car((here / "proof.car").read_bytes())
raw = {}
for name in (here / "blocks").iterdir():
    data = name.read_bytes()
    cid = libipld.decode_cid(name.name)
    assert cid["hash"]["digest"] == hashlib.sha256(data).digest(), f"{name.name}: wrong hash"
    raw[name.name] = data
commit = libipld.decode_dag_cbor(raw[proof["commit"]])
assert commit["did"] == proof["did"] and commit["rev"] == proof["rev"], "commit: wrong DID/rev"
unsigned = {k: v for k, v in commit.items() if k != "sig"}
assert libipld.encode_dag_cbor(unsigned) == (here / "commit-unsigned.cbor").read_bytes()
assert libipld.encode_cid(commit["data"]) == proof["data"], "commit: another data root"
node, key = proof["data"], proof["path"].encode()
while True:
    entries = libipld.decode_dag_cbor(raw[node])
    prev, found, down = b"", None, entries.get("l")
    for e in entries["e"]:
        full = prev[: e["p"]] + e["k"]
        prev = full
        if full == key:
            found = libipld.encode_cid(e["v"])
            break
        if full > key:
            break
        down = e.get("t")
    if found:
        break
    assert down is not None, "the record's path is not in the tree"
    node = libipld.encode_cid(down)
assert found == proof["record"], "the tree names another record"
# signing-key.pem is the #atproto key the DID document publishes (its multibase did:key form)
doc = json.loads((here / "did.json").read_text())
assert doc.get("id", doc.get("did")) == proof["did"], "did.json is another account's"
pem = (here / "signing-key.pem").read_text().split("-----")[2]
point = __import__("base64").b64decode("".join(pem.split()))[-65:]
compressed = bytes([2 + (point[-1] & 1)]) + point[1:33]
methods = doc.get("verificationMethod") or []
multibase = next((m["publicKeyMultibase"] for m in methods
                  if str(m.get("id", "")).endswith("#atproto")), None)
if multibase is None:
    multibase = doc["verificationMethods"]["atproto"].removeprefix("did:key:")
assert libipld.decode_multibase(multibase)[1][2:] == compressed, "another key than did.json's"
print("OK: the signed commit", proof["commit"], "holds", proof["path"], "as", found,
      "and signing-key.pem is the key did.json publishes for", proof["did"])
'''


def key_pem(did_key: str) -> bytes:
    """A did:key as the PEM public key openssl reads."""
    parsed = parse_did_key(did_key)  # the key's uncompressed point
    public = ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[parsed.jwt_alg], parsed.key_bytes)
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def proof_files(
    record: dict[str, Any], did_doc: bytes | None, signing_key: str, repo: Repository
) -> dict[str, bytes]:
    """The files of one record's proof folder (see the module docstring)."""
    collection, _, rkey = str(record["raw"]["_path"]).partition("/")
    car = proof_car(repo, collection, rkey)
    root, blocks = read_car(car)
    commit = cbrrr.decode_dag_cbor(blocks[root])
    assert isinstance(commit, dict)
    sig = commit["sig"]
    assert isinstance(sig, bytes)
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    files = {
        "proof.car": car,
        "commit-unsigned.cbor": signing_input(commit),
        "commit-signature.der": der,
        "check.py": CHECK_PY.encode(),
    }
    if signing_key:
        files["signing-key.pem"] = key_pem(signing_key)
    if did_doc is not None:
        files["did.json"] = did_doc
    lines = []
    for cid, body in blocks.items():
        name = cid_text(cid)
        files[f"blocks/{name}"] = body
        lines.append((hashlib.sha256(body).hexdigest(), name))
    files["blocks.sha256"] = "".join(f"{h}  {{folder}}/blocks/{n}\n" for h, n in lines).encode()
    proof = {
        "uri": f"at://{repo.did}/{collection}/{rkey}",
        "did": repo.did,
        "rev": repo.rev,
        "commit": repo.commit_cid,
        "data": repo.data_cid,
        "path": f"{collection}/{rkey}",
        "record": record["raw"].get("_cid"),
        "signing_key": signing_key,
        "blocks": [cid_text(c) for c in blocks],
    }
    files["proof.json"] = orjson.dumps(proof, option=orjson.OPT_INDENT_2)
    return files


def add_proofs(
    builder: Any, store: ObjectStore, manifests: dict[str, Manifest], items: Sequence[Any]
) -> int:
    """Add a proof folder for every repository version of the items; returns how many."""
    count = 0
    for item in items:
        for rec in item.versions:
            raw = rec.get("raw") or {}
            run = manifests.get(str(rec.get("run_id")))
            if rec.get("source") != SOURCE or not isinstance(raw, dict) or run is None:
                continue
            if not raw.get("_path") or not isinstance(run.details.get("repo"), dict):
                continue
            account_runs = sorted(
                (m for m in manifests.values() if m.account_id == run.account_id),
                key=lambda m: m.run_id,
            )
            repo = stored_repository(store, account_runs, upto=run.run_id)
            if repo is None:
                continue
            details = run.details["repo"]
            docs = details.get("did_documents") or []
            did_doc = read_bytes(store, run.prefix + docs[0]) if docs else None
            folder = f"{FOLDER}/{str(raw['_path']).replace('/', '-')}-{repo.rev}"
            files = proof_files(rec, did_doc, str(details.get("signing_key") or ""), repo)
            for name, data in sorted(files.items()):
                if name == "blocks.sha256":
                    data = data.replace(b"{folder}", f"data/{folder}".encode())
                builder.add_bytes(f"{folder}/{name}", data)
            count += 1
    return count


def verify_steps(bag_dir: Path) -> list[str]:
    """VERIFY.txt's steps for the Bluesky proofs in a bag (none when it holds none)."""
    root = bag_dir / "data" / FOLDER
    if not root.is_dir():
        return []
    lines = [
        "BLUESKY RECORDS",
        "",
        f"Each folder under data/{FOLDER}/ proves one Bluesky record: the account's own key",
        "signed a repository commit whose Merkle tree holds the record. For each folder:",
        "",
        "a. Every block is what its name (its CID) says: the CID ends in the block's SHA-256.",
        "   Each line must end in OK:",
        "",
    ]
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    lines += [f"sha256sum -c data/{FOLDER}/{p.name}/blocks.sha256" for p in folders]
    lines += [
        "",
        "b. The commit was signed by the key the account's DID document (did.json) publishes",
        "   (signing-key.pem is that key; proof.json names it as a did:key). It must print",
        '   "Verified OK":',
        "",
    ]
    for p in folders:
        f = f"data/{FOLDER}/{p.name}"
        if (p / "signing-key.pem").exists():
            lines.append(
                f"openssl dgst -sha256 -verify {f}/signing-key.pem -signature "
                f"{f}/commit-signature.der {f}/commit-unsigned.cbor"
            )
    lines += [
        "",
        "c. The signed commit holds the record: commit-unsigned.cbor is the commit block",
        "   without its signature, the commit names the tree's root, each tree node the next,",
        "   the last the record's CID; and signing-key.pem is the key did.json publishes.",
        "   check.py shows both (Python 3 and `pip install libipld`); any AT Protocol tool can",
        "   read proof.car the same way. It must print OK:",
        "",
    ]
    lines += [f"python3 data/{FOLDER}/{p.name}/check.py data/{FOLDER}/{p.name}" for p in folders]
    lines.append("")
    return lines
