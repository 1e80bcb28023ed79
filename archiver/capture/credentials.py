"""An account's X API credentials: read at use time from the environment variables the
config names, never from the config itself, and never shown (repr=False on every secret)."""

from __future__ import annotations

from dataclasses import dataclass, field

from archiver.config import X_CREDENTIAL_ENVS, AccountConfig
from archiver.errors import CredentialsError

_OAUTH1 = X_CREDENTIAL_ENVS[1:5]


@dataclass(frozen=True)
class Credentials:
    """One account's tokens, read from the environment variables its config names."""

    account: str
    env_names: tuple[str, ...]  # the variables in use, for messages (never their values)
    bearer_token: str | None = field(default=None, repr=False)
    consumer_key: str | None = field(default=None, repr=False)
    consumer_secret: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    access_token_secret: str | None = field(default=None, repr=False)
    oauth2_user_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_config(cls, acc: AccountConfig) -> Credentials:
        values: dict[str, str | None] = {}
        for setting in X_CREDENTIAL_ENVS:
            env = getattr(acc, setting)
            value = acc.secret(setting)
            if env and not value:
                raise CredentialsError(
                    f"account @{acc.username}: environment variable {env} ({setting}) is not "
                    "set; export it or remove the setting"
                )
            values[setting.removesuffix("_env")] = value
        named = [getattr(acc, s) for s in _OAUTH1]
        if any(named) and not all(named):
            raise CredentialsError(
                f"account @{acc.username}: OAuth 1.0a needs all of consumer_key_env, "
                "consumer_secret_env, access_token_env and access_token_secret_env"
            )
        if not any(values.values()):
            raise CredentialsError(
                f"account @{acc.username}: no credentials configured; set bearer_token_env, "
                "the OAuth 1.0a *_env settings or oauth2_user_token_env"
            )
        envs = tuple(getattr(acc, s) for s in X_CREDENTIAL_ENVS if getattr(acc, s))
        return cls(account=acc.username, env_names=envs, **values)

    @property
    def oauth1(self) -> bool:
        return bool(self.access_token and self.consumer_key)

    @property
    def user_context(self) -> bool:
        return self.oauth1 or bool(self.oauth2_user_token)

    @property
    def kind(self) -> str:
        if self.oauth1:
            return "OAuth 1.0a user token"
        return "OAuth 2.0 user token" if self.oauth2_user_token else "app-only bearer token"
