"""Media bytes from the API, against the double serving photos, videos and DM media over
HTTP: every file stored once in the run with its provenance, the original photo and the best
video variant, gaps recorded (404, too large, other hosts, redirects), retries for 5xx and
bodies cut short, never a partial object, nothing fetched twice across runs or a kill."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections import Counter

import orjson
from xapi_dataset import POLICE

from archiver.capture.media import PROVENANCE, sniff
from archiver.capture.reconcile import reconcile
from storage.local import LocalStore
from storage.runs import list_runs, verify_run
from storage.store import read_bytes


def _lines(store, manifest) -> dict[str, dict]:
    data = read_bytes(store, manifest.prefix + PROVENANCE)
    return {d["url"]: d for d in map(orjson.loads, data.splitlines())}


def _media_requests(xapi) -> Counter[str]:
    return Counter(r.path for r in xapi.requests if r.route == "media")


def _path(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].split("?")[0].join(["/", ""])


def test_a_backup_keeps_every_photo_and_the_best_video_in_the_run(
    xapi, configure, backup, local_store
):
    acc = xapi.account(POLICE, posts=60, mentions=5)
    photos = xapi.world.photo_urls(acc)
    assert len(photos) >= 3
    video_post = acc.timeline[4]
    xapi.world.attach_video(video_post)

    result = backup(configure(acc))

    assert result.ok and result.warnings == []
    (run,) = list_runs(local_store, acc.id)
    lines = _lines(local_store, run)
    best = f"{xapi.url}/video/{video_post}/2176000.mp4"
    preview = f"{xapi.url}/media/{video_post}_preview.jpg"
    assert set(lines) == {*photos, best, preview}
    served = _media_requests(xapi)
    assert set(served) == {_path(u) for u in lines} and set(served.values()) == {1}
    assert not any(p.endswith(("256000.mp4", "832000.mp4", ".m3u8")) for p in served)
    photo_params = [r.params for r in xapi.requests if r.path == _path(photos[0])]
    assert photo_params == [{"name": "orig"}]
    objects = {o.key: o for o in run.objects}
    for url, line in lines.items():
        body = xapi.media_bytes(_path(url))
        assert line["sha256"] == hashlib.sha256(body).hexdigest()
        assert line["size"] == len(body) and line["status"] == 200
        assert line["content_type"] == sniff(body)[0] and line["retrieved_at"]
        assert line["records"] and all(r.startswith("tweets/") for r in line["records"])
        stored = line["key"].split("/", 1)[1]
        assert objects[stored].sha256 == line["sha256"]
        assert read_bytes(local_store, run.prefix + stored) == body
    assert lines[best]["content_type"] == "video/mp4"
    assert verify_run(local_store, run) == []
    assert run.details["media"]["stored"] == len(lines)
    assert result.media["bytes"] == sum(line["size"] for line in lines.values())


def test_a_second_backup_fetches_nothing_it_holds(xapi, configure, backup, local_store):
    acc = xapi.account(POLICE, posts=40, mentions=3)
    cfg = configure(acc)
    backup(cfg)
    first = _media_requests(xapi)
    xapi.requests.clear()

    result = backup(cfg, full=True)

    assert result.ok and _media_requests(xapi) == Counter()
    first_run, second = list_runs(local_store, acc.id)
    lines = _lines(local_store, second)
    assert len(lines) == len(first)
    assert all(line["key"].startswith(first_run.run_id + "/") for line in lines.values())
    assert not any(o.key.startswith("files/media/") and o.key != PROVENANCE for o in second.objects)


def test_bad_media_are_gaps_or_retried_never_a_failed_run(xapi, configure, backup, local_store):
    acc = xapi.account(POLICE, posts=140, mentions=3)
    photos = [_path(u) for u in xapi.world.photo_urls(acc)]
    assert len(photos) >= 7
    gone, flaky, cut, huge, streamed, html, elsewhere = photos[:7]
    xapi.media_fault(gone, "404")
    xapi.media_fault(flaky, "500", "503")
    xapi.media_fault(cut, "cut")
    xapi.media_fault(huge, "huge")
    xapi.media_fault(streamed, "huge-chunked")
    xapi.media_fault(html, "wrongtype")
    port = xapi.url.rsplit(":", 1)[1]
    xapi.media_fault(elsewhere, f"redirect:http://localhost:{port}{elsewhere}")

    result = backup(configure(acc), media={"media_max_mb": 1.0})

    assert result.ok
    (run,) = list_runs(local_store, acc.id)
    lines = {_path(url): line for url, line in _lines(local_store, run).items()}
    assert lines[gone]["gap"] == "HTTP 404 (gone from the platform)" and "key" not in lines[gone]
    for path in (huge, streamed):
        assert "over capture.media_max_mb" in lines[path]["gap"] and "key" not in lines[path]
    assert "not in capture.media_hosts" in lines[elsewhere]["gap"]
    for path in (flaky, cut):  # retried until whole
        assert lines[path]["sha256"] == hashlib.sha256(xapi.media_bytes(path)).hexdigest()
    assert _media_requests(xapi)[flaky] == 3 and _media_requests(xapi)[cut] == 2
    # bytes that are not what the server said they are: kept, typed by what they are
    assert lines[html]["declared_type"].startswith("image/jpeg")
    assert lines[html]["content_type"] == "application/octet-stream"
    assert lines[html]["key"].endswith(".bin")
    assert not any("localhost" in r.path for r in xapi.requests)
    warnings = "\n".join(run.warnings)
    for path in (gone, huge, streamed, elsewhere):
        assert path in warnings
    assert verify_run(local_store, run) == []  # every stored object whole
    stored = [o for o in run.objects if o.key.startswith("files/media/") and o.key != PROVENANCE]
    assert len(stored) == len(photos) - 4
    report = "\n".join(reconcile(local_store, acc.id).lines())
    assert "GAP In the latest capture: media" in report and gone in report


def test_media_on_hosts_not_listed_are_never_fetched(xapi, configure, backup, local_store):
    acc = xapi.account(POLICE, posts=40, mentions=3)

    result = backup(configure(acc), media={"media_hosts": ("pbs.twimg.com",)})

    assert result.ok and _media_requests(xapi) == Counter()
    (run,) = list_runs(local_store, acc.id)
    gaps = [line["gap"] for line in _lines(local_store, run).values()]
    assert gaps and all("host 127.0.0.1 is not in capture.media_hosts" in g for g in gaps)


def test_dm_media_is_fetched_with_the_user_token(xapi, configure, backup, local_store):
    acc = xapi.account(POLICE, posts=20, mentions=2, dms=4)
    xapi.world.attach_dm_photo(acc.dms[0])

    result = backup(configure(acc, auth=("oauth1",)))

    assert result.ok
    (run,) = list_runs(local_store, acc.id)
    dm_url = f"{xapi.url}/dm/{acc.dms[0]['id']}/photo.jpg"
    line = _lines(local_store, run)[dm_url]
    assert line["records"] == [f"dms/{acc.dms[0]['id']}"] and line["status"] == 200
    (request,) = [r for r in xapi.requests if r.path.startswith("/dm/")]
    assert request.auth == "oauth1"


def test_a_backup_killed_during_media_resumes_without_fetching_twice(
    real_xapi, configure, tmp_path
):
    acc = real_xapi.account(POLICE, posts=200, mentions=3)
    cfg = configure(acc)
    photos = [_path(u) for u in real_xapi.world.photo_urls(acc)]
    assert len(photos) >= 8
    names = {k: v for k, v in cfg.__dict__.items() if k.endswith("_env") and v}
    config = tmp_path / "archiver.toml"
    config.write_text(
        f'[storage]\nbackend = "local"\npath = "{tmp_path / "store"}"\n'
        f'[index]\npath = "{tmp_path / "index"}"\n'
        f'[x_api]\nbase_url = "{real_xapi.url}"\nmax_retries = 2\n'
        '[capture]\nlease_seconds = 1\nmedia_hosts = ["127.0.0.1"]\n'
        f'[[accounts]]\nusername = "{POLICE}"\n'
        + "".join(f'{k} = "{v}"\n' for k, v in names.items()),
        encoding="utf-8",
    )
    real_xapi.stall_after(5, route="media")  # five files, then the sixth hangs
    args = [sys.executable, "-c", "from archiver.cli import main; main()", "--config", str(config)]
    proc = subprocess.Popen([*args, "backup"], env=dict(os.environ), stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while real_xapi.count("media") < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert real_xapi.count("media") == 6, "the backup never reached its sixth media file"
        proc.kill()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        real_xapi.release()
    store = LocalStore(tmp_path / "store")
    assert list_runs(store, acc.id) == []

    resumed = subprocess.run(
        [*args, "backup", "--wait", "30"], env=dict(os.environ), capture_output=True, text=True
    )

    assert resumed.returncode == 0, resumed.stderr
    assert "(resumed)" in resumed.stdout
    served = _media_requests(real_xapi)
    stalled = [r.path for r in real_xapi.requests if r.route == "media"][5]
    assert served[stalled] == 2  # killed mid-request, then fetched whole
    assert all(n == 1 for path, n in served.items() if path != stalled)
    assert set(served) == set(photos)
    (run,) = list_runs(store, acc.id)
    assert verify_run(store, run) == []
    assert len(_lines(store, run)) == len(photos)


def test_an_evidence_bundle_of_a_deleted_post_holds_its_photo(
    xapi, configure, backup, local_store, tmp_path
):
    import zipfile

    from archiver.archive import Archive
    from archiver.config import Config, ExportConfig, StorageConfig
    from archiver.exports.evidence import export_evidence
    from archiver.exports.signing import generate_key

    acc = xapi.account(POLICE, posts=40, mentions=3)
    cfg = configure(acc)
    backup(cfg)
    tid = next(t for t in acc.timeline if xapi.world.tweets[t].get("attachments"))
    photo = _path(xapi.world.media[f"3_{tid}"]["url"])
    xapi.world.delete(acc, tid)
    assert backup(cfg, full=True).events["deleted"] == 1
    signing = generate_key(tmp_path / "key.pem")
    archive = Archive(
        Config(
            storage=StorageConfig(path=str(local_store.root)),
            export=ExportConfig(signing_key_path=str(tmp_path / "key.pem")),
        )
    )

    e = export_evidence(
        archive, [tid], reason="complaint", case="OP-1", out=tmp_path, signing_key=signing
    )

    with zipfile.ZipFile(e.delivery.url) as zf:
        media = [n for n in zf.namelist() if "/data/media/" in n]
        assert len(media) == 1 and media[0].endswith(".jpg")
        assert zf.read(media[0]) == xapi.media_bytes(photo)
