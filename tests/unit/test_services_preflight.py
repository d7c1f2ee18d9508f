"""The dry run: the pre-flight reports of an offer and of a start, every check with its
verdict, and their agreement with the offer and the start themselves."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import attrs
import pytest

from migrationkit import services
from migrationkit.domain.audit import AuditAction, AuditOutcome
from migrationkit.domain.dates import show_moment
from migrationkit.domain.errors import (
    InvalidInput,
    MigrationError,
    NotAllowed,
    NotFound,
    PackageError,
    RuleViolation,
)
from migrationkit.domain.model import AccountingPackage, Administration, Connection, Migration
from migrationkit.services import (
    Check,
    OfferReceipt,
    StartPreflight,
    TargetChoice,
    Verdict,
)
from migrationkit.testing._repositories.tables import ENVIRONMENTS

if TYPE_CHECKING:
    from conftest import Scene

RULES = [f"R{n}" for n in range(1, 11)]
P, X, L = Verdict.PASSED, Verdict.REFUSED, Verdict.LATER


def verdicts(checks: Sequence[Check]) -> list[tuple[str, Verdict, str | None]]:
    return [(c.rule, c.verdict, None if c.error is None else c.error.code) for c in checks]


def refused_rules(report: StartPreflight) -> list[list[tuple[str, str]]]:
    """Per item: the refused checks' rules and error codes."""
    return [
        [(c.rule, c.error.code) for c in entry.checks if c.error is not None]
        for entry in report.items
    ]


def refusals_recorded(scene: Scene) -> list[Any]:
    return [
        event
        for event in scene.snapshot()["audit_events"].values()
        if event.record.outcome is AuditOutcome.REFUSED
    ]


# --- the offer -------------------------------------------------------------------------------


def preflight_offer(
    scene: Scene, administrations: Sequence[Administration], actor_id: int | None = None
) -> services.OfferPreflight:
    return services.preflight_offer(
        scene.deps,
        actor_id=actor_id or scene.noord.super_user.id,
        connection_id=scene.noord.connection.id,
        administration_ids=[a.id for a in administrations],
    )


def test_the_offer_report_lists_r1_to_r10_and_the_checklist_with_what_waits_for_later(
    scene: Scene,
) -> None:
    administration = scene.administration()

    report = preflight_offer(scene, [administration])

    assert report.passed
    assert report.first_error() is None
    [entry] = report.administrations
    assert entry.administration == administration
    assert verdicts(entry.checks) == [
        ("R1", P, None),
        ("R2", L, None),
        ("R3", P, None),
        ("R4", P, None),
        ("R5", L, None),
        ("R6", P, None),
        ("R7", L, None),
        ("R8", L, None),
        ("R9", L, None),
        ("R10", P, None),
        ("checklist", P, None),
        ("checklist", L, None),
    ]
    checks = {c.rule: c for c in entry.checks}
    assert checks["R10"].title_nl == "Geen autorisatoren in een autorisatieflow"
    assert checks["R10"].title("en") == "No authorizers in an authorization flow"
    assert "Exact Online (NL)" in (checks["R2"].note_nl or "")
    assert "Exact Online (NL)" in (checks["R2"].explanation("en") or "")
    assert checks["R8"].explanation() == "Wordt gecontroleerd bij de start in de nieuwe omgeving."
    assert checks["R7"].explanation("en") == (
        "Checked when the code is entered in the new environment."
    )


def test_the_offer_report_says_until_when_a_code_sent_now_would_be_valid(scene: Scene) -> None:
    report = preflight_offer(scene, [scene.administration()])

    expected = scene.world.clock.now() + timedelta(days=15)
    assert report.valid_until == expected
    [entry] = report.administrations
    [validity] = [c for c in entry.checks if c.rule == "R6"]
    assert validity.explanation() == f"Geldig tot {show_moment(expected)} als je nu verstuurt."
    assert validity.explanation("en") == f"Valid until {show_moment(expected)} if you send now."


