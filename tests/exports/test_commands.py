"""The export commands as people type them: one line per result, one line per error."""

from __future__ import annotations

import getpass
import os
import re
import stat
import zipfile

import pytest
from click.testing import CliRunner
from export_demo import ACCOUNT, month_days

from archiver.cli import cli
from archiver.exports.signing import generate_key
from storage.local import LocalStore


@pytest.fixture
def run(config_file, demo, write_demo, tmp_path, monkeypatch):
    """`archiver --config <file> ...` over the generated archive, with a records share."""
    key = generate_key(tmp_path / "key.pem")
    monkeypatch.setenv("ARCHIVER_TEST_EXPORT_KEY", (tmp_path / "key.pem").read_text())
    (tmp_path / "key.pem").unlink()  # the key lives in the environment only
    path = config_file(
        "[export]\n"
        f'destination = "file://{tmp_path / "records"}"\n'
        'organisation = "Exampleshire Police"\n'
        'signing_key_env = "ARCHIVER_TEST_EXPORT_KEY"\n'
    )
    write_demo(tmp_path / "store")
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, ["--config", str(path), *args])

    invoke.key = key
    invoke.facts = demo
    return invoke


def test_export_monthly_reports_each_bundle(run, tmp_path):
    month = run.facts.month
    result = run("export", "monthly", "--month", month)
    assert result.exit_code == 0, result.output
    target = tmp_path / "records" / run.facts.bundle_key
    assert re.fullmatch(
        rf"@{ACCOUNT} {month}: {re.escape(run.facts.summary())}, "
        rf"\d+\.\d kB -> {re.escape(str(target))} written\n",
        result.output,
    )
    again = run("export", "monthly", "--month", month)
    assert again.output.endswith(f"-> {target} already there (identical)\n")


def test_export_errors_are_one_line_and_exit_1(run):
    result = run("export", "monthly", "--month", "2026-3")
    assert result.exit_code == 1
    assert result.stderr == "error: month must be YYYY-MM (e.g. 2024-03), got '2026-3'\n"
    result = run("export", "evidence", "--id", "42", "--reason", "r", "--case", "c", "--out", ".")
    assert result.exit_code == 1
    assert result.stderr == "error: no item with id 42 in the archive\n"
    assert run("export", "monthly").exit_code == 2  # --month is required


