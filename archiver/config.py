"""Configuration: a TOML file plus ARCHIVER_<SECTION>__<KEY> environment overrides.

Secrets are never in the file: accounts name the environment variables that hold them.
A missing or wrong setting raises ConfigError naming the setting.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver.errors import ConfigError
from archiver.timestamps import display_zone
from storage.records import PLATFORMS

ENV_PREFIX = "ARCHIVER_"
# the account settings that name an environment variable holding a secret: the X API's
# (archiver/capture/credentials.py reads these), then the other platforms'
X_CREDENTIAL_ENVS = (
    "bearer_token_env",
    "consumer_key_env",
    "consumer_secret_env",
    "access_token_env",
    "access_token_secret_env",
    "oauth2_user_token_env",
)
_CREDENTIAL_ENVS = (*X_CREDENTIAL_ENVS, "app_password_env")


@dataclass(frozen=True)
class StorageConfig:
    backend: str = "local"
    path: str = "./archive-data"
    bucket: str | None = None
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    lock_days: int | None = None  # retention per object where the bucket has Object Lock
    # where runs are staged before commit; default: <path>/.staging for the local store,
    # the user's cache directory for S3 (see archiver.paths.staging_dir)
    staging_path: str | None = None
    # transient S3 failures (resets, 500/503 SlowDown, truncated bodies) per request
    max_retries: int = 6
    backoff_base: float = 0.5  # seconds before the first retry, doubling up to backoff_cap
    backoff_cap: float = 10.0
    timeout: float = 60.0  # seconds to connect, and to wait for an answer


@dataclass(frozen=True)
class IndexConfig:
    # default: inside a local store's folder; for S3 a cache folder (archiver/paths.py)
    path: str | None = None
    # decoded postings a long-running process (the UI) keeps between searches, in MB
    cache_mb: int = 256
    # processes a rebuild builds shares of the accounts in (0: one per core, at most 4)
    rebuild_workers: int = 0


@dataclass(frozen=True)
class XApiConfig:
    base_url: str = "https://api.x.com"
    timeout: float = 30.0
    max_retries: int = 5
    max_rate_wait: float = 900.0  # the longest single wait for a rate-limit window


# X's media hosts: photos and video previews, video files, DM media (user context)
DEFAULT_MEDIA_HOSTS = ("pbs.twimg.com", "video.twimg.com", "ton.twitter.com")


@dataclass(frozen=True)
class CaptureConfig:
    # the account lock's lease (backups and imports): a killed job blocks no longer than this
    lease_seconds: float = 300.0
    media: bool = True  # download the bytes of photos, GIFs and videos during backups
    media_max_mb: float = 512.0  # a larger file is a recorded gap, not downloaded
    media_hosts: tuple[str, ...] = DEFAULT_MEDIA_HOSTS  # only these hosts are fetched


@dataclass(frozen=True)
class AccountConfig:
    # X: the handle. Bluesky: the handle (a domain name) or the DID. Mastodon: user@instance.
    username: str
    platform: str = "x"  # x | bluesky | mastodon
    # Mastodon: the server's host or base URL (from `username`'s @instance when absent)
    instance: str | None = None
    # Bluesky: the account's DID (resolved from the handle when absent) and its PDS base URL
    # (read from the DID document when absent)
    did: str | None = None
    pds_url: str | None = None
    # Bluesky: an app password for the account's notifications (never the account password);
    # Mastodon uses access_token_env for its OAuth access token
    app_password_env: str | None = None
    bearer_token_env: str | None = None
    consumer_key_env: str | None = None
    consumer_secret_env: str | None = None
    access_token_env: str | None = None
    access_token_secret_env: str | None = None
    oauth2_user_token_env: str | None = None

    def secret(self, name: str) -> str | None:
        """The secret named by setting `name` (e.g. 'bearer_token_env'), read at use time."""
        env = getattr(self, name)
        return os.environ.get(env) if env else None


@dataclass(frozen=True)
class BlueskyConfig:
    # where DIDs are resolved and public graph data (followers) is read
    plc_url: str = "https://plc.directory"
    appview_url: str = "https://public.api.bsky.app"
    # every XRPC call (PLC, AppView, PDS) retries 429/5xx/network failures this often, waiting
    # backoff_base, 2 x backoff_base, ... (capped at a minute) in between
    max_retries: int = 5
    backoff_base: float = 2.0


@dataclass(frozen=True)
class MastodonConfig:
    timeout: float = 30.0
    max_retries: int = 5
    max_rate_wait: float = 900.0  # the longest single wait for a rate-limit window
    page_limit: int = 40  # items per API page (Mastodon allows 40 for statuses, 80 for accounts)
    # media is fetched from each account's own server and only these other hosts (a server's
    # separate media host, e.g. files.example.social)
    media_hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScheduleConfig:
    incremental: str = "0 2 * * *"
    full: str = "0 3 1 * *"
    monthly_export: str = "0 6 2 * *"
    index: str = "*/30 * * * *"  # catch up with runs committed by other processes
    fixity: str = "0 4 * * 0"  # re-hash every object and check the chains (weekly)
    timezone: str = "UTC"
    # an account is overdue when no backup succeeded since a scheduled one plus this long
    grace_minutes: int = 360
    # run with the failure message on stdin when a job fails (mail, a chat hook...); "" = none
    alert_command: str = ""


@dataclass(frozen=True)
class AlertsConfig:
    """E-mail (SMTP) and a JSON webhook, sent once per change of state (archiver/alerts.py)."""

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password_env: str | None = None  # the variable holding the SMTP password
    mail_from: str = ""
    mail_to: tuple[str, ...] = ()
    webhook_url: str | None = None
    webhook_secret_env: str | None = None  # the variable holding the HMAC-SHA256 key
    attempts: int = 4  # per channel, with backoff between them
    retry_seconds: float = 5.0  # the first wait; doubled after each failed attempt
    timeout: float = 10.0


@dataclass(frozen=True)
class ExportConfig:
    destination: str | None = None
    organisation: str = "Example Public Body"
    retention_code: str | None = None
    classification: str | None = None
    signing_key_env: str | None = None  # env var holding a PEM Ed25519 private key
    signing_key_path: str | None = None


@dataclass(frozen=True)
class UiConfig:
    secret_key_env: str = "ARCHIVER_SECRET_KEY"  # noqa: S105 - a variable name
    users_path: str | None = None
    session_minutes: int = 60  # idle timeout
    session_max_hours: int = 12  # absolute lifetime of a login, however busy
    cookie_secure: bool = False  # send the session cookie over HTTPS only (behind TLS)
    max_failed_logins: int = 5  # failed passwords before a name is locked out for a while
    lockout_minutes: int = 15
    exports_path: str | None = None  # where UI exports are written (default: beside users)
    # serving (search_ui/serving.py): waitress threads; requests doing work at once; how
    # long a request waits for a turn before a 503; connections; idle seconds before a drop
    threads: int = 32
    workers: int = 4
    queue_timeout: float = 10.0
    connection_limit: int = 100
    channel_timeout: int = 60
    item_cache_items: int = 1000  # item pages kept in memory (the least recently viewed go)
    run_cache_mb: int = 64  # run objects kept decompressed for item pages (runs never change)
    # reverse proxies in front of the UI whose X-Forwarded-For/-Proto are believed
    trusted_proxies: int = 0
    # the zone every time a person reads is shown in (pages, CSV, listings, CLI tables), and
    # the days of date filters; records and the JSON API stay UTC
    timezone: str = "Europe/London"


@dataclass(frozen=True)
class ReviewConfig:
    # a follower following at least this many accounts (and ten times as many as follow
    # them) is a serial follower in the follower review
    serial_following: int = 2000


@dataclass(frozen=True)
class Config:
    storage: StorageConfig = field(default_factory=StorageConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    x_api: XApiConfig = field(default_factory=XApiConfig)
    capture: CaptureConfig = field(default_factory=CaptureConfig)
    accounts: tuple[AccountConfig, ...] = ()
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    ui: UiConfig = field(default_factory=UiConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    review: ReviewConfig = field(default_factory=ReviewConfig)
    bluesky: BlueskyConfig = field(default_factory=BlueskyConfig)
    mastodon: MastodonConfig = field(default_factory=MastodonConfig)
    source: str = "<defaults>"  # where the config came from, for messages

    def account(self, username: str) -> AccountConfig:
        for acc in self.accounts:
            if acc.username.lower() == username.lstrip("@").lower():
                return acc
        raise ConfigError(f"accounts: no account @{username.lstrip('@')} in {self.source}")


_SECTIONS = {
    "storage": StorageConfig,
    "index": IndexConfig,
    "x_api": XApiConfig,
    "capture": CaptureConfig,
    "schedule": ScheduleConfig,
    "export": ExportConfig,
    "ui": UiConfig,
    "alerts": AlertsConfig,
    "review": ReviewConfig,
    "bluesky": BlueskyConfig,
    "mastodon": MastodonConfig,
}


def _coerce(setting: str, value: Any, annotation: str) -> Any:
    """Check a value against the dataclass annotation (kept as a string by __future__)."""
    kinds = {"str": str, "int": int, "float": float, "bool": bool}
    optional = "None" in annotation
    base = annotation.replace(" | None", "").strip()
    if value is None and optional:
        return None
    if base == "tuple[str, ...]":
        if isinstance(value, str):  # from the environment: comma-separated
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{setting}: expected a list of strings, got {value!r}")
        return tuple(value)
    want = kinds.get(base)
    if want is None:
        return value
    if isinstance(value, str) and want is not str:
        try:
            value = (
                {"int": int, "float": float}[base](value)
                if base != "bool"
                else value.lower() in ("1", "true", "yes")
            )
        except (ValueError, KeyError):
            raise ConfigError(f"{setting}: expected {base}, got {value!r}") from None
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, want) or (want is int and isinstance(value, bool)):
        raise ConfigError(f"{setting}: expected {base}, got {value!r}")
    return value


def _build(cls: type, section: str, values: dict[str, Any]) -> Any:
    if not isinstance(values, dict):
        raise ConfigError(f"{section}: expected a table")
    known = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{section}.{key}: unknown setting")
        kwargs[key] = _coerce(f"{section}.{key}", value, str(known[key].type))
    return cls(**kwargs)


def _env_overrides(env: dict[str, str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        if section in _SECTIONS:
            out.setdefault(section, {})[key] = value
    return out


def load_config(
    path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None
) -> Config:
    """Read the TOML file (if any) and apply environment overrides."""
    env = dict(os.environ if env is None else env)
    path = path or env.get("ARCHIVER_CONFIG")
    data: dict[str, Any] = {}
    source = "<defaults>"
    if path:
        source = str(path)
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    for section, values in _env_overrides(env).items():
        data.setdefault(section, {}).update(values)
    unknown = set(data) - set(_SECTIONS) - {"accounts"}
    if unknown:
        raise ConfigError(f"{sorted(unknown)[0]}: unknown config section in {source}")
    sections = {name: _build(cls, name, data.get(name, {})) for name, cls in _SECTIONS.items()}
    accounts = []
    raw_accounts = data.get("accounts", [])
    if not isinstance(raw_accounts, list):
        raise ConfigError("accounts: expected [[accounts]] tables")
    for i, acc in enumerate(raw_accounts):
        if not isinstance(acc, dict) or not acc.get("username"):
            raise ConfigError(f"accounts[{i}].username: missing")
        accounts.append(_build(AccountConfig, f"accounts[{i}]", acc))
    cfg = Config(accounts=tuple(accounts), source=source, **sections)
    _validate(cfg)
    return cfg


def _validate(cfg: Config) -> None:
    if cfg.storage.backend not in ("local", "s3"):
        raise ConfigError(f"storage.backend: must be 'local' or 's3', got {cfg.storage.backend!r}")
    if cfg.storage.backend == "s3" and not cfg.storage.bucket:
        raise ConfigError("storage.bucket: required when storage.backend is 's3'")
    if cfg.storage.max_retries < 0:
        raise ConfigError(f"storage.max_retries: must be 0 or more, got {cfg.storage.max_retries}")
    for name in ("backoff_base", "backoff_cap", "timeout"):
        if getattr(cfg.storage, name) <= 0:
            raise ConfigError(f"storage.{name}: must be more than 0")
    if not 0 <= cfg.index.rebuild_workers <= 64:
        workers = cfg.index.rebuild_workers
        raise ConfigError(f"index.rebuild_workers: must be 0 (one per core) to 64, got {workers}")
    try:
        display_zone(cfg.ui.timezone)
    except ValueError as exc:
        raise ConfigError(f"ui.timezone: {exc}") from None
    if not cfg.x_api.base_url.startswith(("http://", "https://")):
        raise ConfigError(f"x_api.base_url: must be an http(s) URL, got {cfg.x_api.base_url!r}")
    if cfg.capture.lease_seconds <= 0:
        raise ConfigError("capture.lease_seconds: must be positive")
    if cfg.capture.media_max_mb <= 0:
        raise ConfigError("capture.media_max_mb: must be positive")
    for host in cfg.capture.media_hosts:
        if not host or "/" in host or host != host.strip().lower():
            raise ConfigError(f"capture.media_hosts: {host!r} is not a lower-case host name")
    for name, low in (("session_minutes", 1), ("session_max_hours", 1), ("trusted_proxies", 0)):
        if getattr(cfg.ui, name) < low:
            raise ConfigError(f"ui.{name}: must be {low} or more, got {getattr(cfg.ui, name)}")
    alerts = cfg.alerts
    if alerts.smtp_host and (not alerts.mail_from or not alerts.mail_to):
        raise ConfigError("alerts.mail_to: smtp_host is set, so mail_from and mail_to are needed")
    if alerts.webhook_url and not alerts.webhook_url.startswith(("http://", "https://")):
        raise ConfigError(f"alerts.webhook_url: must be an http(s) URL, got {alerts.webhook_url!r}")
    for name in ("smtp_password_env", "webhook_secret_env"):
        value = getattr(alerts, name)
        if value and not value.replace("_", "").isalnum():
            raise ConfigError(
                f"alerts.{name}: must name an environment variable, not hold a secret"
            )
    if alerts.attempts < 1:
        raise ConfigError("alerts.attempts: must be at least 1")
    for name in ("plc_url", "appview_url"):
        if not getattr(cfg.bluesky, name).startswith(("http://", "https://")):
            raise ConfigError(f"bluesky.{name}: must be an http(s) URL")
    if cfg.mastodon.max_retries < 0 or not 1 <= cfg.mastodon.page_limit <= 80:
        raise ConfigError("mastodon: max_retries must be >= 0 and page_limit between 1 and 80")
    for i, acc in enumerate(cfg.accounts):
        if acc.platform not in PLATFORMS:
            raise ConfigError(
                f"accounts[{i}].platform: must be one of {', '.join(PLATFORMS)}, "
                f"got {acc.platform!r}"
            )
        if acc.platform == "mastodon" and "@" not in acc.username.lstrip("@") and not acc.instance:
            raise ConfigError(
                f"accounts[{i}].instance: a Mastodon account needs its server "
                '(username = "user@instance" or instance = "host")'
            )
        for name in _CREDENTIAL_ENVS:
            value = getattr(acc, name)
            if value and not value.replace("_", "").isalnum():
                raise ConfigError(
                    f"accounts[{i}].{name}: must name an environment variable, not hold a secret"
                )
