"""Operator commands: ``migrationkit demo`` and ``migrationkit db upgrade``."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from migrationkit import services
from migrationkit.adapters.connectors.memory import InMemoryConnectorRegistry
from migrationkit.adapters.inprocess import InProcessQueue
from migrationkit.adapters.sqlalchemy import make_engine, unit_of_work_factory, upgrade
from migrationkit.bootstrap import bootstrap
from migrationkit.config import ConfigError, Settings
from migrationkit.demo import seed
from migrationkit.domain.dates import show_date
from migrationkit.domain.errors import MigrationError
from migrationkit.domain.model import AccountingPackage


def _say(title: str, *lines: str) -> None:
    print(f"\n== {title}")
    for line in lines:
        print(f"   {line}")


def _refused(what: str, action: Callable[[], object]) -> None:
    """Runs an action that the rules must refuse, and shows the refusal."""
    try:
        action()
    except MigrationError as error:
        _say(f"Geweigerd: {what}", f"[{error.code}] {error.message('nl')}")
    else:  # the demo shows the rules at work; a missing refusal is a bug worth shouting
        raise SystemExit(f"demo: expected a refusal for {what}")


def run_demo(home: Path) -> None:
    """Offers, redeems and starts a migration of the demo data, printing each step."""
    settings = Settings.from_environ({"MIGRATIONKIT_HOME": str(home)})
    engine = make_engine(settings.database_url)
    upgrade(engine)
    connectors = InMemoryConnectorRegistry()
    queue = InProcessQueue()
    deps = bootstrap(settings, connectors=connectors, queue=queue, uow=unit_of_work_factory(engine))
    with deps.uow() as uow:
        if uow.environments.list():  # the demo's fixed users would clash with the old ones
            raise SystemExit(f"demo: {home} holds demo data already; choose a new --home")
        data = seed(uow, connectors)
    noord, zuid, west = (data.users[f"{n}@example.nl"] for n in ("noord", "zuid", "west"))
    exact = AccountingPackage.EXACT_ONLINE_NL
    noord_exact = data.connections[("Kantoor Noord", exact)]
    _say("Demo-gegevens", f"database: {settings.database_url}", "wachtwoord: demo")

    _refused(
        "1003 heeft een autorisator in een autorisatieflow",
        lambda: services.offer_administrations(
            deps,
            actor_id=noord,
            connection_id=noord_exact,
            administration_ids=[data.administrations["1003"]],
            recipients=["zuid@example.nl"],
            accepted_terms=True,
        ),
    )
    receipt = services.offer_administrations(
        deps,
        actor_id=noord,
        connection_id=noord_exact,
        administration_ids=[data.administrations["1001"], data.administrations["1002"]],
        recipients=["noord@example.nl", "zuid@example.nl"],
        accepted_terms=True,
    )
    _say(
        "Kantoor Noord biedt 1001 en 1002 (Exact Online) aan",
        f"overdrachtscode (eenmalig getoond): {receipt.code}",
        f"verloopt op: {show_date(receipt.offer.expires_at)}",
    )
    _say(
        "Migratie overzicht van Kantoor Noord",
        *(
            f"{row.administration_name:<28} {row.masked_code}  {row.status.label_nl}"
            for row in services.outgoing_overview(deps, actor_id=noord)
        ),
    )
    _refused(
        "Kantoor West heeft geen abonnement",
        lambda: services.redeem_code(
            deps, actor_id=west, code=receipt.code, accepted_terms=True, accepted_costs=True
        ),
    )
    redeemed = services.redeem_code(
        deps, actor_id=zuid, code=receipt.code, accepted_terms=True, accepted_costs=True
    )
    _say(
        "Kantoor Zuid vult de code in",
        *(f"{item.code} {item.name}: {item.status.label_nl}" for item in redeemed.items),
    )
    zuid_exact = data.connections[("Kantoor Zuid", exact)]
    available = services.available_package_administrations(
        deps, actor_id=zuid, connection_id=zuid_exact
    )
    by_name = {pa.name: pa for pa in available}
    _refused(
        "een Twinfield-koppeling voor een Exact Online-administratie",
        lambda: services.start_migrations(
            deps,
            actor_id=zuid,
            offer_id=redeemed.offer.id,
            choices=[
                services.TargetChoice(
                    redeemed.items[0].id,
                    data.connections[("Kantoor Zuid", AccountingPackage.TWINFIELD)],
                    by_name[redeemed.items[0].name].package_admin_id,
                )
            ],
        ),
    )
    migrations = services.start_migrations(
        deps,
        actor_id=zuid,
        offer_id=redeemed.offer.id,
        choices=[
            services.TargetChoice(item.id, zuid_exact, by_name[item.name].package_admin_id)
            for item in redeemed.items
        ],
    )
    offered_codes = {item.id: item.code for item in redeemed.items}
    _say(
        "Kantoor Zuid start de migratie",
        *(
            f"migratie {m.id}: {m.target.code} {m.target.name}"
            + (
                f" (in het pakket gewijzigd van {offered_codes[m.item_id]})"
                if m.target.code != offered_codes[m.item_id]
                else ""
            )
            for m in migrations
        ),
        f"in de wachtrij voor de achtergrondverwerking: {list(queue.pending)}",
    )
    _say(
        "Overzicht van Kantoor Zuid",
        *(
            f"{row.administration_name:<28} {row.package.label:<18} {row.status.label_nl}"
            for row in services.incoming_overview(deps, actor_id=zuid)
        ),
    )
    with deps.uow() as uow:
        outbox = uow.outbox.list_recent()
    _say(
        "Uitgaande e-mail (outbox)",
        *(f"{', '.join(m.email.to)}: {m.email.subject}" for m in reversed(outbox)),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="migrationkit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="offer, redeem and start a migration of demo data")
    demo.add_argument(
        "--home", type=Path, help="folder for the demo database (default: a new temporary one)"
    )
    db = commands.add_parser("db", help="database commands")
    db.add_argument("action", choices=["upgrade"], help="bring the schema to the newest version")
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            run_demo(args.home or Path(tempfile.mkdtemp(prefix="migrationkit-demo-")))
        else:
            upgrade(Settings.from_environ().database_url)
            print("database schema is up to date")
    except ConfigError as error:
        print(f"migrationkit: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
