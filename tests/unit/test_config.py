"""Settings from the environment: defaults, every variable, refusals that name the variable,
and the server secret that embedded mode makes once and keeps."""

from __future__ import annotations

import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from migrationkit import bootstrap
from migrationkit.config import ConfigError, Settings
from migrationkit.domain.codes import MIN_SECRET_BYTES

KEY = "k" * MIN_SECRET_BYTES

NUMBERS = [
    ("MIGRATIONKIT_OFFER_VALID_DAYS", "offer_valid_days"),
    ("MIGRATIONKIT_REMINDER_DAYS", "reminder_days"),
    ("MIGRATIONKIT_LOCKOUT_FAILURES", "lockout_failures"),
    ("MIGRATIONKIT_LOCKOUT_MINUTES", "lockout_minutes"),
    ("MIGRATIONKIT_LEASE_SECONDS", "lease_seconds"),
    ("MIGRATIONKIT_BATCHES_PER_JOB", "batches_per_job"),
    ("MIGRATIONKIT_DB_LOCK_TIMEOUT_SECONDS", "db_lock_timeout_seconds"),
    ("MIGRATIONKIT_DB_IDLE_IN_TRANSACTION_SECONDS", "db_idle_in_transaction_seconds"),
    ("MIGRATIONKIT_DB_KEEPALIVE_IDLE_SECONDS", "db_keepalive_idle_seconds"),
    ("MIGRATIONKIT_DB_KEEPALIVE_INTERVAL_SECONDS", "db_keepalive_interval_seconds"),
    ("MIGRATIONKIT_DB_KEEPALIVE_COUNT", "db_keepalive_count"),
    ("MIGRATIONKIT_DB_CONNECT_TIMEOUT_SECONDS", "db_connect_timeout_seconds"),
]


def test_the_defaults_are_the_embedded_setup_in_the_home_folder(tmp_path: Path) -> None:
    settings = Settings.from_environ({"MIGRATIONKIT_HOME": str(tmp_path)})

    assert settings.home == tmp_path.resolve()
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'migrationkit.sqlite3'}"
    assert settings.offer_valid_days == 15
    assert settings.reminder_days == 3
    assert settings.lockout_failures == 5
    assert settings.lockout_minutes == 15
    assert settings.lease_seconds == 120
    assert settings.portal_url == "http://localhost:5000"
    assert settings.secret_key is None
    assert len(settings.code_secret()) >= MIN_SECRET_BYTES


def test_without_a_home_the_data_goes_to_a_folder_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    settings = Settings.from_environ({})

    assert settings.home == tmp_path.resolve() / "migrationkit-data"
    assert not settings.home.exists()
    bootstrap.policy(settings)
    assert (settings.home / "secret.key").is_file()


def test_reading_the_settings_writes_nothing(tmp_path: Path) -> None:
    """`migrationkit db upgrade` needs no secret, so reading settings makes no key file."""
    settings = Settings.from_environ({"MIGRATIONKIT_HOME": str(tmp_path / "home")})

    assert settings.database_url.endswith("home/migrationkit.sqlite3")
    assert not (tmp_path / "home").exists()


def test_a_kept_key_that_is_too_short_is_refused_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_text("short")
    settings = Settings.from_environ({"MIGRATIONKIT_HOME": str(tmp_path)})

    with pytest.raises(ConfigError, match=r"secret\.key must hold a key of at least 32 bytes"):
        bootstrap.policy(settings)


def test_with_no_mapping_given_the_process_environment_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIGRATIONKIT_HOME", str(tmp_path))
    monkeypatch.setenv("MIGRATIONKIT_SECRET_KEY", KEY)
    monkeypatch.setenv("MIGRATIONKIT_LEASE_SECONDS", "30")

    settings = Settings.from_environ()

    assert settings.home == tmp_path.resolve()
    assert settings.lease_seconds == 30


def test_every_variable_is_read_and_reaches_the_policy(tmp_path: Path) -> None:
    settings = Settings.from_environ(
        {
            "MIGRATIONKIT_HOME": str(tmp_path),
            "MIGRATIONKIT_DATABASE_URL": "postgresql+psycopg://mk@db.example.nl/mk",
            "MIGRATIONKIT_SECRET_KEY": KEY,
            "MIGRATIONKIT_OFFER_VALID_DAYS": "30",
            "MIGRATIONKIT_REMINDER_DAYS": "5",
            "MIGRATIONKIT_LOCKOUT_FAILURES": "3",
            "MIGRATIONKIT_LOCKOUT_MINUTES": "60",
            "MIGRATIONKIT_LEASE_SECONDS": "45",
            "MIGRATIONKIT_PORTAL_URL": "https://migratie.example.nl",
            "MIGRATIONKIT_RELEASE_SOURCE_SECONDS": "7200",
            "MIGRATIONKIT_BATCHES_PER_JOB": "4",
        }
    )
    policy = bootstrap.policy(settings)

    assert settings.database_url == "postgresql+psycopg://mk@db.example.nl/mk"
    assert settings.secret_key == KEY.encode()
    assert policy.code_secret == KEY.encode()
    assert policy.offer_valid_for == timedelta(days=30)
    assert policy.reminder_before == timedelta(days=5)
    assert policy.lockout.max_failures == 3
    assert policy.lockout.window == timedelta(minutes=60)
    assert policy.lease_for == timedelta(seconds=45)
    assert policy.portal_url == "https://migratie.example.nl"
    assert policy.release_source_after == timedelta(hours=2)
    assert policy.batches_per_job == 4
    # A key that is given is used as it is: no file is made for it.
    assert not (tmp_path / "secret.key").exists()


