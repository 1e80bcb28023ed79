"""The extra set: the founders' real sample (the 2026-03 milahu104 archive plus export_samples'
month of news) exports cleanly. Runs when ../shared/samples is there; skipped, with the reason,
when it is not. The suite's own export tests use the generated archive (export_demo)."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

from export_samples import ACCOUNT, ACCOUNT_ID, JPEG, read_jsonl, unzip_bag

from archiver.exports.foi import Criteria, export_foi
from archiver.exports.monthly import export_monthly
from archiver.exports.sar import export_sar

TODAY = dt.date(2026, 11, 25)
THIRD_PARTIES = (
    "SamaHoole",
    "Sama Hoole",
    "2253756806",
    "jo_public",
    "Jo Public",
    "4455667788",
    "nosy_neighbour",
    "99887766",
    "07700 900123",
    "jo.public@example.com",
    "AB12 CDE",
    "SW1A 1AA",
    "+44 7700 900456",
    "2815014648",
    "Dominik_Kettner",
    "782506632",
    "Eddie_1412",
    "2031000000000000003",  # the member of the public's post: its id leads to them
)


def test_the_real_sample_month_is_one_valid_bag(real_sample, tmp_path):
    (export,) = export_monthly(real_sample.archive, "2026-03", today=TODAY).exports
    path = Path(export.delivery.url)
    assert path == tmp_path / "records" / ACCOUNT / "2026" / f"{ACCOUNT}-2026-03.zip"
    assert str(export).startswith(
        f"@{ACCOUNT} 2026-03: 9 items (dm 1, mention 1, reply 5, repost 2), "
    )
    bag = unzip_bag(path, tmp_path / "unpacked")
    bag.validate()
    assert bag.info["Account"] == f"@{ACCOUNT} ({ACCOUNT_ID})"
    assert (bag.info["Item-Count"], bag.info["Version-Count"]) == ("9", "11")
    assert sorted(p for p in bag.payload_files() if p.startswith("data/media/")) == [
        "data/media/2029604193200152772-HCo5t1CbQAA4FOT.jpg",
        "data/media/2029903943413772741-HCuq2zDboAAKHUC.jpg",
    ]
    ids = [r["id"] for r in read_jsonl(Path(bag.path) / "data" / "records.jsonl")]
    assert ids[:2] == ["2024767818445504644", "2030000000000000002"]  # February's, edited
    assert "2009695498186473648" not in ids  # January, untouched since
    media = Path(bag.path) / "data" / "media" / "2029903943413772741-HCuq2zDboAAKHUC.jpg"
    assert media.read_bytes() == JPEG


def test_the_real_sample_foi_bundle_masks_every_third_party(real_sample, tmp_path):
    march = Criteria(since=dt.date(2026, 3, 1), until=dt.date(2026, 3, 31))
    d = export_foi(real_sample.archive, march, request_ref="FOI/1", out=tmp_path)
    assert d.bundle.items == 8 and d.bundle.counts == {"mention": 1, "reply": 5, "repost": 2}
    with zipfile.ZipFile(d.delivery.url) as zf:
        everything = "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())
    for value in THIRD_PARTIES:
        assert value not in everything, value
    assert f"@{ACCOUNT}" in everything


def test_the_real_sample_sar_finds_the_replies_to_a_subject(real_sample, tmp_path):
    d = export_sar(real_sample.archive, "SamaHoole", request_ref="SAR-3", out=tmp_path)
    bag = unzip_bag(Path(d.delivery.url), tmp_path / "unpacked")
    records = read_jsonl(Path(bag.path) / "data" / "records.jsonl")
    assert [r["id"] for r in records] == [
        "2029903943413772741",
        "2029906000000000001",
        "2029905358261502168",
    ]
    assert records[0]["text"].startswith("@SamaHoole Doctor: Try to eat some vegetables.")
