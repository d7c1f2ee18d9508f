"""Connections, administrations, their authorization flows and who has access."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import attrs

from migrationkit import ports
from migrationkit.domain.model import (
    AccessGrant,
    AccountingPackage,
    Administration,
    AuthorizationFlow,
    Connection,
)
from migrationkit.testing._repositories._base import _existing, _Repository
from migrationkit.testing._repositories.tables import (
    ACCESS,
    ADMINISTRATIONS,
    CONNECTIONS,
    ENVIRONMENTS,
    FLOWS,
    USERS,
)


class InMemoryConnectionRepository(_Repository, ports.ConnectionRepository):
    def add(self, environment_id: int, package: AccountingPackage, name: str) -> Connection:
        tx = self._tx
        _existing(tx, ENVIRONMENTS, environment_id, "unknown_environment")
        connection = Connection(
            id=tx.next_id(CONNECTIONS.name),
            environment_id=environment_id,
            package=package,
            name=name,
        )
        CONNECTIONS.put(tx, connection.id, connection)
        return connection

    def get(self, connection_id: int) -> Connection | None:
        return CONNECTIONS.get(self._tx, connection_id)

    def list_for_environment(self, environment_id: int) -> Sequence[Connection]:
        """Ordered by id."""
        return [c for c in CONNECTIONS.rows(self._tx) if c.environment_id == environment_id]


def _by_code_name(administrations: list[Administration]) -> list[Administration]:
    return sorted(administrations, key=lambda a: (a.code, a.name, a.id))


class InMemoryAdministrationRepository(_Repository, ports.AdministrationRepository):
    def add(
        self,
        environment_id: int,
        connection_id: int,
        code: str,
        name: str,
        email: str,
        package_admin_id: str,
    ) -> Administration:
        tx = self._tx
        _existing(tx, ENVIRONMENTS, environment_id, "unknown_environment")
        connection: Connection = _existing(tx, CONNECTIONS, connection_id, "unknown_connection")
        administration = Administration(
            id=tx.next_id(ADMINISTRATIONS.name),
            environment_id=environment_id,
            connection_id=connection_id,
            package=connection.package,
            code=code,
            name=name,
            email=email,
            package_admin_id=package_admin_id,
        )
        ADMINISTRATIONS.put(tx, administration.id, administration)
        return administration

    def get(self, administration_id: int) -> Administration | None:
        return ADMINISTRATIONS.get(self._tx, administration_id)

    def get_many(self, administration_ids: Collection[int]) -> Sequence[Administration]:
        wanted = set(administration_ids)
        return [a for a in ADMINISTRATIONS.rows(self._tx) if a.id in wanted]

    def lock(self, administration_id: int) -> Administration | None:
        """Writes the row back unchanged: of two units of work that lock it, the later
        commit fails with ``ConcurrentUpdate``, where a database would have made it wait."""
        tx = self._tx
        administration = ADMINISTRATIONS.get(tx, administration_id)
        if administration is not None:
            ADMINISTRATIONS.put(tx, administration_id, administration)
        return administration

    def list_for_environment(self, environment_id: int) -> Sequence[Administration]:
        return _by_code_name(
            [a for a in ADMINISTRATIONS.rows(self._tx) if a.environment_id == environment_id]
        )

    def list_for_connection(self, connection_id: int) -> Sequence[Administration]:
        """Ordered by code, then name."""
        return _by_code_name(
            [a for a in ADMINISTRATIONS.rows(self._tx) if a.connection_id == connection_id]
        )

    def find_by_code_name(self, environment_id: int, code: str, name: str) -> Administration | None:
        return next(
            (
                a
                for a in ADMINISTRATIONS.rows(self._tx)
                if (a.environment_id, a.code, a.name) == (environment_id, code, name)
            ),
            None,
        )

    def find_by_code_names(
        self, environment_id: int, pairs: Collection[tuple[str, str]]
    ) -> Sequence[Administration]:
        wanted = set(pairs)
        return _by_code_name(
            [
                a
                for a in ADMINISTRATIONS.rows(self._tx)
                if a.environment_id == environment_id and (a.code, a.name) in wanted
            ]
        )

    def find_linked(self, connection_id: int, package_admin_id: str) -> Administration | None:
        return next(
            (
                a
                for a in ADMINISTRATIONS.rows(self._tx)
                if (a.connection_id, a.package_admin_id) == (connection_id, package_admin_id)
            ),
            None,
        )

    def replace(self, administration: Administration) -> Administration:
        tx = self._tx
        _existing(tx, ADMINISTRATIONS, administration.id, "unknown_administration")
        _existing(tx, ENVIRONMENTS, administration.environment_id, "unknown_environment")
        connection: Connection = _existing(
            tx, CONNECTIONS, administration.connection_id, "unknown_connection"
        )
        # The package follows the connection, as the stored row has no package of its own.
        stored = attrs.evolve(administration, package=connection.package)
        ADMINISTRATIONS.put(tx, stored.id, stored)
        return stored


class InMemoryAuthorizationFlowRepository(_Repository, ports.AuthorizationFlowRepository):
    def add(
        self, administration_id: int, name: str, authorizer_user_ids: Sequence[int] = ()
    ) -> AuthorizationFlow:
        tx = self._tx
        _existing(tx, ADMINISTRATIONS, administration_id, "unknown_administration")
        flow = AuthorizationFlow(
            id=tx.next_id(FLOWS.name),
            administration_id=administration_id,
            name=name,
            authorizer_user_ids=tuple(authorizer_user_ids),
        )
        FLOWS.put(tx, flow.id, flow)
        return flow

    def list_for_administration(self, administration_id: int) -> Sequence[AuthorizationFlow]:
        """Ordered by id."""
        return self.list_for_administrations([administration_id])

    def list_for_administrations(
        self, administration_ids: Collection[int]
    ) -> Sequence[AuthorizationFlow]:
        """Ordered by id."""
        wanted = set(administration_ids)
        return [f for f in FLOWS.rows(self._tx) if f.administration_id in wanted]


class InMemoryAccessRepository(_Repository, ports.AccessRepository):
    def set(self, administration_id: int, user_id: int, *, granted: bool) -> None:
        tx = self._tx
        _existing(tx, ADMINISTRATIONS, administration_id, "unknown_administration")
        _existing(tx, USERS, user_id, "unknown_user")
        grant = AccessGrant(administration_id=administration_id, user_id=user_id, granted=granted)
        ACCESS.put(tx, (administration_id, user_id), grant)

    def list_for_administration(self, administration_id: int) -> Sequence[AccessGrant]:
        """Ordered by user id."""
        return [g for g in ACCESS.rows(self._tx) if g.administration_id == administration_id]

    def clear_for_administration(self, administration_id: int) -> None:
        tx = self._tx
        for grant in self.list_for_administration(administration_id):
            ACCESS.delete(tx, (administration_id, grant.user_id))