def test_the_secret_key_is_kept_out_of_the_repr(tmp_path: Path) -> None:
    settings = Settings.from_environ(
        {"MIGRATIONKIT_HOME": str(tmp_path), "MIGRATIONKIT_SECRET_KEY": KEY}
    )

    assert KEY not in repr(settings)
    assert KEY not in repr(bootstrap.policy(settings))


@pytest.mark.parametrize(("variable", "field"), NUMBERS)
@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ("soon", "must be a whole number, not 'soon'"),
        ("1.5", "must be a whole number, not '1.5'"),
        ("", "must be a whole number, not ''"),
        ("0", "must be greater than 0, not 0"),
        ("-3", "must be greater than 0, not -3"),
    ],
)
def test_a_bad_number_is_refused_with_the_variable_named(
    tmp_path: Path, variable: str, field: str, raw: str, complaint: str
) -> None:
    environ = {"MIGRATIONKIT_HOME": str(tmp_path), "MIGRATIONKIT_SECRET_KEY": KEY, variable: raw}

    with pytest.raises(ConfigError) as refused:
        Settings.from_environ(environ)

    assert str(refused.value) == f"{variable} {complaint}"


@pytest.mark.parametrize(("variable", "field"), NUMBERS)
def test_each_number_is_read_from_its_own_variable(
    tmp_path: Path, variable: str, field: str
) -> None:
    environ = {"MIGRATIONKIT_HOME": str(tmp_path), "MIGRATIONKIT_SECRET_KEY": KEY, variable: "7"}

    settings = Settings.from_environ(environ)

    assert getattr(settings, field) == 7
    assert [name for _, name in NUMBERS if getattr(settings, name) == 7] == [field]


def test_a_too_short_secret_key_is_refused(tmp_path: Path) -> None:
    environ = {"MIGRATIONKIT_HOME": str(tmp_path), "MIGRATIONKIT_SECRET_KEY": KEY[:-1]}

    with pytest.raises(ConfigError, match=r"^MIGRATIONKIT_SECRET_KEY must be at least 32 "):
        Settings.from_environ(environ)


def test_the_secret_is_made_once_readable_by_the_owner_only_and_then_reused(
    tmp_path: Path,
) -> None:
    home = tmp_path / "new" / "home"
    environ = {"MIGRATIONKIT_HOME": str(home)}

    first = Settings.from_environ(environ).code_secret()
    kept = (home / "secret.key").read_bytes()
    second = Settings.from_environ(environ).code_secret()

    assert first == second == kept.strip()
    assert len(first) >= MIN_SECRET_BYTES
    assert stat.S_IMODE((home / "secret.key").stat().st_mode) == 0o600
    assert [path.name for path in home.iterdir()] == ["secret.key"]


def test_another_home_gets_another_secret(tmp_path: Path) -> None:
    noord = Settings.from_environ({"MIGRATIONKIT_HOME": str(tmp_path / "noord")})
    zuid = Settings.from_environ({"MIGRATIONKIT_HOME": str(tmp_path / "zuid")})

    assert noord.code_secret() != zuid.code_secret()


def secrets_of_workers_starting_together(home: Path, workers: int) -> set[bytes]:
    ready = threading.Barrier(workers)

    def start(_: int) -> bytes:
        ready.wait(timeout=10)
        return Settings.from_environ({"MIGRATIONKIT_HOME": str(home)}).code_secret()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return set(pool.map(start, range(workers)))


def test_workers_starting_together_on_a_new_home_share_one_secret(tmp_path: Path) -> None:
    """A portal's workers start at once on the first run: a secret per worker would make
    each refuse the transfer codes that the others issued. Twenty fresh homes, as the race
    does not show every time."""
    for attempt in range(20):
        home = tmp_path / str(attempt)

        (key,) = secrets_of_workers_starting_together(home, workers=8)

        assert len(key) >= MIN_SECRET_BYTES
        assert (home / "secret.key").read_bytes().strip() == key
        assert [path.name for path in home.iterdir()] == ["secret.key"]