def test_the_offer_report_gives_each_failing_check_its_refusal_and_changes_nothing(
    scene: Scene,
) -> None:
    offered = scene.administration("0042", "Bakkerij de Korenschoof")
    scene.offer(offered)
    guarded = scene.administration("0043", "Slagerij Vos")
    scene.flow(guarded, "Verkoop", scene.noord.user)
    before = scene.snapshot()

    report = preflight_offer(scene, [offered, guarded])

    assert not report.passed
    refusals = [
        [(c.rule, c.error.code) for c in entry.checks if c.error is not None]
        for entry in report.administrations
    ]
    assert refusals == [[("R4", "already_offered")], [("R10", "authorizers_in_flow")]]
    [r10] = [c for c in report.administrations[1].checks if c.refused]
    assert r10.error is not None
    assert r10.error.params == {"code": "0043", "name": "Slagerij Vos", "flows": "Verkoop"}
    first = report.first_error()
    assert first is not None
    assert first.code == "already_offered"
    assert scene.snapshot() == before


def test_an_offer_is_refused_with_the_first_refusal_of_its_report(scene: Scene) -> None:
    guarded = scene.administration("0043", "Slagerij Vos")
    scene.flow(guarded, "Verkoop", scene.noord.user)
    report = preflight_offer(scene, [guarded])
    first = report.first_error()
    assert first is not None

    with scene.refused(
        RuleViolation, first.code, code="0043", flows="Verkoop", name="Slagerij Vos"
    ):
        scene.offer(guarded)


def test_an_offers_refusal_carries_the_report_it_was_refused_by(scene: Scene) -> None:
    guarded = scene.administration("0043", "Slagerij Vos")
    scene.flow(guarded, "Verkoop", scene.noord.user)
    dry_run = preflight_offer(scene, [guarded])

    with pytest.raises(RuleViolation) as refused:
        scene.offer(guarded)

    carried = services.report_of(refused.value, services.OfferPreflight)
    assert carried is not None
    assert services.report_of(refused.value, services.StartPreflight) is None
    assert carried.first_error() is refused.value
    assert [verdicts(e.checks) for e in carried.administrations] == [
        verdicts(e.checks) for e in dry_run.administrations
    ]


def test_an_offers_refusal_before_its_report_carries_none(scene: Scene) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.offer_administrations(
            scene.deps,
            actor_id=scene.noord.super_user.id,
            connection_id=scene.noord.connection.id,
            administration_ids=[scene.administration().id],
            recipients=["zuid@example.nl"],
            accepted_terms=False,
        )

    assert services.report_of(refused.value, services.OfferPreflight) is None


def test_an_offer_goes_through_when_its_report_passes(scene: Scene) -> None:
    administration = scene.administration()
    assert preflight_offer(scene, [administration]).passed

    receipt = scene.offer(administration)

    assert [item.administration_id for item in receipt.items] == [administration.id]


def test_a_plain_user_gets_no_offer_report_and_the_refusal_is_recorded(scene: Scene) -> None:
    administration = scene.administration()

    with scene.refused(NotAllowed, "not_super_user"):
        preflight_offer(scene, [administration], actor_id=scene.noord.user.id)

    [event] = refusals_recorded(scene)
    assert event.record.action is AuditAction.OPEN
    assert event.record.outcome is AuditOutcome.REFUSED
    assert event.record.subject_type == "connection"


def test_the_offer_report_is_only_for_the_actors_own_connection(scene: Scene) -> None:
    administration = scene.administration()

    with scene.refused(NotFound, "unknown_connection"):
        services.preflight_offer(
            scene.deps,
            actor_id=scene.zuid.super_user.id,
            connection_id=scene.noord.connection.id,
            administration_ids=[administration.id],
        )


def test_a_check_carries_an_error_exactly_when_it_is_refused() -> None:
    error = RuleViolation("no_open_items")
    with pytest.raises(ValueError, match="exactly when it is refused"):
        Check("R4", "nl", "en", verdict=Verdict.PASSED, error=error)
    with pytest.raises(ValueError, match="exactly when it is refused"):
        Check("R4", "nl", "en", verdict=Verdict.REFUSED)
    assert Check("R4", "nl", "en", verdict=Verdict.REFUSED, error=error).refused
    assert Verdict.LATER.label_nl == "Later gecontroleerd"
    assert Verdict.LATER.label_en == "Checked later"


# --- the start -------------------------------------------------------------------------------


def redeemed(scene: Scene, *administrations: Administration) -> OfferReceipt:
    receipt = scene.offer(*administrations)
    scene.redeem(receipt)
    return receipt


