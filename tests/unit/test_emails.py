"""E-mails in their recipients' language: a user gets the language they chose in the portal,
anyone else the language of the user the e-mail comes from, else Dutch; one e-mail per
language, with a simple HTML alternative of the same content."""

from __future__ import annotations

import html
import inspect
import re
from importlib import resources

import pytest

from conftest import Build, Scene
from migrationkit import services
from migrationkit.domain.dates import show_moment
from migrationkit.domain.emails import LANGUAGES, html_alternative
from migrationkit.domain.errors import RuleViolation
from migrationkit.domain.model import CODE_NOT_KEPT, CODE_PLACEHOLDER, Email
from migrationkit.serialization import from_json
from migrationkit.services import _emails


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


def test_the_senders_copy_is_addressed_to_them_when_no_recipient_reads_their_language(
    scene: Scene,
) -> None:
    services.choose_language(scene.deps, scene.zuid.super_user.id, "en")

    scene.offer(to=("baas@zuid.nl",))

    by_language = {email.language: email for email in scene.emails_of_kind("offer_code")}
    assert (by_language["en"].to, by_language["en"].cc) == (("baas@zuid.nl",), ())
    assert (by_language["nl"].to, by_language["nl"].cc) == (("baas@noord.nl",), ())


def test_the_answers_to_the_sender_come_in_the_senders_language_whatever_the_recipient_chose(
    scene: Scene,
) -> None:
    services.choose_language(scene.deps, scene.noord.super_user.id, "en")
    services.choose_language(scene.deps, scene.zuid.super_user.id, "nl")
    receipt = scene.offer()
    scene.redeem(receipt)

    services.reject_items(
        scene.deps, actor_id=scene.zuid.super_user.id, offer_id=receipt.offer.id, reason="Nee"
    )

    [rejected] = scene.emails_of_kind("offer_rejected")
    assert (rejected.language, rejected.to) == ("en", ("baas@noord.nl",))
    code = {email.language: (email.to, email.cc) for email in scene.emails_of_kind("offer_code")}
    assert code == {"nl": (("baas@zuid.nl",), ()), "en": (("baas@noord.nl",), ())}


def test_a_language_chosen_again_counts_from_the_next_email(scene: Scene) -> None:
    services.choose_language(scene.deps, scene.zuid.super_user.id, "en")
    scene.offer(scene.administration("1001"))
    services.choose_language(scene.deps, scene.zuid.super_user.id, "nl")
    scene.offer(scene.administration("1002"))

    languages = [
        email.language for email in scene.emails_of_kind("offer_code") if "baas@zuid.nl" in email.to
    ]
    assert languages == ["en", "nl"]


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


# --- every kind, in both languages ---------------------------------------------------------

#: Values as a package or a user may deliver them: markup, line breaks and a header.
HOSTILE_NAME = "<script>alert('x')</script>\r\nBcc: indringer@example.nl\n& Zn"
HOSTILE_REASON = "<img src=x onerror=alert(1)>\nNiet bij ons"
PORTAL_URL = "https://portal.example.nl/"
REPORT_URL = "https://portal.example.nl/migraties/7/migratieverslag.pdf"
CODE = "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01"


def one_line(text: str) -> str:
    return " ".join(text.split())


def letters(build: Build) -> dict[str, tuple[_emails.Letter, str, tuple[str, ...]]]:
    """Every function of ``_emails`` that writes a letter, called with hostile values: the
    letter, the kind it must carry, and the values its text must show."""
    offer = build.offer(sender_email="baas@noord.nl", recipients=("baas@zuid.nl",))
    first = build.item(1, name=HOSTILE_NAME, code="1001<b>")
    second = build.item(2, name="Fietsen & Zn", email="fiets@inbox.example")
    items = (first, second)
    name, code = one_line(HOSTILE_NAME), "1001<b>"
    listed = (code, name, first.email, second.code, second.name, second.email)
    expires = show_moment(offer.expires_at)
    target = "7001<i>"
    reason = one_line(HOSTILE_REASON)
    return {
        "offer_code": (
            _emails.offer_code(offer, items, CODE, PORTAL_URL),
            "offer_code",
            (offer.sender_email, *listed, expires, PORTAL_URL, CODE),
        ),
        "withdrawn": (
            _emails.withdrawn(offer, first),
            "offer_withdrawn",
            (offer.sender_email, code, name),
        ),
        "rejected": (
            _emails.rejected(offer, items, HOSTILE_REASON),
            "offer_rejected",
            (*listed, reason),
        ),
        "expired": (_emails.expired(offer, items), "offer_expired", listed),
        "expiry_reminder": (
            _emails.expiry_reminder(offer, items),
            "offer_expiry_reminder",
            (*listed, expires, offer.sender_email),
        ),
        "started": (_emails.started(offer, items), "migration_started", listed),
        "completed_to_sender": (
            _emails.completed_to_sender(offer, first, REPORT_URL),
            "migration_completed",
            (code, name, REPORT_URL),
        ),
        "completed_to_recipient": (
            _emails.completed_to_recipient("baas@zuid.nl", first, target, REPORT_URL),
            "migration_completed",
            (name, target, REPORT_URL),
        ),
        "failed": (
            _emails.failed("baas@zuid.nl", first, HOSTILE_REASON),
            "migration_failed",
            (code, name, reason),
        ),
        "links_not_rewritten": (
            _emails.links_not_rewritten("baas@zuid.nl", first, target, HOSTILE_REASON),
            "links_not_rewritten",
            (name, target, reason),
        ),
    }


