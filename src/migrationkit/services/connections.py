"""Instellingen > Boekhoudsysteemkoppelingen: the environment's connections, whether each
holds the package's consent, and connecting one (again) through the package's consent page.

A refused or expired consent reaches the user as ``package_auth_expired`` or
``package_auth_refused`` ("Koppel ... opnieuw onder Instellingen >
Boekhoudsysteemkoppelingen"); this is where they do that. The
``state`` that ties the package's answer to the user's own request is the caller's to make,
keep and check (the portal keeps it in the session): the use cases only see the result.
"""

from __future__ import annotations

import attrs

from migrationkit.domain.audit import AuditAction
from migrationkit.domain.errors import CONNECT_AGAIN, PackageError, RuleViolation
from migrationkit.domain.model import Connection
from migrationkit.ports import AccountingConnector, ConnectsByOAuth
from migrationkit.services import _load
from migrationkit.services.audit import audited, record
from migrationkit.services.dependencies import Dependencies


@attrs.frozen
class ConnectionRow:
    """A row of Boekhoudsysteemkoppelingen."""

    connection: Connection
    #: Whether this server has a connector for the package (its app is set up here).
    configured: bool
    #: Whether the package asks the user's consent, so the connection can be (re)connected.
    needs_authorization: bool
    #: Whether the connection holds the package's consent ("Gekoppeld"); always true for a
    #: package that asks none.
    authorized: bool
    #: Documentkoppelingen bijwerken na migratie: whether a move rewrites the package's links.
    can_rewrite_links: bool

    @property
    def package_label(self) -> str:
        return self.connection.package.label


@audited(AuditAction.OPEN)
def list_connections(deps: Dependencies, *, actor_id: int) -> tuple[ConnectionRow, ...]:
    """The connections of the super user's environment, in the repository's order. Asks no
    package anything: whether a connection is connected is what this server holds."""
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        connections = uow.connections.list_for_environment(actor.environment_id)
    return tuple(_row(deps, connection) for connection in connections)


@audited(AuditAction.CONNECT_PACKAGE)
def begin_authorization(
    deps: Dependencies, *, actor_id: int, connection_id: int, state: str
) -> str:
    """Koppelen / Koppel opnieuw: the package's consent page to send the user to (R1: a
    super user of the connection's environment). The package sends the user back with
    ``state`` and a code for ``finish_authorization``."""
    connection, oauth = _consenting(deps, actor_id, connection_id)
    return oauth.authorization_url(connection, state)


@audited(AuditAction.CONNECT_PACKAGE)
def finish_authorization(
    deps: Dependencies, *, actor_id: int, connection_id: int, code: str
) -> ConnectionRow:
    """Trades the code the package sent back (empty when the user said no there) for the
    connection's tokens; the connection's row as it is now. A code the package refuses is
    ``PackageError("package_consent_refused")``, and the connection keeps what it had."""
    connection, oauth = _consenting(deps, actor_id, connection_id)
    if not code:
        raise PackageError("package_consent_refused", package=connection.package.label)
    try:
        oauth.authorize(connection, code)
    except PackageError as error:
        if error.code not in CONNECT_AGAIN:
            raise
        raise PackageError("package_consent_refused", package=connection.package.label) from None
    if deps.listings is not None:  # the consent may reach another account
        deps.listings.forget(connection.id)
    with deps.uow() as uow:
        actor = _load.user(uow, actor_id)
        record(uow, deps, actor, AuditAction.CONNECT_PACKAGE, ("connection", connection.id))
        uow.commit()
    return _row(deps, connection)


def _consenting(
    deps: Dependencies, actor_id: int, connection_id: int
) -> tuple[Connection, ConnectsByOAuth]:
    """The super user's connection and its connector's consent, refused when the package
    asks none."""
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        connection = _load.connection(uow, connection_id, actor.environment_id)
    oauth = _oauth(deps.connectors.connector_for(connection))
    if oauth is None:
        raise RuleViolation("authorization_not_needed", connection=connection.name)
    return connection, oauth


def _oauth(connector: AccountingConnector) -> ConnectsByOAuth | None:
    """The connector's consent, when its package asks for one."""
    if isinstance(connector, ConnectsByOAuth) and connector.needs_authorization:
        return connector
    return None


def _row(deps: Dependencies, connection: Connection) -> ConnectionRow:
    try:
        connector = deps.connectors.connector_for(connection)
    except PackageError as error:
        if error.code != "package_not_configured":
            raise
        return ConnectionRow(
            connection,
            configured=False,
            needs_authorization=False,
            authorized=False,
            can_rewrite_links=False,
        )
    oauth = _oauth(connector)
    return ConnectionRow(
        connection,
        configured=True,
        needs_authorization=oauth is not None,
        authorized=oauth is None or oauth.is_authorized(connection),
        can_rewrite_links=connector.can_rewrite_links,
    )
