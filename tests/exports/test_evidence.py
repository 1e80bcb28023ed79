"""An investigator's evidence bundle: originals, manifests, custody, signed; anyone can verify."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import bagit
import pytest
from export_demo import ACCOUNT_ID
from export_samples import read_jsonl, unzip_bag

from archiver.exports.errors import ExportError
from archiver.exports.evidence import export_evidence
from archiver.exports.register import list_exports
from archiver.exports.signing import SIGNATURE_FILE, generate_key, sign_bag
from archiver.exports.verify import verify_bundle


@pytest.fixture
def key(tmp_path):
    return generate_key(tmp_path / "archive-key.pem")


@pytest.fixture
def signed(sample, key, tmp_path):
    cfg = sample.archive.config
    sample.archive.config = replace(
        cfg, export=replace(cfg.export, signing_key_path=str(tmp_path / "archive-key.pem"))
    )
    return sample


def evidence(sample, tmp_path, ids=None, **kw):
    """By default the month's photo post (edited since) and the public's mention."""
    ids = ids or [sample.facts.photo["id"], sample.facts.mention_id]
    kw.setdefault("reason", "Malicious communications complaint")
    kw.setdefault("case", "OP-ALDER-17")
    kw.setdefault("operator", "DC 4471 Smith")
    return export_evidence(sample.archive, ids, out=tmp_path, **kw)


def stored_lines(root: Path, run_id: str, collection: str) -> list[bytes]:
    gz = root / "store" / "accounts" / ACCOUNT_ID / "runs" / run_id / f"{collection}.jsonl.gz"
    return gzip.decompress(gz.read_bytes()).splitlines()


def test_an_evidence_bundle_holds_originals_manifests_and_custody(signed, key, tmp_path):
    e = evidence(signed, tmp_path, exhibit="JS/1")
    assert Path(e.delivery.url) == tmp_path / "evidence-JS-1.zip"
    bag = unzip_bag(Path(e.delivery.url), tmp_path / "unpacked")
    bag.validate()
    data = Path(bag.path) / "data"
    assert bag.info["Exhibit-Reference"] == "JS/1"
    assert bag.info["Case-Reference"] == "OP-ALDER-17"
    assert bag.info["Exported-By"] == "DC 4471 Smith"
    assert bag.info["Signing-Key-Fingerprint"] == key.fingerprint
    facts = signed.facts
    wanted = (facts.photo["id"], facts.mention_id)
    assert [r["id"] for r in read_jsonl(data / "records.jsonl")] == [
        v["id"] for key, versions in facts.items().items() if key in wanted for v in versions
    ]
    # each run's manifest verbatim, and the stored records byte for byte
    for run in (signed.import_run, signed.api_run):
        stored = tmp_path / "store" / "accounts" / ACCOUNT_ID / "runs" / run / "manifest.json"
        assert (data / "runs" / run / "manifest.json").read_bytes() == stored.read_bytes()
    (line,) = [ln for ln in stored_lines(tmp_path, signed.api_run, "mentions")]
    assert (
        data / "stored-records" / signed.api_run / "mentions.jsonl"
    ).read_bytes() == line + b"\n"
    # the archive file the post came from, and its photo
    assert (data / "source-files" / signed.import_run / "data" / "tweets.js").is_file()
    photos = [n for n in facts.media if n.startswith(f"{facts.photo['id']}-")]
    assert photos
    for name in photos:
        assert (data / "media" / name).read_bytes() == facts.media[name]


def test_the_custody_statement_gives_times_sources_and_hashes(signed, key, tmp_path):
    e = evidence(signed, tmp_path, exhibit="JS/1")
    bag = unzip_bag(Path(e.delivery.url), tmp_path / "unpacked")
    custody = json.loads((Path(bag.path) / "data" / "custody" / "custody.json").read_text())
    statement = (Path(bag.path) / "data" / "custody" / "statement.txt").read_text()
    facts = signed.facts
    (mention,) = [i for i in custody["items"] if i["item"] == facts.mention_id]
    (line,) = stored_lines(tmp_path, signed.api_run, "mentions")
    assert mention["versions"] == [
        {
            "id": facts.mention_id,
            "created_at": facts.mention_at,
            "captured_at": facts.captured,
            "source": "x-api-v2",
            "run_id": signed.api_run,
            "sha256": hashlib.sha256(line).hexdigest(),
        }
    ]
    assert f"SHA-256 of the stored record: {hashlib.sha256(line).hexdigest()}" in statement
    run_gz = (
        tmp_path / "store" / "accounts" / ACCOUNT_ID / "runs" / signed.api_run / "mentions.jsonl.gz"
    )
    assert (
        f"SHA-256 of mentions.jsonl.gz: {hashlib.sha256(run_gz.read_bytes()).hexdigest()}"
        in statement
    )
    for expected in (
        "Exhibit reference:  JS/1",
        "Case reference:     OP-ALDER-17",
        "Reason for export:  Malicious communications complaint",
        "Exported by:        DC 4471 Smith",
        f"Ed25519 {key.fingerprint}",
        "I, DC 4471 Smith, produced exhibit JS/1 on ",
        "Signed: ______________________________   Date: ______________",
    ):
        assert expected in statement
    assert custody["exported_by"] == "DC 4471 Smith"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", custody["exported_at"])
    (record,) = list_exports(signed.store, "evidence")
    assert (record["case"], record["exhibit"], record["operator"]) == (
        "OP-ALDER-17",
        "JS/1",
        "DC 4471 Smith",
    )


def test_a_version_id_finds_its_item(signed, tmp_path):
    e = evidence(signed, tmp_path, ids=[signed.facts.photo_edit_id])
    assert (e.bundle.items, e.bundle.versions) == (1, 2)
    assert e.exhibit.startswith("OP-ALDER-17-")


def test_evidence_needs_a_key_and_known_ids(sample, signed, tmp_path):
    with pytest.raises(ExportError) as err:
        evidence(signed, tmp_path, ids=[signed.facts.photo["id"], "123", "456"])
    assert str(err.value) == "no item with id 123, 456 in the archive"
    cfg = signed.archive.config
    signed.archive.config = replace(cfg, export=replace(cfg.export, signing_key_path=None))
    with pytest.raises(ExportError) as err:
        evidence(signed, tmp_path)
    assert str(err.value) == (
        "evidence bundles are signed: set export.signing_key_env or export.signing_key_path"
        " (make a key with `archiver export keygen`)"
    )
    assert list(tmp_path.glob("*.zip")) == []


# -- verify-bundle ---------------------------------------------------------------------------
def test_an_untouched_bundle_verifies_against_the_key_and_the_archive(signed, key, tmp_path):
    e = evidence(signed, tmp_path, exhibit="JS/1")
    report = verify_bundle(e.delivery.url, store=signed.store, trusted=[key.fingerprint])
    assert report.ok, report.problems
    assert report.kind == "evidence"
    assert report.checks == [
        f"bag valid: {len(list(unzip_bag(Path(e.delivery.url), tmp_path / 'u').payload_files()))}"
        " payload files match their SHA-256",
        f"signature valid: signed by this archive's key {key.fingerprint}",
        "storage: every exported version (3, in 2 runs) still matches the archive",
    ]


def _rezip(bag_dir: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w") as zf:
        for p in sorted(bag_dir.rglob("*")):
            if p.is_file():
                zf.write(p, f"{bag_dir.name}/{p.relative_to(bag_dir).as_posix()}")
    return dest


def test_one_flipped_byte_is_caught(signed, key, tmp_path):
    e = evidence(signed, tmp_path, exhibit="JS/1")
    bag = unzip_bag(Path(e.delivery.url), tmp_path / "unpacked")
    target = Path(bag.path) / "data" / "custody" / "statement.txt"
    data = bytearray(target.read_bytes())
    expected = hashlib.sha256(data).hexdigest()
    data[data.index(b"OP-ALDER-17")] ^= 0x01  # "OP-ALDER-17" -> "NP-ALDER-17"
    target.write_bytes(bytes(data))
    report = verify_bundle(
        _rezip(Path(bag.path), tmp_path / "t.zip"), store=signed.store, trusted=[key.fingerprint]
    )
    assert report.problems == [
        f'bag: data/custody/statement.txt sha256 validation failed: expected="{expected}"'
        f' found="{hashlib.sha256(bytes(data)).hexdigest()}"'
    ]


def test_rehashing_a_tampered_bag_breaks_the_signature(signed, key, tmp_path):
    e = evidence(signed, tmp_path, exhibit="JS/1")
    bag = unzip_bag(Path(e.delivery.url), tmp_path / "unpacked")
    statement = Path(bag.path) / "data" / "custody" / "statement.txt"
    statement.write_text(statement.read_text().replace("DC 4471 Smith", "DC 9999 Jones"))
    bagit.Bag(bag.path).save(manifests=True)  # a forger recomputes every hash
    report = verify_bundle(_rezip(Path(bag.path), tmp_path / "t.zip"), trusted=[key.fingerprint])
    assert report.problems == ["signature: signature does not match the tag manifest"]


def test_a_bundle_re_signed_with_another_key_is_not_from_this_archive(signed, key, tmp_path):
    e = evidence(signed, tmp_path, exhibit="JS/1")
    bag = unzip_bag(Path(e.delivery.url), tmp_path / "unpacked")
    forger = generate_key(tmp_path / "forger.pem")
    (Path(bag.path) / SIGNATURE_FILE).unlink()
    b = bagit.Bag(bag.path)
    b.info["Signing-Key-Fingerprint"] = forger.fingerprint
    b.save()
    sign_bag(Path(bag.path), forger)
    report = verify_bundle(_rezip(Path(bag.path), tmp_path / "t.zip"), trusted=[key.fingerprint])
    assert report.problems == [
        f"signature: made with key {forger.fingerprint}, not this archive's key {key.fingerprint}"
    ]
    # with no trusted key at all, the signature is checked but origin is not claimed
    report = verify_bundle(tmp_path / "t.zip")
    assert report.ok
    assert report.checks[1] == (
        f"signature valid, key {forger.fingerprint} (no trusted key to compare)"
    )


def test_an_evidence_bundle_without_its_signature_fails(signed, key, tmp_path):
    e = evidence(signed, tmp_path, exhibit="JS/1")
    bag = unzip_bag(Path(e.delivery.url), tmp_path / "unpacked")
    (Path(bag.path) / SIGNATURE_FILE).unlink()
    report = verify_bundle(_rezip(Path(bag.path), tmp_path / "t.zip"), trusted=[key.fingerprint])
    assert report.problems == ["evidence bundle is not signed (signature-ed25519.json missing)"]


def test_changes_to_storage_after_the_export_are_reported(signed, key, tmp_path):
    e = evidence(signed, tmp_path, exhibit="JS/1")
    run_dir = tmp_path / "store" / "accounts" / ACCOUNT_ID / "runs" / signed.api_run
    gz = run_dir / "mentions.jsonl.gz"
    lines = gzip.decompress(gz.read_bytes()).replace(b"Call me on", b"Ring me on")
    gz.write_bytes(gzip.compress(lines))
    report = verify_bundle(e.delivery.url, store=signed.store, trusted=[key.fingerprint])
    assert report.problems == [
        f"storage: run {signed.api_run} mentions: object mentions.jsonl.gz no longer matches"
        " its manifest",
        f"storage: run {signed.api_run} mentions: item {signed.facts.mention_id} no longer matches"
        " storage",
    ]
    shutil.rmtree(tmp_path / "store" / "accounts" / ACCOUNT_ID / "runs" / signed.import_run)
    report = verify_bundle(e.delivery.url, store=signed.store, trusted=[key.fingerprint])
    assert f"storage: run {signed.import_run} is no longer in the archive" in report.problems


def test_files_that_are_not_bundles_are_refused(tmp_path):
    from archiver.exports.errors import BundleError

    (tmp_path / "notes.zip").write_text("not a zip")
    with pytest.raises(BundleError) as err:
        verify_bundle(tmp_path / "notes.zip")
    assert str(err.value).startswith(f"{tmp_path / 'notes.zip'} is not a readable zip file")
    with zipfile.ZipFile(tmp_path / "slip.zip", "w") as zf:
        zf.writestr("bag/../../etc/cron.d/evil", "* * * * * root sh")
    with pytest.raises(BundleError) as err:
        verify_bundle(tmp_path / "slip.zip")
    assert str(err.value) == (
        f"{tmp_path / 'slip.zip'}: unsafe path 'bag/../../etc/cron.d/evil' in the bundle"
    )
