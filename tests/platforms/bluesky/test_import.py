"""Importing a Bluesky repository: the demo force's backup folder, a bare CAR, bad input."""

from __future__ import annotations

import json
import shutil

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver.demo.bluesky import FORCE_DID, HANDLE, THIRD_PARTY, demo_did, demo_repository
from archiver.errors import ArchiveFormatError
from archiver.platforms.bluesky import parse_import, sniff
from archiver.platforms.bluesky.build import RepoBuilder, SigningKey, did_document
from archiver.platforms.bluesky.imports import raw_blob_cid
from archiver.platforms.bluesky.repo import RepoError, read_car, verify_car
from storage.records import UNINDEXED_KINDS
from storage.runs import iter_records, list_runs

ACCOUNT_ID = f"bluesky:{FORCE_DID}"


def _store_files(tmp_path) -> list[str]:
    root = tmp_path / "store"
    if not root.exists():
        return []
    names = (p.relative_to(root).as_posix() for p in root.rglob("*"))
    return sorted(n for n in names if n.split("/")[0] not in ("locks", "jobs"))


@pytest.fixture
def rejected(cli_run, tmp_path):
    """Import a path that must fail: one line naming the file, exit 1, the store unchanged."""

    def check(path, *args: str) -> str:
        before = _store_files(tmp_path)
        result = cli_run("import", str(path), *args)
        assert result.exit_code == 1, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "Traceback" not in result.output
        assert _store_files(tmp_path) == before
        return lines[0]

    return check


