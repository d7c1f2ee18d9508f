"""All settings, read from environment variables in this one place.

| variable                          | default                                   |
|-----------------------------------|-------------------------------------------|
| MIGRATIONKIT_HOME                 | ./migrationkit-data (SQLite file, archive, secret) |
| MIGRATIONKIT_DATABASE_URL         | sqlite:///$MIGRATIONKIT_HOME/migrationkit.sqlite3 |
| MIGRATIONKIT_SECRET_KEY           | a random key kept in $MIGRATIONKIT_HOME/secret.key |
| MIGRATIONKIT_OFFER_VALID_DAYS     | 15 (R6)                                   |
| MIGRATIONKIT_REMINDER_DAYS        | 3                                         |
| MIGRATIONKIT_LOCKOUT_FAILURES     | 5 (R7)                                    |
| MIGRATIONKIT_LOCKOUT_MINUTES      | 15 (R7)                                   |
| MIGRATIONKIT_LEASE_SECONDS        | 120                                       |
| MIGRATIONKIT_SESSION_HOURS        | 8 (a sign-in session's longest life)      |
| MIGRATIONKIT_SESSION_IDLE_MINUTES | 30 (a session ends this long after its last request) |
| MIGRATIONKIT_API_CALLS_PER_MINUTE | 120 (the API's calls per token)           |
| MIGRATIONKIT_API_CALLS_PER_MINUTE_PER_ADDRESS | 600 (the API's calls per client address) |
| MIGRATIONKIT_PORTAL_URL           | http://localhost:5000                     |
| MIGRATIONKIT_REDIS_URL            | none: jobs run in an in-process worker (embedded mode) |
| MIGRATIONKIT_QUEUE                | migrationkit (the RQ queue's name)        |
| MIGRATIONKIT_ARCHIVE_STORES       | none: store NAME lives in $MIGRATIONKIT_HOME/archive/NAME |
| MIGRATIONKIT_SMTP_URL             | none: e-mail waits in the outbox          |
| MIGRATIONKIT_MAIL_FROM            | migrationkit@localhost                    |
| MIGRATIONKIT_BATCH_SIZE           | 500 (documents per batch of a move across stores) |
| MIGRATIONKIT_BATCHES_PER_JOB      | 10 (batches one batch job copies, committing each) |
| MIGRATIONKIT_JOB_TIMEOUT_SECONDS  | 3600 (the longest one RQ job may run)     |
| MIGRATIONKIT_RELEASE_SOURCE_SECONDS | 3600 (source blobs kept after a move across stores) |
| MIGRATIONKIT_DB_LOCK_TIMEOUT_SECONDS | 30 (a statement's wait for a lock; SQLite's busy timeout) |
| MIGRATIONKIT_DB_IDLE_IN_TRANSACTION_SECONDS | 60 (PostgreSQL ends a transaction idle so long) |
| MIGRATIONKIT_DB_KEEPALIVE_IDLE_SECONDS | 30 (TCP keepalives: silence before the first probe) |
| MIGRATIONKIT_DB_KEEPALIVE_INTERVAL_SECONDS | 10 (between probes)                 |
| MIGRATIONKIT_DB_KEEPALIVE_COUNT   | 3 (probes unanswered before the connection counts as lost) |
| MIGRATIONKIT_DB_CONNECT_TIMEOUT_SECONDS | 10 (a connection to PostgreSQL not made by then fails) |
| MIGRATIONKIT_LOG_FORMAT           | console when stderr is a terminal, else json (JSON lines) |
| MIGRATIONKIT_LOG_LEVEL            | INFO (DEBUG, INFO, WARNING, ERROR)        |
| MIGRATIONKIT_<PACKAGE>_...        | the packages' credentials: see ``connector_settings`` |
| MIGRATIONKIT_DEMO                 | unset; ``1``: demo mode (in-memory packages, no credentials) |
| MIGRATIONKIT_DEMO_PRACTICE        | unset; N: the demo seeds Kantoor Praktijk, N administrations |

MIGRATIONKIT_ARCHIVE_STORES names a location per store: ``name=location,name=location``, a
location being ``file:///absolute/path`` or ``s3://bucket/prefix?endpoint_url=...&region=...``.
MIGRATIONKIT_SMTP_URL is ``smtp://user:password@host:port`` (STARTTLS when the server offers
it; a password is only ever sent over TLS) or ``smtps://...`` (TLS from the start); user and
password are optional and percent-encoded. No password in a URL shows in a repr or an error.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import attrs

from migrationkit.adapters.connectors.settings import ConnectorSettings, PackageCredentials
from migrationkit.domain.codes import MIN_SECRET_BYTES
from migrationkit.domain.model import AccountingPackage

PREFIX = "MIGRATIONKIT_"


class ConfigError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


def masked_url(url: str) -> str:
    """The URL with its password replaced by ``***``: what a log, a repr or an error shows."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "(an unreadable URL)"
    if password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def _masked_repr(url: str | None) -> str:
    return repr(url if url is None else masked_url(url))


