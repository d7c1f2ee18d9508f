"""R7 under attack: 10,000 wrong transfer codes against the portal's form (with its CSRF
token), and 10,000 against the API (POST /api/v1/redemptions with a token), while the test
clock lets many lockout windows pass. The library evaluates at most
5 codes per 15 minutes per user and per environment; during a lockout the right code gets
exactly the answer a wrong one gets (the lockout is no oracle); after it the right code
works."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from portal_support import RUNTIME_KEY, Scene, environ, make_app, signed_in_client
from werkzeug.test import TestResponse

from migrationkit import services
from migrationkit.bootstrap import Runtime
from migrationkit.domain import codes
from migrationkit.domain.model import Role
from migrationkit.domain.rules import LockoutPolicy
from migrationkit.services import OfferReceipt
from migrationkit.testing import FakeClock

ATTEMPTS = 10_000
#: How far the clock moves between two attempts: 10,000 attempts span 111 windows.
STEP = timedelta(seconds=10)
POLICY = LockoutPolicy()
FORM = "/migraties/inkomend/code"
REDEMPTIONS = "/api/v1/redemptions"
#: The refusals the form shows, by their codes (searched as text: ten thousand pages).
UNKNOWN = 'data-code="code_unknown"'
MALFORMED = 'data-code="code_malformed"'
LOCKED = 'data-code="redeem_locked"'
CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]*"')
#: A colleague of zuid@example.nl in Kantoor Zuid, to attack the environment's limit.
COLLEAGUE = "collega@zuid.example.nl"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def database_in_memory(home: Path) -> Iterator[dict[str, str]]:
    """The demo's database copied to a RAM disk when there is one: every refused code
    writes to the audit trail, and 10,000 waits on the disk are not what is tested here."""
    ram = Path("/dev/shm")  # noqa: S108 - a RAM disk, not a temporary file
    if not (ram.is_dir() and os.access(ram, os.W_OK)):
        yield {}
        return
    folder = Path(tempfile.mkdtemp(prefix="mk-lockout-", dir=ram))
    try:
        shutil.copy2(home / "migrationkit.sqlite3", folder / "migrationkit.sqlite3")
        yield {"MIGRATIONKIT_DATABASE_URL": f"sqlite:///{folder / 'migrationkit.sqlite3'}"}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def guarded(home: Path, clock: FakeClock, database_in_memory: dict[str, str]) -> Iterator[Flask]:
    """The portal with CSRF on, as served, and the test's clock."""
    app = make_app(
        home,
        WTF_CSRF_ENABLED=True,
        CLOCK=clock,
        MIGRATIONKIT_ENVIRON=environ(home) | database_in_memory,
    )
    yield app
    runtime: Runtime = app.extensions[RUNTIME_KEY]
    runtime.queue.stop(timeout=5)  # type: ignore[attr-defined]


@pytest.fixture
def guarded_scene(guarded: Flask) -> Scene:
    runtime: Runtime = guarded.extensions[RUNTIME_KEY]
    return Scene(runtime.deps)


@pytest.fixture
def as_user(guarded: Flask, guarded_scene: Scene) -> Callable[[str], FlaskClient]:
    def sign_in(email: str) -> FlaskClient:
        return signed_in_client(guarded, guarded_scene.user(email))

    return sign_in


@pytest.fixture
def colleague(guarded_scene: Scene) -> str:
    zuid = guarded_scene.environment("Zuid")
    with guarded_scene.deps.uow() as uow:
        uow.users.add(zuid.id, COLLEAGUE, "Collega Zuid", Role.SUPER_USER)
        uow.commit()
    return COLLEAGUE