def test_the_backup_folder_is_imported_with_every_kind(cli_run, backup_folder, archive):
    result = cli_run("import", str(backup_folder), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["account_id"] == ACCOUNT_ID and summary["account"] == HANDLE
    (run,) = list_runs(archive.store, ACCOUNT_ID)
    repo, blobs, posts = demo_repository(24)
    kept = {e.key for e in run.objects}
    assert f"files/bluesky/{HANDLE}.car" in kept
    assert f"files/bluesky/{HANDLE}.json" in kept and f"files/bluesky/{HANDLE}_plc.json" in kept
    for cid in blobs:
        assert f"files/bluesky_media/{cid}.jpg" in kept
    assert run.details["repo"]["rev"] == repo.commits[-1].rev
    assert run.details["repo"]["records"] == len(repo.records)
    tweets = list(iter_records(archive.store, run, "tweets"))
    by_id = {r["id"]: r for r in tweets}
    for post in posts:
        assert by_id[post["uri"]]["text"] == post["text"]
        assert by_id[post["uri"]]["platform"] == "bluesky"
    kinds = {r["kind"] for r in tweets}
    assert kinds == {"post", "reply", "quote", "repost"}
    tagged = next(r for r in tweets if "#RoadClosure" in r["text"])
    assert tagged["hashtags"] == ["RoadClosure"]
    mention = next(r for r in tweets if r["mentions"])
    assert mention["mentions"][0] in mention["text"]
    assert mention["mentioned_user_ids"] == [demo_did(mention["mentions"][0])]
    linked = next(r for r in tweets if "Community meeting" in r["text"])
    assert linked["urls"] and linked["urls"][0] in linked["text"]
    photo = next(r for r in tweets if r["media"])
    assert photo["media"][0]["key"] in blobs and photo["media"][0]["type"] == "photo"
    reply = next(r for r in tweets if r["kind"] == "reply")
    assert reply["in_reply_to_id"] in by_id and reply["in_reply_to_user_id"] == FORCE_DID
    quote = next(r for r in tweets if r["kind"] == "quote")
    assert quote["referenced"][0]["type"] == "quoted"
    following = list(iter_records(archive.store, run, "following"))
    assert {r["id"] for r in following} == {
        v for p, v in _values(repo, "app.bsky.graph.follow", "subject")
    }
    likes = list(iter_records(archive.store, run, "likes"))
    assert all(
        r["id"].startswith("at://did:plc:") and "/app.bsky.feed.post/" in r["id"] for r in likes
    )
    (profile,) = iter_records(archive.store, run, "profile")
    assert profile["id"] == FORCE_DID and profile["author"]["name"] == "Examplefordshire Police"
    (other,) = iter_records(archive.store, run, "repo_records")
    assert other["kind"] in UNINDEXED_KINDS and other["raw"]["$type"] == THIRD_PARTY
    assert len(list(iter_records(archive.store, run, "blocks"))) == 1
    assert run.details["snapshots"]["following"]["count"] == len(following)
    orjson.dumps([r["raw"] for r in tweets])  # raw is JSON-safe


def _values(repo: RepoBuilder, collection: str, field: str):
    import cbrrr

    for path, cid in repo.records.items():
        if path.startswith(collection + "/"):
            value: dict = cbrrr.decode_dag_cbor(repo.blocks[bytes(cid)])  # type: ignore[assignment]
            yield path, value[field]


def test_importing_the_same_repository_again_adds_nothing(cli_run, backup_folder):
    assert cli_run("import", str(backup_folder)).exit_code == 0
    again = json.loads(cli_run("import", str(backup_folder), "--json").output)
    assert again["run_id"] is None


def test_a_bare_car_with_its_did_document_beside_it(cli_run, car_path, archive):
    shutil.rmtree(car_path.parent / f"{HANDLE}_blobs")
    assert sniff(str(car_path))
    result = cli_run("import", str(car_path))
    assert result.exit_code == 0, result.output
    (run,) = list_runs(archive.store, ACCOUNT_ID)
    assert run.details["repo"]["signing_key"].startswith("did:key:")


def test_a_car_without_a_did_document_needs_allow_partial(rejected, cli_run, tmp_path, car_path):
    lone = tmp_path / "alone"
    lone.mkdir()
    shutil.copy(car_path, lone / "repo.car")
    line = rejected(lone / "repo.car")
    assert line.startswith("error: repo.car: no DID document beside it")
    result = cli_run("import", str(lone / "repo.car"), "--allow-partial", "--json")
    assert result.exit_code == 0, result.output
    assert any("signature is not checked" in g for g in json.loads(result.output)["gaps"])


def test_a_signature_that_does_not_verify(rejected, backup_folder, car_path):
    other = SigningKey.from_secret(424242)
    doc = did_document(FORCE_DID, other, HANDLE, "https://pds.bsky.example")
    (backup_folder / f"{HANDLE}.json").write_text(json.dumps(doc))
    (backup_folder / f"{HANDLE}_plc.json").unlink()
    line = rejected(backup_folder)
    assert line.startswith(f"error: {HANDLE}.car: the commit signature does not verify")


def test_a_repository_re_signed_by_another_key(rejected, backup_folder, car_path):
    repo, _, _ = demo_repository(24)
    repo.put(
        "app.bsky.feed.post",
        "3zzzzzzzzzzzz",
        {"$type": "app.bsky.feed.post", "text": "forged", "createdAt": "2025-01-01T00:00:00Z"},
    )
    repo.commit("3zzzzzzzzzzzz", sign_with=SigningKey.from_secret(99))
    car_path.write_bytes(repo.car())
    assert "does not verify" in rejected(backup_folder)


def test_a_block_that_does_not_hash_to_its_cid(rejected, backup_folder, car_path):
    data = bytearray(car_path.read_bytes())
    spot = data.index(b"Thank you to everyone")
    data[spot] ^= 0x20  # "thank": one bit of one record
    car_path.write_bytes(bytes(data))
    line = rejected(backup_folder)
    assert line.startswith(f"error: {HANDLE}.car: block bafyrei")
    assert "does not hash to its CID" in line


def test_a_truncated_car(rejected, backup_folder, car_path):
    data = car_path.read_bytes()
    car_path.write_bytes(data[: len(data) * 2 // 3])
    assert f"{HANDLE}.car: truncated CAR" in rejected(backup_folder)


def test_a_car_cut_at_a_block_boundary_is_incomplete(rejected, backup_folder, car_path):
    root, blocks = read_car(car_path.read_bytes())
    from archiver.platforms.bluesky.repo import write_car

    kept = list(blocks.items())[: len(blocks) // 2]
    car_path.write_bytes(write_car(root, kept))
    line = rejected(backup_folder)
    assert f"{HANDLE}.car: incomplete repository" in line


def test_a_did_that_does_not_match(rejected, backup_folder):
    stranger = demo_did("someone-else.bsky.example")
    for name in (f"{HANDLE}.json", f"{HANDLE}_plc.json"):
        path = backup_folder / name
        path.write_text(path.read_text().replace(FORCE_DID, stranger))
    line = rejected(backup_folder)
    assert f"the commit is for {FORCE_DID}, not the account's {stranger}" in line


def test_did_documents_that_disagree(rejected, backup_folder):
    path = backup_folder / f"{HANDLE}_plc.json"
    plc = json.loads(path.read_text())
    plc["verificationMethods"]["atproto"] = SigningKey.from_secret(5).did_key
    path.write_text(json.dumps(plc))
    assert rejected(backup_folder).startswith(f"error: {HANDLE}_plc.json: names {FORCE_DID}")


def test_a_did_document_of_the_wrong_type(rejected, backup_folder):
    (backup_folder / f"{HANDLE}.json").write_text('["not", "a", "document"]')
    assert (
        rejected(backup_folder) == f"error: {HANDLE}.json: not a DID document "
        "(expected a JSON object)"
    )


def test_a_record_field_of_the_wrong_type(rejected, backup_folder, car_path):
    repo, _, _ = demo_repository(24)
    repo.put(
        "app.bsky.feed.post",
        "3zzzzzzzzzzzz",
        {"$type": "app.bsky.feed.post", "text": 12, "createdAt": "2025-01-01T00:00:00Z"},
    )
    repo.commit("3zzzzzzzzzzzz")
    car_path.write_bytes(repo.car())
    line = rejected(backup_folder)
    assert line == (
        f"error: {HANDLE}.car: record app.bsky.feed.post/3zzzzzzzzzzzz.text: "
        "expected text, got a number"
    )


def test_a_blob_that_does_not_match_its_cid(rejected, backup_folder):
    blob = next((backup_folder / f"{HANDLE}_blobs").iterdir())
    blob.write_bytes(blob.read_bytes() + b"tampered")
    line = rejected(backup_folder)
    assert line.startswith(f"error: {HANDLE}_blobs/{blob.name}: the blob's bytes do not hash")


def test_a_p256_key_verifies_too():
    key = SigningKey.from_secret(77, "secp256r1")
    repo = RepoBuilder(demo_did("p256.example"), key)
    repo.put(
        "app.bsky.feed.post",
        "3kaaaaaaaaaaa",
        {"$type": "app.bsky.feed.post", "text": "hi", "createdAt": "2025-01-01T00:00:00Z"},
    )
    repo.commit("3kaaaaaaaaaab")
    assert key.did_key.startswith("did:key:zDn")
    assert len(verify_car(repo.car(), did=repo.did, key=key.did_key).records) == 1


@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_any_damage_is_refused_as_a_repository_error(data, car_path):
    """A cut or a flipped byte anywhere: RepoError (one line), never another exception,
    never a repository that verifies."""
    original = car_path.read_bytes()
    doc = did_document(FORCE_DID, demo_repository(24)[0].key, HANDLE, "https://p.example")
    from archiver.platforms.bluesky.identity import parse_did_doc

    key = parse_did_doc(doc, "doc").signing_key
    damaged = bytearray(original)
    if data.draw(st.booleans(), label="cut"):
        damaged = damaged[: data.draw(st.integers(0, len(original) - 1), label="at")]
    else:
        spot = data.draw(st.integers(0, len(original) - 1), label="spot")
        damaged[spot] ^= data.draw(st.integers(1, 255), label="bits")
    with pytest.raises(RepoError) as err:
        verify_car(bytes(damaged), did=FORCE_DID, key=key)
    assert "\n" not in str(err.value)


def test_parse_import_names_the_folder_when_it_has_no_car(tmp_path):
    (tmp_path / "empty").mkdir()
    assert not sniff(str(tmp_path / "empty"))
    with pytest.raises(ArchiveFormatError):
        parse_import(str(tmp_path / "empty"), allow_partial=False)


def test_blob_cids_are_computed_as_bluesky_names_them():
    # the CID of the bytes "hello" in Bluesky's blob form (CIDv1, raw, sha2-256)
    assert raw_blob_cid(b"hello") == "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"


def test_the_real_sample_verifies_and_imports(samples, tmp_path, cli_run, archive):
    sample = samples / "bluesky-2025-09_wish13yt"
    if not sample.is_dir():
        pytest.skip(f"{sample} is not there")
    result = cli_run("import", str(sample), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["account_id"] == "bluesky:did:plc:foxemuxgrwgjfj4v75tjeynd"
    (run,) = list_runs(archive.store, summary["account_id"])
    assert run.details["repo"]["records"] == sum(run.details["repo"]["collections"].values())
    assert (
        summary["read"]["tweets"]
        == run.details["repo"]["collections"]["app.bsky.feed.post"]
        + run.details["repo"]["collections"]["app.bsky.feed.repost"]
    )
    assert summary["read"]["repo_records"] > 0
    assert len([e for e in run.objects if e.key.startswith("files/bluesky_media/")]) == 3
