"""The portal's forms. Every form that changes something is a ``FlaskForm`` with a CSRF
token; the search and choice forms that only read are GET forms without one."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Regexp, ValidationError

from migrationkit.domain import codes
from migrationkit.domain.api_tokens import NAME_MAX as API_TOKEN_NAME_MAX
from migrationkit.domain.documents import MAX_DOCUMENT_BYTES
from migrationkit.domain.errors import InvalidInput
from migrationkit.domain.model import MAX_ID
from migrationkit.domain.sessions import PASSWORD_MAX, PASSWORD_MIN
from portal.i18n import refusal


def id_number(value: object) -> int:
    """An id (or 0, "none chosen") as typed in a form or a URL; ``ValueError`` for
    anything else, which WTForms and ``request.args.get(type=...)`` take as no choice."""
    number = int(str(value))
    if not 0 <= number <= MAX_ID:
        raise ValueError(value)
    return number


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes, one per choice."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ReadForm(FlaskForm):
    """A GET form that only reads: no CSRF token, nothing in the URL but its fields."""

    class Meta:
        csrf = False


class LoginForm(FlaskForm):
    email = StringField(_l("E-mailadres"), validators=[DataRequired(_l("Vul je e-mailadres in."))])
    password = PasswordField(
        _l("Wachtwoord"), validators=[DataRequired(_l("Vul je wachtwoord in."))]
    )
    submit = SubmitField(_l("Inloggen"))


class SearchForm(ReadForm):
    aangeboden = StringField(_l("Zoeken in aangeboden administraties"))
    ontvangen = StringField(_l("Zoeken in ontvangen administraties"))


class ActionForm(FlaskForm):
    keuze = RadioField(_l("Wat wil je doen?"), validators=[InputRequired(_l("Maak een keuze."))])
    submit = SubmitField(_l("Volgende"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Choices set here, not declared: WTForms deprecates declared tuples.
        super().__init__(*args, **kwargs)
        self.keuze.choices = [
            ("uitgaand", _l("Verplaats één of meerdere administratie(s) naar een andere omgeving")),
            ("inkomend", _l("Haal één of meerdere administratie(s) op uit een andere omgeving")),
        ]


class ConnectionForm(ReadForm):
    """The connection's choice; its button (needed only without scripts) has a name of its
    own, so pressing it is never taken for the next form's "Volgende"."""

    koppeling = SelectField(_l("Boekhoudsysteemkoppeling"), coerce=id_number, validate_choice=False)
    toon = SubmitField(_l("Toon administraties"))


class OutgoingChoiceForm(ReadForm):
    """The connection's administrations to offer, narrowed by a filter; select all (of those
    shown) or none in one action, without scripts too."""

    koppeling = HiddenField()
    filter = StringField(_l("Filter op code of naam"))
    filteren = SubmitField(_l("Filteren"))
    administratie = MultiCheckboxField(
        _l("Administraties"), coerce=id_number, validate_choice=False
    )
    alle = SubmitField(_l("Selecteer alle"))
    geen = SubmitField(_l("Selecteer geen"))
    volgende = SubmitField(_l("Volgende"))


class OfferForm(FlaskForm):
    koppeling = HiddenField()
    administratie = SelectMultipleField(coerce=id_number, validate_choice=False)
    ontvangers = StringField(
        _l("E-mailadressen"),
        description=_l(
            "Vul achter je eigen e-mailadres het e-mailadres in van (één van de) "
            "supergebruikers van de nieuwe omgeving; scheid adressen met een komma."
        ),
    )
    voorwaarden = BooleanField(_l("Ik ga akkoord met de Algemene voorwaarden"))
    submit = SubmitField(_l("Verzenden"))


class RedeemForm(FlaskForm):
    """The code and both acceptances, each refusal at its field, all at once: an unticked
    box is refused by the library's own rule (R7) before any code is tried, and then the
    code's shape (R5) is judged here too. With both boxes ticked the code goes to the use
    case, which counts a wrong or mistyped one towards the lockout (R7) and tells what only
    the offer can tell (unknown, expired, ...)."""

    code = StringField(
        _l("Overdrachtscode"),
        description=_l("De code uit de e-mail, bijvoorbeeld ABCD-EFGH-…; streepjes mogen."),
        validators=[DataRequired(_l("Vul de overdrachtscode in."))],
    )
    voorwaarden = BooleanField(_l("Ik ga akkoord met de voorwaarden"))
    kosten = BooleanField(
        _l("Ik ga akkoord met de kosten van de migratie; ze worden aan mijn omgeving gefactureerd")
    )
    submit = SubmitField(_l("Volgende"))

    def validate_code(self, field: Field) -> None:
        if self.voorwaarden.data and self.kosten.data:
            return  # tried by the use case, which counts it
        try:
            codes.normalise_code(field.data or "")
        except InvalidInput as error:
            raise ValidationError(refusal(error)) from None

    def validate_voorwaarden(self, field: Field) -> None:
        if not field.data:
            raise ValidationError(refusal(InvalidInput("terms_not_accepted")))

    def validate_kosten(self, field: Field) -> None:
        if not field.data:
            raise ValidationError(refusal(InvalidInput("costs_not_accepted")))


