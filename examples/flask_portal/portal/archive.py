"""An administration's archive: its documents, each one openable, and an upload; an old
document address (from before a move to another store) redirects to the new one.

The library decides what an upload may be (its type from its bytes, its size); a document
is served with headers that keep whatever it holds from running (``security``).
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from migrationkit.domain.documents import served_type
from migrationkit.domain.errors import MigrationError
from migrationkit.services import archive as archive_service
from portal.administrations import own_row
from portal.auth import login_required
from portal.errors import on_page
from portal.forms import UploadForm, field_error, id_number
from portal.runtime import deps, runtime
from portal.security import document_headers

bp = Blueprint("archive", __name__)

#: Documents on one page of the archive (the use case's default page).
PAGE = 100


@bp.route("/administraties/<int:administration_id>/archief", methods=["GET", "POST"])
@login_required
def index(administration_id: int) -> str | Response:
    """A page of the archive (``na``: the last document id of the page before), and the
    upload form."""
    after = request.args.get("na", 0, type=id_number)
    documents = archive_service.list_documents(
        deps(), actor_id=g.user.id, administration_id=administration_id, after_id=after, limit=PAGE
    )
    row = own_row(administration_id)
    form = UploadForm()
    if form.validate_on_submit() and (added := _upload(form, administration_id)):
        flash(_("%(filename)s is toegevoegd aan het archief.", filename=added), "success")
        return redirect(url_for("archive.index", administration_id=administration_id))
    return render_template(
        "archive/index.html",
        row=row,
        documents=documents,
        form=form,
        next_page=documents[-1].id if len(documents) == PAGE else None,
    )


def _upload(form: UploadForm, administration_id: int) -> str | None:
    """Adds the form's file to the archive: its name as stored, or ``None`` when the library
    refused it (the refusal then stands at the field)."""
    upload = form.bestand.data
    try:
        document = archive_service.add_document(
            deps(),
            runtime().archives,
            actor_id=g.user.id,
            administration_id=administration_id,
            filename=upload.filename or "document",
            stream=upload.stream,
        )
    except MigrationError as error:
        field_error(form, form.bestand, on_page(error))
        return None
    return document.filename


@bp.get("/documenten/<path:address>")
@login_required
def document(address: str) -> Response:
    """Opens a document by its address; an old address leads to where it lives now. Shown
    in place only when it is a PDF or an image the archive takes; anything else, whatever
    its stored type, is saved (``security.document_headers``)."""
    current = archive_service.resolve_address(deps(), actor_id=g.user.id, address=address)
    if current != address:
        return redirect(url_for("archive.document", address=current), code=301)
    found, stream = archive_service.open_document(
        deps(), runtime().archives, actor_id=g.user.id, address=address
    )
    kind = served_type(found.content_type)
    return document_headers(send_file(stream, mimetype=kind.content_type), kind, found.filename)
