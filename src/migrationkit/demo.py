"""The demo data: four offices, their users, a connection to each package, administrations
with archives of real PDF invoices.

Fixed, so the README can list it: Kantoor Noord and Kantoor Zuid have a subscription and
different archive stores; Kantoor Oost has a subscription and shares Noord's store; Kantoor
West has no subscription. Every user's password is "demo". Each of Noord's administrations
has an archive of small PDF invoices, made here byte for byte the same on every run.

With a practice (``seed(..., practice=300)``, MIGRATIONKIT_DEMO_PRACTICE=300) a fifth office,
Kantoor Praktijk, holds that many administrations in its Exact Online connection and a few in
each other package, each with a few invoices: an office that Zuid takes over. Zuid's package
accounts hold their counterparts, most under the same code, some under a changed code, and two
renamed as well, which the matching cannot find.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta

import attrs

from migrationkit.adapters.connectors.memory import InMemoryConnectorRegistry
from migrationkit.domain.model import (
    AccountingPackage,
    Administration,
    Environment,
    PackageAdministration,
    Role,
)
from migrationkit.ports import ArchiveStore, ArchiveStores, UnitOfWork

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
#: The offices whose package accounts hold these administrations: Noord's own, and the
#: counterparts that Zuid and Oost take them in as.
PACKAGE_ACCOUNTS = ("Noord", "Zuid", "Oost")
#: The administration with an authorizer in an authorization flow (R10).
WITH_AUTHORIZER = "1003"
#: The counterpart that the package moved under another code: old code -> new code.
CHANGED_CODES = {"1002": "7002"}
#: How many PDF invoices each of Noord's administrations holds in its archive.
ARCHIVE_SIZES: Mapping[str, int] = {
    "1001": 250,
    "1002": 12,
    "1003": 4,
    "2001": 9,
    "2002": 6,
    "3001": 7,
    "3002": 5,
    "4001": 8,
    "4002": 3,
    "5001": 6,
    "5002": 10,
}
#: The suppliers whose invoices fill the archives.
SUPPLIERS = (
    "Groothandel Bakker B.V.",
    "Kantoorartikelen Visser",
    "Energie Noordzee N.V.",
    "Telecom Polder B.V.",
    "Drukwerk Direct",
    "Transportbedrijf De Vries",
    "Schoonmaakbedrijf Glans",
    "Autoverhuur Snel",
)
#: The practice that Zuid takes over (with ``practice``): its office as in ENVIRONMENTS.
PRACTICE = ("Kantoor Praktijk", True, "praktijk", "praktijk@example.nl")
#: The office whose package accounts hold the practice's counterparts.
PRACTICE_BUYER = "Zuid"
#: The practice's administrations in each package but Exact Online, and each one's invoices.
PRACTICE_OTHERS = 2
PRACTICE_DOCUMENTS = 3
#: The most administrations a practice can have: their codes have five digits.
PRACTICE_MAX = 9999
#: Every how manieth counterpart the package moved to a changed code (found by its name),
#: and the ones it also renamed (not found: the user chooses them).
PRACTICE_CHANGED_EVERY = 25
PRACTICE_RENAMED = (7, 13)
#: What the practice's clients are called: a trade and a family, one pair each.
TRADES = (
    "Bakkerij",
    "Slagerij",
    "Kapsalon",
    "Garage",
    "Bloemist",
    "Drukkerij",
    "Installatiebedrijf",
    "Schildersbedrijf",
    "Timmerbedrijf",
    "Adviesbureau",
    "Architectenbureau",
    "Fysiotherapie",
    "Tandartspraktijk",
    "Dierenkliniek",
    "Fietsenwinkel",
    "Boekhandel",
    "Cafe",
    "Restaurant",
    "Hoveniersbedrijf",
    "Transportbedrijf",
)
FAMILIES = (
    "De Vries",
    "Jansen",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "De Boer",
    "Mulder",
    "De Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "Van Leeuwen",
    "Dekker",
    "Brouwer",
    "De Wit",
    "Dijkstra",
    "Smits",
    "De Graaf",
)
#: The first invoice date; each invoice's date follows from its number.
FIRST_INVOICE_DATE = date(2026, 1, 5)
VAT_PERCENT = 21


@attrs.frozen
class DemoData:
    """The ids the demo needs: environments and users by e-mail, connections by
    (environment name, package), administrations by code."""

    environments: Mapping[str, int]
    users: Mapping[str, int]
    connections: Mapping[tuple[str, AccountingPackage], int]
    administrations: Mapping[str, int]


@attrs.frozen
class Invoice:
    """One demo document: a supplier's invoice to an administration."""

    number: str
    supplier: str
    customer: str
    #: Excluding VAT, in cents.
    amount_cents: int
    issued_on: date

    @property
    def filename(self) -> str:
        return f"factuur-{self.number}.pdf"

    @property
    def received_at(self) -> datetime:
        """When the invoice arrived in the archive: the morning after it was issued."""
        return datetime.combine(self.issued_on + timedelta(days=1), time(9, 30), UTC)

    def lines(self) -> list[str]:
        """The invoice's text, line by line, as its PDF shows it."""
        vat = self.amount_cents * VAT_PERCENT // 100
        return [
            f"Factuur {self.number}",
            f"Leverancier: {self.supplier}",
            f"Aan: {self.customer}",
            f"Factuurdatum: {self.issued_on:%d-%m-%Y}",
            f"Bedrag excl. btw: {euros(self.amount_cents)}",
            f"Btw {VAT_PERCENT}%: {euros(vat)}",
            f"Totaal: {euros(self.amount_cents + vat)}",
        ]

    def pdf(self) -> bytes:
        return pdf_document(self.lines(), title=f"Factuur {self.number}")