class OfferedItemsForm(FlaskForm):
    administratie = MultiCheckboxField(_l("Aangeboden administraties"), coerce=id_number)
    reden = TextAreaField(_l("Reden van afwijzing (niet verplicht)"))
    alle = SubmitField(_l("Selecteer alle"))
    geen = SubmitField(_l("Selecteer geen"))
    volgende = SubmitField(_l("Volgende"))
    afwijzen = SubmitField(_l("Afwijzen"))


class TargetForm(Form):
    """One selected item: its id, and the code of another package administration than the
    one proposed (blank: the proposal stands), so a form of 300 items sends little."""

    class Meta(FlaskForm.Meta):
        # A part of StartForm (whose CSRF token covers it), with WTForms' own messages in
        # the user's language as a FlaskForm has them.
        csrf = False

    item = HiddenField()
    code = StringField(_l("Andere administratiecode"))


class StartForm(FlaskForm):
    """The targets of the selected items: one boekhoudsysteemkoppeling for all of them, a
    proposal each from its package administrations, changed where a code is typed."""

    koppeling = SelectField(_l("Boekhoudsysteemkoppeling"), coerce=id_number, validate_choice=False)
    #: The proposals the page showed (their fingerprint): the changes are read against them.
    voorstellen = HiddenField(
        validators=[
            Regexp(
                r"\A[0-9a-f]{0,16}\Z",
                message=_l(
                    "Het formulier is verlopen of ongeldig. Ga terug en probeer het opnieuw."
                ),
            )
        ]
    )
    doelen = FieldList(FormField(TargetForm))
    toon = SubmitField(_l("Toon voorstellen"))
    start = SubmitField(_l("Start migratie"))


class AccessForm(FlaskForm):
    toegang = RadioField(_l("Toegang"), validators=[InputRequired(_l("Kies Ja of Nee."))])
    submit = SubmitField(_l("Opslaan"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.toegang.choices = [("ja", _l("Ja")), ("nee", _l("Nee"))]


class RelinkForm(FlaskForm):
    koppeling = SelectField(_l("Boekhoudsysteemkoppeling"), coerce=id_number, validate_choice=False)
    administratie = SelectField(_l("Administratie uit het boekhoudpakket"), validate_choice=False)
    toon = SubmitField(_l("Toon administraties"))
    submit = SubmitField(_l("Interne migratie uitvoeren"))


class AddAdministrationsForm(FlaskForm):
    koppeling = SelectField(_l("Boekhoudsysteemkoppeling"), coerce=id_number, validate_choice=False)
    administratie = MultiCheckboxField(
        _l("Administraties uit het boekhoudpakket"), validate_choice=False
    )
    toon = SubmitField(_l("Toon administraties"))
    submit = SubmitField(_l("Toevoegen"))


class UploadForm(FlaskForm):
    """A document for the archive. The library decides what it may be (its type from its
    bytes, its size); the browser's file picker is only told which files to offer."""

    bestand = FileField(
        _l("Document"),
        validators=[FileRequired(_l("Kies een bestand."))],
        description=_l(
            "Een PDF, een JPEG-, PNG- of TIFF-afbeelding of een e-factuur in XML (UBL of CII), "
            "hoogstens %(limit)d MB.",
            limit=MAX_DOCUMENT_BYTES // (1024 * 1024),
        ),
        render_kw={"accept": ".pdf,.jpg,.jpeg,.png,.tif,.tiff,.xml"},
    )
    submit = SubmitField(_l("Uploaden"))


def field_error(form: Form, field: Field | None, message: str) -> None:
    """Shows ``message`` at ``field`` (tied to it with aria-describedby), or at the top of
    the form when no field is meant."""
    if field is None:
        form.form_errors.append(message)
    else:
        field.errors = [*field.errors, message]


class ApiTokenForm(FlaskForm):
    """Instellingen > API-tokens: a new token's name. The library judges it (required,
    trimmed, at most ``NAME_MAX`` characters); the browser is told the limit too."""

    naam = StringField(
        _l("Naam"),
        description=_l("Waarvoor gebruik je het token? Bijvoorbeeld: koppeling met ons CRM."),
        render_kw={"maxlength": API_TOKEN_NAME_MAX},
    )
    submit = SubmitField(_l("API-token aanmaken"))


class PasswordForm(FlaskForm):
    """Instellingen > Wachtwoord: the current password and the new one twice. The library
    judges the new one (at least ``PASSWORD_MIN`` characters) and the current one."""

    huidig = PasswordField(_l("Huidig wachtwoord"))
    nieuw = PasswordField(
        _l("Nieuw wachtwoord"),
        description=_l("Minstens %(limit)s tekens.", limit=PASSWORD_MIN),
        render_kw={"minlength": PASSWORD_MIN, "maxlength": PASSWORD_MAX},
    )
    herhaling = PasswordField(
        _l("Herhaal het nieuwe wachtwoord"),
        validators=[EqualTo("nieuw", _l("De twee nieuwe wachtwoorden zijn niet gelijk."))],
    )
    submit = SubmitField(_l("Wachtwoord wijzigen"))


class AuditSearchForm(ReadForm):
    zoeken = StringField(_l("Zoeken in het logboek"))
