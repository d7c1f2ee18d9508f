"""The demo data: four offices, their users, a connection to each package, administrations.

Fixed, so the README can list it: Kantoor Noord and Kantoor Zuid have a subscription and
different archive stores; Kantoor Oost has a subscription and shares Noord's store; Kantoor
West has no subscription. Every user's password is "demo".
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping

import attrs

from migrationkit.adapters.connectors.memory import InMemoryConnectorRegistry
from migrationkit.domain.model import AccountingPackage, PackageAdministration, Role
from migrationkit.ports import UnitOfWork

PASSWORD = "demo"  # noqa: S105 - the demo's published password

P = AccountingPackage

#: (name, has subscription, archive store, super user)
ENVIRONMENTS = (
    ("Kantoor Noord", True, "noord", "noord@example.nl"),
    ("Kantoor Zuid", True, "zuid", "zuid@example.nl"),
    ("Kantoor Oost", True, "noord", "oost@example.nl"),
    ("Kantoor West", False, "west", "west@example.nl"),
)
PLAIN_USER = "medewerker@example.nl"

#: Noord's administrations per package: (code, name).
NOORD_ADMINISTRATIONS: Mapping[AccountingPackage, tuple[tuple[str, str], ...]] = {
    P.EXACT_ONLINE_NL: (
        ("1001", "Bakkerij De Korenschoof"),
        ("1002", "Fietsenmakerij Van Dijk"),
        ("1003", "Hoveniersbedrijf Groen"),
    ),
    P.TWINFIELD: (("2001", "Installatiebedrijf Vos"), ("2002", "Kapsalon Knip")),
    P.BOEKHOUDGEMAK_MULTIVERS: (("3001", "Transport Jansen"), ("3002", "Drukkerij Letter")),
    P.XERO: (("4001", "Studio Pixel"), ("4002", "Cafe De Hoek")),
    P.ACCOUNTVIEW: (("5001", "Tandartspraktijk Smit"), ("5002", "Advocatenkantoor Meijer")),
}
#: The administration with an authorizer in an authorization flow (R10).
WITH_AUTHORIZER = "1003"
#: The counterpart that the package moved under another code: old code -> new code.
CHANGED_CODES = {"1002": "7002"}


@attrs.frozen
class DemoData:
    """The ids the demo needs: environments and users by e-mail, connections by
    (environment name, package)."""

    environments: Mapping[str, int]
    users: Mapping[str, int]
    connections: Mapping[tuple[str, AccountingPackage], int]
    administrations: Mapping[str, int]


def password_hash(password: str) -> str:
    """A salted scrypt hash in the ``scrypt:n:r:p$salt$hex`` form that Werkzeug reads."""
    n, r, p = 2**15, 8, 1
    salt = secrets.token_urlsafe(12)[:16]
    digest = hashlib.scrypt(
        password.encode(), salt=salt.encode(), n=n, r=r, p=p, maxmem=132 * n * r * p
    ).hex()
    return f"scrypt:{n}:{r}:{p}${salt}${digest}"


def seed(uow: UnitOfWork, connectors: InMemoryConnectorRegistry) -> DemoData:
    """Writes the demo data through ``uow`` (and commits), and makes the in-memory packages
    know Noord's administrations and their counterparts in Zuid and Oost."""
    hashed = password_hash(PASSWORD)
    environments: dict[str, int] = {}
    users: dict[str, int] = {}
    connections: dict[tuple[str, AccountingPackage], int] = {}
    administrations: dict[str, int] = {}
    for name, subscribed, store, email in ENVIRONMENTS:
        environment = uow.environments.add(name, has_subscription=subscribed, archive_store=store)
        environments[name] = environment.id
        label = name.removeprefix("Kantoor ")
        users[email] = uow.users.add(
            environment.id, email, f"Supergebruiker {label}", Role.SUPER_USER, hashed
        ).id
        for package in AccountingPackage:
            connection = uow.connections.add(environment.id, package, f"{package.label} {label}")
            connections[(name, package)] = connection.id
    noord = environments["Kantoor Noord"]
    users[PLAIN_USER] = uow.users.add(noord, PLAIN_USER, "Medewerker Noord", Role.USER, hashed).id
    for package, entries in NOORD_ADMINISTRATIONS.items():
        connector = connectors.connector(package)
        for code, name in entries:
            slug = name.lower().replace(" ", "")
            package_admin = PackageAdministration(f"noord-{code}", code, name)
            connector.add_package_administration(
                connections[("Kantoor Noord", package)], package_admin
            )
            administration = uow.administrations.add(
                noord,
                connections[("Kantoor Noord", package)],
                code,
                name,
                f"{slug}@inbox.example.nl",
                package_admin.package_admin_id,
            )
            administrations[code] = administration.id
            for office in ("Zuid", "Oost"):
                connector.add_package_administration(
                    connections[(f"Kantoor {office}", package)],
                    PackageAdministration(
                        f"{office.lower()}-{code}", CHANGED_CODES.get(code, code), name
                    ),
                )
    uow.flows.add(administrations[WITH_AUTHORIZER], "Inkoopfacturen", [users[PLAIN_USER]])
    uow.commit()
    return DemoData(environments, users, connections, administrations)
