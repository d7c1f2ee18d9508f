"""The audit trail: every action a use case takes is one DONE event in its own transaction,
every refusal of an ``@audited`` use case one REFUSED event with its code and both
messages; signing in; and the trail itself for an environment's super users (R1)."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import attrs
import pytest

from migrationkit import services
from migrationkit.adapters.signing import report_key
from migrationkit.domain.audit import (
    AuditAction,
    AuditEvent,
    AuditOutcome,
    AuditRecord,
    Origin,
)
from migrationkit.domain.errors import InvalidInput, MigrationError, NotAllowed
from migrationkit.domain.model import AccountingPackage, Role, User
from migrationkit.ports import AuditSearchWord
from migrationkit.services import Dependencies
from migrationkit.testing import FakeUnitOfWork

if TYPE_CHECKING:
    from conftest import Office, Refused, Scene

ORIGIN = Origin("api", "203.0.113.9")
Subject = tuple[str, int] | None
#: Arranges a scene and gives back the act: the use case called with ``deps``, answering
#: who acted and on what.
Act = Callable[[Dependencies], tuple[User, Subject]]


def via_api(scene: Scene) -> Dependencies:
    return attrs.evolve(scene.deps, origin=ORIGIN)


def trail(scene: Scene) -> dict[int, AuditEvent]:
    """Every event stored, by id."""
    return dict(scene.world.database.snapshot().get("audit_events", {}))


def added(scene: Scene, before: dict[int, AuditEvent]) -> list[AuditEvent]:
    return [event for key, event in trail(scene).items() if key not in before]


def append(scene: Scene, record: AuditRecord) -> AuditEvent:
    with scene.world.uow() as uow:
        event = uow.audit.append(record, scene.world.clock.now())
        uow.commit()
    return event


def noord_event(scene: Scene, **changes: Any) -> AuditRecord:
    """A done action of Noord's super user, changed as given."""
    user = scene.noord.super_user
    record = AuditRecord(
        action=AuditAction.OFFER,
        outcome=AuditOutcome.DONE,
        origin=Origin("portal", "192.0.2.1"),
        actor_user_id=user.id,
        actor_email=user.email,
        environment_id=user.environment_id,
    )
    return attrs.evolve(record, **changes)


# --- every action is one done event ----------------------------------------------------------


def _offer(scene: Scene) -> Act:
    administration = scene.administration()

    def act(deps: Dependencies) -> tuple[User, Subject]:
        receipt = services.offer_administrations(
            deps,
            actor_id=scene.noord.super_user.id,
            connection_id=scene.noord.connection.id,
            administration_ids=[administration.id],
            recipients=["baas@zuid.nl"],
            accepted_terms=True,
        )
        return scene.noord.super_user, ("offer", receipt.offer.id)

    return act


def _withdraw(scene: Scene) -> Act:
    receipt = scene.offer()

    def act(deps: Dependencies) -> tuple[User, Subject]:
        item = services.withdraw_item(
            deps, actor_id=scene.noord.super_user.id, item_id=receipt.items[0].id
        )
        return scene.noord.super_user, ("offer_item", item.id)

    return act


def _resend(scene: Scene) -> Act:
    receipt = scene.offer()

    def act(deps: Dependencies) -> tuple[User, Subject]:
        services.resend_code(deps, actor_id=scene.noord.super_user.id, offer_id=receipt.offer.id)
        return scene.noord.super_user, ("offer", receipt.offer.id)

    return act


def _redeem(scene: Scene) -> Act:
    receipt = scene.offer()

    def act(deps: Dependencies) -> tuple[User, Subject]:
        services.redeem_code(
            deps,
            actor_id=scene.zuid.super_user.id,
            code=receipt.code,
            accepted_terms=True,
            accepted_costs=True,
        )
        return scene.zuid.super_user, ("offer", receipt.offer.id)

    return act


def _reject(scene: Scene) -> Act:
    receipt = scene.offer()
    scene.redeem(receipt)

    def act(deps: Dependencies) -> tuple[User, Subject]:
        services.reject_items(deps, actor_id=scene.zuid.super_user.id, offer_id=receipt.offer.id)
        return scene.zuid.super_user, ("offer", receipt.offer.id)

    return act


def _start(scene: Scene) -> Act:
    receipt = scene.offer()
    scene.redeem(receipt)
    choice = scene.choice(receipt.items[0])

    def act(deps: Dependencies) -> tuple[User, Subject]:
        (migration,) = services.start_migrations(
            deps, actor_id=scene.zuid.super_user.id, offer_id=receipt.offer.id, choices=[choice]
        )
        return scene.zuid.super_user, ("migration", migration.id)

    return act


def _retry(scene: Scene) -> Act:
    _, migration = scene.processing()
    services.fail_migration(scene.deps, migration.id, "archief onbereikbaar")

    def act(deps: Dependencies) -> tuple[User, Subject]:
        services.retry_migration(deps, actor_id=scene.zuid.super_user.id, migration_id=migration.id)
        return scene.zuid.super_user, ("migration", migration.id)

    return act


