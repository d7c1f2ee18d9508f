"""Connections, administrations, their authorization flows and who has access."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement, RowMapping, delete, insert, select, tuple_, update

from migrationkit import ports
from migrationkit.adapters.sqlalchemy.repositories._base import _dialect_insert, _Repository
from migrationkit.adapters.sqlalchemy.tables import (
    access_grants,
    administration_code_name,
    administration_package_link,
    administrations,
    authorization_flow_authorizers,
    authorization_flows,
    connections,
)
from migrationkit.domain.errors import NotFound
from migrationkit.domain.model import (
    AccessGrant,
    AccountingPackage,
    Administration,
    AuthorizationFlow,
)
from migrationkit.domain.model import Connection as AccountingConnection
from migrationkit.domain.rules import has_invisible_characters


def connection_from_row(row: RowMapping) -> AccountingConnection:
    return AccountingConnection(
        id=row["id"],
        environment_id=row["environment_id"],
        package=AccountingPackage(row["package"]),
        name=row["name"],
    )


def administration_from_row(row: RowMapping) -> Administration:
    """From a row of ``_ADMINISTRATIONS``: the package is its connection's."""
    return Administration(
        id=row["id"],
        environment_id=row["environment_id"],
        connection_id=row["connection_id"],
        package=AccountingPackage(row["package"]),
        code=row["code"],
        name=row["name"],
        email=row["email"],
        package_admin_id=row["package_admin_id"],
    )


def authorization_flow_from_row(
    row: RowMapping, authorizer_user_ids: Sequence[int]
) -> AuthorizationFlow:
    """From a row of ``authorization_flows`` and its authorizers' ids, in their order."""
    return AuthorizationFlow(
        id=row["id"],
        administration_id=row["administration_id"],
        name=row["name"],
        authorizer_user_ids=tuple(authorizer_user_ids),
    )


def access_grant_from_row(row: RowMapping) -> AccessGrant:
    return AccessGrant(
        administration_id=row["administration_id"],
        user_id=row["user_id"],
        granted=row["granted"],
    )


class SqlAlchemyConnectionRepository(_Repository, ports.ConnectionRepository):
    def add(
        self, environment_id: int, package: AccountingPackage, name: str
    ) -> AccountingConnection:
        row = self._insert(
            connections, environment_id=environment_id, package=package.value, name=name
        )
        return connection_from_row(row)

    def get(self, connection_id: int) -> AccountingConnection | None:
        row = self._one(select(connections).where(connections.c.id == connection_id))
        return None if row is None else connection_from_row(row)

    def list_for_environment(self, environment_id: int) -> Sequence[AccountingConnection]:
        statement = (
            select(connections)
            .where(connections.c.environment_id == environment_id)
            .order_by(connections.c.id)
        )
        return [connection_from_row(row) for row in self._all(statement)]


#: Administrations with the package of their connection.
_ADMINISTRATIONS = select(administrations, connections.c.package).join(
    connections, administrations.c.connection_id == connections.c.id
)


