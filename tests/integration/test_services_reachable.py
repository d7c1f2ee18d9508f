"""The real Redis server that CI names answers and keeps what it is told."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

pytestmark = pytest.mark.redis


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url) as client:
        yield client


def test_redis_answers_ping(client: redis.Redis) -> None:
    assert client.ping() is True


def test_redis_returns_the_value_it_was_given(client: redis.Redis) -> None:
    key = f"migrationkit:test:{uuid.uuid4().hex}"
    try:
        assert client.set(key, "Voltooid", ex=60) is True
        assert client.get(key) == b"Voltooid"
    finally:
        client.delete(key)