def _relink(scene: Scene) -> Act:
    administration = scene.administration(package_admin_id="div-1")
    scene.package_administration("div-2", connection=scene.noord.connection)

    def act(deps: Dependencies) -> tuple[User, Subject]:
        services.relink_administration(
            deps,
            actor_id=scene.noord.super_user.id,
            administration_id=administration.id,
            connection_id=scene.noord.connection.id,
            package_admin_id="div-2",
        )
        return scene.noord.super_user, ("administration", administration.id)

    return act


def _set_access(scene: Scene) -> Act:
    administration = scene.administration()

    def act(deps: Dependencies) -> tuple[User, Subject]:
        services.set_access(
            deps,
            actor_id=scene.noord.super_user.id,
            administration_id=administration.id,
            user_id=scene.noord.user.id,
            granted=True,
        )
        return scene.noord.super_user, ("administration", administration.id)

    return act


def _add_administrations(scene: Scene) -> Act:
    scene.package_administration("div-1", connection=scene.noord.connection)

    def act(deps: Dependencies) -> tuple[User, Subject]:
        (administration,) = services.add_administrations(
            deps,
            actor_id=scene.noord.super_user.id,
            connection_id=scene.noord.connection.id,
            package_admin_ids=["div-1"],
            inbox_domain="inbox.example.nl",
        )
        return scene.noord.super_user, ("administration", administration.id)

    return act


def _upload(scene: Scene) -> Act:
    administration = scene.administration()

    def act(deps: Dependencies) -> tuple[User, Subject]:
        document = services.add_document(
            deps,
            scene.world.archives,
            actor_id=scene.noord.super_user.id,
            administration_id=administration.id,
            filename="factuur.pdf",
            stream=io.BytesIO(b"%PDF-1.7 factuur"),
        )
        return scene.noord.super_user, ("document", document.id)

    return act


def _connect(scene: Scene) -> Act:
    connector = scene.world.connectors.connector(AccountingPackage.EXACT_ONLINE_NL)
    connector.needs_authorization = True
    code = connector.give_consent(scene.noord.connection.id)

    def act(deps: Dependencies) -> tuple[User, Subject]:
        services.finish_authorization(
            deps,
            actor_id=scene.noord.super_user.id,
            connection_id=scene.noord.connection.id,
            code=code,
        )
        return scene.noord.super_user, ("connection", scene.noord.connection.id)

    return act


def _create_token(scene: Scene) -> Act:
    def act(deps: Dependencies) -> tuple[User, Subject]:
        issued = services.create_api_token(deps, actor_id=scene.noord.user.id, name="CRM")
        return scene.noord.user, ("api_token", issued.token.id)

    return act


def _revoke_token(scene: Scene) -> Act:
    issued = services.create_api_token(scene.deps, actor_id=scene.noord.user.id, name="CRM")

    def act(deps: Dependencies) -> tuple[User, Subject]:
        services.revoke_api_token(deps, actor_id=scene.noord.user.id, token_id=issued.token.id)
        return scene.noord.user, ("api_token", issued.token.id)

    return act


def _sign_in(scene: Scene) -> Act:
    user = add_user_with_password(scene, scene.noord, "boekhouder@noord.nl")

    def act(deps: Dependencies) -> tuple[User, Subject]:
        signed_in = services.sign_in(deps, email=user.email, password_matches=lambda _: True)
        return signed_in, None

    return act


def _sign_out(scene: Scene) -> Act:
    issued = services.open_session(scene.deps, actor_id=scene.noord.user.id)

    def act(deps: Dependencies) -> tuple[User, Subject]:
        services.sign_out(deps, actor_id=scene.noord.user.id, session_id=issued.session.id)
        return scene.noord.user, ("session", issued.session.id)

    return act


def _end_session(scene: Scene) -> Act:
    issued = services.open_session(scene.deps, actor_id=scene.noord.user.id)

    def act(deps: Dependencies) -> tuple[User, Subject]:
        services.end_session(deps, actor_id=scene.noord.user.id, session_id=issued.session.id)
        return scene.noord.user, ("session", issued.session.id)

    return act


def _end_other_sessions(scene: Scene) -> Act:
    kept = services.open_session(scene.deps, actor_id=scene.noord.user.id)
    services.open_session(scene.deps, actor_id=scene.noord.user.id)

    def act(deps: Dependencies) -> tuple[User, Subject]:
        services.end_other_sessions(deps, actor_id=scene.noord.user.id, session_id=kept.session.id)
        return scene.noord.user, ("session", kept.session.id)

    return act


def _change_password(scene: Scene) -> Act:
    user = add_user_with_password(scene, scene.noord, "boekhouder@noord.nl")

    def act(deps: Dependencies) -> tuple[User, Subject]:
        services.change_password(
            deps,
            actor_id=user.id,
            password_matches=lambda stored: stored == "stored-hash",
            new_password="een nieuw lang wachtwoord",
            hash_password=lambda password: f"hashed {password}",
        )
        return user, None

    return act