def test_export_foi_and_sar_summarise_what_was_masked(run, tmp_path):
    first, last = month_days(run.facts.month)
    result = run(
        "export",
        "foi",
        "--from",
        first,
        "--to",
        last,
        "--request",
        "FOI/42",
        "--out",
        str(tmp_path),
        "--operator",
        "foi.officer",
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    summary = run.facts.summary(dms=False)  # an FOI bundle withholds DMs
    assert lines[0] == f"{summary} -> {tmp_path / 'foi-FOI-42.zip'}"
    # the news's mention holds an e-mail address and a phone number, so both are counted
    assert re.match(r"redacted: 1 direct message, \d+ email address, \d+ phone number,", lines[1])
    result = run(
        "export",
        "sar",
        "--user",
        "@jo_public",
        "--request",
        "SAR/1",
        "--out",
        str(tmp_path / "sar.zip"),
    )
    assert result.output.splitlines()[0] == f"1 item (mention 1) -> {tmp_path / 'sar.zip'}"


def test_evidence_then_verify_bundle(run, tmp_path):
    result = run(
        "export",
        "evidence",
        "--id",
        run.facts.mention_id,
        "--reason",
        "complaint",
        "--case",
        "OP-1",
        "--exhibit",
        "AB/1",
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    bundle = tmp_path / "evidence-AB-1.zip"
    assert result.output == (
        f"exhibit AB/1: 1 item, 1 version, signed by {run.key.fingerprint} -> {bundle}\n"
    )
    result = run("verify-bundle", str(bundle))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "evidence-AB-1: evidence",
        "ok: bag valid: 10 payload files match their SHA-256",
        f"ok: signature valid: signed by this archive's key {run.key.fingerprint}",
        "ok: storage: every exported version (1, in 1 run) still matches the archive",
    ]
    # someone edits a record and zips the bag up again
    with zipfile.ZipFile(bundle) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    name = "evidence-AB-1/data/records.jsonl"
    members[name] = members[name].replace(b"my car", b"my van")
    with zipfile.ZipFile(bundle, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    result = run("verify-bundle", str(bundle))
    assert result.exit_code == 1
    problem, error = result.stderr.splitlines()
    assert problem.startswith("FAIL: bag: data/records.jsonl sha256 validation failed: expected=")
    assert error == f"error: {bundle} failed verification: 1 problems"


def test_a_damaged_zip_is_reported_not_crashed_on(run, tmp_path):
    run("export", "monthly", "--month", run.facts.month)
    bundle = tmp_path / "records" / run.facts.bundle_key
    stem = run.facts.file_stem
    with zipfile.ZipFile(bundle) as zf:
        info = zf.getinfo(f"{stem}/data/records.jsonl")
    with open(bundle, "r+b") as fh:  # flip a byte inside the compressed records
        fh.seek(info.header_offset + 30 + len(info.filename) + info.compress_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0xFF]))
    result = run("verify-bundle", str(bundle))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {bundle} is damaged: {stem}/data/records.jsonl (")


def test_verify_bundle_with_a_published_public_key(run, tmp_path):
    run(
        "export",
        "evidence",
        "--id",
        run.facts.mention_id,
        "--reason",
        "complaint",
        "--case",
        "OP-1",
        "--exhibit",
        "AB/2",
        "--out",
        str(tmp_path),
    )
    public = tmp_path / "archive-public.pem"
    public.write_bytes(run.key.public_pem())
    result = CliRunner().invoke(
        cli,
        [
            "verify-bundle",
            "--no-storage",
            "--public-key",
            str(public),
            str(tmp_path / "evidence-AB-2.zip"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[2:] == [
        f"ok: signature valid: signed by this archive's key {run.key.fingerprint}",
        "ok: storage not checked (no archive given)",
    ]


def test_keygen_writes_a_private_key_only_its_owner_can_read(tmp_path):
    runner = CliRunner()
    path = tmp_path / "keys" / "new" / "k.pem"  # folders that do not exist yet
    result = runner.invoke(cli, ["export", "keygen", str(path)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = result.output.splitlines()
    assert lines[0] == f"private key written to {path} (keep it secret; back it up)"
    assert (
        lines[1] == f"public key written to {tmp_path / 'keys' / 'new' / 'k.pub.pem'} (publish it)"
    )
    assert re.fullmatch(r"key fingerprint: SHA256:[0-9a-f]{64}", lines[2])
    assert lines[3:5] == [
        "add to the [export] section of your config file:",
        f'signing_key_path = "{path}"',
    ]
    public = (tmp_path / "keys" / "new" / "k.pub.pem").read_text()
    assert public.startswith("-----BEGIN PUBLIC KEY-----")
    assert "PRIVATE" not in result.output and "PRIVATE" not in public
    again = runner.invoke(cli, ["export", "keygen", str(path)])
    assert again.exit_code == 1
    assert again.stderr == f"error: {path} already exists; not overwriting a key\n"


def test_export_list_shows_the_export_records(run, tmp_path):
    run("export", "monthly", "--month", run.facts.month, "--operator", "records.officer")
    result = run("export", "list")
    assert result.exit_code == 0
    (line,) = result.output.splitlines()
    assert re.fullmatch(
        r"\d{1,2} \w{3} \d{4} \d\d:\d\d (GMT|BST)"  # when, in UK time
        rf"  monthly  {run.facts.month}              by records.officer  -> "
        + re.escape(str(tmp_path / "records" / run.facts.bundle_key)),
        line,
    )


def test_the_signing_key_never_reaches_output_or_storage(run, tmp_path):
    pem = os.environ["ARCHIVER_TEST_EXPORT_KEY"]
    secret = "".join(pem.splitlines()[1:-1])
    outputs = [
        run("export", "monthly", "--month", run.facts.month, "-v"),
        run(
            "export",
            "evidence",
            "--id",
            run.facts.mention_id,
            "--reason",
            "r",
            "--case",
            "c",
            "--out",
            str(tmp_path),
            "-v",
        ),
    ]
    for result in outputs:
        assert secret not in result.output and secret not in result.stderr
    for path in list((tmp_path / "store").rglob("*")) + list(tmp_path.glob("*.zip")):
        if path.is_file():
            assert secret.encode() not in path.read_bytes()


def test_exports_made_here_are_in_the_audit_log(run, tmp_path):
    from archiver.audit import AuditLog

    run("export", "monthly", "--month", run.facts.month, "--operator", "records.officer")
    run(
        "export",
        "foi",
        "--query",
        run.facts.query(run.facts.photo),
        "--request",
        "FOI/9",
        "--out",
        str(tmp_path),
        "--operator",
        "foi.officer",
    )
    events = AuditLog(LocalStore(tmp_path / "store")).events(action="export")
    # the actor is the OS user who ran the command, as `cli:<os user>`; the named operator
    # is kept beside it
    me = f"cli:{getpass.getuser()}"
    assert sorted((e.user, e.detail["kind"], e.detail["operator"]) for e in events) == [
        (me, "foi", "foi.officer"),
        (me, "monthly", "records.officer"),
    ]
    (foi,) = [e for e in events if e.detail["kind"] == "foi"]
    assert foi.detail["reference"] == "FOI/9"
    assert foi.detail["bundle"] == "foi-FOI-9.zip"
    assert foi.detail["export_record"].startswith("exports/")
