"""The UI's users: names, roles, password hashes (and API token hashes) in one JSON file.

The file lives at `ui.users_path`, else beside the index (`<index dir>/../users.json`); it is
written atomically with mode 0600 under a file lock, so `archiver users ...` and the admin
page can change it while the server runs. The server re-reads it when it changes, so a
removed user or a lowered role takes effect on their next request. Passwords are hashed
with werkzeug (scrypt); the hashes never leave this file.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import os
import re
import secrets
import tempfile
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import orjson
from werkzeug.security import check_password_hash, generate_password_hash

from archiver.config import Config
from archiver.errors import ArchiverError
from archiver.paths import local_dir
from archiver.timestamps import isoformat, utcnow
from search_ui.sessions import SessionStore, sessions_path

FORMAT = "social-archive/users/1"
# each role can do what the roles before it can
ROLES = ("viewer", "exporter", "admin")
ROLE_HELP = {
    "viewer": "search and view items",
    "exporter": "also export searches (FOI) and selected items (evidence)",
    "admin": "also manage users and read the audit log",
}
MIN_PASSWORD = 10
TOKEN_PREFIX = "sa_"  # noqa: S105 - a prefix, so a leaked token is recognisable as ours
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
# checked when the name is unknown, so a wrong name takes as long as a wrong password
_DUMMY_HASH = generate_password_hash("not a password of anyone's")


class UserError(ArchiverError):
    """A user change that cannot be made (unknown name, bad role, weak password...)."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    created_at: str
    password_hash: str = field(repr=False)
    token_sha256: str | None = field(default=None, repr=False)  # API token, hashed
    # unique per account ever created: sessions belong to it, so a user removed and added
    # again under the same name starts with no sessions
    id: str = ""

    def can(self, role: str) -> bool:
        """True if this user has `role` or a higher one."""
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def session_stamp(self) -> str:
        """Changes whenever the password or role does: a session made under another stamp
        is void (so a change made by hand in the file still logs the user out)."""
        material = f"{self.id}\0{self.password_hash}\0{self.role}".encode()
        return hashlib.sha256(material).hexdigest()[:32]


def _legacy_id(name: str, created_at: str) -> str:
    # users written before ids existed: stable, and different for a re-created name
    return hashlib.sha256(f"{name}\0{created_at}".encode()).hexdigest()[:32]


def _entry(user: User) -> dict[str, str]:
    entry = {
        "id": user.id,
        "role": user.role,
        "created_at": user.created_at,
        "password_hash": user.password_hash,
    }
    if user.token_sha256:
        entry["token_sha256"] = user.token_sha256
    return entry


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def users_path(config: Config) -> Path:
    """ui.users_path; else beside a configured index; else in the archive's local folder
    (the local store's, or a state folder for S3: archiver/paths.py)."""
    if config.ui.users_path:
        return Path(config.ui.users_path)
    if config.index.path:
        return Path(config.index.path).resolve().parent / "users.json"
    return local_dir(config).resolve() / "users.json"


def fold_name(name: str) -> str:
    """The one spelling of a name: NFKC, case-folded, trimmed (`ＡＤＡ `, `Ada` -> `ada`).
    Folding can leave a string that NFKC changes again (`ß` -> `ss` is fine, but not
    every folding is closed), so normalise on both sides."""
    text = unicodedata.normalize("NFKC", name if isinstance(name, str) else "")
    return unicodedata.normalize("NFKC", text.casefold()).strip()


def normalise_name(name: str) -> str:
    """The canonical form of a user name, or UserError if it is not an allowed name. Every
    entry point (CLI, forms, URLs, the users file) goes through this."""
    clean = fold_name(name)
    if not _NAME.match(clean):
        raise UserError(
            f"user name {name!r} is not allowed: use 1-64 letters, digits, '.', '_' or '-'"
        )
    return clean


def _existing(users: dict[str, User], name: str) -> User:
    user = users.get(name)
    if user is None:
        raise UserError(f"no user {name!r}")
    return user


def _keep_an_admin(users: dict[str, User], user: User, new_role: str | None) -> None:
    """Refuse to remove (new_role None) or demote the last admin: nobody could manage
    users from the UI again."""
    if user.role != "admin" or new_role == "admin":
        return
    if not any(u.role == "admin" for u in users.values() if u.name != user.name):
        what = "remove" if new_role is None else "demote"
        raise UserError(f"cannot {what} {user.name!r}: they are the last admin")


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    return role


def _check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise UserError(f"password too short: use at least {MIN_PASSWORD} characters")
    return password