ACTIONS: dict[AuditAction, Callable[[Scene], Act]] = {
    AuditAction.OFFER: _offer,
    AuditAction.WITHDRAW: _withdraw,
    AuditAction.RESEND: _resend,
    AuditAction.REDEEM: _redeem,
    AuditAction.REJECT: _reject,
    AuditAction.START: _start,
    AuditAction.RETRY: _retry,
    AuditAction.RELINK: _relink,
    AuditAction.SET_ACCESS: _set_access,
    AuditAction.ADD_ADMINISTRATIONS: _add_administrations,
    AuditAction.UPLOAD_DOCUMENT: _upload,
    AuditAction.CONNECT_PACKAGE: _connect,
    AuditAction.CREATE_API_TOKEN: _create_token,
    AuditAction.REVOKE_API_TOKEN: _revoke_token,
    AuditAction.SIGN_IN: _sign_in,
    AuditAction.SIGN_OUT: _sign_out,
    AuditAction.END_SESSION: _end_session,
    AuditAction.END_OTHER_SESSIONS: _end_other_sessions,
    AuditAction.CHANGE_PASSWORD: _change_password,
}


def test_every_action_but_open_and_use_has_a_case_here() -> None:
    """Opening and using a token are recorded only when refused."""
    quiet = {AuditAction.OPEN, AuditAction.USE_API_TOKEN}
    assert set(ACTIONS) == set(AuditAction) - quiet


@pytest.mark.parametrize("action", list(ACTIONS), ids=lambda action: action.value)
def test_every_action_records_one_done_event_with_who_where_and_what(
    scene: Scene, action: AuditAction
) -> None:
    act = ACTIONS[action](scene)
    before = trail(scene)
    scene.world.clock.advance(timedelta(seconds=90))

    actor, subject = act(via_api(scene))

    (event,) = added(scene, before)
    assert event.at == scene.world.clock.now()
    assert event.record == AuditRecord(
        action=action,
        outcome=AuditOutcome.DONE,
        origin=ORIGIN,
        actor_user_id=actor.id,
        actor_email=actor.email,
        environment_id=actor.environment_id,
        subject_type=None if subject is None else subject[0],
        subject_id=None if subject is None else subject[1],
    )


def test_starting_several_migrations_records_one_event_for_each(scene: Scene) -> None:
    receipt = scene.offer(scene.administration("0042"), scene.administration("0043", "Vos"))
    scene.redeem(receipt)
    choices = [scene.choice(item) for item in receipt.items]
    before = trail(scene)

    migrations = services.start_migrations(
        via_api(scene),
        actor_id=scene.zuid.super_user.id,
        offer_id=receipt.offer.id,
        choices=choices,
    )

    events = added(scene, before)
    assert [(e.record.action, e.record.subject_id) for e in events] == [
        (AuditAction.START, m.id) for m in migrations
    ]


class BrokenTrail:
    """An audit repository whose every write fails."""

    def append(self, record: AuditRecord, at: Any) -> AuditEvent:
        raise RuntimeError("the trail's disk is full")

    def search(self, *args: Any, **kwargs: Any) -> list[AuditEvent]:
        return []


def with_broken_trail(scene: Scene) -> Dependencies:
    def make() -> FakeUnitOfWork:
        uow = scene.world.uow()
        uow.audit = BrokenTrail()
        return uow

    return attrs.evolve(scene.deps, uow=make)


def test_an_action_whose_event_cannot_be_written_is_not_done_either(scene: Scene) -> None:
    administration = scene.administration()
    before = scene.snapshot()

    with pytest.raises(RuntimeError, match="disk is full"):
        services.offer_administrations(
            with_broken_trail(scene),
            actor_id=scene.noord.super_user.id,
            connection_id=scene.noord.connection.id,
            administration_ids=[administration.id],
            recipients=["baas@zuid.nl"],
            accepted_terms=True,
        )

    assert scene.snapshot() == before


def test_a_failing_trail_write_does_not_turn_a_refusal_into_a_crash(
    scene: Scene, refused: Refused, caplog: pytest.LogCaptureFixture
) -> None:
    receipt = scene.offer()
    before = scene.snapshot()

    with (
        caplog.at_level(logging.ERROR, logger="migrationkit.services.audit"),
        refused(
            NotAllowed,
            "not_super_user",
        ),
    ):
        services.withdraw_item(
            with_broken_trail(scene), actor_id=scene.noord.user.id, item_id=receipt.items[0].id
        )

    assert scene.snapshot() == before
    assert "could not record the refusal not_super_user of withdraw" in caplog.text


# --- every refusal is one refused event ------------------------------------------------------


@attrs.frozen
class Refusal:
    """A use case refused: how to call it, who is named, and what about."""

    call: Callable[[Scene, Dependencies], object]
    action: AuditAction
    code: str
    actor: Callable[[Scene], User | None]
    subject: Callable[[Scene], Subject] = lambda scene: None


def plain(office: str) -> Callable[[Scene], User]:
    return lambda scene: getattr(scene, office).user


