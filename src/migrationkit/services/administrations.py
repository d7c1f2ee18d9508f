"""The Administraties tab: the list, adding from the package, internal migration (relink)
and access per user."""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs

from migrationkit.domain.audit import AuditAction
from migrationkit.domain.errors import InvalidInput, NotFound, RuleViolation
from migrationkit.domain.model import (
    AccessGrant,
    Administration,
    Connection,
    ItemStatus,
    PackageAdministration,
    User,
)
from migrationkit.domain.rules import (
    require_package_administration_available,
    require_relink,
    require_unique_code_name,
)
from migrationkit.ports import UnitOfWork
from migrationkit.services import _load
from migrationkit.services.audit import audited, record
from migrationkit.services.dependencies import Dependencies

#: While it moves its users can no longer change it (DESIGN, step 5).
_MOVING = frozenset({ItemStatus.QUEUED, ItemStatus.PROCESSING})


@attrs.frozen
class AdministrationRow:
    """A row of the Administraties tab."""

    administration: Administration
    connection: Connection
    #: The status of its open offer, if any: Aangeboden, In de wachtrij, Aan het verwerken...
    offer_status: ItemStatus | None

    @property
    def is_moving(self) -> bool:
        return self.offer_status in _MOVING


@attrs.frozen
class UserAccess:
    """A row of the tab Gebruikers: a user and Toegang Ja/Nee."""

    user: User
    granted: bool


@audited(AuditAction.OPEN)
def list_administrations(deps: Dependencies, *, actor_id: int) -> tuple[AdministrationRow, ...]:
    """The actor's environment's administrations, ordered by code and name: all of them for
    a super user, those with Toegang Ja for anyone else."""
    with deps.uow() as uow:
        actor = _load.user(uow, actor_id)
        connections = {c.id: c for c in uow.connections.list_for_environment(actor.environment_id)}
        rows = []
        for administration in uow.administrations.list_for_environment(actor.environment_id):
            if not actor.is_super_user and not _granted(uow, administration.id, actor.id):
                continue
            open_items = uow.items.list_open_for_administration(administration.id)
            rows.append(
                AdministrationRow(
                    administration,
                    connections[administration.connection_id],
                    open_items[0].status if open_items else None,
                )
            )
    return tuple(rows)


@audited(AuditAction.ADD_ADMINISTRATIONS)
def add_administrations(
    deps: Dependencies,
    *,
    actor_id: int,
    connection_id: int,
    package_admin_ids: Sequence[str],
    inbox_domain: str,
) -> tuple[Administration, ...]:
    """+ Administratie(s) toevoegen: links administrations of the package, through one of
    the actor's connections, into the environment. Each must exist in the package and be
    free (R9) and its code and name free in the environment (R8). All or nothing.

    Each gets a document inbox at ``inbox_domain``, which it keeps wherever it moves.
    """
    if not package_admin_ids:
        raise InvalidInput("no_administrations")
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        connection = _load.connection(uow, connection_id, actor.environment_id)
    # One listing, however many are added (Dependencies.package_listings).
    listed = {
        pa.package_admin_id: pa
        for pa in deps.package_listings().administrations(deps.connectors, connection)
    }
    found = [(pid, listed.get(pid)) for pid in package_admin_ids]
    for index, (package_admin_id, package_administration) in enumerate(found):
        if package_administration is not None and package_admin_id in package_admin_ids[:index]:
            raise InvalidInput(
                "duplicate_administration",
                code=package_administration.code,
                name=package_administration.name,
            )
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        environment = _load.environment(uow, actor.environment_id)
        added: list[Administration] = []
        for package_admin_id, package_administration in found:
            linked = uow.administrations.find_linked(connection.id, package_admin_id)
            chosen = require_package_administration_available(
                connection, package_admin_id, package_administration, [linked] if linked else []
            )
            clash = uow.administrations.find_by_code_name(environment.id, chosen.code, chosen.name)
            require_unique_code_name(
                environment, chosen.code, chosen.name, [clash] if clash else []
            )
            added.append(
                uow.administrations.add(
                    environment.id,
                    connection.id,
                    chosen.code,
                    chosen.name,
                    _inbox_address(chosen, inbox_domain),
                    chosen.package_admin_id,
                )
            )
        for administration in added:
            record(
                uow,
                deps,
                actor,
                AuditAction.ADD_ADMINISTRATIONS,
                ("administration", administration.id),
            )
        uow.commit()
    return tuple(added)


