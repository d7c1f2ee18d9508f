"""R7 under attack: 10,000 wrong transfer codes against the portal's form (with its CSRF
token) while the test clock lets many lockout windows pass. The library evaluates at most
5 codes per 15 minutes per user and per environment; during a lockout the right code gets
exactly the answer a wrong one gets (the lockout is no oracle); after it the right code
works."""

from __future__ import annotations

import re
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from portal_support import RUNTIME_KEY, Scene, make_app
from werkzeug.test import TestResponse

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
UNKNOWN = "Deze overdrachtscode is onbekend. Controleer de code in de e-mail."
MALFORMED = "Deze overdrachtscode is niet goed getypt"
LOCKED = "Te veel onjuiste overdrachtscodes. Probeer het opnieuw om "
CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]*"')
#: A colleague of zuid@example.nl in Kantoor Zuid, to attack the environment's limit.
COLLEAGUE = "collega@zuid.example.nl"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def guarded(home: Path, clock: FakeClock) -> Iterator[Flask]:
    """The portal with CSRF on, as served, and the test's clock."""
    app = make_app(home, WTF_CSRF_ENABLED=True, CLOCK=clock)
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
        client = guarded.test_client()
        with client.session_transaction() as session:
            session["user_id"] = guarded_scene.user(email)
            session["seen"] = time.time()
        return client

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


class CodeForm:
    """The code page of one signed-in user, as a browser fills it in: the CSRF token read
    from the form once (it stays valid for the session)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        page = client.get(FORM).text
        found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert found, "the code form has a CSRF token"
        self.token = found.group(1)

    def submit(self, code: str) -> TestResponse:
        return self.client.post(
            FORM,
            data={"csrf_token": self.token, "code": code, "voorwaarden": "y", "kosten": "y"},
        )


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


def test_ten_thousand_wrong_codes_through_the_form_are_evaluated_at_most_five_per_window(
    as_user: Callable[[str], FlaskClient],
    guarded_scene: Scene,
    colleague: str,
    clock: FakeClock,
    evaluated: list[datetime],
) -> None:
    receipt: OfferReceipt = guarded_scene.offer("1001")
    evaluated.clear()  # offering normalised the new code once
    forms = {
        "zuid@example.nl": CodeForm(as_user("zuid@example.nl")),
        colleague: CodeForm(as_user(colleague)),
    }
    by_user: dict[str, list[datetime]] = defaultdict(list)
    answers: dict[str, int] = defaultdict(int)
    oracle_checks = 0

    for attempt in range(ATTEMPTS):
        email = ("zuid@example.nl", colleague)[attempt % 2]
        form = forms[email]
        before = len(evaluated)
        typed = wrong_code() if attempt % 50 else "GEEN-CODE"
        response = form.submit(typed)
        if len(evaluated) > before:
            by_user[email].append(clock.now())
        assert response.status_code == 200
        if LOCKED in response.text:
            answers["locked"] += 1
            if attempt % 97 == 0:
                # At this very moment the right code gets exactly this answer.
                right = form.submit(receipt.code)
                assert as_seen(right, receipt.code) == as_seen(response, typed)
                oracle_checks += 1
        else:
            answers["refused"] += 1
            assert UNKNOWN in response.text or MALFORMED in response.text
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
    opened = forms["zuid@example.nl"].submit(receipt.code.lower().replace("-", ""))
    assert opened.status_code == 302
    assert opened.location == f"/migraties/inkomend/{receipt.offer.id}"