def boss(office: str) -> Callable[[Scene], User]:
    return lambda scene: getattr(scene, office).super_user


def nobody(scene: Scene) -> None:
    return None


def _offered(scene: Scene) -> services.OfferReceipt:
    return scene.offer(scene.administration("0042"))


def _redeemed(scene: Scene) -> services.OfferReceipt:
    receipt = _offered(scene)
    scene.redeem(receipt)
    return receipt


def _start(scene: Scene) -> dict[str, Any]:
    """Start's arguments for a redeemed offer: its one item to Zuid's connection."""
    receipt = _redeemed(scene)
    choice = services.TargetChoice(receipt.items[0].id, scene.zuid.connection.id, "zuid-1")
    return {"offer_id": receipt.offer.id, "choices": [choice]}


def _noord_administration(scene: Scene) -> int:
    return scene.administration("0042").id


REFUSALS: dict[str, Refusal] = {
    "list_administrations": Refusal(
        lambda s, d: services.list_administrations(d, actor_id=999),
        AuditAction.OPEN,
        "unknown_user",
        nobody,
    ),
    "add_administrations": Refusal(
        lambda s, d: services.add_administrations(
            d,
            actor_id=s.noord.user.id,
            connection_id=s.noord.connection.id,
            package_admin_ids=["div-1"],
            inbox_domain="inbox.example.nl",
        ),
        AuditAction.ADD_ADMINISTRATIONS,
        "not_super_user",
        plain("noord"),
        lambda s: ("connection", s.noord.connection.id),
    ),
    "relink_administration": Refusal(
        lambda s, d: services.relink_administration(
            d,
            actor_id=s.noord.user.id,
            administration_id=_noord_administration(s),
            connection_id=s.noord.connection.id,
            package_admin_id="div-2",
        ),
        AuditAction.RELINK,
        "not_super_user",
        plain("noord"),
        lambda s: ("administration", s.administration_id),
    ),
    "list_access": Refusal(
        lambda s, d: services.list_access(
            d, actor_id=s.noord.user.id, administration_id=_noord_administration(s)
        ),
        AuditAction.OPEN,
        "not_super_user",
        plain("noord"),
        lambda s: ("administration", s.administration_id),
    ),
    "set_access": Refusal(
        lambda s, d: services.set_access(
            d,
            actor_id=s.zuid.super_user.id,
            administration_id=_noord_administration(s),
            user_id=s.zuid.user.id,
            granted=True,
        ),
        AuditAction.SET_ACCESS,
        "unknown_administration",
        boss("zuid"),
        lambda s: ("administration", s.administration_id),
    ),
    "create_api_token": Refusal(
        lambda s, d: services.create_api_token(d, actor_id=s.noord.user.id, name="  "),
        AuditAction.CREATE_API_TOKEN,
        "api_token_name_missing",
        plain("noord"),
    ),
    "list_api_tokens": Refusal(
        lambda s, d: services.list_api_tokens(d, actor_id=999),
        AuditAction.OPEN,
        "unknown_user",
        nobody,
    ),
    "revoke_api_token": Refusal(
        lambda s, d: services.revoke_api_token(d, actor_id=s.noord.user.id, token_id=77),
        AuditAction.REVOKE_API_TOKEN,
        "unknown_api_token",
        plain("noord"),
        lambda s: ("api_token", 77),
    ),
    "authenticate_api_token": Refusal(
        lambda s, d: services.authenticate_api_token(d, token="mkt_guessed"),
        AuditAction.USE_API_TOKEN,
        "api_token_invalid",
        nobody,
    ),
    "add_document": Refusal(
        lambda s, d: services.add_document(
            d,
            s.world.archives,
            actor_id=s.noord.user.id,
            administration_id=_noord_administration(s),
            filename="factuur.pdf",
            stream=io.BytesIO(b"%PDF-1.7"),
        ),
        AuditAction.UPLOAD_DOCUMENT,
        "no_access",
        plain("noord"),
        lambda s: ("administration", s.administration_id),
    ),
    "list_documents": Refusal(
        lambda s, d: services.list_documents(
            d, actor_id=s.noord.user.id, administration_id=_noord_administration(s)
        ),
        AuditAction.OPEN,
        "no_access",
        plain("noord"),
        lambda s: ("administration", s.administration_id),
    ),
    "open_document": Refusal(
        lambda s, d: services.open_document(
            d, s.world.archives, actor_id=s.noord.user.id, address="doc-unknown"
        ),
        AuditAction.OPEN,
        "unknown_document",
        plain("noord"),
    ),
    "resolve_address": Refusal(
        lambda s, d: services.resolve_address(d, actor_id=s.noord.user.id, address="doc-unknown"),
        AuditAction.OPEN,
        "unknown_document",
        plain("noord"),
    ),
    "audit_trail": Refusal(
        lambda s, d: services.audit_trail(d, actor_id=s.noord.user.id),
        AuditAction.OPEN,
        "not_super_user",
        plain("noord"),
    ),
    "list_connections": Refusal(
        lambda s, d: services.list_connections(d, actor_id=s.noord.user.id),
        AuditAction.OPEN,
        "not_super_user",
        plain("noord"),
    ),
    "begin_authorization": Refusal(
        lambda s, d: services.begin_authorization(
            d, actor_id=s.zuid.super_user.id, connection_id=s.noord.connection.id, state="st"
        ),
        AuditAction.CONNECT_PACKAGE,
        "unknown_connection",
        boss("zuid"),
        lambda s: ("connection", s.noord.connection.id),
    ),
    "finish_authorization": Refusal(
        lambda s, d: services.finish_authorization(
            d, actor_id=s.noord.user.id, connection_id=s.noord.connection.id, code="c"
        ),
        AuditAction.CONNECT_PACKAGE,
        "not_super_user",
        plain("noord"),
        lambda s: ("connection", s.noord.connection.id),
    ),
    "migration_progress": Refusal(
        lambda s, d: services.migration_progress(d, actor_id=s.zuid.super_user.id, migration_id=5),
        AuditAction.OPEN,
        "unknown_migration",
        boss("zuid"),
        lambda s: ("migration", 5),
    ),
    "preflight_offer": Refusal(
        lambda s, d: services.preflight_offer(
            d,
            actor_id=s.noord.user.id,
            connection_id=s.noord.connection.id,
            administration_ids=[_noord_administration(s)],
        ),
        AuditAction.OPEN,
        "not_super_user",
        plain("noord"),
        lambda s: ("connection", s.noord.connection.id),
    ),
    "preflight_start": Refusal(
        lambda s, d: services.preflight_start(d, actor_id=s.zuid.user.id, **_start(s)),
        AuditAction.OPEN,
        "not_super_user",
        plain("zuid"),
        lambda s: ("offer", s.offer_id),
    ),
    "offerable_administrations": Refusal(
        lambda s, d: services.offerable_administrations(
            d, actor_id=s.noord.user.id, connection_id=s.noord.connection.id
        ),
        AuditAction.OPEN,
        "not_super_user",
        plain("noord"),
        lambda s: ("connection", s.noord.connection.id),
    ),
    "offer_administrations": Refusal(
        lambda s, d: services.offer_administrations(
            d,
            actor_id=s.noord.super_user.id,
            connection_id=s.noord.connection.id,
            administration_ids=[_noord_administration(s)],
            recipients=["baas@zuid.nl"],
            accepted_terms=False,
        ),
        AuditAction.OFFER,
        "terms_not_accepted",
        boss("noord"),
        lambda s: ("connection", s.noord.connection.id),
    ),
    "withdraw_item": Refusal(
        lambda s, d: services.withdraw_item(
            d, actor_id=s.noord.user.id, item_id=_offered(s).items[0].id
        ),
        AuditAction.WITHDRAW,
        "not_super_user",
        plain("noord"),
        lambda s: ("offer_item", s.item_id),
    ),
    "resend_code": Refusal(
        lambda s, d: services.resend_code(
            d, actor_id=s.zuid.super_user.id, offer_id=_offered(s).offer.id
        ),
        AuditAction.RESEND,
        "unknown_offer",
        boss("zuid"),
        lambda s: ("offer", s.offer_id),
    ),
    "outgoing_overview": Refusal(
        lambda s, d: (
            services.outgoing_overview(d, actor_id=s.noord.super_user.id, search="x" * 201).rows
        ),
        AuditAction.OPEN,
        "search_too_long",
        boss("noord"),
    ),
    "redeem_code": Refusal(
        lambda s, d: services.redeem_code(
            d,
            actor_id=s.zuid.super_user.id,
            code="ABCD-EFGH-JKMN-PQRS-TVWX-YZ01",
            accepted_terms=True,
            accepted_costs=True,
        ),
        AuditAction.REDEEM,
        "code_unknown",
        boss("zuid"),
    ),
    "redeemed_offer": Refusal(
        lambda s, d: services.redeemed_offer(d, actor_id=s.zuid.super_user.id, offer_id=404),
        AuditAction.OPEN,
        "unknown_offer",
        boss("zuid"),
        lambda s: ("offer", 404),
    ),
    "reject_items": Refusal(
        lambda s, d: services.reject_items(
            d, actor_id=s.zuid.user.id, offer_id=_redeemed(s).offer.id
        ),
        AuditAction.REJECT,
        "not_super_user",
        plain("zuid"),
        lambda s: ("offer", s.offer_id),
    ),
    "available_package_administrations": Refusal(
        lambda s, d: services.available_package_administrations(
            d, actor_id=s.zuid.user.id, connection_id=s.zuid.connection.id
        ),
        AuditAction.OPEN,
        "not_super_user",
        plain("zuid"),
        lambda s: ("connection", s.zuid.connection.id),
    ),
    "propose_targets": Refusal(
        lambda s, d: services.propose_targets(
            d,
            actor_id=s.zuid.user.id,
            offer_id=_redeemed(s).offer.id,
            item_ids=[1],
            connection_id=s.zuid.connection.id,
        ),
        AuditAction.OPEN,
        "not_super_user",
        plain("zuid"),
        lambda s: ("offer", s.offer_id),
    ),
    "start_migrations": Refusal(
        lambda s, d: services.start_migrations(d, actor_id=s.zuid.user.id, **_start(s)),
        AuditAction.START,
        "not_super_user",
        plain("zuid"),
        lambda s: ("offer", s.offer_id),
    ),
    "migration_report": Refusal(
        lambda s, d: services.migration_report(
            d, report_key(b"s" * 32), actor_id=s.noord.user.id, migration_id=5
        ),
        AuditAction.OPEN,
        "unknown_migration",
        plain("noord"),
        lambda s: ("migration", 5),
    ),
    "migration_manifest": Refusal(
        lambda s, d: services.migration_manifest(d, actor_id=s.zuid.super_user.id, migration_id=5),
        AuditAction.OPEN,
        "unknown_migration",
        boss("zuid"),
        lambda s: ("migration", 5),
    ),
    "offer_report": Refusal(
        lambda s, d: services.offer_report(
            d, report_key(b"s" * 32), actor_id=s.oost.super_user.id, offer_id=5
        ),
        AuditAction.OPEN,
        "unknown_offer",
        boss("oost"),
        lambda s: ("offer", 5),
    ),
    "retry_migration": Refusal(
        lambda s, d: services.retry_migration(d, actor_id=s.zuid.super_user.id, migration_id=5),
        AuditAction.RETRY,
        "unknown_migration",
        boss("zuid"),
        lambda s: ("migration", 5),
    ),
    "incoming_overview": Refusal(
        lambda s, d: services.incoming_overview(d, actor_id=s.zuid.user.id).rows,
        AuditAction.OPEN,
        "not_super_user",
        plain("zuid"),
    ),
    "list_sessions": Refusal(
        lambda s, d: services.list_sessions(d, actor_id=999),
        AuditAction.OPEN,
        "unknown_user",
        nobody,
    ),
    "sign_out": Refusal(
        lambda s, d: services.sign_out(d, actor_id=s.zuid.user.id, session_id=_noord_session(s)),
        AuditAction.SIGN_OUT,
        "unknown_session",
        plain("zuid"),
        lambda s: ("session", s.session_id),
    ),
    "end_session": Refusal(
        lambda s, d: services.end_session(d, actor_id=s.zuid.user.id, session_id=_noord_session(s)),
        AuditAction.END_SESSION,
        "unknown_session",
        plain("zuid"),
        lambda s: ("session", s.session_id),
    ),
    "end_other_sessions": Refusal(
        lambda s, d: services.end_other_sessions(d, actor_id=999, session_id=7),
        AuditAction.END_OTHER_SESSIONS,
        "unknown_user",
        nobody,
        lambda s: ("session", 7),
    ),
    "change_password": Refusal(
        lambda s, d: services.change_password(
            d,
            actor_id=s.zuid.user.id,
            password_matches=lambda stored: False,
            new_password="een nieuw lang wachtwoord",
            hash_password=lambda password: password,
        ),
        AuditAction.CHANGE_PASSWORD,
        "password_wrong",
        plain("zuid"),
    ),
}


