"""VERIFY.txt: how a stranger checks a bundle with stock tools only (sha256sum, bagit.py,
openssl), and the files those commands need beside it: the public key as PEM and the
signature as raw bytes.

The commands are one per line, plain (no pipes, no shell), and run from the folder that
holds VERIFY.txt (the bag's top folder once the ZIP is unpacked); tests/exports run exactly
them. VERIFY.txt and the public key are tag files, so the tag manifest (which the key
signs) covers them; the signature files are written after it and are not in it.
"""

from __future__ import annotations

from pathlib import Path

from archiver.exports.signing import SIGNED_FILE, SigningKey

VERIFY_FILE = "VERIFY.txt"
PUBLIC_KEY_FILE = "public-key.pem"
RAW_SIGNATURE_FILE = "signature-ed25519.sig"
RAW_KEY_FILE = "public-key.raw"  # written by the fingerprint command, not in the bundle
# an Ed25519 public key's PEM holds a 12-byte DER header, then the key's 32 bytes
_KEY_OFFSET, _KEY_LENGTH = 12, 32
COMMAND_PREFIXES = ("sha256sum ", "bagit.py ", "openssl ", "python3 ")


def verify_text(name: str, key: SigningKey | None) -> str:
    """The instructions for one bundle (deterministic: the same bag, the same text)."""
    lines = [
        f"HOW TO CHECK {name} WITHOUT SOCIAL-ARCHIVE",
        "",
        "Unpack the ZIP. Open a terminal in the folder that holds this file and run each",
        "command below as written, one at a time. You need sha256sum (GNU coreutils), bagit.py",
        "(the Library of Congress BagIt tool: pip install bagit) and, for the signature,",
        "OpenSSL 3.",
        "",
        "1. Every payload file (under data/) is as it was exported. Each line must end in OK:",
        "",
        "sha256sum -c manifest-sha256.txt",
        "",
        "2. The tag files (bag-info.txt, the payload manifest, this file, the public key) are",
        "   as exported. Each line must end in OK:",
        "",
        f"sha256sum -c {SIGNED_FILE}",
        "",
        "3. The folder is a complete, valid BagIt bag. The last line must say it is valid:",
        "",
        "bagit.py --validate .",
        "",
    ]
    if key is None:
        lines += [
            "This bundle is not signed: steps 1 to 3 show it is complete and self-consistent,",
            "not who made it. Compare its SHA-256 with the one in the archive's export record.",
            "",
        ]
        return "\n".join(lines)
    hexdigest = key.fingerprint.removeprefix("SHA256:")
    lines += [
        f"4. The tag manifest ({SIGNED_FILE}), and so every hash above, is signed with",
        f"   the archive's Ed25519 key ({PUBLIC_KEY_FILE}). It must print",
        '   "Signature Verified Successfully":',
        "",
        f"openssl pkeyutl -verify -pubin -inkey {PUBLIC_KEY_FILE} -rawin -in {SIGNED_FILE}"
        f" -sigfile {RAW_SIGNATURE_FILE}",
        "",
        "5. The key is the archive's. Its fingerprint is the SHA-256 of the key's 32 raw bytes",
        f"   (the last 32 bytes of its DER form). The first command writes them to {RAW_KEY_FILE},",
        "   the second prints their SHA-256:",
        "",
        f"openssl asn1parse -in {PUBLIC_KEY_FILE} -offset {_KEY_OFFSET} -length {_KEY_LENGTH}"
        f" -noout -out {RAW_KEY_FILE}",
        f"sha256sum {RAW_KEY_FILE}",
        "",
        f"   It must print {hexdigest}, the fingerprint bag-info.txt",
        f"   names (Signing-Key-Fingerprint: {key.fingerprint}). Compare it with the fingerprint",
        "   the archive's operators publish or gave you separately: a bundle signed by any",
        "   other key was not made by their archive.",
        "",
    ]
    return "\n".join(lines)


def commands(text: str) -> list[str]:
    """The command lines of a VERIFY.txt, in order."""
    return [line for line in text.splitlines() if line.startswith(COMMAND_PREFIXES)]


def write_instructions(bag_dir: Path, name: str, key: SigningKey | None) -> None:
    """Before the tag manifest: VERIFY.txt and the public key, so the signature covers both."""
    from archiver.platforms.bluesky.evidence import verify_steps

    text = verify_text(name, key)
    extra = verify_steps(bag_dir)  # Bluesky records' proofs, when the bag holds some
    if extra:
        text += "\n".join(extra) + "\n"
    (bag_dir / VERIFY_FILE).write_text(text, encoding="utf-8")
    if key is not None:
        (bag_dir / PUBLIC_KEY_FILE).write_bytes(key.public_pem())


def write_raw_signature(bag_dir: Path, signature: bytes) -> None:
    """After signing: the signature as the 64 bytes `openssl pkeyutl -sigfile` reads."""
    (bag_dir / RAW_SIGNATURE_FILE).write_bytes(signature)