def euros(cents: int) -> str:
    """An amount as Dutch invoices write it: ``EUR 1.234,56``."""
    whole, rest = divmod(cents, 100)
    return f"EUR {whole:,}".replace(",", ".") + f",{rest:02d}"


def invoices(code: str, name: str, count: int | None = None) -> list[Invoice]:
    """The invoices in the archive of the demo's administration ``code`` (``count``, or as
    many as ARCHIVE_SIZES says): always the same ones, each different from every other."""
    seed_number = int(code)
    return [
        Invoice(
            number=f"{FIRST_INVOICE_DATE.year}-{code}-{n:04d}",
            supplier=SUPPLIERS[(seed_number + n) % len(SUPPLIERS)],
            customer=name,
            amount_cents=1500 + (seed_number * 7919 + n * 104729) % 250_000,
            issued_on=FIRST_INVOICE_DATE + timedelta(days=(n * 3 + seed_number) % 300),
        )
        for n in range(1, (ARCHIVE_SIZES[code] if count is None else count) + 1)
    ]


def pdf_document(lines: Sequence[str], *, title: str) -> bytes:
    """A one-page PDF 1.4 file (A4) showing ``lines`` in Helvetica, the first one larger.

    The text is written in WinAnsiEncoding, so it must be Latin-1; the same lines always give
    the same bytes.
    """
    text = ["BT", "56 780 Td", "/F1 16 Tf", f"{_pdf_string(lines[0])} Tj", "/F1 11 Tf", "0 -12 Td"]
    for line in lines[1:]:
        text += ["0 -16 Td", f"{_pdf_string(line)} Tj"]
    text.append("ET")
    content = "\n".join(text).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
        b" /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Title %s /Producer (migrationkit demo) >>" % _pdf_string(title).encode("latin-1"),
    ]
    # The comment's bytes above 127 tell tools that the file is binary.
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (
        len(objects) + 1,
        len(objects),
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def _pdf_string(text: str) -> str:
    """A PDF literal string: backslashes and parentheses escaped."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return f"({escaped})"


def password_hash(password: str) -> str:
    """A salted scrypt hash in the ``scrypt:n:r:p$salt$hex`` form that Werkzeug reads."""
    n, r, p = 2**15, 8, 1
    salt = secrets.token_urlsafe(12)[:16]
    digest = hashlib.scrypt(
        password.encode(), salt=salt.encode(), n=n, r=r, p=p, maxmem=132 * n * r * p
    ).hex()
    return f"scrypt:{n}:{r}:{p}${salt}${digest}"


@attrs.frozen
class PracticeAdministration:
    """One of the practice's administrations, and its counterpart in the buyer's package."""

    package: AccountingPackage
    code: str
    name: str
    counterpart_code: str
    counterpart_name: str


def practice_administrations(size: int) -> list[PracticeAdministration]:
    """The practice's ``size`` administrations in Exact Online, then PRACTICE_OTHERS in each
    other package; codes 60001 onwards, a changed code 8xxxx in the buyer's package."""
    if not 0 <= size <= PRACTICE_MAX - PRACTICE_OTHERS * (len(AccountingPackage) - 1):
        raise ValueError(f"a practice holds 0 to {PRACTICE_MAX} administrations, not {size}")
    others = [p for p in AccountingPackage if p is not P.EXACT_ONLINE_NL] if size else []
    packages: list[AccountingPackage] = [P.EXACT_ONLINE_NL] * size
    for other in others:
        packages += [other] * PRACTICE_OTHERS
    found = []
    for index, package in enumerate(packages):
        number = index + 1
        rounds = index // (len(TRADES) * len(FAMILIES))
        name = f"{TRADES[index % len(TRADES)]} {FAMILIES[index // len(TRADES) % len(FAMILIES)]}"
        name += f" {rounds + 1}" if rounds else ""
        code = f"6{number:04d}"
        changed = package is P.EXACT_ONLINE_NL and (
            number % PRACTICE_CHANGED_EVERY == 0 or number in PRACTICE_RENAMED
        )
        renamed = package is P.EXACT_ONLINE_NL and number in PRACTICE_RENAMED
        found.append(
            PracticeAdministration(
                package,
                code,
                name,
                f"8{number:04d}" if changed else code,
                f"{name} B.V." if renamed else name,
            )
        )
    return found


def seed(
    uow: UnitOfWork,
    connectors: InMemoryConnectorRegistry,
    archives: ArchiveStores,
    *,
    practice: int = 0,
) -> DemoData:
    """Writes the demo data through ``uow`` (and commits), Noord's archives into Noord's
    store in ``archives``, and makes the in-memory packages know Noord's administrations and
    their counterparts in Zuid and Oost. With ``practice``, Kantoor Praktijk too, with that
    many administrations in Exact Online (its archives in its own store)."""
    hashed = password_hash(PASSWORD)
    offices: dict[str, Environment] = {}
    users: dict[str, int] = {}
    connections: dict[tuple[str, AccountingPackage], int] = {}
    administrations: dict[str, int] = {}
    for name, subscribed, store, email in (*ENVIRONMENTS, *((PRACTICE,) if practice else ())):
        environment = uow.environments.add(name, has_subscription=subscribed, archive_store=store)
        offices[name] = environment
        label = name.removeprefix("Kantoor ")
        users[email] = uow.users.add(
            environment.id, email, f"Supergebruiker {label}", Role.SUPER_USER, hashed
        ).id
        for package in AccountingPackage:
            connection = uow.connections.add(environment.id, package, f"{package.label} {label}")
            connections[(name, package)] = connection.id
    noord = offices["Kantoor Noord"]
    users[PLAIN_USER] = uow.users.add(
        noord.id, PLAIN_USER, "Medewerker Noord", Role.USER, hashed
    ).id
    for package, entries in NOORD_ADMINISTRATIONS.items():
        for code, name in entries:
            slug = name.lower().replace(" ", "")
            administration = uow.administrations.add(
                noord.id,
                connections[(noord.name, package)],
                code,
                name,
                f"{slug}@inbox.example.nl",
                _package_admin_id("Noord", code),
            )
            administrations[code] = administration.id
            uow.access.set(administration.id, users[PLAIN_USER], granted=True)
            _add_archive(uow, archives.store(noord.archive_store), administration)
    uow.flows.add(administrations[WITH_AUTHORIZER], "Inkoopfacturen", [users[PLAIN_USER]])
    if practice:
        office = offices[PRACTICE[0]]
        store = archives.store(office.archive_store)
        for entry in practice_administrations(practice):
            slug = entry.name.lower().replace(" ", "")
            administration = uow.administrations.add(
                office.id,
                connections[(office.name, entry.package)],
                entry.code,
                entry.name,
                f"{slug}.{entry.code}@inbox.example.nl",
                _package_admin_id("Praktijk", entry.code),
            )
            administrations[entry.code] = administration.id
            _add_archive(uow, store, administration, PRACTICE_DOCUMENTS)
    fill_packages(uow, connectors, practice=practice)
    uow.commit()
    return DemoData(
        {name: environment.id for name, environment in offices.items()},
        users,
        connections,
        administrations,
    )


def _add_archive(
    uow: UnitOfWork, store: ArchiveStore, administration: Administration, count: int | None = None
) -> None:
    """Writes the administration's invoices (``count``, or as ARCHIVE_SIZES says) into
    ``store`` and records them as its documents."""
    for invoice in invoices(administration.code, administration.name, count):
        blob = store.write(io.BytesIO(invoice.pdf()))
        uow.documents.add(
            administration.id,
            filename=invoice.filename,
            content_type="application/pdf",
            size=blob.size,
            sha256=blob.sha256,
            archive_store=store.name,
            blob_key=blob.key,
            received_at=invoice.received_at,
        )


def fill_packages(
    uow: UnitOfWork, connectors: InMemoryConnectorRegistry, *, practice: int = 0
) -> None:
    """Makes the in-memory packages know Noord's administrations, and their counterparts
    in Zuid's and Oost's accounts (one under a changed code), finding the demo's
    connections through ``uow``: after ``seed``, or on a restart over a demo database. With
    ``practice``, the practice's administrations and their counterparts in Zuid's accounts
    as well."""
    environments = {environment.name: environment for environment in uow.environments.list()}
    for office in PACKAGE_ACCOUNTS:
        environment = environments[f"Kantoor {office}"]
        for connection in uow.connections.list_for_environment(environment.id):
            connector = connectors.connector(connection.package)
            for code, name in NOORD_ADMINISTRATIONS[connection.package]:
                in_package = code if office == "Noord" else CHANGED_CODES.get(code, code)
                connector.add_package_administration(
                    connection.id,
                    PackageAdministration(_package_admin_id(office, code), in_package, name),
                )
    if not practice:
        return
    entries = practice_administrations(practice)
    for office, own in (("Praktijk", True), (PRACTICE_BUYER, False)):
        environment = environments[f"Kantoor {office}"]
        for connection in uow.connections.list_for_environment(environment.id):
            connector = connectors.connector(connection.package)
            for entry in entries:
                if entry.package is connection.package:
                    connector.add_package_administration(
                        connection.id,
                        PackageAdministration(
                            _package_admin_id(office, entry.code),
                            entry.code if own else entry.counterpart_code,
                            entry.name if own else entry.counterpart_name,
                        ),
                    )


def _package_admin_id(office: str, code: str) -> str:
    """The package's key of the demo administration ``code`` in an office's account."""
    return f"{office.lower()}-{code}"


def logins(*, practice: int = 0) -> list[str]:
    """The demo's users, one line each, to print where the demo starts."""
    offices = (*ENVIRONMENTS, *((PRACTICE,) if practice else ()))
    lines = [f"{email:<24} Supergebruiker, {name}" for name, _, _, email in offices]
    lines.append(f"{PLAIN_USER:<24} gebruiker, {ENVIRONMENTS[0][0]}")
    return [*lines, f"wachtwoord voor iedereen: {PASSWORD}"]


if __name__ == "__main__":
    from migrationkit.config import Settings

    print("\n".join(logins(practice=Settings.from_environ().demo_practice)))
