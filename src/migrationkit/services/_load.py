"""Loading what a use case acts on, refusing what is missing or belongs elsewhere: both
with the same ``NotFound``, so that no refusal (nor its record in the trail) tells another
environment's objects from missing ones."""

from __future__ import annotations

from collections.abc import Sequence

from migrationkit.domain.errors import InvalidInput, NotFound, RuleViolation
from migrationkit.domain.model import (
    Administration,
    Connection,
    Environment,
    Migration,
    OfferItem,
    TransferOffer,
    User,
)
from migrationkit.domain.rules import require_super_user
from migrationkit.ports import UnitOfWork


def user(uow: UnitOfWork, user_id: int) -> User:
    found = uow.users.get(user_id)
    if found is None:
        raise NotFound("unknown_user")
    return found


def super_user(uow: UnitOfWork, user_id: int) -> User:
    """R1: the acting user, who must be a super user of their own environment."""
    actor = user(uow, user_id)
    require_super_user(actor, actor.environment_id)
    return actor


def redeemer(uow: UnitOfWork, offer: TransferOffer) -> User:
    """The super user who redeemed the offer's code: the recipient of its migrations."""
    return user(uow, offer.redeemed_by_user_id or 0)


def environment(uow: UnitOfWork, environment_id: int) -> Environment:
    found = uow.environments.get(environment_id)
    if found is None:
        raise NotFound("unknown_environment")
    return found


def connection(uow: UnitOfWork, connection_id: int, environment_id: int) -> Connection:
    """A connection of the given environment; another environment's is unknown, exactly as
    a missing one: no refusal tells them apart."""
    found = uow.connections.get(connection_id)
    if found is None or found.environment_id != environment_id:
        raise NotFound("unknown_connection")
    return found


def administration(uow: UnitOfWork, administration_id: int, environment_id: int) -> Administration:
    """An administration of the given environment; another environment's is unknown,
    exactly as a missing one."""
    found = uow.administrations.get(administration_id)
    if found is None or found.environment_id != environment_id:
        raise NotFound("unknown_administration")
    return found


def offer(uow: UnitOfWork, offer_id: int) -> TransferOffer:
    found = uow.offers.get(offer_id)
    if found is None:
        raise NotFound("unknown_offer")
    return found


def item(uow: UnitOfWork, item_id: int) -> OfferItem:
    found = uow.items.get(item_id)
    if found is None:
        raise NotFound("unknown_item")
    return found


def administrations(
    uow: UnitOfWork, administration_ids: Sequence[int], environment_id: int
) -> list[Administration]:
    """The environment's administrations with these ids, in their order, read in one
    query."""
    found = {
        a.id: a
        for a in uow.administrations.get_many(set(administration_ids))
        if a.environment_id == environment_id
    }
    if any(i not in found for i in administration_ids):
        raise NotFound("unknown_administration")
    return [found[i] for i in administration_ids]


def chosen_items(uow: UnitOfWork, offer: TransferOffer, item_ids: Sequence[int]) -> list[OfferItem]:
    """The chosen items of an offer, in the order chosen; another offer's item or an item
    chosen twice is refused. The offer's items are read in one query."""
    offered = {i.id: i for i in uow.items.list_for_offer(offer.id)}
    chosen: list[OfferItem] = []
    for item_id in item_ids:
        found = offered.get(item_id)
        if found is None:
            item(uow, item_id)  # a missing item is unknown, as it is anywhere
            raise RuleViolation("unknown_item")
        if found in chosen:
            raise InvalidInput("duplicate_administration", code=found.code, name=found.name)
        chosen.append(found)
    return chosen


def migration(uow: UnitOfWork, migration_id: int) -> Migration:
    found = uow.migrations.get(migration_id)
    if found is None:
        raise NotFound("unknown_migration")
    return found