def _inbox_address(package_administration: PackageAdministration, domain: str) -> str:
    """A new administration's document inbox: its name and code, at the platform's domain."""
    slug = re.sub(r"[^a-z0-9]+", "", package_administration.name.casefold()) or "administratie"
    code = re.sub(r"[^a-z0-9]+", "", package_administration.code.casefold())
    return f"{slug}-{code}@{domain}" if code else f"{slug}@{domain}"


@audited(AuditAction.RELINK)
def relink_administration(
    deps: Dependencies,
    *,
    actor_id: int,
    administration_id: int,
    connection_id: int,
    package_admin_id: str,
) -> Administration:
    """Interne migratie: re-points an administration of the actor's environment to another
    administration of the same package (R16), which must exist and be free (R8, R9); not
    while it moves."""
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        administration = _load.administration(uow, administration_id, actor.environment_id)
        connection = _load.connection(uow, connection_id, actor.environment_id)
    found = deps.connectors.connector_for(connection).find_administration(
        connection, package_admin_id
    )
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        administration = _load.administration(uow, administration_id, actor.environment_id)
        if any(
            item.status in _MOVING
            for item in uow.items.list_open_for_administration(administration.id)
        ):
            raise RuleViolation(
                "administration_moving", code=administration.code, name=administration.name
            )
        linked = uow.administrations.find_linked(connection.id, package_admin_id)
        package_administration = require_package_administration_available(
            connection,
            package_admin_id,
            found,
            [linked] if linked is not None and linked.id != administration.id else [],
        )
        require_relink(actor, administration, connection, package_administration)
        environment = _load.environment(uow, actor.environment_id)
        clash = uow.administrations.find_by_code_name(
            environment.id, package_administration.code, package_administration.name
        )
        require_unique_code_name(
            environment,
            package_administration.code,
            package_administration.name,
            [clash] if clash is not None and clash.id != administration.id else [],
        )
        relinked = uow.administrations.replace(
            attrs.evolve(
                administration,
                connection_id=connection.id,
                code=package_administration.code,
                name=package_administration.name,
                package_admin_id=package_administration.package_admin_id,
            )
        )
        record(uow, deps, actor, AuditAction.RELINK, ("administration", relinked.id))
        uow.commit()
    return relinked


@audited(AuditAction.OPEN)
def list_access(
    deps: Dependencies, *, actor_id: int, administration_id: int
) -> tuple[UserAccess, ...]:
    """Every user of the environment with Toegang Ja or Nee for one administration."""
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        administration = _load.administration(uow, administration_id, actor.environment_id)
        granted = {
            g.user_id for g in uow.access.list_for_administration(administration.id) if g.granted
        }
        return tuple(
            UserAccess(user, user.id in granted)
            for user in uow.users.list_for_environment(actor.environment_id)
        )


@audited(AuditAction.SET_ACCESS)
def set_access(
    deps: Dependencies, *, actor_id: int, administration_id: int, user_id: int, granted: bool
) -> AccessGrant:
    """Toegang Ja/Nee for one user of the environment (R14: granted by a super user)."""
    with deps.uow() as uow:
        actor = _load.super_user(uow, actor_id)
        administration = _load.administration(uow, administration_id, actor.environment_id)
        user = uow.users.get(user_id)
        if user is None or user.environment_id != actor.environment_id:
            raise NotFound("unknown_user")
        uow.access.set(administration.id, user.id, granted=granted)
        record(uow, deps, actor, AuditAction.SET_ACCESS, ("administration", administration.id))
        uow.commit()
    return AccessGrant(administration.id, user.id, granted)


def has_access(deps: Dependencies, *, user_id: int, administration_id: int) -> bool:
    """Whether a user may open an administration and its archive."""
    with deps.uow() as uow:
        user = _load.user(uow, user_id)
        administration = uow.administrations.get(administration_id)
        if administration is None or administration.environment_id != user.environment_id:
            return False
        return _granted(uow, administration.id, user.id)


def _granted(uow: UnitOfWork, administration_id: int, user_id: int) -> bool:
    return any(
        g.user_id == user_id and g.granted
        for g in uow.access.list_for_administration(administration_id)
    )