@pytest.fixture
def evaluated(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> list[datetime]:
    """The moments at which the library looked at a typed code (normalised it to compare
    its digest): what an attacker's guess costs."""
    moments: list[datetime] = []
    normalise = codes.normalise_code

    def counting(typed: str) -> str:
        moments.append(clock.now())
        return normalise(typed)

    monkeypatch.setattr(codes, "normalise_code", counting)
    return moments


class FormChannel:
    """The code page of one signed-in user, as a browser fills it in: the CSRF token read
    from the form once (it stays valid for the session). A session lasts 8 hours: when it
    has ended, the user signs in again and goes on."""

    def __init__(self, sign_in: Callable[[], FlaskClient]) -> None:
        self.sign_in = sign_in
        self.client, self.token = self._opened()

    def _opened(self) -> tuple[FlaskClient, str]:
        client = self.sign_in()
        page = client.get(FORM).text
        found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert found, "the code form has a CSRF token"
        return client, found.group(1)

    def submit(self, code: str) -> TestResponse:
        data = {"code": code, "voorwaarden": "y", "kosten": "y"}
        response = self.client.post(FORM, data=data | {"csrf_token": self.token})
        if response.status_code == 302 and response.location == "/inloggen":
            self.client, self.token = self._opened()
            response = self.client.post(FORM, data=data | {"csrf_token": self.token})
        return response

    @staticmethod
    def locked(response: TestResponse) -> bool:
        return response.status_code == 200 and LOCKED in response.text

    @staticmethod
    def refused(response: TestResponse) -> bool:
        text = response.text
        return response.status_code == 200 and (UNKNOWN in text or MALFORMED in text)

    @staticmethod
    def as_seen(response: TestResponse, typed: str) -> tuple[object, ...]:
        """The answer without what differs by nature: the CSRF token's value and the code
        the user typed, which the form shows again."""
        body = CSRF_VALUE.sub(r'\1"', response.text).replace(f'value="{typed}"', 'value=""')
        return response.status_code, body

    @staticmethod
    def opened(response: TestResponse, offer_id: int) -> bool:
        return (
            response.status_code == 302 and response.location == f"/migraties/inkomend/{offer_id}"
        )


class ApiChannel:
    """POST /api/v1/redemptions with one user's API token."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def submit(self, code: str) -> TestResponse:
        return self.client.post(
            REDEMPTIONS,
            json={"code": code, "accept_terms": True, "accept_costs": True},
            headers=self.headers,
        )

    @staticmethod
    def locked(response: TestResponse) -> bool:
        return (
            response.status_code == 429
            and response.json["code"] == "redeem_locked"
            and int(response.headers["Retry-After"]) > 0
        )

    @staticmethod
    def refused(response: TestResponse) -> bool:
        return (response.status_code, response.json["code"]) in (
            (409, "code_unknown"),
            (422, "code_malformed"),
        )

    @staticmethod
    def as_seen(response: TestResponse, typed: str) -> tuple[object, ...]:
        """The whole answer: status, body and every header but the request's own id."""
        headers = [(k, v) for k, v in response.headers.items() if k != "X-Request-ID"]
        return response.status_code, response.data, sorted(headers)

    @staticmethod
    def opened(response: TestResponse, offer_id: int) -> bool:
        return response.status_code == 200 and response.json["offer"]["id"] == offer_id


def wrong_code() -> str:
    """A well-formed code that is no offer's: it reaches the digest comparison."""
    return codes.format_code("".join(secrets.choice(codes.ALPHABET) for _ in range(24)))


def as_seen(response: TestResponse, typed: str) -> tuple[int, str]:
    """The answer without what differs by nature: the CSRF token's value and the code the
    user typed, which the form shows again."""
    body = CSRF_VALUE.sub(r'\1"', response.text).replace(f'value="{typed}"', 'value=""')
    return response.status_code, body


def most_in_a_window(moments: list[datetime]) -> int:
    """The most moments that fall inside any one lockout window."""
    ordered = sorted(moments)
    most = start = 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= POLICY.window:
            start += 1
        most = max(most, end - start + 1)
    return most


@pytest.fixture(params=["form", "api"])
def channel(
    request: pytest.FixtureRequest,
    as_user: Callable[[str], FlaskClient],
    guarded: Flask,
    guarded_scene: Scene,
    colleague: str,
) -> Callable[[str], FormChannel | ApiChannel]:
    """How each user types codes: the portal's form, or the API with a token of theirs."""

    def open_channel(email: str) -> FormChannel | ApiChannel:
        if request.param == "form":
            return FormChannel(lambda: as_user(email))
        issued = services.create_api_token(
            guarded_scene.deps, actor_id=guarded_scene.user(email), name="Aanval"
        )
        return ApiChannel(guarded.test_client(), issued.secret)

    return open_channel


def test_ten_thousand_wrong_codes_are_evaluated_at_most_five_per_window_and_no_oracle(
    channel: Callable[[str], FormChannel | ApiChannel],
    guarded_scene: Scene,
    colleague: str,
    clock: FakeClock,
    evaluated: list[datetime],
) -> None:
    """Two super users of Kantoor Zuid take turns, so both the user's and the
    environment's limit are attacked; every 50th code is malformed (it counts too)."""
    receipt: OfferReceipt = guarded_scene.offer("1001")
    evaluated.clear()  # offering normalised the new code once
    channels = {email: channel(email) for email in ("zuid@example.nl", colleague)}
    by_user: dict[str, list[datetime]] = defaultdict(list)
    answers: dict[str, int] = defaultdict(int)
    oracle_checks = 0

    for attempt in range(ATTEMPTS):
        email = ("zuid@example.nl", colleague)[attempt % 2]
        typing = channels[email]
        before = len(evaluated)
        typed = wrong_code() if attempt % 50 else "GEEN-CODE"
        response = typing.submit(typed)
        if len(evaluated) > before:
            by_user[email].append(clock.now())
        if typing.locked(response):
            answers["locked"] += 1
            if attempt % 97 == 0:
                # At this very moment the right code gets exactly this answer.
                right = typing.submit(receipt.code)
                assert typing.as_seen(right, receipt.code) == typing.as_seen(response, typed)
                oracle_checks += 1
        else:
            assert typing.refused(response), (response.status_code, response.text[:300])
            answers["refused"] += 1
        clock.advance(STEP)

    windows = ATTEMPTS * STEP / POLICY.window
    assert most_in_a_window(evaluated) <= POLICY.max_failures  # the environment's limit
    for moments in by_user.values():
        assert most_in_a_window(moments) <= POLICY.max_failures
    # The lock opens again each window: the attack is slowed, not the feature broken.
    assert len(evaluated) >= POLICY.max_failures * (windows - 1)
    assert answers["refused"] == len(evaluated)
    assert answers["locked"] == ATTEMPTS - len(evaluated)
    assert oracle_checks > 50

    clock.advance(POLICY.window)
    zuid = channels["zuid@example.nl"]
    assert zuid.opened(zuid.submit(receipt.code.lower().replace("-", "")), receipt.offer.id)