def _masked_locations_repr(locations: Mapping[str, str]) -> str:
    return repr({name: masked_url(location) for name, location in locations.items()})


@attrs.frozen
class SmtpSettings:
    """Where the mail dispatcher sends e-mail, from MIGRATIONKIT_SMTP_URL."""

    host: str
    port: int
    #: ``smtps://``: TLS from the first byte; otherwise STARTTLS when the server offers it.
    implicit_tls: bool = False
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)


@attrs.frozen
class Settings:
    """Everything configurable, with the embedded defaults."""

    home: Path
    database_url: str = attrs.field(repr=_masked_repr)
    #: The given MIGRATIONKIT_SECRET_KEY; without one, ``code_secret()`` keeps one in ``home``.
    secret_key: bytes | None = attrs.field(default=None, repr=False)
    offer_valid_days: int = 15
    reminder_days: int = 3
    lockout_failures: int = 5
    lockout_minutes: int = 15
    lease_seconds: int = 120
    session_hours: int = 8
    session_idle_minutes: int = 30
    api_calls_per_minute: int = 120
    api_calls_per_minute_per_address: int = 600
    portal_url: str = "http://localhost:5000"
    #: Redis for RQ; ``None`` runs the jobs in an in-process worker (embedded mode).
    redis_url: str | None = attrs.field(default=None, repr=_masked_repr)
    queue_name: str = "migrationkit"
    #: Store name -> location; a store not named here lives in ``home/archive/<name>``.
    archive_locations: Mapping[str, str] = attrs.field(
        factory=dict, repr=_masked_locations_repr, hash=False
    )
    #: ``None``: no e-mail is sent, it waits in the outbox (the demo's Mailbox page).
    smtp: SmtpSettings | None = None
    mail_from: str = "migrationkit@localhost"
    batch_size: int = 500
    batches_per_job: int = 10
    job_timeout_seconds: int = 3600
    release_source_seconds: int = 3600
    #: PostgreSQL sessions: how long a statement waits for a lock (also SQLite's busy
    #: timeout) and a transaction may sit idle, the TCP keepalives of both ends, and how
    #: long a connection may take to be made.
    db_lock_timeout_seconds: int = 30
    db_idle_in_transaction_seconds: int = 60
    db_keepalive_idle_seconds: int = 30
    db_keepalive_interval_seconds: int = 10
    db_keepalive_count: int = 3
    db_connect_timeout_seconds: int = 10
    #: How the logs are written: ``json`` lines or readable ``console`` lines; the level.
    log_format: str = "json"
    log_level: str = "INFO"
    #: The accounting packages' credentials (``connector_settings`` below); none set up is
    #: refused at start outside demo mode.
    connectors: ConnectorSettings = attrs.field(factory=lambda: ConnectorSettings())
    #: Demo mode (MIGRATIONKIT_DEMO=1): the in-memory packages that the demo fills serve
    #: when no package has credentials.
    demo: bool = False
    #: The administrations of the demo's Kantoor Praktijk in Exact Online (0: no practice),
    #: seeded with the demo data (MIGRATIONKIT_DEMO_PRACTICE).
    demo_practice: int = 0

    @property
    def archive_root(self) -> Path:
        """Where the stores without a location keep their files."""
        return self.home / "archive"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Reads the ``MIGRATIONKIT_*`` variables; refuses a bad value with a clear message."""
        env = os.environ if environ is None else environ
        home = Path(env.get(f"{PREFIX}HOME", "migrationkit-data")).resolve()
        return cls(
            home=home,
            database_url=_database_url(
                env.get(f"{PREFIX}DATABASE_URL") or f"sqlite:///{home / 'migrationkit.sqlite3'}"
            ),
            secret_key=_given_secret(env.get(f"{PREFIX}SECRET_KEY")),
            offer_valid_days=_positive(env, "OFFER_VALID_DAYS", 15),
            reminder_days=_positive(env, "REMINDER_DAYS", 3),
            lockout_failures=_positive(env, "LOCKOUT_FAILURES", 5),
            lockout_minutes=_positive(env, "LOCKOUT_MINUTES", 15),
            lease_seconds=_positive(env, "LEASE_SECONDS", 120),
            session_hours=_positive(env, "SESSION_HOURS", 8),
            session_idle_minutes=_positive(env, "SESSION_IDLE_MINUTES", 30),
            api_calls_per_minute=_positive(env, "API_CALLS_PER_MINUTE", 120),
            api_calls_per_minute_per_address=_positive(
                env, "API_CALLS_PER_MINUTE_PER_ADDRESS", 600
            ),
            portal_url=env.get(f"{PREFIX}PORTAL_URL", "http://localhost:5000"),
            redis_url=_redis_url(env.get(f"{PREFIX}REDIS_URL") or None),
            queue_name=env.get(f"{PREFIX}QUEUE") or "migrationkit",
            archive_locations=_archive_locations(env.get(f"{PREFIX}ARCHIVE_STORES", "")),
            smtp=_smtp(env.get(f"{PREFIX}SMTP_URL") or None),
            mail_from=_mail_from(env.get(f"{PREFIX}MAIL_FROM") or "migrationkit@localhost"),
            batch_size=_positive(env, "BATCH_SIZE", 500),
            batches_per_job=_positive(env, "BATCHES_PER_JOB", 10),
            job_timeout_seconds=_positive(env, "JOB_TIMEOUT_SECONDS", 3600),
            release_source_seconds=_positive(env, "RELEASE_SOURCE_SECONDS", 3600),
            db_lock_timeout_seconds=_positive(env, "DB_LOCK_TIMEOUT_SECONDS", 30),
            db_idle_in_transaction_seconds=_positive(env, "DB_IDLE_IN_TRANSACTION_SECONDS", 60),
            db_keepalive_idle_seconds=_positive(env, "DB_KEEPALIVE_IDLE_SECONDS", 30),
            db_keepalive_interval_seconds=_positive(env, "DB_KEEPALIVE_INTERVAL_SECONDS", 10),
            db_keepalive_count=_positive(env, "DB_KEEPALIVE_COUNT", 3),
            db_connect_timeout_seconds=_positive(env, "DB_CONNECT_TIMEOUT_SECONDS", 10),
            log_format=_log_format(env.get(f"{PREFIX}LOG_FORMAT") or None),
            log_level=_log_level(env.get(f"{PREFIX}LOG_LEVEL") or "INFO"),
            connectors=connector_settings(env),
            demo=env.get(f"{PREFIX}DEMO") == "1",
            demo_practice=_positive(env, "DEMO_PRACTICE", 0),
        )

    def code_secret(self) -> bytes:
        """The key of the transfer codes' digests: the given one, or one made once and kept
        in ``home/secret.key`` (embedded mode). Only what issues or checks codes needs it."""
        if self.secret_key is not None:
            return self.secret_key
        path = self.home / "secret.key"
        if not path.exists():
            _make_secret_file(path)
        key = path.read_text().strip().encode()
        if len(key) < MIN_SECRET_BYTES:
            raise ConfigError(f"{path} must hold a key of at least {MIN_SECRET_BYTES} bytes")
        return key


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(f"{PREFIX}{name}")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{PREFIX}{name} must be a whole number, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{PREFIX}{name} must be greater than 0, not {value}")
    return value


def _log_format(raw: str | None) -> str:
    if raw is None:
        return "console" if sys.stderr.isatty() else "json"
    if raw not in ("json", "console"):
        raise ConfigError(f"{PREFIX}LOG_FORMAT must be json or console, not {raw!r}")
    return raw


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"{PREFIX}LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {raw!r}")
    return level


#: The databases the library runs on, by their URL's scheme (with or without a driver).
DATABASE_SCHEMES = ("sqlite", "postgresql")


def _database_url(raw: str) -> str:
    shown = masked_url(raw)
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        raise ConfigError(f"{PREFIX}DATABASE_URL has no valid host and port: {shown!r}") from None
    if parts.scheme.partition("+")[0] not in DATABASE_SCHEMES or not parts.netloc + parts.path:
        raise ConfigError(
            f"{PREFIX}DATABASE_URL must be sqlite:///PATH or"
            f" postgresql+psycopg://USER:PASSWORD@HOST/DATABASE, not {shown!r}"
        )
    return raw


def _redis_url(raw: str | None) -> str | None:
    if raw is None:
        return None
    shown = masked_url(raw)
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            f"{PREFIX}REDIS_URL must start with redis://, rediss:// or unix://, not {shown!r}"
        )
    try:
        urlsplit(raw).port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        raise ConfigError(f"{PREFIX}REDIS_URL has no valid host and port: {shown!r}") from None
    return raw


def _archive_locations(raw: str) -> dict[str, str]:
    locations: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in raw.split(","))):
        name, equals, location = (part.strip() for part in pair.partition("="))
        if not (name and equals and location):
            raise ConfigError(
                f"{PREFIX}ARCHIVE_STORES must be name=location pairs separated by commas,"
                f" not {masked_url(pair)!r}"
            )
        if name in locations:
            raise ConfigError(f"{PREFIX}ARCHIVE_STORES names the store {name!r} twice")
        locations[name] = location
    return locations


def _smtp(raw: str | None) -> SmtpSettings | None:
    if raw is None:
        return None
    shown = masked_url(raw)
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise ConfigError(f"{PREFIX}SMTP_URL has no valid host and port: {shown!r}") from None
    if parts.scheme not in ("smtp", "smtps"):
        raise ConfigError(f"{PREFIX}SMTP_URL must start with smtp:// or smtps://, not {shown!r}")
    if not parts.hostname:
        raise ConfigError(f"{PREFIX}SMTP_URL names no host: {shown!r}")
    implicit_tls = parts.scheme == "smtps"
    return SmtpSettings(
        host=parts.hostname,
        port=port or (465 if implicit_tls else 25),
        implicit_tls=implicit_tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def _mail_from(raw: str) -> str:
    if raw.count("@") != 1 or not all(raw.split("@")):
        raise ConfigError(f"{PREFIX}MAIL_FROM must be an e-mail address, not {raw!r}")
    return raw


def _given_secret(raw: str | None) -> bytes | None:
    if raw is None:
        return None
    key = raw.encode()
    if len(key) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"{PREFIX}SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes long (in UTF-8)"
        )
    return key


def _make_secret_file(path: Path) -> None:
    """Writes a new key beside ``path`` and links it into place. The first link wins, so
    workers that start together on a new home all read one key, never a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp makes the file readable by its owner only from the start.
    descriptor, written = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
        with contextlib.suppress(FileExistsError):
            os.link(written, path)
    finally:
        os.unlink(written)