class UserFile:
    """The users file. Reads are cached until the file changes on disk."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._users: dict[str, User] = {}
        # the UI's login sessions, beside this file: changes here end them
        self.sessions = SessionStore(sessions_path(self.path))

    # -- reading ---------------------------------------------------------------------------
    def _load(self) -> dict[str, User]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return {}
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if stamp != self._stamp:
                self._users = self._parse(self.path.read_bytes())
                self._stamp = stamp
            return self._users

    def _parse(self, data: bytes) -> dict[str, User]:
        try:
            doc = orjson.loads(data)
            if not isinstance(doc, dict) or doc.get("format") != FORMAT:
                raise UserError(f"users file {self.path} has an unknown format")
            users: dict[str, User] = {}
            for typed, entry in doc["users"].items():
                user = self._user(typed, entry)
                if user.name in users:
                    raise UserError(
                        f"users file {self.path}: {typed!r} and another entry are both "
                        f"the user {user.name!r}"
                    )
                users[user.name] = user
            return users
        except (ValueError, KeyError, TypeError, AttributeError):
            raise UserError(f"users file {self.path} is unreadable") from None

    def _user(self, typed: str, entry: dict[str, str]) -> User:
        # a file edited by hand may spell a name another way: it is still the one user
        name = normalise_name(typed)
        fields = [entry["role"], entry["created_at"], entry["password_hash"]]
        token, uid = entry.get("token_sha256"), entry.get("id")
        if not all(isinstance(v, str) for v in fields) or entry["role"] not in ROLES:
            raise UserError(f"users file {self.path}: the entry of {name!r} is damaged")
        return User(
            name,
            fields[0],
            fields[1],
            fields[2],
            token if isinstance(token, str) else None,
            uid if isinstance(uid, str) and uid else _legacy_id(name, entry["created_at"]),
        )

    def get(self, name: str) -> User | None:
        try:
            return self._load().get(normalise_name(name))
        except UserError:
            return None

    def list(self) -> list[User]:
        return sorted(self._load().values(), key=lambda u: u.name)

    def user_for_token(self, token: str) -> User | None:
        """The user an API token belongs to, if any (tokens are kept as SHA-256 only)."""
        if not token or not token.startswith(TOKEN_PREFIX):
            return None
        digest = _token_digest(token)
        for user in self._load().values():
            if user.token_sha256 and hmac.compare_digest(user.token_sha256, digest):
                return user
        return None

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if the password is theirs, else None (same work either way)."""
        user = self.get(name)
        ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password or "")
        return user if user is not None and ok else None

    # -- changing --------------------------------------------------------------------------
    @contextlib.contextmanager
    def _editing(self) -> Iterator[dict[str, User]]:
        """Read-modify-write under an exclusive lock on a sibling lock file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            users = self._parse(self.path.read_bytes()) if self.path.exists() else {}
            yield users
            self._write(users)

    def _write(self, users: dict[str, User]) -> None:
        doc = {
            "format": FORMAT,
            "users": {u.name: _entry(u) for u in sorted(users.values(), key=lambda u: u.name)},
        }
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".users-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def add(self, name: str, password: str, role: str) -> User:
        name, role = normalise_name(name), _check_role(role)
        _check_password(password)
        with self._editing() as users:
            if name in users:
                raise UserError(f"user {name!r} already exists")
            user = User(
                name,
                role,
                isoformat(utcnow()),
                generate_password_hash(password),
                id=secrets.token_hex(16),
            )
            users[name] = user
        return user

    def remove(self, name: str) -> User:
        name = normalise_name(name)
        with self._editing() as users:
            user = _existing(users, name)
            _keep_an_admin(users, user, None)
            del users[name]
        self.sessions.end_user(user.id)
        return user

    def set_role(self, name: str, role: str) -> User:
        name, role = normalise_name(name), _check_role(role)
        with self._editing() as users:
            user = _existing(users, name)
            _keep_an_admin(users, user, role)
            users[name] = replace(user, role=role)
        if role != user.role:
            self.sessions.end_user(user.id)
        return users[name]

    def set_password(self, name: str, password: str) -> User:
        name = normalise_name(name)
        _check_password(password)
        with self._editing() as users:
            user = _existing(users, name)
            users[name] = replace(user, password_hash=generate_password_hash(password))
        self.sessions.end_user(user.id)
        return users[name]

    def issue_token(self, name: str) -> str:
        """A new API token for the user (replacing any earlier one); shown once, kept hashed."""
        name = normalise_name(name)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._editing() as users:
            user = _existing(users, name)
            users[name] = replace(user, token_sha256=_token_digest(token))
        return token

    def revoke_token(self, name: str) -> None:
        name = normalise_name(name)
        with self._editing() as users:
            user = _existing(users, name)
            users[name] = replace(user, token_sha256=None)