def preflight_start(
    scene: Scene,
    receipt: OfferReceipt,
    choices: Sequence[TargetChoice],
    actor_id: int | None = None,
) -> StartPreflight:
    return services.preflight_start(
        scene.deps,
        actor_id=actor_id or scene.zuid.super_user.id,
        offer_id=receipt.offer.id,
        choices=choices,
    )


def start(
    scene: Scene, receipt: OfferReceipt, choices: Sequence[TargetChoice]
) -> tuple[Migration, ...]:
    return services.start_migrations(
        scene.deps,
        actor_id=scene.zuid.super_user.id,
        offer_id=receipt.offer.id,
        choices=choices,
    )


def test_the_start_report_passes_every_rule_for_a_good_choice_and_changes_nothing(
    scene: Scene,
) -> None:
    receipt = redeemed(scene)
    choices = [scene.choice(receipt.items[0])]
    before = scene.snapshot()

    report = preflight_start(scene, receipt, choices)

    assert scene.snapshot() == before
    assert scene.world.queue.enqueued == []
    assert report.passed
    assert report.first_error() is None
    [entry] = report.items
    assert entry.item == receipt.items[0]
    assert entry.choice == choices[0]
    assert entry.connection == scene.zuid.connection
    assert entry.package_administration is not None
    assert entry.package_administration.package_admin_id == choices[0].package_admin_id
    assert [(c.rule, c.verdict) for c in entry.checks] == [(rule, P) for rule in RULES]
    checks = {c.rule: c for c in entry.checks}
    assert checks["R8"].explanation() == "0042 Bakkerij de Korenschoof"
    assert checks["R6"].explanation() == f"Geldig tot {show_moment(receipt.offer.expires_at)}."
    assert "Toegang: Ja" in (checks["R10"].explanation() or "")
    assert "Access: Yes" in (checks["R10"].explanation("en") or "")

    [migration] = start(scene, receipt, choices)
    assert migration.item_id == receipt.items[0].id


def test_a_start_report_of_several_items_judges_each_with_its_own_target(scene: Scene) -> None:
    receipt = redeemed(scene, scene.administration("0042"), scene.administration("0043", "Vos"))
    choices = [scene.choice(receipt.items[0]), scene.choice(receipt.items[1], "zuid-nergens")]

    report = preflight_start(scene, receipt, choices)

    assert refused_rules(report) == [[], [("R9", "package_administration_missing")]]
    assert [entry.passed for entry in report.items] == [True, False]
    [r8] = [c for c in report.items[1].checks if c.rule == "R8"]
    assert r8.verdict is L
    assert r8.explanation("en") == (
        "Checked once an accounting system connection and an administration from the "
        "accounting package are chosen."
    )


def _withdraw(scene: Scene, receipt: OfferReceipt) -> list[TargetChoice]:
    choices = [scene.choice(receipt.items[0])]
    services.withdraw_item(
        scene.deps, actor_id=scene.noord.super_user.id, item_id=receipt.items[0].id
    )
    return choices


def _reject(scene: Scene, receipt: OfferReceipt) -> list[TargetChoice]:
    choices = [scene.choice(receipt.items[0])]
    services.reject_items(
        scene.deps,
        actor_id=scene.zuid.super_user.id,
        offer_id=receipt.offer.id,
        item_ids=[receipt.items[0].id],
    )
    return choices


def _started(scene: Scene, receipt: OfferReceipt) -> list[TargetChoice]:
    choices = [scene.choice(receipt.items[0])]
    start(scene, receipt, choices)
    return choices


def _expired(scene: Scene, receipt: OfferReceipt) -> list[TargetChoice]:
    choices = [scene.choice(receipt.items[0])]
    scene.world.clock.advance(timedelta(days=15))
    return choices


def _swept(scene: Scene, receipt: OfferReceipt) -> list[TargetChoice]:
    choices = _expired(scene, receipt)
    services.sweep_offers(scene.deps)
    return choices


def _no_connection(scene: Scene, receipt: OfferReceipt) -> list[TargetChoice]:
    return [TargetChoice(receipt.items[0].id, 0, "")]


def _no_package_administration(scene: Scene, receipt: OfferReceipt) -> list[TargetChoice]:
    return [TargetChoice(receipt.items[0].id, scene.zuid.connection.id, "")]


def _other_package(scene: Scene, receipt: OfferReceipt) -> list[TargetChoice]:
    twinfield = scene.connection(scene.zuid, AccountingPackage.TWINFIELD)
    scene.package_administration("tw-1", connection=twinfield)
    return [TargetChoice(receipt.items[0].id, twinfield.id, "tw-1")]