def _noord_session(scene: _Arranged) -> int:
    """A session of Noord's plain user: another user's, for Zuid's."""
    issued = services.open_session(scene.deps, actor_id=scene.noord.user.id)
    scene.session_id = issued.session.id
    return issued.session.id


def audited_use_cases() -> set[str]:
    """The use cases ``@audited`` wraps, by name."""
    return {
        name
        for name in services.__all__
        if callable(getattr(services, name)) and hasattr(getattr(services, name), "__wrapped__")
    }


def test_every_audited_use_case_has_a_refusal_here() -> None:
    assert audited_use_cases() == set(REFUSALS)


class _Arranged:
    """The scene, remembering the ids of the objects a refusal's call arranged on it, for
    the subject the event must name."""

    def __init__(self, scene: Scene) -> None:
        self._scene = scene
        self.administration_id = 0
        self.offer_id = 0
        self.item_id = 0
        self.session_id = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._scene, name)

    def administration(self, *args: Any, **kwargs: Any) -> Any:
        administration = self._scene.administration(*args, **kwargs)
        self.administration_id = administration.id
        return administration

    def offer(self, *args: Any, **kwargs: Any) -> services.OfferReceipt:
        receipt = self._scene.offer(*args, **kwargs)
        self.offer_id, self.item_id = receipt.offer.id, receipt.items[0].id
        return receipt


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_every_refusal_of_an_audited_use_case_records_one_refused_event(
    scene: Scene, name: str
) -> None:
    case = REFUSALS[name]
    ids = _Arranged(scene)
    before = trail(scene)

    with pytest.raises(MigrationError) as caught:
        case.call(ids, via_api(scene))

    error = caught.value
    assert error.code == case.code
    # What the call arranged first was recorded as the library's; the act itself is ours.
    (event,) = [e for e in added(scene, before) if e.record.origin == ORIGIN]
    actor = case.actor(scene)
    subject = case.subject(ids)
    assert event.record == AuditRecord(
        action=case.action,
        outcome=AuditOutcome.REFUSED,
        origin=ORIGIN,
        actor_user_id=None if actor is None else actor.id,
        actor_email=None if actor is None else actor.email,
        environment_id=None if actor is None else actor.environment_id,
        subject_type=None if subject is None else subject[0],
        subject_id=None if subject is None else subject[1],
        error_code=case.code,
        message_nl=error.message("nl"),
        message_en=error.message("en"),
    )
    assert event.record.message_nl
    assert event.record.message_en
    assert event.record.message_nl != event.record.message_en


