"""A Bluesky account's identity: its DID document, read for the signing key and the PDS.

Two shapes are accepted, both as the backup tools store them: the W3C DID document a PLC
directory or a `did:web` host serves (`verificationMethod` with `#atproto`, `service` with
`#atproto_pds`), and the PLC directory's operation data (`/data`: `verificationMethods.atproto`,
`services.atproto_pds`). Keys come out as `did:key:` strings through the SDK's atproto_crypto.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from atproto_crypto.did import get_did_key

from archiver.errors import ArchiveFormatError

DID = re.compile(r"did:(plc:[a-z2-7]{24}|web:[a-zA-Z0-9.-]+(%3[aA][0-9]{1,5})?)")


@dataclass(frozen=True)
class Identity:
    did: str
    signing_key: str  # did:key:...
    pds: str | None  # the PDS base URL
    handle: str | None


def _pds_url(value: object) -> str | None:
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        return value.rstrip("/")
    return None


def parse_did_doc(doc: object, where: str) -> Identity:
    """The identity a DID document (either shape) states; ArchiveFormatError naming `where`."""
    if not isinstance(doc, dict):
        raise ArchiveFormatError(f"{where}: not a DID document (expected a JSON object)")
    did = doc.get("id") or doc.get("did")
    if not isinstance(did, str) or not DID.fullmatch(did):
        raise ArchiveFormatError(f"{where}: not a DID document (no did:plc or did:web id)")
    key = pds = None
    methods = doc.get("verificationMethod")
    if isinstance(methods, list):
        for vm in methods:
            if isinstance(vm, dict) and str(vm.get("id", "")).endswith("#atproto"):
                mb = vm.get("publicKeyMultibase")
                if isinstance(mb, str):
                    try:
                        key = get_did_key(str(vm.get("type")), mb)
                    except Exception:  # a malformed multibase: reported as no usable key
                        key = None
        for svc in doc.get("service") or []:
            if isinstance(svc, dict) and str(svc.get("id", "")).endswith("#atproto_pds"):
                pds = _pds_url(svc.get("serviceEndpoint"))
    elif isinstance(doc.get("verificationMethods"), dict):  # PLC operation data
        value = doc["verificationMethods"].get("atproto")
        key = value if isinstance(value, str) and value.startswith("did:key:") else None
        services = doc.get("services")
        if isinstance(services, dict) and isinstance(services.get("atproto_pds"), dict):
            pds = _pds_url(services["atproto_pds"].get("endpoint"))
    if not key:
        raise ArchiveFormatError(f"{where}: the DID document names no atproto signing key")
    handle = None
    aka = doc.get("alsoKnownAs")
    if isinstance(aka, list):
        handle = next(
            (a[len("at://") :] for a in aka if isinstance(a, str) and a.startswith("at://")),
            None,
        )
    return Identity(did, key, pds, handle)


def did_doc_url(did: str, plc_url: str) -> str:
    """Where a DID's document is served: the PLC directory, or the did:web host's well-known."""
    if did.startswith("did:plc:"):
        return f"{plc_url.rstrip('/')}/{did}"
    if did.startswith("did:web:"):
        host = did[len("did:web:") :].replace("%3A", ":").replace("%3a", ":")
        return f"https://{host}/.well-known/did.json"
    raise ArchiveFormatError(f"{did}: not a did:plc or did:web DID")


def is_did(value: str) -> bool:
    return bool(DID.fullmatch(value))