class SqlAlchemyAdministrationRepository(_Repository, ports.AdministrationRepository):
    def add(
        self,
        environment_id: int,
        connection_id: int,
        code: str,
        name: str,
        email: str,
        package_admin_id: str,
    ) -> Administration:
        statement = (
            insert(administrations)
            .values(
                environment_id=environment_id,
                connection_id=connection_id,
                code=code,
                name=name,
                email=email,
                package_admin_id=package_admin_id,
            )
            .returning(administrations.c.id)
        )
        rows = self._guarded(
            statement,
            environment_id=environment_id,
            code=code,
            name=name,
            code_name=administration_code_name,
            package_link=administration_package_link,
        )
        return self._stored(rows)

    def get(self, administration_id: int) -> Administration | None:
        return self._first(administrations.c.id == administration_id)

    def get_many(self, administration_ids: Collection[int]) -> Sequence[Administration]:
        return self._list(administrations.c.id.in_(list(administration_ids)))

    def lock(self, administration_id: int) -> Administration | None:
        # SQLite renders no FOR UPDATE: its units of work take the write lock when they open.
        statement = _ADMINISTRATIONS.where(administrations.c.id == administration_id)
        row = self._one(statement.with_for_update(of=administrations))
        return None if row is None else administration_from_row(row)

    def list_for_environment(self, environment_id: int) -> Sequence[Administration]:
        return self._list(
            administrations.c.environment_id == environment_id,
        )

    def list_for_connection(self, connection_id: int) -> Sequence[Administration]:
        return self._list(administrations.c.connection_id == connection_id)

    def find_by_code_name(self, environment_id: int, code: str, name: str) -> Administration | None:
        return self._first(
            administrations.c.environment_id == environment_id,
            administrations.c.code == code,
            administrations.c.name == name,
        )

    def find_by_code_names(
        self, environment_id: int, pairs: Collection[tuple[str, str]]
    ) -> Sequence[Administration]:
        if not pairs:
            return []
        return self._list(
            administrations.c.environment_id == environment_id,
            tuple_(administrations.c.code, administrations.c.name).in_(list(pairs)),
        )

    def find_linked(self, connection_id: int, package_admin_id: str) -> Administration | None:
        if has_invisible_characters(package_admin_id):
            # Typed, not chosen: no row holds such an id, and PostgreSQL cannot compare it.
            return None
        return self._first(
            administrations.c.connection_id == connection_id,
            administrations.c.package_admin_id == package_admin_id,
        )

    def replace(self, administration: Administration) -> Administration:
        statement = (
            update(administrations)
            .where(administrations.c.id == administration.id)
            .values(
                environment_id=administration.environment_id,
                connection_id=administration.connection_id,
                code=administration.code,
                name=administration.name,
                email=administration.email,
                package_admin_id=administration.package_admin_id,
            )
            .returning(administrations.c.id)
        )
        rows = self._guarded(
            statement,
            environment_id=administration.environment_id,
            code=administration.code,
            name=administration.name,
            code_name=administration_code_name,
            package_link=administration_package_link,
        )
        return self._stored(rows)

    def _stored(self, written: Sequence[RowMapping]) -> Administration:
        """The administration that a write returned the id of, read with its package."""
        stored = self.get(written[0]["id"]) if written else None
        if stored is None:
            raise NotFound("unknown_administration")
        return stored

    def _first(self, *where: ColumnElement[bool]) -> Administration | None:
        row = self._one(_ADMINISTRATIONS.where(*where))
        return None if row is None else administration_from_row(row)

    def _list(self, *where: ColumnElement[bool]) -> Sequence[Administration]:
        statement = _ADMINISTRATIONS.where(*where).order_by(
            administrations.c.code, administrations.c.name, administrations.c.id
        )
        return [administration_from_row(row) for row in self._all(statement)]


class SqlAlchemyAuthorizationFlowRepository(_Repository, ports.AuthorizationFlowRepository):
    def add(
        self, administration_id: int, name: str, authorizer_user_ids: Sequence[int] = ()
    ) -> AuthorizationFlow:
        row = self._insert(authorization_flows, administration_id=administration_id, name=name)
        flow_id = row["id"]
        if authorizer_user_ids:
            self._connection.execute(
                insert(authorization_flow_authorizers),
                [
                    {"flow_id": flow_id, "user_id": user_id, "position": position}
                    for position, user_id in enumerate(authorizer_user_ids)
                ],
            )
        return authorization_flow_from_row(row, authorizer_user_ids)

    def list_for_administration(self, administration_id: int) -> Sequence[AuthorizationFlow]:
        return self.list_for_administrations([administration_id])

    def list_for_administrations(
        self, administration_ids: Collection[int]
    ) -> Sequence[AuthorizationFlow]:
        which = authorization_flows.c.administration_id.in_(list(administration_ids))
        flows = self._all(
            select(authorization_flows).where(which).order_by(authorization_flows.c.id)
        )
        authorizers = self._all(
            select(authorization_flow_authorizers)
            .join(authorization_flows)
            .where(which)
            .order_by(authorization_flow_authorizers.c.position)
        )
        return [
            authorization_flow_from_row(
                flow, [row["user_id"] for row in authorizers if row["flow_id"] == flow["id"]]
            )
            for flow in flows
        ]


class SqlAlchemyAccessRepository(_Repository, ports.AccessRepository):
    def set(self, administration_id: int, user_id: int, *, granted: bool) -> None:
        statement = _dialect_insert(self._connection, access_grants).values(
            administration_id=administration_id, user_id=user_id, granted=granted
        )
        self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[access_grants.c.administration_id, access_grants.c.user_id],
                set_={"granted": granted},
            )
        )

    def list_for_administration(self, administration_id: int) -> Sequence[AccessGrant]:
        statement = (
            select(access_grants)
            .where(access_grants.c.administration_id == administration_id)
            .order_by(access_grants.c.user_id)
        )
        return [access_grant_from_row(row) for row in self._all(statement)]

    def clear_for_administration(self, administration_id: int) -> None:
        self._connection.execute(
            delete(access_grants).where(access_grants.c.administration_id == administration_id)
        )