# --- signing in ------------------------------------------------------------------------------


def add_user_with_password(scene: Scene, office: Office, email: str) -> User:
    with scene.world.uow() as uow:
        user = uow.users.add(office.environment.id, email, "Boekhouder", Role.USER, "stored-hash")
        uow.commit()
    return user


def test_signing_in_records_a_done_event_naming_the_user(scene: Scene) -> None:
    user = add_user_with_password(scene, scene.noord, "boekhouder@noord.nl")
    seen: list[str | None] = []

    def matches(stored: str | None) -> bool:
        seen.append(stored)
        return True

    signed_in = services.sign_in(
        via_api(scene), email="  boekhouder@noord.nl ", password_matches=matches
    )

    assert signed_in == user
    assert seen == ["stored-hash"]
    (event,) = trail(scene).values()
    assert event.record == AuditRecord(
        action=AuditAction.SIGN_IN,
        outcome=AuditOutcome.DONE,
        origin=ORIGIN,
        actor_user_id=user.id,
        actor_email=user.email,
        environment_id=scene.noord.environment.id,
    )


def test_a_wrong_password_is_refused_and_recorded_naming_the_user_not_what_was_typed(
    scene: Scene, refused: Refused
) -> None:
    user = add_user_with_password(scene, scene.noord, "boekhouder@noord.nl")
    typed = "Zomer2026!geheim"

    with refused(NotAllowed, "sign_in_failed"):
        services.sign_in(
            via_api(scene),
            email="boekhouder@noord.nl",
            password_matches=lambda stored: stored == typed,
        )

    (event,) = trail(scene).values()
    assert event.record == AuditRecord(
        action=AuditAction.SIGN_IN,
        outcome=AuditOutcome.REFUSED,
        origin=ORIGIN,
        actor_user_id=user.id,
        actor_email=user.email,
        environment_id=scene.noord.environment.id,
        error_code="sign_in_failed",
        message_nl=NotAllowed("sign_in_failed").message("nl"),
        message_en=NotAllowed("sign_in_failed").message("en"),
    )
    assert typed not in repr(scene.world.database.snapshot())


