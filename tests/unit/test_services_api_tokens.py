"""Personal API tokens: a user creates, lists and revokes their own; a program presents one
and acts as its user; the token itself is never stored, only its keyed digest."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from migrationkit import services
from migrationkit.domain.api_tokens import ApiToken, api_token_digest
from migrationkit.domain.errors import InvalidInput, NotAllowed, NotFound, RuleViolation
from migrationkit.testing._world import TEST_CODE_SECRET

if TYPE_CHECKING:
    from conftest import Scene

TOKEN = re.compile(r"^mkt_[A-Za-z0-9_-]{43}$")


def create(
    scene: Scene, name: str | None = "CRM", user_id: int | None = None
) -> services.IssuedApiToken:
    return services.create_api_token(scene.deps, actor_id=user_id or scene.noord.user.id, name=name)


def listed(scene: Scene, user_id: int | None = None) -> tuple[ApiToken, ...]:
    return services.list_api_tokens(scene.deps, actor_id=user_id or scene.noord.user.id)


# --- create and list -------------------------------------------------------------------------


def test_a_new_token_is_256_random_bits_shown_once_and_listed_by_its_first_characters(
    scene: Scene,
) -> None:
    issued = create(scene, "  Koppeling met ons CRM  ")

    assert TOKEN.match(issued.secret)
    assert issued.token == ApiToken(
        id=issued.token.id,
        user_id=scene.noord.user.id,
        name="Koppeling met ons CRM",
        shown=issued.secret[:8],
        created_at=scene.world.clock.now(),
    )
    assert issued.token.active
    assert issued.secret not in repr(issued)
    assert listed(scene) == (issued.token,)


def test_every_token_is_new(scene: Scene) -> None:
    secrets = {create(scene, f"Script {n}").secret for n in range(20)}

    assert len(secrets) == 20


def test_the_list_holds_the_users_own_tokens_newest_first_revoked_ones_too(
    scene: Scene,
) -> None:
    first = create(scene, "Eerste")
    scene.world.clock.advance(timedelta(minutes=1))
    second = create(scene, "Tweede")
    create(scene, "Van de baas", user_id=scene.noord.super_user.id)
    services.revoke_api_token(scene.deps, actor_id=scene.noord.user.id, token_id=first.token.id)

    tokens = listed(scene)

    assert [(t.name, t.active) for t in tokens] == [("Tweede", True), ("Eerste", False)]
    assert tokens[0] == second.token


@pytest.mark.parametrize("name", [None, "", "   ", "\t\n"])
def test_a_token_needs_a_name(scene: Scene, name: str | None) -> None:
    with scene.refused(InvalidInput, "api_token_name_missing"):
        create(scene, name)


def test_a_name_may_have_100_characters_not_101(scene: Scene) -> None:
    assert create(scene, "x" * 100).token.name == "x" * 100

    with scene.refused(InvalidInput, "api_token_name_too_long", limit=100):
        create(scene, "x" * 101)


def test_a_user_holds_at_most_20_active_tokens(scene: Scene) -> None:
    issued = [create(scene, f"Script {n}") for n in range(20)]

    with scene.refused(RuleViolation, "too_many_api_tokens", limit=20):
        create(scene, "Nog één")

    # Revoked tokens do not count, and the cap is per user.
    services.revoke_api_token(scene.deps, actor_id=scene.noord.user.id, token_id=issued[0].token.id)
    create(scene, "Nog één")
    create(scene, "Van de baas", user_id=scene.noord.super_user.id)
    assert len(listed(scene)) == 21


# --- authenticate ----------------------------------------------------------------------------


def test_a_token_acts_as_its_user(scene: Scene) -> None:
    issued = create(scene)

    assert services.authenticate_api_token(scene.deps, token=issued.secret) == scene.noord.user


def test_a_revoked_token_opens_nothing(scene: Scene) -> None:
    issued = create(scene)

    revoked = services.revoke_api_token(
        scene.deps, actor_id=scene.noord.user.id, token_id=issued.token.id
    )

    assert revoked.revoked_at == scene.world.clock.now()
    assert not revoked.active
    with scene.refused(NotAllowed, "api_token_invalid"):
        services.authenticate_api_token(scene.deps, token=issued.secret)


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "mkt_",
        "Bearer mkt_abc",
        "mkt_" + "A" * 43,
        "x" * 10_000,
        "mkt_ü€\x00",
        "\udc80",
    ],
    ids=["empty", "prefix", "with-scheme", "unknown", "huge", "non-ascii", "surrogate"],
)
def test_unknown_and_garbage_tokens_get_the_one_answer(scene: Scene, presented: str) -> None:
    create(scene)

    with scene.refused(NotAllowed, "api_token_invalid"):
        services.authenticate_api_token(scene.deps, token=presented)


def test_a_token_differing_in_one_character_or_its_case_is_refused(scene: Scene) -> None:
    secret = create(scene).secret
    changed = secret[:-1] + ("A" if secret[-1] != "A" else "B")

    for presented in (changed, secret.upper(), secret + " ", " " + secret):
        with scene.refused(NotAllowed, "api_token_invalid"):
            services.authenticate_api_token(scene.deps, token=presented)


# --- revoke ----------------------------------------------------------------------------------


def test_another_users_token_cannot_be_revoked(scene: Scene) -> None:
    issued = create(scene, user_id=scene.zuid.super_user.id)

    with scene.refused(NotFound, "unknown_api_token"):
        services.revoke_api_token(
            scene.deps, actor_id=scene.noord.super_user.id, token_id=issued.token.id
        )

    assert services.authenticate_api_token(scene.deps, token=issued.secret).id == (
        scene.zuid.super_user.id
    )


def test_a_token_is_revoked_once_and_an_unknown_one_not_at_all(scene: Scene) -> None:
    issued = create(scene)
    services.revoke_api_token(scene.deps, actor_id=scene.noord.user.id, token_id=issued.token.id)

    for token_id in (issued.token.id, 999):
        with scene.refused(NotFound, "unknown_api_token"):
            services.revoke_api_token(scene.deps, actor_id=scene.noord.user.id, token_id=token_id)


# --- never stored, used at most once a minute -----------------------------------------------


def test_the_token_itself_is_never_stored_only_its_keyed_digest(scene: Scene) -> None:
    issued = create(scene)
    services.authenticate_api_token(scene.deps, token=issued.secret)

    stored = repr(scene.world.database.snapshot())

    assert issued.secret not in stored
    assert issued.secret[8:] not in stored
    digest = api_token_digest(issued.secret, TEST_CODE_SECRET)
    assert digest in stored
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    # Keyed: another server's secret gives another digest, so a dump alone tests nothing.
    assert api_token_digest(issued.secret, b"another server's secret key!!!!") != digest


def test_the_last_use_is_written_at_most_once_a_minute(scene: Scene) -> None:
    issued = create(scene)
    clock = scene.world.clock
    used = clock.now()

    def last_used() -> object:
        return listed(scene)[0].last_used_at

    assert last_used() is None
    services.authenticate_api_token(scene.deps, token=issued.secret)
    assert last_used() == used

    clock.advance(timedelta(seconds=59))
    services.authenticate_api_token(scene.deps, token=issued.secret)
    assert last_used() == used

    clock.advance(timedelta(seconds=1))
    services.authenticate_api_token(scene.deps, token=issued.secret)
    assert last_used() == used + timedelta(minutes=1)
