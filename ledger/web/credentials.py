"""Passwords and sessions of the web pages, in the ledger's database (migration 0005).

People sign in to the web pages with an account of the API (`ledger.api.accounts`: a party
in one role) and a password; a session cookie keeps them signed in.

* **Passwords** are hashed with Argon2id (RFC 9106) at the OWASP Password Storage Cheat
  Sheet's first configuration (m = 19 MiB, t = 2, p = 1): memory-hard, so a stolen table
  costs an attacker memory per guess, not only time. The PHC string keeps the salt and the
  parameters, so stronger parameters later apply to new passwords without a migration.
  Setting a password appends a row; the newest row is the account's password.
* **Sessions** are 256-bit random secrets in an HttpOnly cookie; only their SHA-256 is
  stored (a fast hash is right for a secret with that much entropy, as for API keys). The
  expiry is written when the session starts, so nothing is updated later; signing out
  appends a row to ``web_session_ends``. Every worker reads the same rows: a session
  ended by one worker is refused by all from their next request, and a worker that dies
  mid-request leaves at most a whole row or none (each write is one transaction).
* **Guessing is limited** (`SignInLimits`, OWASP Authentication Cheat Sheet, "Protect
  against automated attacks"; NIST SP 800-63B s.5.2.2 "rate limiting"): at most 5 failed
  attempts per account since its last success, and 20 per client address, in 15 minutes;
  then attempts are refused without checking the password (no Argon2 work either) until
  the oldest of those failures is 15 minutes old, and the page says how long
  (``Retry-After``). Every attempt is a row written *before* the password is checked
  (migration 0006), so attempts in flight in other workers already count: concurrent
  guesses cannot slip past the limit.
* **A new password ends the account's other sessions** (OWASP Session Management Cheat
  Sheet, "renew the session ID after any privilege level change" and password change).

Append-only by the database's own guards, like the ledger: the tables are also the record
of who could sign in, and when.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection, Engine

from ledger.api.accounts import Account, AccountStore, Role
from ledger.errors import InputError, NotFoundError
from ledger.store.sql import METADATA, transaction
from ledger.store.sql_web import signin_tables, web_tables

__all__ = ["MIN_PASSWORD", "SESSION_LIFETIME", "Attempt", "CredentialStore", "Session",
           "SignInLimits", "csrf_token"]

_TABLES = web_tables(METADATA)
_PASSWORDS = _TABLES["web_passwords"]
_SESSIONS = _TABLES["web_sessions"]
_ENDS = _TABLES["web_session_ends"]
_SIGNIN = signin_tables(METADATA)
_ATTEMPTS = _SIGNIN["web_signin_attempts"]
_SUCCESSES = _SIGNIN["web_signin_successes"]
_ACCOUNTS = METADATA.tables["api_accounts"]

#: OWASP Password Storage Cheat Sheet, Argon2id: "m=19456 (19 MiB), t=2, p=1".
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
#: Verified against when the account is unknown, so both answers take as long.
_DUMMY = _HASHER.hash(secrets.token_urlsafe(16))

MIN_PASSWORD = 12
"""Fewest characters of a password (NIST SP 800-63B s.3.1.1.2 asks for at least 8; the
demo's are 16 random characters)."""
_MAX_PASSWORD = 256
SESSION_LIFETIME = timedelta(hours=12)
"""A session ends this long after sign-in at the latest (a working day at the bridge)."""


@dataclass(frozen=True, slots=True)
class SignInLimits:
    """How many failed attempts to sign in are allowed in `window` before a pause.

    Per account (counted since its last successful attempt) and per client address (all
    its failures, whatever the account): the first stops guessing one account's password
    from many addresses, the second guessing many accounts from one address.
    """

    account_failures: int = 5
    client_failures: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Attempt:
    """The outcome of an attempt: the account (right password), or None; when refused by
    a limit, the seconds to wait (`retry_after`) and which limit (``account``, ``client``).
    """

    account: Account | None
    retry_after: int | None = None
    limited_by: str | None = None


def _moment(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _session_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def csrf_token(secret: str) -> str:
    """The CSRF token of the forms of a browser identified by cookie `secret`.

    Derived from the cookie (HMAC-SHA-256), so no table holds it and every worker computes
    the same; a page from another site cannot read the cookie, so it cannot forge the
    token (OWASP CSRF Prevention Cheat Sheet, "synchronizer token", HMAC variant).
    """
    return hmac.new(secret.encode("utf-8"), b"tmec-web-csrf", hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in session: the cookie secret (shown to the browser once) and its account."""

    secret: str
    account: Account
    expires_at: str


class CredentialStore:
    """The sign-in tables of the ledger's database; thread-safe, nothing cached."""

    def __init__(self, engine: Engine, limits: SignInLimits | None = None) -> None:
        self._engine = engine
        self._accounts = AccountStore(engine)
        self.limits = limits or SignInLimits()

    @contextmanager
    def _connection(self, action: str, *, write: bool = False) -> Iterator[Connection]:
        with transaction(self._engine, action, write=write) as connection:
            yield connection

    def set_password(self, account_id: str, password: str) -> None:
        """Give `account_id` a new password (`InputError` if too short or too long)."""
        self._accounts.account(account_id)  # NotFoundError for an unknown account
        if not MIN_PASSWORD <= len(password) <= _MAX_PASSWORD:
            raise InputError(f"a password has {MIN_PASSWORD} to {_MAX_PASSWORD} characters")
        hashed = _HASHER.hash(password)
        with self._connection("set a password", write=True) as connection:
            connection.execute(sa.insert(_PASSWORDS).values(
                account_id=account_id, password_hash=hashed, set_at=_moment(datetime.now(UTC))))

    def check_password(self, account_id: str, password: str) -> Account | None:
        """The account when `password` is its current one, else None (same time either way)."""
        if len(password) > _MAX_PASSWORD or len(account_id) > 200:
            return None
        query = (sa.select(_PASSWORDS.c.password_hash)
                 .where(_PASSWORDS.c.account_id == account_id)
                 .order_by(_PASSWORDS.c.password_id.desc()).limit(1))
        with self._connection("check a password") as connection:
            stored = connection.execute(query).scalar()
        try:
            _HASHER.verify(_DUMMY if stored is None else str(stored), password)
        except (VerificationError, InvalidHashError):
            return None
        if stored is None:  # pragma: no cover - the dummy's password is never sent
            return None
        try:
            return self._accounts.account(account_id)
        except NotFoundError:  # pragma: no cover - the foreign key keeps it
            return None

    def start_session(self, account: Account, *, now: datetime | None = None) -> Session:
        """A new session for `account`, expiring after `SESSION_LIFETIME`."""
        started = now or datetime.now(UTC)
        secret = secrets.token_urlsafe(32)
        expires = _moment(started + SESSION_LIFETIME)
        with self._connection("start a session", write=True) as connection:
            connection.execute(sa.insert(_SESSIONS).values(
                session_hash=_session_hash(secret), account_id=account.account_id,
                started_at=_moment(started), expires_at=expires))
        return Session(secret, account, expires)

    def session(self, secret: str, *, now: datetime | None = None) -> Account | None:
        """The account of a live session (not ended, not expired), else None."""
        if not 20 <= len(secret) <= 100:
            return None
        query = (sa.select(_ACCOUNTS, _SESSIONS.c.expires_at, _ENDS.c.ended_at)
                 .join_from(_SESSIONS, _ACCOUNTS,
                            _SESSIONS.c.account_id == _ACCOUNTS.c.account_id)
                 .join(_ENDS, _SESSIONS.c.session_hash == _ENDS.c.session_hash, isouter=True)
                 .where(_SESSIONS.c.session_hash == _session_hash(secret)))
        with self._connection("read a session") as connection:
            row = connection.execute(query).first()
        if row is None or row.ended_at is not None:
            return None
        if row.expires_at <= _moment(now or datetime.now(UTC)):  # ISO UTC: text order
            return None
        return Account(row.account_id, Role(row.role), row.party_id, row.name, row.created_at)

    def end_session(self, secret: str, reason: str = "signed out") -> None:
        """End a session from now on (nothing happens for an unknown or ended one)."""
        digest = _session_hash(secret)
        with self._connection("end a session", write=True) as connection:
            known = connection.execute(sa.select(_SESSIONS.c.session_hash, _ENDS.c.ended_at)
                                       .join(_ENDS, _SESSIONS.c.session_hash
                                             == _ENDS.c.session_hash, isouter=True)
                                       .where(_SESSIONS.c.session_hash == digest)).first()
            if known is None or known.ended_at is not None:
                return
            connection.execute(sa.insert(_ENDS).values(
                session_hash=digest, ended_at=_moment(datetime.now(UTC)), reason=reason))

    def end_other_sessions(self, account_id: str, keep: str | None = None,
                           reason: str = "password changed") -> int:
        """End every live session of `account_id` but the one of cookie `keep`; how many."""
        now = _moment(datetime.now(UTC))
        kept = _session_hash(keep) if keep else None
        live = (sa.select(_SESSIONS.c.session_hash)
                .join(_ENDS, _SESSIONS.c.session_hash == _ENDS.c.session_hash, isouter=True)
                .where(_SESSIONS.c.account_id == account_id, _ENDS.c.ended_at.is_(None),
                       _SESSIONS.c.expires_at > now))
        with self._connection("end an account's sessions", write=True) as connection:
            ended = [row.session_hash for row in connection.execute(live)
                     if bytes(row.session_hash) != kept]
            if ended:
                connection.execute(sa.insert(_ENDS), [
                    {"session_hash": digest, "ended_at": now, "reason": reason}
                    for digest in ended])
        return len(ended)

    # -- limits on guessing

    def _wait(self, connection: Connection, column: sa.ColumnElement[str], value: str,
              limit: int, at: datetime, *, since_success: bool) -> int | None:
        """Seconds until `value` (an account or a client) may try again, None if it may."""
        window = self.limits.window
        query = (sa.select(_ATTEMPTS.c.attempted_at)
                 .join(_SUCCESSES, _SUCCESSES.c.attempt_id == _ATTEMPTS.c.attempt_id,
                       isouter=True)
                 .where(column == value, _SUCCESSES.c.attempt_id.is_(None),
                        _ATTEMPTS.c.attempted_at > _moment(at - window))
                 .order_by(_ATTEMPTS.c.attempt_id.desc()).limit(limit))
        if since_success:  # an account's count starts again after its last success
            last = (sa.select(sa.func.max(_ATTEMPTS.c.attempt_id))
                    .join(_SUCCESSES, _SUCCESSES.c.attempt_id == _ATTEMPTS.c.attempt_id)
                    .where(column == value).scalar_subquery())
            query = query.where(_ATTEMPTS.c.attempt_id > sa.func.coalesce(last, -1))
        failures = [row.attempted_at for row in connection.execute(query)]
        if len(failures) < limit:
            return None
        oldest = datetime.fromisoformat(failures[-1].replace("Z", "+00:00"))
        return max(1, math.ceil((oldest + window - at).total_seconds()))

    def retry_after(self, account_id: str, client: str, *, now: datetime | None = None
                    ) -> Attempt | None:
        """The refusal an attempt for `account_id` from `client` would get now, else None."""
        at = now or datetime.now(UTC)
        with self._connection("count failed sign-ins") as connection:
            account = self._wait(connection, _ATTEMPTS.c.account_id, account_id[:200],
                                 self.limits.account_failures, at, since_success=True)
            client_wait = self._wait(connection, _ATTEMPTS.c.client, client[:100],
                                     self.limits.client_failures, at, since_success=False)
        if account is None and client_wait is None:
            return None
        if (client_wait or 0) > (account or 0):
            return Attempt(None, client_wait, "client")
        return Attempt(None, account, "account")

    def attempt(self, account_id: str, password: str, client: str, *,
                now: datetime | None = None) -> Attempt:
        """Check `password` for `account_id` on behalf of `client`, within the limits.

        Refused by a limit: no row, no password check, the seconds to wait. Otherwise the
        attempt is written first (so it counts while the slow check runs), then checked;
        a right password writes its success.
        """
        at = now or datetime.now(UTC)
        named, client = account_id[:200], client[:100]  # as stored (a longer id never matches)
        refused = self.retry_after(named, client, now=at)
        if refused is not None:
            return refused
        with self._connection("record a sign-in attempt", write=True) as connection:
            key = connection.execute(sa.insert(_ATTEMPTS).values(
                account_id=named, client=client, attempted_at=_moment(at))
            ).inserted_primary_key
            assert key is not None  # an insert of one row has its key
            attempt_id = key[0]
        found = self.check_password(account_id, password)
        if found is not None:
            with self._connection("record a sign-in", write=True) as connection:
                connection.execute(sa.insert(_SUCCESSES).values(
                    attempt_id=attempt_id, succeeded_at=_moment(datetime.now(UTC))))
        return Attempt(found)
