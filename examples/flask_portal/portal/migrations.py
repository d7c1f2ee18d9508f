"""The Migratie menu: the overview, the actions, moving out, taking in, and each
migration's status with its self-updating progress bar."""

from __future__ import annotations

import re
from contextlib import suppress
from typing import Any

from flask import (
    Blueprint,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from migrationkit import services
from migrationkit.domain.errors import InvalidInput, MigrationError, PackageError
from migrationkit.domain.matching import Proposal
from migrationkit.domain.model import Administration, ItemStatus
from migrationkit.domain.overviews import HISTORY_STATUSES, READY_STATUSES
from portal.administrations import connection_choices, own_connections
from portal.auth import super_user_required
from portal.errors import flash_refusal, on_page, show_refusal
from portal.forms import (
    ActionForm,
    ConnectionForm,
    OfferedItemsForm,
    OfferForm,
    OutgoingChoiceForm,
    RedeemForm,
    SearchForm,
    StartForm,
    TargetForm,
    field_error,
    id_number,
)
from portal.i18n import label, refusal
from portal.runtime import deps

bp = Blueprint("migrations", __name__, url_prefix="/migraties")

#: A list that could not be read: the search's refusal stands beside it.
EMPTY: services.OverviewPage[Any] = services.OverviewPage((), None, None)

OFFER_FIELDS = {
    "no_recipients": "ontvangers",
    "email_invalid": "ontvangers",
    "email_local_part_not_ascii": "ontvangers",
    "invisible_characters": "ontvangers",
    "terms_not_accepted": "voorwaarden",
}
REDEEM_FIELDS = {
    "code_malformed": "code",
    "code_invalid_character": "code",
    "code_unknown": "code",
    "code_expired": "code",
    "code_withdrawn": "code",
    "code_used": "code",
    "code_nothing_open": "code",
    "terms_not_accepted": "voorwaarden",
    "costs_not_accepted": "kosten",
}
REJECT_FIELDS = {
    "reason_too_long": "reden",
    "invisible_characters": "reden",
    "no_administrations": "administratie",
}


# --- Migratie overzicht ----------------------------------------------------------------------


@bp.get("")
@super_user_required
def overview() -> str:
    """Three lists, each a page at a time with its own place in the address: what the
    environment offered, what it may take in, and what it took in before (the history)."""
    form = SearchForm(request.args)
    outgoing = incoming = history = EMPTY
    try:
        outgoing = services.outgoing_overview(
            deps(),
            actor_id=g.user.id,
            search=form.aangeboden.data,
            cursor=request.args.get("aangeboden_vanaf"),
        )
    except MigrationError as error:
        field_error(form, form.aangeboden, on_page(error))
    try:
        incoming, history = (
            services.incoming_overview(
                deps(),
                actor_id=g.user.id,
                search=form.ontvangen.data,
                cursor=request.args.get(parameter),
                statuses=statuses,
            )
            for parameter, statuses in (
                ("ontvangen_vanaf", READY_STATUSES),
                ("geschiedenis_vanaf", HISTORY_STATUSES),
            )
        )
    except MigrationError as error:
        field_error(form, form.ontvangen, on_page(error))
    return render_template(
        "migrations/overview.html",
        form=form,
        outgoing=outgoing,
        incoming=incoming,
        history=history,
    )


# --- Migratie acties -------------------------------------------------------------------------


@bp.route("/acties", methods=["GET", "POST"])
@super_user_required
def actions() -> str | Response:
    form = ActionForm()
    if form.validate_on_submit():
        if form.keuze.data == "uitgaand":
            return redirect(url_for("migrations.outgoing_checklist"))
        return redirect(url_for("migrations.incoming_checklist"))
    return render_template("migrations/actions.html", form=form)


# --- Verplaats één of meerdere administratie(s) ------------------------------------------------


@bp.get("/uitgaand/checklist")
@super_user_required
def outgoing_checklist() -> str:
    return render_template("migrations/outgoing_checklist.html")


@bp.get("/uitgaand/administraties")
@super_user_required
def outgoing_choose() -> str | Response:
    """First the boekhoudsysteemkoppeling, then one or more of its administrations."""
    connection_form = ConnectionForm(request.args)
    connection_form.koppeling.choices = connection_choices(own_connections())
    choice_form = OutgoingChoiceForm(request.args)
    connection_id = connection_form.koppeling.data
    if connection_id is None:
        return render_template(
            "migrations/outgoing_choose.html", connection_form=connection_form, choice_form=None
        )
    offerable: tuple[Administration, ...] = ()
    try:
        offerable = services.offerable_administrations(
            deps(), actor_id=g.user.id, connection_id=connection_id, search=choice_form.filter.data
        )
    except InvalidInput as error:
        field_error(choice_form, choice_form.filter, refusal(error))
    choice_form.koppeling.data = str(connection_id)
    choice_form.administratie.choices = [(a.id, f"{a.code} {a.name}") for a in offerable]
    if choice_form.alle.data:
        choice_form.administratie.data = [a.id for a in offerable]
    elif choice_form.geen.data:
        choice_form.administratie.data = []
    elif choice_form.volgende.data:
        if choice_form.administratie.data:
            return redirect(
                url_for(
                    "migrations.outgoing_summary",
                    koppeling=connection_id,
                    administratie=choice_form.administratie.data,
                )
            )
        field_error(
            choice_form,
            choice_form.administratie,
            refusal(InvalidInput("no_administrations")),
        )
    return render_template(
        "migrations/outgoing_choose.html", connection_form=connection_form, choice_form=choice_form
    )


@bp.route("/uitgaand/samenvatting", methods=["GET", "POST"])
@super_user_required
def outgoing_summary() -> str | Response:
    """The selected administrations with the checklist's verdicts, the e-mail addresses
    (the user's own pre-filled) and the Algemene voorwaarden; sending shows the code once."""
    if request.method == "POST":
        form = OfferForm()
    else:
        form = OfferForm(formdata=None)
        form.koppeling.data = request.args.get("koppeling", "")
        form.administratie.data = request.args.getlist("administratie", type=id_number)
        form.ontvangers.data = f"{g.user.email}, "
    connection_id = _int(form.koppeling.data)
    administration_ids = list(form.administratie.data or [])
    if not administration_ids:
        flash_refusal(InvalidInput("no_administrations"))
        return redirect(url_for("migrations.outgoing_choose"))
    # One dry run per click: a refusal by the offer's report carries it.
    preflight = None
    if form.validate_on_submit():
        try:
            receipt = services.offer_administrations(
                deps(),
                actor_id=g.user.id,
                connection_id=connection_id,
                administration_ids=administration_ids,
                recipients=_addresses(form.ontvangers.data or ""),
                accepted_terms=bool(form.voorwaarden.data),
            )
        except MigrationError as error:
            show_refusal(form, OFFER_FIELDS, error)
            preflight = services.report_of(error, services.OfferPreflight)
        else:
            return _code_once(receipt, resent=False)
    if preflight is None:
        preflight = services.preflight_offer(
            deps(),
            actor_id=g.user.id,
            connection_id=connection_id,
            administration_ids=administration_ids,
        )
    return render_template("migrations/outgoing_summary.html", form=form, preflight=preflight)


@bp.get("/uitgaand/koppelingen/<int:connection_id>/controle")
@super_user_required
def outgoing_preflight(connection_id: int) -> str | Response:
    """Controle vooraf: the offer's dry run as a page to print or keep, every check of R1-R10
    and the checklist per administration; it sends nothing."""
    administration_ids = request.args.getlist("administratie", type=id_number)
    if not administration_ids:
        flash_refusal(InvalidInput("no_administrations"))
        return redirect(url_for("migrations.outgoing_choose"))
    report = services.preflight_offer(
        deps(),
        actor_id=g.user.id,
        connection_id=connection_id,
        administration_ids=administration_ids,
    )
    return render_template("migrations/outgoing_preflight.html", report=report)


@bp.post("/aangeboden/<int:item_id>/intrekken")
@super_user_required
def withdraw(item_id: int) -> Response:
    """Intrekken: the sender takes one offered administration back (R12)."""
    try:
        item = services.withdraw_item(deps(), actor_id=g.user.id, item_id=item_id)
    except MigrationError as error:
        flash_refusal(error)
    else:
        flash(_("%(code)s %(name)s is ingetrokken.", code=item.code, name=item.name), "success")
    return redirect(url_for("migrations.overview"))


@bp.post("/verzoeken/<int:offer_id>/code-opnieuw")
@super_user_required
def resend(offer_id: int) -> str | Response:
    """A new transfer code for an offer; the old one stops working (R5)."""
    try:
        receipt = services.resend_code(deps(), actor_id=g.user.id, offer_id=offer_id)
    except MigrationError as error:
        flash_refusal(error)
        return redirect(url_for("migrations.overview"))
    return _code_once(receipt, resent=True)


def _code_once(receipt: services.OfferReceipt, *, resent: bool) -> Response:
    """The confirmation with the code in full, the one time it is shown: never kept in a
    cache, so the back button cannot show it again."""
    response = make_response(
        render_template("migrations/outgoing_sent.html", receipt=receipt, resent=resent)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --- Haal één of meerdere administratie(s) op ----------------------------------------------------


@bp.get("/inkomend/checklist")
@super_user_required
def incoming_checklist() -> str:
    return render_template("migrations/incoming_checklist.html")


@bp.route("/inkomend/code", methods=["GET", "POST"])
@super_user_required
def redeem() -> str | Response:
    """The transfer code, with acceptance of the terms and of the costs (R5-R7)."""
    form = RedeemForm()
    if form.validate_on_submit():
        try:
            redeemed = services.redeem_code(
                deps(),
                actor_id=g.user.id,
                code=form.code.data or "",
                accepted_terms=bool(form.voorwaarden.data),
                accepted_costs=bool(form.kosten.data),
            )
        except MigrationError as error:
            show_refusal(form, REDEEM_FIELDS, error)
        else:
            return redirect(url_for("migrations.offered", offer_id=redeemed.offer.id))
    return render_template("migrations/redeem.html", form=form)


@bp.route("/inkomend/<int:offer_id>", methods=["GET", "POST"])
@super_user_required
def offered(offer_id: int) -> str | Response:
    """The offered administrations: select the ones to take in, or reject them (R11)."""
    redeemed = services.redeemed_offer(deps(), actor_id=g.user.id, offer_id=offer_id)
    form = OfferedItemsForm()
    form.administratie.choices = [(i.id, f"{i.code} {i.name}") for i in redeemed.selectable]
    if form.validate_on_submit():
        chosen = form.administratie.data or []
        if form.alle.data:
            form.administratie.data = [item.id for item in redeemed.selectable]
        elif form.geen.data:
            form.administratie.data = []
        elif form.afwijzen.data:
            try:
                rejected = services.reject_items(
                    deps(),
                    actor_id=g.user.id,
                    offer_id=offer_id,
                    item_ids=chosen,
                    reason=form.reden.data,
                )
            except MigrationError as error:
                show_refusal(form, REJECT_FIELDS, error)
            else:
                flash(
                    _(
                        "Afgewezen: %(names)s. De aanbieder krijgt een e-mail.",
                        names=", ".join(f"{i.code} {i.name}" for i in rejected),
                    ),
                    "success",
                )
                return redirect(url_for("migrations.offered", offer_id=offer_id))
        elif chosen:
            return redirect(url_for("migrations.targets", offer_id=offer_id, item=chosen))
        else:
            field_error(form, form.administratie, refusal(InvalidInput("no_administrations")))
    return render_template("migrations/offered.html", form=form, redeemed=redeemed)


@bp.route("/inkomend/<int:offer_id>/koppelen", methods=["GET", "POST"])
@super_user_required
def targets(offer_id: int) -> str | Response:
    """The selected administrations with a target each: one boekhoudsysteemkoppeling for
    all, and per administration the package administration proposed for it (same code,
    else same name), changed by typing another code; then Start migratie (R2, R8, R9, R13).
    The package is asked for its administrations once per page, whatever their number."""
    redeemed = services.redeemed_offer(deps(), actor_id=g.user.id, offer_id=offer_id)
    if request.method == "POST":
        form = StartForm()
    else:
        form = StartForm(formdata=None)
        for item_id in request.args.getlist("item", type=id_number):
            form.doelen.append_entry({"item": str(item_id)})
    if not form.doelen.entries:
        flash(_("Selecteer de administraties die je wilt overzetten."), "error")
        return redirect(url_for("migrations.offered", offer_id=offer_id))
    # Only connections of the offer's own package: another package cannot take it in (R2).
    choices = connection_choices(
        [c for c in own_connections() if c.package is redeemed.offer.package]
    )
    form.koppeling.choices = [(0, _("Kies een boekhoudsysteemkoppeling")), *choices]
    if request.method == "GET" and len(choices) == 1:
        form.koppeling.data = choices[0][0]  # the one there is, chosen already
    # Validated before the package's refusals are put on the fields: validating clears them.
    submitted = form.validate_on_submit()
    proposals = None
    if form.koppeling.data:
        try:
            proposals = services.propose_targets(
                deps(),
                actor_id=g.user.id,
                offer_id=offer_id,
                item_ids=[_int(entry.form.item.data) for entry in form.doelen],
                connection_id=form.koppeling.data,
            )
        except PackageError as error:  # the package cannot be asked now: said at its field
            field_error(form, form.koppeling, on_page(error))
        except MigrationError as error:
            flash_refusal(error)
            return redirect(url_for("migrations.offered", offer_id=offer_id))
    for message in form.voorstellen.errors:  # a hidden field: said at the top
        field_error(form, None, message)
    if submitted and form.start.data:
        if proposals is None:
            if not form.koppeling.errors:
                field_error(form, form.koppeling, _("Kies een boekhoudsysteemkoppeling."))
        elif _started(form, offer_id, proposals):
            flash(_("De migratie is gestart en wordt op de achtergrond uitgevoerd."), "success")
            return redirect(url_for("migrations.offered", offer_id=offer_id))
    rows = _rows(form, proposals) if proposals is not None else []
    return render_template(
        "migrations/targets.html",
        form=form,
        proposals=proposals,
        rows=rows,
        redeemed=redeemed,
        # The package refused to list (busy, say): the page offers to ask it again.
        retry=bool(form.koppeling.data) and proposals is None and bool(form.koppeling.errors),
    )


def _changed(form: StartForm) -> dict[int, str]:
    """The codes typed per item: what the user changed against the proposals."""
    return {_int(entry.form.item.data): entry.form.code.data or "" for entry in form.doelen}


def _started(form: StartForm, offer_id: int, proposals: services.TargetProposals) -> bool:
    """Starts the form's items on their proposals and typed codes; what refuses is shown at
    the item's field or at the top of the form."""
    try:
        choices, refusals = proposals.choices(_changed(form), form.voorstellen.data or "")
        if not refusals:
            services.start_migrations(
                deps(), actor_id=g.user.id, offer_id=offer_id, choices=choices
            )
            return True
    except MigrationError as error:
        field_error(form, None, on_page(error))
        return False
    for entry in form.doelen:
        refused = refusals.get(_int(entry.form.item.data))
        if refused is not None:
            field_error(entry.form, entry.form.code, on_page(refused))
    field_error(
        form,
        None,
        ngettext(
            "%(num)d administratie heeft nog geen doel; zie de gemarkeerde regel.",
            "%(num)d administraties hebben nog geen doel; zie de gemarkeerde regels.",
            len(refusals),
        ),
    )
    return False


def _rows(
    form: StartForm, proposals: services.TargetProposals
) -> list[tuple[Proposal, TargetForm]]:
    """Each proposal (unmatched first) with its item's part of the form, labelled."""
    form.voorstellen.data = proposals.fingerprint
    parts = {_int(entry.form.item.data): entry.form for entry in form.doelen}
    rows = []
    for proposal in proposals.proposals:
        part = parts[proposal.item.id]
        part.code.label.text = _(
            "Andere administratiecode voor %(code)s %(name)s",
            code=proposal.item.code,
            name=proposal.item.name,
        )
        rows.append((proposal, part))
    return rows


@bp.post("/inkomend/<int:offer_id>/controle")
@super_user_required
def start_preflight(offer_id: int) -> str | Response:
    """Controle vooraf: the dry run of Start migratie for the proposals and the codes typed
    so far, every check of R1-R10 per administration; it starts nothing. An item without a
    target is refused in the report itself."""
    redeemed = services.redeemed_offer(deps(), actor_id=g.user.id, offer_id=offer_id)
    form = StartForm()
    if not form.validate_on_submit() or not form.doelen.entries:
        flash(_("Selecteer de administraties die je wilt overzetten."), "error")
        return redirect(url_for("migrations.offered", offer_id=offer_id))
    item_ids = [_int(entry.form.item.data) for entry in form.doelen]
    connection_id = form.koppeling.data or 0
    # What is not chosen, or cannot be proposed, is refused by the report itself, in words.
    chosen = {i: services.TargetChoice(i, connection_id, "") for i in item_ids}
    with suppress(MigrationError):
        proposals = services.propose_targets(
            deps(),
            actor_id=g.user.id,
            offer_id=offer_id,
            item_ids=item_ids,
            connection_id=connection_id,
        )
        # The proposals as they are now: the report shows the targets it checked.
        choices, _refused = proposals.choices(_changed(form), proposals.fingerprint)
        chosen |= {choice.item_id: choice for choice in choices}
    try:
        report = services.preflight_start(
            deps(), actor_id=g.user.id, offer_id=offer_id, choices=list(chosen.values())
        )
    except MigrationError as error:
        flash_refusal(error)
        return redirect(url_for("migrations.offered", offer_id=offer_id))
    return render_template(
        "migrations/start_preflight.html",
        form=form,
        report=report,
        redeemed=redeemed,
    )


# --- status ----------------------------------------------------------------------------------


@bp.get("/<int:migration_id>")
@super_user_required
def status(migration_id: int) -> str:
    progress = services.migration_progress(deps(), actor_id=g.user.id, migration_id=migration_id)
    receiving = progress.migration.target_environment_id == g.user.environment_id
    access = None
    if receiving and progress.status is ItemStatus.COMPLETED:
        # Voltooid says who has access: nobody, until a super user grants it (R14).
        access = services.list_access(
            deps(), actor_id=g.user.id, administration_id=progress.migration.administration_id
        )
    return render_template(
        "migrations/status.html",
        progress=progress,
        may_retry=progress.status is ItemStatus.FAILED and receiving,
        access=access,
    )


@bp.get("/<int:migration_id>/status.json")
@super_user_required
def status_json(migration_id: int) -> Response:
    """What the progress bar polls: the status and the documents done of the total."""
    progress = services.migration_progress(deps(), actor_id=g.user.id, migration_id=migration_id)
    migration = progress.migration
    return jsonify(
        status=progress.status.value,
        label=label(progress.status),
        documents_done=migration.documents_done,
        documents_total=migration.documents_total,
        percent=progress.percent,
        text=_(
            "%(done)d van %(total)d documenten",
            done=migration.documents_done,
            total=migration.documents_total,
        ),
        finished=progress.status in (ItemStatus.COMPLETED, ItemStatus.FAILED),
    )


@bp.post("/<int:migration_id>/opnieuw")
@super_user_required
def retry(migration_id: int) -> Response:
    """Mislukt -> In de wachtrij: the move resumes where it stopped (R13)."""
    try:
        services.retry_migration(deps(), actor_id=g.user.id, migration_id=migration_id)
    except MigrationError as error:
        flash_refusal(error)
    else:
        flash(_("De migratie wordt opnieuw gestart."), "success")
    return redirect(url_for("migrations.status", migration_id=migration_id))


# --- helpers ---------------------------------------------------------------------------------


def _int(value: object) -> int:
    """An id from a hidden field; 0 (no such id) for anything else."""
    try:
        return id_number(value)
    except ValueError:
        return 0


def _addresses(typed: str) -> list[str]:
    """The e-mail addresses typed in one field, separated by commas, semicolons or spaces."""
    return [address for address in re.split(r"[,;\s]+", typed) if address]