# --- the accounting packages' credentials (the connectors) -----------------------------------


def connector_settings(environ: Mapping[str, str] | None = None) -> ConnectorSettings:
    """Reads the packages' credentials; a package without a client id and secret is not set up.

    ``<PACKAGE>`` is EXACT_ONLINE_NL, TWINFIELD, BOEKHOUDGEMAK_MULTIVERS, XERO or ACCOUNTVIEW.

    | variable                                | meaning                                     |
    |-----------------------------------------|---------------------------------------------|
    | MIGRATIONKIT_<PACKAGE>_CLIENT_ID        | the app's client id at the package          |
    | MIGRATIONKIT_<PACKAGE>_CLIENT_SECRET    | the app's client secret (never printed)     |
    | MIGRATIONKIT_<PACKAGE>_REDIRECT_URL     | the OAuth2 redirect URI registered with it  |
    | MIGRATIONKIT_<PACKAGE>_BASE_URL         | another API address (sandbox, test server)  |
    | MIGRATIONKIT_CONNECTOR_TIMEOUT_SECONDS  | 30: how long one call to a package may take |
    """
    env = os.environ if environ is None else environ
    packages = {}
    for package in AccountingPackage:
        name = f"{PREFIX}{package.value}_"
        client_id = env.get(f"{name}CLIENT_ID", "")
        client_secret = env.get(f"{name}CLIENT_SECRET", "")
        if not client_id and not client_secret:
            continue
        for variable, value in (
            (f"{name}CLIENT_ID", client_id),
            (f"{name}CLIENT_SECRET", client_secret),
        ):
            if not value:
                raise ConfigError(f"{variable} must be set too: {package.label} needs both")
        base_url = env.get(f"{name}BASE_URL") or None
        if base_url is not None and not base_url.startswith(("https://", "http://")):
            raise ConfigError(f"{name}BASE_URL must be an http(s) address, not {base_url!r}")
        packages[package] = PackageCredentials(
            client_id=client_id,
            client_secret=client_secret,
            redirect_url=env.get(f"{name}REDIRECT_URL", ""),
            base_url=base_url,
        )
    return ConnectorSettings(
        packages=packages,
        timeout_seconds=_positive(env, "CONNECTOR_TIMEOUT_SECONDS", 30),
    )
