"""E-mails in their recipients' language: a user gets the language they chose in the portal,
anyone else the language of the user the e-mail comes from, else Dutch; one e-mail per
language, with a simple HTML alternative of the same content."""

from __future__ import annotations

import pytest

from conftest import Scene
from migrationkit import services
from migrationkit.domain.emails import html_alternative
from migrationkit.domain.errors import RuleViolation


def test_each_recipient_gets_the_code_in_the_language_they_chose(scene: Scene) -> None:
    services.choose_language(scene.deps, scene.zuid.super_user.id, "en")

    receipt = scene.offer(to=("baas@zuid.nl", "medewerker@zuid.nl", "extern@kantoor.nl"))

    by_language = {email.language: email for email in scene.emails_of_kind("offer_code")}
    assert set(by_language) == {"nl", "en"}
    assert by_language["en"].to == ("baas@zuid.nl",)
    # Not users who chose: the sender's language (Noord chose none: Dutch), with the copy.
    assert by_language["nl"].to == ("medewerker@zuid.nl", "extern@kantoor.nl")
    assert by_language["nl"].cc == ("baas@noord.nl",)
    assert by_language["en"].cc == ()
    for email in by_language.values():
        assert email.secret == receipt.code
        assert receipt.code in email.text()
        assert receipt.code in email.html()
    assert "Your transfer code" in by_language["en"].text()
    assert "Je overdrachtscode" in by_language["nl"].text()


def test_addresses_that_are_no_users_read_the_senders_language(scene: Scene) -> None:
    services.choose_language(scene.deps, scene.noord.super_user.id, "en")

    scene.offer(to=("extern@kantoor.nl",))

    [email] = scene.emails_of_kind("offer_code")
    assert email.language == "en"
    assert email.to == ("extern@kantoor.nl",)
    assert email.cc == ("baas@noord.nl",)


def test_a_failure_reaches_the_recipient_with_its_reason_in_their_language(
    scene: Scene,
) -> None:
    services.choose_language(scene.deps, scene.zuid.super_user.id, "en")
    _receipt, migration = scene.processing(scene.administration())

    services.fail_migration(scene.deps, migration.id, RuleViolation("not_super_user"))

    [email] = scene.emails_of_kind("migration_failed")
    assert email.language == "en"
    assert RuleViolation("not_super_user").message("en") in email.text()


def test_an_unknown_language_is_refused_and_nothing_changes(scene: Scene) -> None:
    with pytest.raises(RuleViolation) as refused:
        services.choose_language(scene.deps, scene.zuid.super_user.id, "de")

    assert refused.value.code == "unknown_language"
    with scene.world.uow() as uow:
        user = uow.users.get(scene.zuid.super_user.id)
    assert user is not None
    assert user.language is None


def test_the_html_alternative_says_what_the_text_says_with_every_value_escaped() -> None:
    text = (
        "<b>Bakkerij</b> & Zn biedt je aan:\n\n- 1001 <script>x</script>\n- 1002 Fiets\n\n"
        "Zo rond je af:\n1. Ga naar Administraties.\n2. Start.\n\nhttps://portal.example.nl/x"
        "\n\n-- \nmigrationkit\n"
    )

    page = html_alternative(text, "en", "Onderwerp <i>")

    assert '<html lang="en">' in page
    assert "<title>Onderwerp &lt;i&gt;</title>" in page
    assert "<script>" not in page
    assert "<b>" not in page
    assert "<p>&lt;b&gt;Bakkerij&lt;/b&gt; &amp; Zn biedt je aan:</p>" in page
    assert "<ul>\n<li>1001 &lt;script&gt;x&lt;/script&gt;</li>\n<li>1002 Fiets</li>\n</ul>" in page
    assert "<p>Zo rond je af:</p>\n<ol>\n<li>Ga naar Administraties.</li>" in page
    assert '<a href="https://portal.example.nl/x">https://portal.example.nl/x</a>' in page
    assert "migrationkit" in page.rpartition("-- ")[2]
