"""Configuration: TOML plus environment overrides; a wrong setting is one line naming it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.config import load_config
from archiver.errors import ConfigError


def write(tmp_path, text: str):
    path = tmp_path / "archiver.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_embedded_local_store():
    cfg = load_config(None, env={})
    assert (cfg.storage.backend, cfg.storage.path) == ("local", "./archive-data")
    assert cfg.x_api.base_url == "https://api.x.com"


def test_file_and_environment_overrides(tmp_path):
    path = write(
        tmp_path,
        """
[storage]
backend = "s3"
bucket = "records"
prefix = "social"

[[accounts]]
username = "ExampleshirePolice"
bearer_token_env = "X_BEARER_TOKEN"
""",
    )
    cfg = load_config(
        path, env={"ARCHIVER_STORAGE__PREFIX": "other", "ARCHIVER_X_API__TIMEOUT": "5"}
    )
    assert (cfg.storage.bucket, cfg.storage.prefix) == ("records", "other")
    assert cfg.x_api.timeout == 5.0
    assert cfg.account("@exampleshirepolice").bearer_token_env == "X_BEARER_TOKEN"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[storage]\nbackend = "ftp"', "storage.backend: must be 'local' or 's3', got 'ftp'"),
        ('[storage]\nbackend = "s3"', "storage.bucket: required when storage.backend is 's3'"),
        ('[storage]\nlock_days = "many"', "storage.lock_days: expected int, got 'many'"),
        ('[storage]\npth = "x"', "storage.pth: unknown setting"),
        ("[storage]\nmax_retries = -1", "storage.max_retries: must be 0 or more, got -1"),
        ("[storage]\nbackoff_base = 0", "storage.backoff_base: must be more than 0"),
        ('[x_api]\nbase_url = "ftp://x"', "x_api.base_url: must be an http(s) URL, got 'ftp://x'"),
        ('[[accounts]]\nbearer_token_env = "X"', "accounts[0].username: missing"),
        (
            '[[accounts]]\nusername = "a"\nbearer_token_env = "AAAA%2Fsecret=="',
            "accounts[0].bearer_token_env: must name an environment variable, not hold a secret",
        ),
        ("[storage\n", "is not valid TOML"),
        (
            '[[accounts]]\nusername = "a"\nplatform = "myspace"',
            "accounts[0].platform: must be one of x, bluesky, mastodon, got 'myspace'",
        ),
        ('[[accounts]]\nusername = "a"\nplatform = 3', "accounts[0].platform: expected str"),
        (
            '[[accounts]]\nusername = "police"\nplatform = "mastodon"',
            "accounts[0].instance: a Mastodon account needs its server",
        ),
        (
            '[[accounts]]\nusername = "a.bsky.social"\nplatform = "bluesky"\n'
            'app_password_env = "xxxx-xxxx-xxxx-xxxx"',
            "accounts[0].app_password_env: must name an environment variable, not hold a secret",
        ),
        ('[bluesky]\nplc_url = "file:///etc/passwd"', "bluesky.plc_url: must be an http(s) URL"),
    ],
)
def test_a_wrong_setting_names_itself(tmp_path, text, message):
    with pytest.raises(ConfigError, match=None) as err:
        load_config(write(tmp_path, text), env={})
    assert message in str(err.value)


def test_the_cli_prints_one_line_and_exits_1(tmp_path):
    path = write(tmp_path, '[storage]\nbackend = "ftp"')
    result = CliRunner().invoke(cli, ["--config", str(path), "runs"])
    assert result.exit_code == 1
    assert result.stderr == "error: storage.backend: must be 'local' or 's3', got 'ftp'\n"


def test_a_missing_config_file(tmp_path):
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "nope.toml"), "runs"])
    assert result.exit_code == 1
    assert result.stderr == f"error: config file not found: {tmp_path / 'nope.toml'}\n"


def test_staging_lives_in_the_archive_s_own_temp_area(tmp_path, monkeypatch):
    from archiver.archive import staging_dir

    local = load_config(None, env={"ARCHIVER_STORAGE__PATH": str(tmp_path / "store")})
    assert staging_dir(local.storage) == tmp_path / "store" / ".staging"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    s3 = load_config(None, env={"ARCHIVER_STORAGE__BACKEND": "s3", "ARCHIVER_STORAGE__BUCKET": "b"})
    assert staging_dir(s3.storage).parent == tmp_path / "cache" / "social-archive" / "staging"
    chosen = load_config(None, env={"ARCHIVER_STORAGE__STAGING_PATH": str(tmp_path / "st")})
    assert staging_dir(chosen.storage) == tmp_path / "st"
