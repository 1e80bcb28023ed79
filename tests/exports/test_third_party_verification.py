"""A stranger verifies a bundle by following its VERIFY.txt with stock tools only: the test
runs exactly the command lines the file holds (sha256sum, bagit.py, openssl), no shell, from
the folder that holds VERIFY.txt, and nothing of social-archive."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from archiver.exports.evidence import export_evidence
from archiver.exports.monthly import export_monthly
from archiver.exports.signing import generate_key

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")
# bagit.py is the bagit package's own command, installed beside this interpreter
TOOLS_PATH = os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"])


def unpack(zip_path: Path, dest: Path) -> Path:
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)
    (folder,) = dest.iterdir()
    return folder


def command_lines(folder: Path) -> list[str]:
    """Every line of VERIFY.txt that is a command (starts with one of the three tools)."""
    text = (folder / "VERIFY.txt").read_text(encoding="utf-8")
    lines = [
        ln
        for ln in text.splitlines()
        if ln.split(" ", 1)[0] in {"sha256sum", "bagit.py", "openssl"}
    ]
    for line in lines:
        assert not set("|;&><`$") & set(line), f"not a plain command: {line}"
    return lines


def run(line: str, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        shlex.split(line),
        cwd=folder,
        env={"PATH": TOOLS_PATH, "LC_ALL": "C.UTF-8"},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def signed_sample(sample, tmp_path):
    key = generate_key(tmp_path / "archive-key.pem")
    cfg = sample.archive.config
    sample.archive.config = replace(
        cfg, export=replace(cfg.export, signing_key_path=str(tmp_path / "archive-key.pem"))
    )
    return sample, key


def test_an_evidence_bundle_verifies_by_its_own_instructions(signed_sample, tmp_path):
    sample, key = signed_sample
    e = export_evidence(
        sample.archive,
        [sample.facts.photo["id"]],
        reason="Complaint",
        case="OP-1",
        operator="DC Smith",
        out=tmp_path,
    )
    folder = unpack(Path(e.delivery.url), tmp_path / "unpacked")
    lines = command_lines(folder)
    assert [ln.split()[0] for ln in lines] == [
        "sha256sum",
        "sha256sum",
        "bagit.py",
        "openssl",
        "openssl",
        "sha256sum",
    ]
    outputs = []
    for line in lines:
        done = run(line, folder)
        assert done.returncode == 0, (line, done.stdout, done.stderr)
        outputs.append(done.stdout + done.stderr)
    assert outputs[0].count(": OK") >= 5 and "FAILED" not in outputs[0]
    assert "VERIFY.txt: OK" in outputs[1] and "public-key.pem: OK" in outputs[1]
    assert "is valid" in outputs[2]
    assert "Signature Verified Successfully" in outputs[3]
    fingerprint = key.fingerprint.removeprefix("SHA256:")
    assert outputs[5].split()[0] == fingerprint
    assert f"It must print {fingerprint}" in (folder / "VERIFY.txt").read_text()
    for custody in ("statement.txt", "custody.json"):  # no server paths leave the building
        assert str(tmp_path) not in (folder / "data" / "custody" / custody).read_text()


def test_the_same_commands_catch_a_changed_file_and_a_forged_signature(signed_sample, tmp_path):
    sample, _ = signed_sample
    photo = sample.facts.photo["id"]
    e = export_evidence(sample.archive, [photo], reason="R", case="C", out=tmp_path)
    folder = unpack(Path(e.delivery.url), tmp_path / "unpacked")
    lines = command_lines(folder)
    records = folder / "data" / "records.jsonl"
    word = sample.facts.query(sample.facts.photo).split()[0].encode()
    assert word in records.read_bytes()
    records.write_bytes(records.read_bytes().replace(word, word[:-1] + b"!"))
    assert run(lines[0], folder).returncode != 0  # sha256sum -c names the file
    assert "records.jsonl: FAILED" in run(lines[0], folder).stdout
    assert run(lines[2], folder).returncode != 0  # bagit
    # someone re-hashes everything and signs with their own key: the fingerprint differs
    other = generate_key(tmp_path / "forger.pem")
    (folder / "tagmanifest-sha256.txt").write_text("tampered\n")
    assert run(lines[3], folder).returncode != 0
    assert other.fingerprint != e.bundle.signed_by


def test_a_monthly_bundle_carries_instructions_signed_or_not(signed_sample, tmp_path):
    sample, _ = signed_sample
    signed_config = sample.archive.config
    unsigned = replace(signed_config.export, signing_key_path=None)
    for signed in (False, True):
        sample.archive.config = signed_config if signed else replace(signed_config, export=unsigned)
        dest = tmp_path / f"dest-{signed}"
        report = export_monthly(
            sample.archive, sample.facts.month, dest=f"file://{dest}", today=dt.date(2026, 11, 25)
        )
        (export,) = report.exports
        folder = unpack(Path(export.delivery.url), tmp_path / f"unpacked-{signed}")
        text = (folder / "VERIFY.txt").read_text()
        assert ("not signed" in text) is not signed
        lines = command_lines(folder)
        assert len(lines) == (6 if signed else 3)
        for line in lines:
            assert run(line, folder).returncode == 0, line