def _other_environment(scene: Scene, receipt: OfferReceipt) -> list[TargetChoice]:
    scene.package_administration("oost-1", connection=scene.oost.connection)
    return [TargetChoice(receipt.items[0].id, scene.oost.connection.id, "oost-1")]


def _unknown_connection(scene: Scene, receipt: OfferReceipt) -> list[TargetChoice]:
    return [TargetChoice(receipt.items[0].id, 999, "zuid-1")]


def _missing(scene: Scene, receipt: OfferReceipt) -> list[TargetChoice]:
    return [scene.choice(receipt.items[0], "zuid-nergens")]


def _linked(scene: Scene, receipt: OfferReceipt) -> list[TargetChoice]:
    scene.package_administration("zuid-1", "0042", "Bakkerij de Korenschoof (kopie)")
    scene.administration("0042", "Bakkerij (kopie)", office=scene.zuid, package_admin_id="zuid-1")
    return [scene.choice(receipt.items[0], "zuid-1")]


def _added_from_the_package(scene: Scene, receipt: OfferReceipt) -> list[TargetChoice]:
    """The guide's warning: the administration was added straight from the package."""
    scene.package_administration("zuid-1")
    scene.administration(office=scene.zuid, package_admin_id="zuid-1")
    return [scene.choice(receipt.items[0], "zuid-1")]


def _code_name_taken(scene: Scene, receipt: OfferReceipt) -> list[TargetChoice]:
    scene.administration("0042", "Bakkerij de Korenschoof", office=scene.zuid)
    return [scene.choice(receipt.items[0])]


def _reserved(scene: Scene, receipt: OfferReceipt) -> list[TargetChoice]:
    """Another offer's unfinished migration reserves the code and name."""
    twin = scene.administration("0042", "Bakkerij de Korenschoof", office=scene.oost)
    other = scene.offer(twin, sender=scene.oost)
    scene.redeem(other)
    start(scene, other, [scene.choice(other.items[0])])
    scene.package_administration("zuid-twin", "0042", "Bakkerij de Korenschoof")
    return [scene.choice(receipt.items[0], "zuid-twin")]


def _reserved_link(scene: Scene, receipt: OfferReceipt) -> list[TargetChoice]:
    """Another offer's unfinished migration reserves the package administration."""
    twin = scene.administration("0050", "Slagerij Vos", office=scene.oost)
    other = scene.offer(twin, sender=scene.oost)
    scene.redeem(other)
    scene.package_administration("zuid-1", "0050", "Slagerij Vos")
    start(scene, other, [scene.choice(other.items[0], "zuid-1")])
    return [scene.choice(receipt.items[0], "zuid-1")]


def _no_subscription(scene: Scene, receipt: OfferReceipt) -> list[TargetChoice]:
    """The subscription ended after the code was entered."""
    with scene.world.uow() as uow:
        ENVIRONMENTS.put(
            uow._current(),
            scene.zuid.environment.id,
            attrs.evolve(scene.zuid.environment, has_subscription=False),
        )
        uow.commit()
    return [scene.choice(receipt.items[0])]


def _package_down(scene: Scene, receipt: OfferReceipt) -> list[TargetChoice]:
    choices = [scene.choice(receipt.items[0])]
    connector = scene.world.connectors.connector(AccountingPackage.EXACT_ONLINE_NL)

    def unavailable(connection: Connection) -> None:
        raise PackageError("package_unavailable", package="Exact Online (NL)")

    connector.list_administrations = unavailable  # type: ignore[method-assign]
    return choices


Arrange = Callable[["Scene", OfferReceipt], list[TargetChoice]]


