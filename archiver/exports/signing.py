"""Ed25519 signing of bundles: the archive's key from config, the signature file in the bag.

The signature covers the bag's tag manifest, which hashes bag-info.txt and the payload
manifest, which hashes every payload file: one signature vouches for every byte. Ed25519
signatures are deterministic, so a signed monthly bundle still re-exports byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from archiver.config import ExportConfig
from archiver.errors import ConfigError
from archiver.exports.errors import ExportError

SIGNATURE_FILE = "signature-ed25519.json"
SIGNED_FILE = "tagmanifest-sha256.txt"
SIGNATURE_FORMAT = "social-archive/bundle-signature/1"


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: SHA-256 of its raw 32 bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class SigningKey:
    """The archive's private key; never printed, logged or written anywhere."""

    private: Ed25519PrivateKey = field(repr=False)
    origin: str = ""  # which setting it came from, for messages

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public)

    def public_pem(self) -> bytes:
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def _parse_private(pem: bytes, setting: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConfigError(
            f"{setting}: not an unencrypted PEM private key"
            " (make one with `archiver export keygen`)"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{setting}: the key must be Ed25519, got {type(key).__name__}")
    return key


def load_signing_key(cfg: ExportConfig, env: Mapping[str, str] | None = None) -> SigningKey | None:
    """The configured key (environment variable first, then file), or None if none is set."""
    environ: Mapping[str, str] = os.environ if env is None else env
    if cfg.signing_key_env:
        pem = environ.get(cfg.signing_key_env)
        if not pem:
            raise ConfigError(
                f"export.signing_key_env: environment variable {cfg.signing_key_env} is not set"
            )
        return SigningKey(_parse_private(pem.encode(), "export.signing_key_env"), "environment")
    if cfg.signing_key_path:
        try:
            pem_bytes = Path(cfg.signing_key_path).read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"export.signing_key_path: cannot read {cfg.signing_key_path}: {exc.strerror}"
            ) from None
        return SigningKey(_parse_private(pem_bytes, "export.signing_key_path"), "file")
    return None


def public_key_path(path: str | os.PathLike[str]) -> Path:
    """Where the public half of a key file goes: beside it, `<name>.pub.pem`."""
    p = Path(path)
    return p.with_name(p.name.removesuffix(".pem") + ".pub.pem")


def generate_key(path: str | os.PathLike[str]) -> SigningKey:
    """Write a new private key readable by its owner only (its folder made if missing, 0700)
    and its public key beside it; refuse to overwrite either."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = public_key_path(path)
    for existing in (Path(path), public):
        if existing.exists():
            raise ExportError(f"{existing} already exists; not overwriting a key")
    try:
        Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ExportError(f"{path} already exists; not overwriting a key") from None
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    signing = SigningKey(key, "file")
    public.write_bytes(signing.public_pem())
    return signing


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """A public key file (PEM), e.g. the one the archive's operators published."""
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except OSError as exc:
        raise ExportError(f"cannot read public key {path}: {exc.strerror}") from None
    except (ValueError, UnsupportedAlgorithm):
        raise ExportError(f"{path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ExportError(f"{path} is not an Ed25519 public key")
    return key


def sign_bag(bag_dir: Path, key: SigningKey) -> bytes:
    """Write the signature file beside the tag manifest (outside it: it cannot sign itself);
    return the signature's raw bytes."""
    signed = (bag_dir / SIGNED_FILE).read_bytes()
    signature = key.private.sign(signed)
    doc = {
        "format": SIGNATURE_FORMAT,
        "algorithm": "Ed25519",
        "signed_file": SIGNED_FILE,
        "public_key": base64.b64encode(
            key.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        ).decode(),
        "key_fingerprint": key.fingerprint,
        "signature": base64.b64encode(signature).decode(),
    }
    (bag_dir / SIGNATURE_FILE).write_bytes(
        orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    )
    return signature


@dataclass(frozen=True)
class SignatureCheck:
    present: bool
    valid: bool = False
    fingerprint: str | None = None
    problem: str | None = None


def check_signature(bag_dir: Path) -> SignatureCheck:
    """Is the tag manifest signed by the key the signature file names? (Whose key it is, is
    the caller's question: compare the fingerprint with a trusted one.)"""
    path = bag_dir / SIGNATURE_FILE
    if not path.is_file():
        return SignatureCheck(present=False)
    try:
        doc = orjson.loads(path.read_bytes())
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(doc["public_key"]))
        signature = base64.b64decode(doc["signature"])
        signed_name = doc.get("signed_file", SIGNED_FILE)
    except (ValueError, KeyError, TypeError):
        return SignatureCheck(True, problem=f"{SIGNATURE_FILE} is unreadable")
    if signed_name != SIGNED_FILE:
        return SignatureCheck(
            True, problem=f"{SIGNATURE_FILE} signs {signed_name!r}, not the tag manifest"
        )
    try:
        public.verify(signature, (bag_dir / SIGNED_FILE).read_bytes())
    except InvalidSignature:
        return SignatureCheck(
            True, False, fingerprint(public), "signature does not match the tag manifest"
        )
    except OSError:
        return SignatureCheck(True, False, fingerprint(public), f"{SIGNED_FILE} is missing")
    return SignatureCheck(True, True, fingerprint(public))


# -- signed JSON documents (the heads record) -------------------------------------------------
DOCUMENT_SIGNATURE = "signature"


def _canonical(doc: Mapping[str, object]) -> bytes:
    body = {k: v for k, v in doc.items() if k != DOCUMENT_SIGNATURE}
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def sign_document(doc: Mapping[str, object], key: SigningKey) -> dict[str, object]:
    """The document with a `signature` member over its canonical JSON (sorted keys)."""
    raw = key.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        **doc,
        DOCUMENT_SIGNATURE: {
            "algorithm": "Ed25519",
            "public_key": base64.b64encode(raw).decode(),
            "key_fingerprint": key.fingerprint,
            "value": base64.b64encode(key.private.sign(_canonical(doc))).decode(),
        },
    }


def check_document(doc: Mapping[str, object]) -> SignatureCheck:
    """Is the document signed, and does its signature match its content? (Whose key it is,
    is the caller's question, as for bags.)"""
    sig = doc.get(DOCUMENT_SIGNATURE)
    if sig is None:
        return SignatureCheck(present=False)
    if not isinstance(sig, dict):
        return SignatureCheck(True, problem="the signature is unreadable")
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(sig["public_key"]))
        value = base64.b64decode(sig["value"])
    except (ValueError, KeyError, TypeError):
        return SignatureCheck(True, problem="the signature is unreadable")
    try:
        public.verify(value, _canonical(doc))
    except InvalidSignature:
        return SignatureCheck(True, False, fingerprint(public), "the signature does not match")
    return SignatureCheck(True, True, fingerprint(public))
