"""The runtime's settings: Redis, the queue, the archive stores, SMTP, batches and job
timeouts; a password in a URL never shows in a repr or an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrationkit import bootstrap
from migrationkit.config import ConfigError, Settings, SmtpSettings, masked_url


def settings(tmp_path: Path, **variables: str) -> Settings:
    return Settings.from_environ(
        {"MIGRATIONKIT_HOME": str(tmp_path)}
        | {f"MIGRATIONKIT_{name}": value for name, value in variables.items()}
    )


def test_the_defaults_are_the_embedded_runtime(tmp_path: Path) -> None:
    defaults = settings(tmp_path)

    assert defaults.redis_url is None
    assert defaults.queue_name == "migrationkit"
    assert defaults.archive_locations == {}
    assert defaults.archive_root == tmp_path.resolve() / "archive"
    assert defaults.smtp is None
    assert defaults.mail_from == "migrationkit@localhost"
    assert defaults.batch_size == 500
    assert defaults.job_timeout_seconds == 3600


def test_every_runtime_variable_is_read(tmp_path: Path) -> None:
    read = settings(
        tmp_path,
        REDIS_URL="redis://redis.intern:6379/2",
        QUEUE="verhuizingen",
        ARCHIVE_STORES="noord=file:///srv/noord, zuid=s3://archief/zuid?region=eu-west-1",
        SMTP_URL="smtps://mailer:ge%40heim@smtp.example.nl",
        MAIL_FROM="migratie@example.nl",
        BATCH_SIZE="250",
        JOB_TIMEOUT_SECONDS="600",
        SECRET_KEY="k" * 32,
    )

    assert read.redis_url == "redis://redis.intern:6379/2"
    assert read.queue_name == "verhuizingen"
    assert read.archive_locations == {
        "noord": "file:///srv/noord",
        "zuid": "s3://archief/zuid?region=eu-west-1",
    }
    assert read.smtp == SmtpSettings(
        host="smtp.example.nl", port=465, implicit_tls=True, username="mailer", password="ge@heim"
    )
    assert read.mail_from == "migratie@example.nl"
    assert read.batch_size == 250
    assert bootstrap.policy(read).batch_size == 250
    assert read.job_timeout_seconds == 600


def test_plain_smtp_takes_port_25_unless_one_is_given(tmp_path: Path) -> None:
    assert settings(tmp_path, SMTP_URL="smtp://relay").smtp == SmtpSettings("relay", 25)
    assert settings(tmp_path, SMTP_URL="smtp://relay:587").smtp == SmtpSettings("relay", 587)


def test_no_password_shows_in_the_settings_repr(tmp_path: Path) -> None:
    shown = repr(
        settings(
            tmp_path,
            DATABASE_URL="postgresql+psycopg://app:db-geheim@db/migrationkit",
            REDIS_URL="redis://:redis-geheim@redis:6379/0",
            SMTP_URL="smtp://mailer:smtp-geheim@smtp.example.nl:587",
            ARCHIVE_STORES="noord=s3://sleutel:s3-geheim@archief/noord",
        )
    )

    assert "geheim" not in shown
    assert "postgresql+psycopg://app:***@db/migrationkit" in shown
    assert "redis://:***@redis:6379/0" in shown


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "REDIS_URL",
            "http://:geheim@redis",
            "MIGRATIONKIT_REDIS_URL must start with redis://, rediss:// or unix://, not"
            " 'http://:***@redis'",
        ),
        (
            "REDIS_URL",
            "redis://:geheim@redis:poort/0",
            "MIGRATIONKIT_REDIS_URL has no valid host and port: 'redis://:***@redis:poort/0'",
        ),
        (
            "DATABASE_URL",
            "mysql://app:geheim@db/migrationkit",
            "MIGRATIONKIT_DATABASE_URL must be sqlite:///PATH or"
            " postgresql+psycopg://USER:PASSWORD@HOST/DATABASE, not"
            " 'mysql://app:***@db/migrationkit'",
        ),
        (
            "DATABASE_URL",
            "postgresql+psycopg://app:geheim@db:poort/migrationkit",
            "MIGRATIONKIT_DATABASE_URL has no valid host and port:"
            " 'postgresql+psycopg://app:***@db:poort/migrationkit'",
        ),
        (
            "SMTP_URL",
            "imap://mailer:geheim@smtp.example.nl",
            "MIGRATIONKIT_SMTP_URL must start with smtp:// or smtps://, not"
            " 'imap://mailer:***@smtp.example.nl'",
        ),
        (
            "SMTP_URL",
            "smtp://mailer:geheim@smtp.example.nl:vijf",
            "MIGRATIONKIT_SMTP_URL has no valid host and port:"
            " 'smtp://mailer:***@smtp.example.nl:vijf'",
        ),
        ("SMTP_URL", "smtp://", "MIGRATIONKIT_SMTP_URL names no host: 'smtp://'"),
        (
            "ARCHIVE_STORES",
            "noord=file:///srv/noord,s3://sleutel:geheim@archief",
            "MIGRATIONKIT_ARCHIVE_STORES must be name=location pairs separated by commas, not"
            " 's3://sleutel:***@archief'",
        ),
        (
            "ARCHIVE_STORES",
            "noord=file:///a,noord=file:///b",
            "MIGRATIONKIT_ARCHIVE_STORES names the store 'noord' twice",
        ),
        (
            "MAIL_FROM",
            "migratie",
            "MIGRATIONKIT_MAIL_FROM must be an e-mail address, not 'migratie'",
        ),
        ("BATCH_SIZE", "0", "MIGRATIONKIT_BATCH_SIZE must be greater than 0, not 0"),
        (
            "JOB_TIMEOUT_SECONDS",
            "uur",
            "MIGRATIONKIT_JOB_TIMEOUT_SECONDS must be a whole number, not 'uur'",
        ),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable_and_hiding_the_password(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        settings(tmp_path, **{variable: value})

    assert str(refused.value) == message
    assert "geheim" not in str(refused.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://localhost:6379/0", "redis://localhost:6379/0"),
        ("smtp://mailer@smtp.example.nl", "smtp://mailer@smtp.example.nl"),
        ("smtps://mailer:geheim@smtp.example.nl:465", "smtps://mailer:***@smtp.example.nl:465"),
        ("http://[::1", "(an unreadable URL)"),
    ],
)
def test_masked_url_hides_only_the_password(url: str, shown: str) -> None:
    assert masked_url(url) == shown