@pytest.mark.parametrize(
    ("arrange", "refusals"),
    [
        (_no_connection, [("R2", "target_not_chosen")]),
        (_no_package_administration, [("R9", "target_not_chosen")]),
        (_other_package, [("R2", "package_mismatch")]),
        (_other_environment, [("R2", "unknown_connection")]),
        (_unknown_connection, [("R2", "unknown_connection")]),
        (_missing, [("R9", "package_administration_missing")]),
        (_linked, [("R9", "package_administration_linked")]),
        (
            _added_from_the_package,
            [("R8", "code_name_taken"), ("R9", "package_administration_linked")],
        ),
        (_code_name_taken, [("R8", "code_name_taken")]),
        (_reserved, [("R8", "code_name_taken")]),
        (
            _reserved_link,
            [("R8", "code_name_taken"), ("R9", "package_administration_linked")],
        ),
        (_withdraw, [("R4", "item_withdrawn")]),
        (_reject, [("R4", "item_rejected")]),
        (_started, [("R4", "item_started")]),
        (_expired, [("R6", "item_expired")]),
        (_swept, [("R6", "item_expired")]),
        (_no_subscription, [("R7", "no_subscription")]),
        (_package_down, [("R9", "package_unavailable")]),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_a_refused_check_refuses_the_start_with_the_same_error(
    scene: Scene, arrange: Arrange, refusals: list[tuple[str, str]]
) -> None:
    receipt = redeemed(scene)
    choices = arrange(scene, receipt)
    before = scene.snapshot()

    report = preflight_start(scene, receipt, choices)

    assert scene.snapshot() == before
    assert refused_rules(report) == [refusals]
    assert [c.rule for c in report.items[0].checks] == RULES
    first = report.first_error()
    assert first is not None
    with scene.refused(type(first), first.code, **first.params):
        start(scene, receipt, choices)
    with pytest.raises(type(first)) as refused:
        start(scene, receipt, choices)
    carried = services.report_of(refused.value, services.StartPreflight)
    assert carried is not None
    assert refused_rules(carried) == [refusals]


def test_a_target_not_chosen_is_named(scene: Scene) -> None:
    receipt = redeemed(scene)

    report = preflight_start(scene, receipt, _no_connection(scene, receipt))

    [r2] = [c for c in report.items[0].checks if c.refused]
    assert isinstance(r2.error, InvalidInput)
    assert r2.error.code == "target_not_chosen"
    assert r2.error.params == {"code": "0042", "name": "Bakkerij de Korenschoof"}
    assert r2.explanation("en") == r2.error.message("en")
    assert [c.verdict for c in report.items[0].checks if c.rule in ("R8", "R9")] == [L, L]


def test_two_items_for_one_target_refuse_the_second_as_the_start_does(scene: Scene) -> None:
    receipt = redeemed(scene, scene.administration("0042"), scene.administration("0043", "Vos"))
    scene.package_administration("zuid-1", "0042", "Bakkerij de Korenschoof")
    choices = [scene.choice(item, "zuid-1") for item in receipt.items]

    report = preflight_start(scene, receipt, choices)

    assert refused_rules(report) == [[], [("R8", "code_name_taken")]]
    with scene.refused(
        RuleViolation,
        "code_name_taken",
        code="0042",
        environment="Zuid",
        name="Bakkerij de Korenschoof",
    ):
        start(scene, receipt, choices)


def test_a_start_report_after_the_start_does_not_count_its_own_migration(scene: Scene) -> None:
    receipt = redeemed(scene)
    choices = _started(scene, receipt)

    report = preflight_start(scene, receipt, choices)

    assert refused_rules(report) == [[("R4", "item_started")]]


@pytest.mark.parametrize(
    ("actor", "error_class", "code"),
    [
        ("oost", NotFound, "unknown_offer"),
        ("plain", NotAllowed, "not_super_user"),
    ],
)
def test_only_the_redeeming_environment_gets_a_start_report(
    scene: Scene, actor: str, error_class: type[MigrationError], code: str
) -> None:
    receipt = redeemed(scene)
    choices = [scene.choice(receipt.items[0])]
    actor_id = scene.oost.super_user.id if actor == "oost" else scene.zuid.user.id

    with scene.refused(error_class, code) as caught:
        preflight_start(scene, receipt, choices, actor_id=actor_id)

    assert caught.value.code == code
    [event] = refusals_recorded(scene)
    assert (event.record.action, event.record.subject_type) == (AuditAction.OPEN, "offer")


def test_a_start_report_needs_choices_of_the_offers_own_items(scene: Scene) -> None:
    receipt = redeemed(scene)
    other = redeemed(scene, scene.administration("0043", "Vos"))

    with scene.refused(InvalidInput, "no_administrations"):
        preflight_start(scene, receipt, [])
    with scene.refused(RuleViolation, "unknown_item"):
        preflight_start(scene, receipt, [scene.choice(other.items[0])])
