"""Capture fixtures: the X API double on loopback (sharing a fake clock with the client, so
rate-limit waits take no time), accounts whose tokens live in environment variables, and a
`backup` helper that runs one account's backup against the double."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

# the double's modules sit beside the tests (tests/ is not a package)
sys.path.insert(0, str(Path(__file__).parent))

from click.testing import CliRunner  # noqa: E402
from operator_env import account_env, account_toml  # noqa: E402
from xapi_dataset import Account, Clock  # noqa: E402
from xapi_double import XApiDouble  # noqa: E402

from archiver.capture.backup import Backup, BackupResult  # noqa: E402
from archiver.capture.client import XClient  # noqa: E402
from archiver.config import AccountConfig, CaptureConfig, XApiConfig  # noqa: E402
from storage.store import ObjectStore  # noqa: E402


@pytest.fixture
def clock() -> Clock:
    return Clock(start=float(int(time.time())))


@pytest.fixture
def xapi(clock: Clock):
    double = XApiDouble(clock=clock).start()
    yield double
    double.stop()


@pytest.fixture
def real_xapi():
    """The double on the real clock, for a CLI in a subprocess or CliRunner."""
    double = XApiDouble(clock=Clock()).start()
    yield double
    double.stop()


@pytest.fixture
def configure(monkeypatch):
    """Export an account's tokens to the environment; return the config that names them."""

    def make(
        acc: Account, *, auth: tuple[str, ...] = ("oauth1", "oauth2"), username: str | None = None
    ) -> AccountConfig:
        tag = acc.user["username"].upper()
        names: dict[str, str] = {}
        secrets = {
            "bearer_token_env": acc.creds.bearer,
            "consumer_key_env": acc.creds.consumer_key,
            "consumer_secret_env": acc.creds.consumer_secret,
            "access_token_env": acc.creds.access_token,
            "access_token_secret_env": acc.creds.access_token_secret,
            "oauth2_user_token_env": acc.creds.oauth2_token,
        }
        wanted = {
            "bearer": ["bearer_token_env"],
            "oauth2": ["oauth2_user_token_env"],
            "oauth1": [
                "consumer_key_env",
                "consumer_secret_env",
                "access_token_env",
                "access_token_secret_env",
            ],
        }
        for kind in auth:
            for setting in wanted[kind]:
                env = f"X_{setting.removesuffix('_env').upper()}_{tag}"
                monkeypatch.setenv(env, secrets[setting])
                names[setting] = env
        return AccountConfig(username or acc.user["username"], **names)

    return make


@pytest.fixture
def backup(local_store: ObjectStore, xapi: XApiDouble, clock: Clock):
    """backup(account_config, full=False) -> BackupResult, against the double."""

    def run(
        cfg: AccountConfig,
        *,
        full: bool = False,
        store: ObjectStore | None = None,
        media: dict[str, object] | None = None,
        **x_api: object,
    ) -> BackupResult:
        media = media or {}
        client = XClient.for_account(
            cfg,
            XApiConfig(base_url=xapi.url, **x_api),  # type: ignore[arg-type]
            clock=clock.time,
            sleep=clock.sleep,
        )
        capture = CaptureConfig(**{"media_hosts": ("127.0.0.1",), **media})  # type: ignore[arg-type]
        return Backup(
            store or local_store, client, username=cfg.username, full=full, capture=capture
        ).run()

    return run


@pytest.fixture
def operator(real_xapi, config_file, monkeypatch):
    """Configure accounts against the double and run `archiver ...` as an operator would:
    setup((account, TAG, kinds?), ..., env={...}, toml="more settings") -> (run, path)."""
    from archiver.cli import cli

    def setup(*accounts: tuple, env: dict[str, str] | None = None, toml: str = ""):
        text = f'[x_api]\nbase_url = "{real_xapi.url}"\nmax_retries = 2\n'
        # a killed backup's lock expires soon; media come from the double on loopback
        text += '[capture]\nlease_seconds = 1.5\nmedia_hosts = ["127.0.0.1"]\n'
        for acc, tag, *kinds in accounts:
            text += account_toml(acc.user["username"], tag, *kinds)
            for name, value in account_env(acc, tag).items():
                monkeypatch.setenv(name, value)
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        path = config_file(text + toml)

        def run(*args: str):
            return CliRunner().invoke(cli, ["--config", str(path), *args])

        return run, path

    return setup
