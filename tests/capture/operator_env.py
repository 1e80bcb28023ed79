"""How an operator configures accounts of the X API double: TOML naming environment
variables, and the variables holding the double's tokens."""

from __future__ import annotations

OAUTH1 = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")


def account_toml(username: str, tag: str, kinds: tuple[str, ...] = OAUTH1) -> str:
    lines = ["[[accounts]]", f'username = "{username}"']
    lines += [f'{kind}_env = "X_{kind.upper()}_{tag}"' for kind in kinds]
    return "\n".join(lines) + "\n"


def account_env(acc, tag: str) -> dict[str, str]:
    c = acc.creds
    values = (c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret)
    env = {f"X_{k.upper()}_{tag}": v for k, v in zip(OAUTH1, values, strict=True)}
    env[f"X_BEARER_TOKEN_{tag}"] = c.bearer
    env[f"X_OAUTH2_USER_TOKEN_{tag}"] = c.oauth2_token
    return env