def test_every_function_that_writes_a_letter_is_tested_here(build: Build) -> None:
    writers = {
        name
        for name, function in inspect.getmembers(_emails, inspect.isfunction)
        if function.__module__ == _emails.__name__
        and inspect.signature(function).return_annotation == "Letter"
    }
    assert writers == set(letters(build))


def test_every_template_is_written_in_both_languages_with_the_same_values() -> None:
    texts = resources.files(_emails.__package__).joinpath("email_texts")
    names = sorted(entry.name for entry in texts.iterdir() if entry.name.endswith(".txt"))
    templates = {name.split(".")[0] for name in names}
    assert names == sorted(f"{t}.{language}.txt" for t in templates for language in LANGUAGES)
    for template in templates:
        placeholders = {
            language: set(
                re.findall(r"\$(\w+)", _emails._text(template, language).replace("$$", ""))
            )
            for language in LANGUAGES
        }
        assert placeholders["nl"] == placeholders["en"], template


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "writer",
    [
        "offer_code",
        "withdrawn",
        "rejected",
        "expired",
        "expiry_reminder",
        "started",
        "completed_to_sender",
        "completed_to_recipient",
        "failed",
        "links_not_rewritten",
    ],
)
def test_each_kind_is_written_in_each_language_with_its_values_escaped_in_html(
    build: Build, writer: str, language: str
) -> None:
    letter, kind, shown = letters(build)[writer]

    email = _emails._render(letter, language)
    other = _emails._render(letter, next(lang for lang in LANGUAGES if lang != language))

    assert (email.kind, email.language) == (kind, language)
    assert (email.to, email.cc, email.secret) == (letter.to, letter.cc, letter.secret)
    # Its own words: the other language's subject and body differ, the values do not.
    assert email.subject != other.subject
    assert email.body != other.body
    # Structure: a subject of one line, a body without an unfilled placeholder, the
    # signature last; the HTML a document in the e-mail's language titled with its subject.
    assert email.subject
    assert email.subject == one_line(email.subject)
    text, page = email.text(), email.html()
    assert "$" not in email.body
    assert text.endswith("\n\n-- \nmigrationkit\n")
    assert f'<html lang="{language}">' in page
    assert f"<title>{html.escape(email.subject)}</title>" in page
    assert page.rstrip().endswith("</body>\n</html>")
    # Every value shows, on one line, as text and escaped in the HTML; nothing of its
    # markup runs, and no line of its own begins with the smuggled header.
    for value in shown:
        assert value in email.subject + text, value
        assert html.escape(value) in page, value
    for markup in ("<script", "<img", "<b>", "<i>"):
        assert markup not in page
    assert not any(line.startswith("Bcc:") for line in text.splitlines())
    assert "indringer@example.nl" not in (*email.to, *email.cc)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_code_stays_out_of_the_stored_body_and_enters_as_it_is_sent(
    build: Build, language: str
) -> None:
    letter, _kind, _shown = letters(build)["offer_code"]

    email = _emails._render(letter, language)

    assert CODE not in email.body
    assert CODE_PLACEHOLDER in email.body
    assert email.secret == CODE
    assert CODE in email.text()
    assert CODE in email.html()
    forgotten = email.without_secret()
    assert CODE not in forgotten.text() + forgotten.html()
    assert CODE_NOT_KEPT in forgotten.text()
    assert CODE not in repr(email)


@pytest.mark.parametrize("language", LANGUAGES)
def test_lists_and_links_become_html_lists_and_links(build: Build, language: str) -> None:
    letter, _kind, _shown = letters(build)["offer_code"]

    page = _emails._render(letter, language).html()

    assert page.count("<ul>") == 1  # the administrations
    assert page.count("<li>1001&lt;b&gt;") == 1
    assert "<li>0002 Fietsen &amp; Zn (fiets@inbox.example)</li>" in page
    assert page.count("<ol>") == 1  # the steps
    assert f'<a href="{PORTAL_URL}">{PORTAL_URL}</a>' in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_refusal_without_a_reason_leaves_no_reason_paragraph(build: Build, language: str) -> None:
    offer, items = build.offer(), (build.item(1),)
    without = _emails._render(_emails.rejected(offer, items, None), language)
    blank = _emails._render(_emails.rejected(offer, items, " \n "), language)
    given = _emails._render(_emails.rejected(offer, items, "Niet bij ons"), language)

    assert without.body == blank.body
    assert "Niet bij ons" in given.body
    assert given.body.replace("Niet bij ons", "").count("\n") > without.body.count("\n")
    assert "\n\n\n" not in without.body


def test_an_email_kept_in_the_outbox_before_emails_had_a_language_reads_as_dutch() -> None:
    stored = '{"to": ["baas@zuid.nl"], "cc": [], "subject": "S", "body": "B", "kind": "k"}'

    email = from_json(stored, Email)

    assert email.language == "nl"
    assert '<html lang="nl">' in email.html()
