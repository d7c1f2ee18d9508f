"""The connectors against faked package APIs (``responses``): a token store holding one
connection's tokens, a clock that stands still, and waits that are recorded, not slept."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
import responses
from package_api import CONNECTION_ID, CREDENTIALS, tokens

from migrationkit.adapters.connectors import InMemoryTokenStore
from migrationkit.adapters.connectors._base import PackageConnector, Wiring
from migrationkit.adapters.connectors._http import patiently
from migrationkit.adapters.connectors.settings import PackageCredentials
from migrationkit.testing import FakeClock

C = TypeVar("C", bound=PackageConnector)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> InMemoryTokenStore:
    """Holds the test connection's tokens, valid for ten more minutes."""
    store = InMemoryTokenStore()
    store.save(CONNECTION_ID, tokens())
    return store


@pytest.fixture
def waits() -> list[float]:
    """Every wait a connector asked for, in seconds, instead of sleeping."""
    return []


@pytest.fixture
def worker() -> Iterator[None]:
    """The test's calls are a worker's (``patiently``): they wait as long as the policy
    allows, as nobody waits for them."""
    with patiently():
        yield


@pytest.fixture
def wiring(store: InMemoryTokenStore, clock: FakeClock, waits: list[float]) -> Wiring:
    return Wiring(tokens=store, clock=clock, timeout_seconds=5, sleep=waits.append)


@pytest.fixture
def make(wiring: Wiring) -> Callable[[type[C]], C]:
    """Builds a connector of the given class on the test's wiring."""

    def build(cls: type[C], credentials: PackageCredentials = CREDENTIALS) -> C:
        return cls(credentials, wiring)

    return build


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    """The faked package API; every answer registered must be asked for."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