def test_an_unknown_address_gets_the_same_refusal_and_names_nobody(
    scene: Scene, refused: Refused
) -> None:
    seen: list[str | None] = []

    def matches(stored: str | None) -> bool:
        seen.append(stored)
        return False

    with refused(NotAllowed, "sign_in_failed"):
        services.sign_in(via_api(scene), email="raden@noord.nl", password_matches=matches)

    assert seen == [None]  # the embedder spends the same time on a decoy
    (event,) = trail(scene).values()
    assert (event.record.actor_user_id, event.record.actor_email) == (None, None)
    assert event.record.environment_id is None
    assert event.record.error_code == "sign_in_failed"
    assert "raden" not in repr(scene.world.database.snapshot())


def test_a_user_without_a_password_cannot_sign_in_whatever_the_check_says(
    scene: Scene, refused: Refused
) -> None:
    with refused(NotAllowed, "sign_in_failed"):
        services.sign_in(via_api(scene), email="baas@noord.nl", password_matches=lambda _: True)

    (event,) = trail(scene).values()
    assert event.record.actor_user_id == scene.noord.super_user.id
    assert event.record.outcome is AuditOutcome.REFUSED


# --- the trail -------------------------------------------------------------------------------


def test_a_plain_user_may_not_read_the_trail(scene: Scene, refused: Refused) -> None:
    append(scene, noord_event(scene))

    with refused(NotAllowed, "not_super_user"):
        services.audit_trail(scene.deps, actor_id=scene.noord.user.id)


def test_the_trail_holds_only_the_actors_own_environment_newest_first(scene: Scene) -> None:
    first = append(scene, noord_event(scene))
    zuid = scene.zuid.super_user
    append(
        scene,
        noord_event(
            scene, actor_user_id=zuid.id, actor_email=zuid.email, environment_id=zuid.environment_id
        ),
    )
    append(scene, noord_event(scene, actor_user_id=None, actor_email=None, environment_id=None))
    second = append(scene, noord_event(scene, action=AuditAction.WITHDRAW))

    page = services.audit_trail(scene.deps, actor_id=scene.noord.super_user.id)

    assert page == services.AuditPage((second, first), None)
    zuids = services.audit_trail(scene.deps, actor_id=zuid.id).events
    assert [e.record.actor_email for e in zuids] == ["baas@zuid.nl"]


