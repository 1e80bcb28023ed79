"""A Bluesky post in an evidence bundle verifies against the account's key with VERIFY.txt's
steps, run exactly as written (stock sha256sum and openssl, and the bundled check.py)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from archiver.archive import Archive
from archiver.demo.bluesky import FORCE_DID, demo_repository
from archiver.exports.evidence import export_evidence
from archiver.exports.instructions import VERIFY_FILE, commands
from archiver.exports.signing import generate_key
from archiver.imports import import_path


@pytest.fixture
def bag(backup_folder, config, tmp_path) -> Path:
    generate_key(tmp_path / "key.pem")
    config = replace(
        config, export=replace(config.export, signing_key_path=str(tmp_path / "key.pem"))
    )
    archive = Archive(config)
    assert import_path(archive, str(backup_folder)).manifest is not None
    _, _, posts = demo_repository(24)
    photo = next(p for p in posts if p["text"].startswith("Officers on patrol"))
    e = export_evidence(
        archive,
        [photo["uri"]],
        reason="test",
        case="OP-1",
        out=tmp_path / "exhibit.zip",
        operator="DC 1",
    )
    with zipfile.ZipFile(e.delivery.url) as zf:
        zf.extractall(tmp_path / "unpacked")
    (top,) = [p for p in (tmp_path / "unpacked").iterdir() if p.is_dir()]
    return top


def _run(bag: Path, line: str) -> subprocess.CompletedProcess:
    argv = line.split()
    if argv[0] == "python3":
        argv[0] = sys.executable  # the suite's Python has libipld, as `pip install` gives
    elif argv[0] == "bagit.py":
        argv[0] = str(Path(sys.executable).parent / "bagit.py")
    return subprocess.run(argv, cwd=bag, capture_output=True, text=True, timeout=60)


def test_the_post_verifies_with_the_steps_in_verify_txt(bag):
    text = (bag / VERIFY_FILE).read_text()
    assert "BLUESKY RECORDS" in text
    (proof,) = (bag / "data" / "bluesky-proofs").iterdir()
    assert proof.name.startswith("app.bsky.feed.post-")
    assert FORCE_DID in (proof / "proof.json").read_text()
    lines = commands(text)
    assert any(line.startswith("openssl dgst") for line in lines)
    for line in lines:
        done = _run(bag, line)
        assert done.returncode == 0, (line, done.stdout, done.stderr)
    outputs = {line.split()[0]: _run(bag, line).stdout for line in lines if "bluesky" in line}
    assert "Verified OK" in outputs["openssl"]
    assert outputs["python3"].startswith("OK: the signed commit")


def test_a_changed_block_or_commit_fails_the_steps(bag):
    (proof,) = (bag / "data" / "bluesky-proofs").iterdir()
    lines = [line for line in commands((bag / VERIFY_FILE).read_text()) if "bluesky" in line]
    unsigned = proof / "commit-unsigned.cbor"
    data = bytearray(unsigned.read_bytes())
    data[-1] ^= 1
    unsigned.write_bytes(bytes(data))
    openssl = next(line for line in lines if line.startswith("openssl"))
    assert _run(bag, openssl).returncode != 0
    block = next((proof / "blocks").iterdir())
    block.write_bytes(block.read_bytes() + b"x")
    sha = next(line for line in lines if line.startswith("sha256sum"))
    assert _run(bag, sha).returncode != 0
    check = next(line for line in lines if line.startswith("python3"))
    assert _run(bag, check).returncode != 0


def test_another_key_in_place_of_the_account_s_fails_the_steps(bag):
    from archiver.platforms.bluesky.build import SigningKey
    from archiver.platforms.bluesky.evidence import key_pem

    (proof,) = (bag / "data" / "bluesky-proofs").iterdir()
    (proof / "signing-key.pem").write_bytes(key_pem(SigningKey.from_secret(11).did_key))
    lines = [line for line in commands((bag / VERIFY_FILE).read_text()) if "bluesky" in line]
    check = next(line for line in lines if line.startswith("python3"))
    done = _run(bag, check)
    assert done.returncode != 0 and "another key than did.json's" in done.stderr
    openssl = next(line for line in lines if line.startswith("openssl"))
    assert _run(bag, openssl).returncode != 0
