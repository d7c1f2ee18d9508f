"""The SQL token store on SQLite and on a real PostgreSQL server: sealed rows, versions, and
a refresh token spent once when workers rotate at the same moment."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from package_api import ACCESS_TOKEN, NEW_ACCESS_TOKEN, NEW_REFRESH_TOKEN, REFRESH_TOKEN, tokens
from sqlalchemy import Engine, select

from migrationkit.adapters.connectors.tokens import SqlTokenStore
from migrationkit.adapters.sqlalchemy import make_engine, unit_of_work_factory, upgrade
from migrationkit.adapters.sqlalchemy.tables import connector_tokens
from migrationkit.domain.model import AccountingPackage
from migrationkit.ports import OAuthTokens
from migrationkit.testing._databases import throwaway_database

SECRET = b"a-server-secret-of-enough-bytes-for-the-tests-0123456789"
ACCOUNT = (("cluster_url", "https://accounting2.twinfield.com"), ("company_code", "001"))


@pytest.fixture(scope="module")
def sqlite_tokens_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("tokens") / "migrationkit.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def postgres_tokens_engine(postgres_url: str) -> Iterator[Engine]:
    """A throwaway database of its own on the PostgreSQL server, dropped afterwards."""
    with throwaway_database(postgres_url, prefix="mk_tokens") as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    engine: Engine = request.getfixturevalue(f"{request.param}_tokens_engine")
    return engine


@pytest.fixture
def connection_id(engine: Engine) -> int:
    """A new connection row (the tokens' foreign key)."""
    with unit_of_work_factory(engine, SECRET)() as uow:
        environment = uow.environments.add(
            f"Kantoor {secrets.token_hex(3)}", has_subscription=True, archive_store="noord"
        )
        found = uow.connections.add(environment.id, AccountingPackage.TWINFIELD, "Twinfield")
        uow.commit()
    return found.id


def sealed_row(engine: Engine, connection_id: int) -> tuple[str, int]:
    with engine.connect() as connection:
        row = connection.execute(
            select(connector_tokens.c.sealed, connector_tokens.c.version).where(
                connector_tokens.c.connection_id == connection_id
            )
        ).one()
    return row.sealed, row.version


def test_keeps_tokens_sealed_and_gives_them_back(engine: Engine, connection_id: int) -> None:
    store = SqlTokenStore(engine, SECRET)
    saved = tokens(account=ACCOUNT)

    store.save(connection_id, saved)

    assert store.load(connection_id) == saved
    sealed, version = sealed_row(engine, connection_id)
    assert version == 1
    for plain in (ACCESS_TOKEN, REFRESH_TOKEN, "accounting2.twinfield.com"):
        assert plain not in sealed
    assert store.load(connection_id + 1000) is None


def test_the_sqlite_file_holds_no_token_in_plain_text(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'plain.sqlite3'}")
    upgrade(engine)
    with unit_of_work_factory(engine, SECRET)() as uow:
        environment = uow.environments.add("Noord", has_subscription=True, archive_store="noord")
        found = uow.connections.add(environment.id, AccountingPackage.XERO, "Xero")
        uow.commit()
    SqlTokenStore(engine, SECRET).save(found.id, tokens())
    engine.dispose()

    raw = b"".join(path.read_bytes() for path in tmp_path.glob("plain.sqlite3*"))
    assert ACCESS_TOKEN.encode() not in raw
    assert REFRESH_TOKEN.encode() not in raw


def test_tokens_sealed_under_another_secret_are_none(engine: Engine, connection_id: int) -> None:
    SqlTokenStore(engine, SECRET).save(connection_id, tokens())

    assert (
        SqlTokenStore(engine, b"another-secret-of-enough-bytes-0123456789").load(connection_id)
        is None
    )


def test_rotate_refreshes_and_bumps_the_version(engine: Engine, connection_id: int) -> None:
    store = SqlTokenStore(engine, SECRET)
    spent = tokens(account=ACCOUNT)
    store.save(connection_id, spent)

    fresh = store.rotate(
        connection_id,
        spent,
        lambda old: tokens(NEW_ACCESS_TOKEN, NEW_REFRESH_TOKEN, account=old.account),
    )

    assert store.load(connection_id) == fresh
    assert fresh.account == ACCOUNT
    assert sealed_row(engine, connection_id)[1] == 2


def test_rotate_of_tokens_rotated_meanwhile_returns_the_stored_ones(
    engine: Engine, connection_id: int
) -> None:
    store = SqlTokenStore(engine, SECRET)
    newer = tokens(NEW_ACCESS_TOKEN, NEW_REFRESH_TOKEN)
    store.save(connection_id, newer)

    def refresh(_: OAuthTokens) -> OAuthTokens:
        raise AssertionError("a rotated refresh token must not be spent")

    assert store.rotate(connection_id, tokens(), refresh) == newer
    assert sealed_row(engine, connection_id)[1] == 1


def test_a_failed_refresh_leaves_the_tokens_as_they_were(
    engine: Engine, connection_id: int
) -> None:
    store = SqlTokenStore(engine, SECRET)
    spent = tokens()
    store.save(connection_id, spent)

    def refresh(_: OAuthTokens) -> OAuthTokens:
        raise RuntimeError("the package did not answer")

    with pytest.raises(RuntimeError):
        store.rotate(connection_id, spent, refresh)

    assert store.load(connection_id) == spent
    assert sealed_row(engine, connection_id)[1] == 1


def test_workers_rotating_at_once_spend_the_refresh_token_once(
    engine: Engine, connection_id: int
) -> None:
    spent = tokens()
    SqlTokenStore(engine, SECRET).save(connection_id, spent)
    spent_tokens: list[str] = []
    start = threading.Barrier(4)
    results: list[OAuthTokens] = []
    failures: list[BaseException] = []

    def refresh(current: OAuthTokens) -> OAuthTokens:
        spent_tokens.append(current.refresh_token)
        time.sleep(0.2)  # the package's token endpoint takes a moment: the others must wait
        return tokens(NEW_ACCESS_TOKEN, NEW_REFRESH_TOKEN, expires_in=timedelta(minutes=30))

    def worker() -> None:
        store = SqlTokenStore(engine, SECRET)
        start.wait()
        try:
            results.append(store.rotate(connection_id, spent, refresh))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert spent_tokens == [REFRESH_TOKEN]
    assert {result.refresh_token for result in results} == {NEW_REFRESH_TOKEN}
    assert len(results) == 4
    assert sealed_row(engine, connection_id)[1] == 2


def test_the_repr_names_no_password() -> None:
    assert "geheim" not in repr(SqlTokenStore(make_engine("postgresql://mk:geheim@db/mk"), SECRET))
