"""The Administraties tab: the list, "+ Administratie(s) toevoegen" and interne migratie."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from migrationkit import services
from migrationkit.domain.errors import MigrationError, NotFound
from migrationkit.domain.model import Connection
from portal.auth import login_required, super_user_required
from portal.errors import on_page, show_refusal
from portal.forms import AddAdministrationsForm, RelinkForm, field_error
from portal.runtime import deps

bp = Blueprint("administrations", __name__, url_prefix="/administraties")

#: Which field a refusal belongs to, so it is shown (and read out) there.
ADD_FIELDS = {"no_administrations": "administratie", "unknown_connection": "koppeling"}
RELINK_FIELDS = {
    "package_mismatch": "koppeling",
    "unknown_connection": "koppeling",
    "package_administration_missing": "administratie",
    "package_administration_linked": "administratie",
    "relink_same_target": "administratie",
    "code_name_taken": "administratie",
}


def connection_choices(connections: list[Connection]) -> list[tuple[int, str]]:
    """Each connection by its name, with its package added when the name does not say it."""
    return [
        (c.id, c.name if c.package.label in c.name else f"{c.name} ({c.package.label})")
        for c in connections
    ]


def own_connections() -> list[Connection]:
    """The connections of the signed-in user's environment."""
    with deps().uow() as uow:
        return list(uow.connections.list_for_environment(g.user.environment_id))


@bp.get("")
@login_required
def index() -> str:
    rows = services.list_administrations(deps(), actor_id=g.user.id)
    return render_template("administrations/index.html", rows=rows)


@bp.route("/toevoegen", methods=["GET", "POST"])
@super_user_required
def add() -> str | Response:
    """+ Administratie(s) toevoegen: choose a connection, then its package's administrations
    that are not linked yet."""
    form = AddAdministrationsForm()
    form.koppeling.choices = connection_choices(own_connections())
    available = []
    if form.is_submitted() and form.koppeling.data is None:
        field_error(form, form.koppeling, _("Kies een boekhoudsysteemkoppeling."))
    if form.koppeling.data is not None and form.is_submitted():
        try:
            available = list(
                services.available_package_administrations(
                    deps(), actor_id=g.user.id, connection_id=form.koppeling.data
                )
            )
        except MigrationError as error:
            field_error(form, form.koppeling, on_page(error))
    form.administratie.choices = [(pa.package_admin_id, f"{pa.code} {pa.name}") for pa in available]
    if form.submit.data and form.validate_on_submit() and not form.koppeling.errors:
        try:
            added = services.add_administrations(
                deps(),
                actor_id=g.user.id,
                connection_id=form.koppeling.data,
                package_admin_ids=form.administratie.data or [],
                inbox_domain=current_app.config["INBOX_DOMAIN"],
            )
        except MigrationError as error:
            show_refusal(form, ADD_FIELDS, error)
        else:
            flash(_("%(count)d administratie(s) toegevoegd.", count=len(added)), "success")
            return redirect(url_for("administrations.index"))
    return render_template(
        "administrations/add.html", form=form, listed=form.is_submitted() and available
    )


@bp.route("/<int:administration_id>/interne-migratie", methods=["GET", "POST"])
@super_user_required
def relink(administration_id: int) -> str | Response:
    """Interne migratie: point the administration at another package administration of the
    same package in this environment (R16)."""
    row = own_row(administration_id)
    form = RelinkForm()
    form.koppeling.choices = connection_choices(own_connections())
    if not form.is_submitted():
        form.koppeling.data = row.connection.id
    available = []
    try:
        available = list(
            services.available_package_administrations(
                deps(), actor_id=g.user.id, connection_id=form.koppeling.data
            )
        )
    except MigrationError as error:
        field_error(form, form.koppeling, on_page(error))
    form.administratie.choices = [(pa.package_admin_id, f"{pa.code} {pa.name}") for pa in available]
    if form.submit.data and form.validate_on_submit():
        try:
            relinked = services.relink_administration(
                deps(),
                actor_id=g.user.id,
                administration_id=administration_id,
                connection_id=form.koppeling.data,
                package_admin_id=form.administratie.data or "",
            )
        except MigrationError as error:
            show_refusal(form, RELINK_FIELDS, error)
        else:
            flash(
                _(
                    "Administratie %(name)s is nu gekoppeld aan %(code)s %(package_name)s.",
                    name=row.administration.name,
                    code=relinked.code,
                    package_name=relinked.name,
                ),
                "success",
            )
            return redirect(url_for("administrations.index"))
    return render_template("administrations/relink.html", form=form, row=row)


def own_row(administration_id: int) -> services.AdministrationRow:
    """The administration's row in the signed-in user's list; another environment's, a
    missing one, or (for a plain user) one without Toegang Ja is refused as not found."""
    for row in services.list_administrations(deps(), actor_id=g.user.id):
        if row.administration.id == administration_id:
            return row
    raise NotFound("unknown_administration")