def test_the_trail_comes_a_page_at_a_time(scene: Scene) -> None:
    events = [append(scene, noord_event(scene)) for _ in range(7)]
    newest_first = list(reversed(events))
    actor = scene.noord.super_user.id

    first = services.audit_trail(scene.deps, actor_id=actor, limit=3)
    second = services.audit_trail(scene.deps, actor_id=actor, limit=3, before_id=first.older)
    third = services.audit_trail(scene.deps, actor_id=actor, limit=3, before_id=second.older)

    assert first == services.AuditPage(tuple(newest_first[:3]), newest_first[2].id)
    assert second == services.AuditPage(tuple(newest_first[3:6]), newest_first[5].id)
    assert third == services.AuditPage(tuple(newest_first[6:]), None)


def test_a_last_page_that_is_exactly_full_has_no_older_page(scene: Scene) -> None:
    for _ in range(6):
        append(scene, noord_event(scene))
    actor = scene.noord.super_user.id

    first = services.audit_trail(scene.deps, actor_id=actor, limit=3)
    second = services.audit_trail(scene.deps, actor_id=actor, limit=3, before_id=first.older)

    assert len(second.events) == 3
    assert second.older is None


@pytest.fixture
def searched(scene: Scene) -> Callable[[str], list[str]]:
    """Noord's trail with four kinds of event; the ids the search finds, newest first."""
    noord = scene.noord.super_user
    offered = append(scene, noord_event(scene, subject_type="offer", subject_id=12))
    refused = append(
        scene,
        noord_event(
            scene,
            action=AuditAction.REDEEM,
            outcome=AuditOutcome.REFUSED,
            origin=Origin("api", "203.0.113.9"),
            error_code="code_unknown",
            message_nl="Deze overdrachtscode is onbekend.",
            message_en="This transfer code is unknown.",
        ),
    )
    plain = scene.noord.user
    opened = append(
        scene,
        noord_event(
            scene,
            action=AuditAction.OPEN,
            outcome=AuditOutcome.REFUSED,
            actor_user_id=plain.id,
            actor_email=plain.email,
            error_code="not_super_user",
        ),
    )
    relinked = append(
        scene, noord_event(scene, action=AuditAction.RELINK, subject_type="administration")
    )
    names = {offered.id: "offered", refused.id: "refused", opened.id: "opened"}
    names[relinked.id] = "relinked"

    def search(term: str) -> list[str]:
        page = services.audit_trail(scene.deps, actor_id=noord.id, search=term)
        return [names[event.id] for event in page.events]

    return search


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("", ["relinked", "opened", "refused", "offered"]),
        ("   ", ["relinked", "opened", "refused", "offered"]),
        ("aanbieden", ["offered"]),
        ("Administraties AANBIEDEN", ["offered"]),
        ("offer administrations", ["offered"]),
        ("interne", ["relinked"]),
        ("internal migration", ["relinked"]),
        ("geweigerd", ["opened", "refused"]),
        ("Refused", ["opened", "refused"]),
        ("uitgevoerd", ["relinked", "offered"]),
        ("medewerker@noord", ["opened"]),
        ("baas@noord.nl", ["relinked", "refused", "offered"]),
        ("203.0.113", ["refused"]),
        ("api", ["refused"]),
        ("code_unknown", ["refused"]),
        ("onbekend", ["refused"]),
        ("transfer unknown", ["refused"]),
        ("geweigerd baas", ["refused"]),
        ("geweigerd portal", ["opened"]),
        ("12", ["offered"]),
        ("administration", ["relinked", "offered"]),
        ("aanbieden refused", []),
        ("zuid", []),
    ],
)
def test_the_search_ands_its_words_each_in_any_column_or_label(
    searched: Callable[[str], list[str]], term: str, found: list[str]
) -> None:
    assert searched(term) == found


def test_a_search_term_that_is_too_long_is_refused(scene: Scene, refused: Refused) -> None:
    with refused(InvalidInput, "search_too_long", limit=200):
        services.audit_trail(scene.deps, actor_id=scene.noord.super_user.id, search="x" * 201)


@pytest.mark.parametrize("limit", [0, -1, 101])
def test_a_page_size_out_of_range_is_refused(scene: Scene, refused: Refused, limit: int) -> None:
    with refused(InvalidInput, "page_size_invalid", limit=100):
        services.audit_trail(scene.deps, actor_id=scene.noord.super_user.id, limit=limit)


def test_a_word_names_the_actions_and_outcomes_whose_labels_hold_it() -> None:
    from migrationkit.services.audit import _words

    (word,) = _words("INTREKKEN")

    assert word == AuditSearchWord(
        "intrekken",
        frozenset({AuditAction.WITHDRAW, AuditAction.REVOKE_API_TOKEN}),
        frozenset(),
    )
