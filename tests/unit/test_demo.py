"""The demo data: the offices, users, connections and administrations the README lists, and
archives of real, fixed PDF invoices in Noord's store."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from werkzeug.security import check_password_hash

from migrationkit import demo
from migrationkit.adapters.archive import ConfiguredArchiveStores, archive_stores
from migrationkit.adapters.connectors.memory import InMemoryConnectorRegistry
from migrationkit.adapters.sqlalchemy import make_engine, unit_of_work_factory, upgrade
from migrationkit.domain.model import AccountingPackage, Role
from migrationkit.ports import UnitOfWork, UnitOfWorkFactory

EXACT = AccountingPackage.EXACT_ONLINE_NL


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="module")
def uow_factory(home: Path) -> UnitOfWorkFactory:
    """A SQLite database with the schema, seeded once for the module."""
    engine = make_engine(f"sqlite:///{home / 'demo.sqlite3'}")
    upgrade(engine)
    return unit_of_work_factory(engine, b"demo-tests-server-secret-0123456789")


@attrs.frozen
class Seeded:
    """The seed's result, the packages and stores it filled, and how long it took."""

    data: demo.DemoData
    connectors: InMemoryConnectorRegistry
    archives: ConfiguredArchiveStores
    seconds: float


@pytest.fixture(scope="module")
def seeded(uow_factory: UnitOfWorkFactory, home: Path) -> Seeded:
    """Seeded once for the module, with the archive stores in folders under ``home``."""
    connectors = InMemoryConnectorRegistry()
    archives = archive_stores({}, default_root=home / "archive")
    started = time.perf_counter()
    with uow_factory() as uow:
        data = demo.seed(uow, connectors, archives)
    return Seeded(data, connectors, archives, time.perf_counter() - started)


@pytest.fixture
def data(seeded: Seeded) -> demo.DemoData:
    return seeded.data


@pytest.fixture
def uow(uow_factory: UnitOfWorkFactory, data: demo.DemoData) -> Iterator[UnitOfWork]:
    with uow_factory() as unit:
        yield unit


def test_four_offices_two_stores_for_noord_and_zuid_and_one_without_subscription(
    uow: UnitOfWork,
) -> None:
    assert [(e.name, e.has_subscription, e.archive_store) for e in uow.environments.list()] == [
        ("Kantoor Noord", True, "noord"),
        ("Kantoor Zuid", True, "zuid"),
        ("Kantoor Oost", True, "noord"),
        ("Kantoor West", False, "west"),
    ]


def test_every_user_signs_in_with_demo_and_only_the_employee_is_no_super_user(
    uow: UnitOfWork, data: demo.DemoData
) -> None:
    found = {email: uow.users.get(user_id) for email, user_id in data.users.items()}
    roles = {email: (user.role, user.environment_id) for email, user in found.items() if user}

    noord, zuid, oost, west = data.environments.values()
    assert roles == {
        "noord@example.nl": (Role.SUPER_USER, noord),
        "zuid@example.nl": (Role.SUPER_USER, zuid),
        "oost@example.nl": (Role.SUPER_USER, oost),
        "west@example.nl": (Role.SUPER_USER, west),
        "medewerker@example.nl": (Role.USER, noord),
    }
    (hashed,) = {uow.users.password_hash(user_id) for user_id in data.users.values()}
    assert hashed is not None
    assert check_password_hash(hashed, "demo")
    assert not check_password_hash(hashed, "Demo")


def test_each_office_has_a_connection_to_each_of_the_five_packages(
    uow: UnitOfWork, data: demo.DemoData
) -> None:
    for environment_id in data.environments.values():
        packages = [c.package for c in uow.connections.list_for_environment(environment_id)]
        assert sorted(packages, key=list(AccountingPackage).index) == list(AccountingPackage)


def test_noord_holds_several_administrations_per_package_and_the_others_none(
    uow: UnitOfWork, data: demo.DemoData
) -> None:
    per_package: dict[AccountingPackage, list[str]] = {}
    for administration in uow.administrations.list_for_environment(
        data.environments["Kantoor Noord"]
    ):
        per_package.setdefault(administration.package, []).append(administration.code)

    assert per_package == {
        EXACT: ["1001", "1002", "1003"],
        AccountingPackage.TWINFIELD: ["2001", "2002"],
        AccountingPackage.BOEKHOUDGEMAK_MULTIVERS: ["3001", "3002"],
        AccountingPackage.XERO: ["4001", "4002"],
        AccountingPackage.ACCOUNTVIEW: ["5001", "5002"],
    }
    for office in ("Zuid", "Oost", "West"):
        assert (
            uow.administrations.list_for_environment(data.environments[f"Kantoor {office}"]) == []
        )


def test_only_1003_has_an_authorizer_in_a_flow(uow: UnitOfWork, data: demo.DemoData) -> None:
    flows = {
        code: [(f.name, f.authorizer_user_ids) for f in uow.flows.list_for_administration(id_)]
        for code, id_ in data.administrations.items()
    }

    assert flows.pop("1003") == [("Inkoopfacturen", (data.users["medewerker@example.nl"],))]
    assert all(found == [] for found in flows.values())


def test_the_employee_has_access_to_noords_administrations(
    uow: UnitOfWork, data: demo.DemoData
) -> None:
    employee = data.users["medewerker@example.nl"]
    for administration_id in data.administrations.values():
        grants = uow.access.list_for_administration(administration_id)
        assert [(g.user_id, g.granted) for g in grants] == [(employee, True)]


def test_every_administration_has_an_archive_of_pdfs_in_noords_store_one_of_250(
    uow: UnitOfWork, data: demo.DemoData, seeded: Seeded, home: Path
) -> None:
    store = seeded.archives.store("noord")
    counts = {}
    keys = set()
    for code, administration_id in data.administrations.items():
        documents = uow.documents.list_for_administration(administration_id)
        counts[code] = len(documents)
        for document in documents:
            with store.open(document.blob_key) as file:
                stored = file.read()
            assert document.archive_store == "noord"
            assert document.content_type == "application/pdf"
            assert document.filename.endswith(".pdf")
            assert (len(stored), hashlib.sha256(stored).hexdigest()) == (
                document.size,
                document.sha256,
            )
            assert stored.startswith(b"%PDF-1.4\n")
            keys.add(document.blob_key)

    assert counts == demo.ARCHIVE_SIZES
    assert max(counts.values()) >= 250
    assert all(size > 1 for size in counts.values())
    assert len(keys) == sum(counts.values())  # each file different from every other
    assert sorted(path.name for path in (home / "archive").iterdir()) == ["noord"]


def test_zuid_and_oost_packages_hold_the_counterparts_one_under_a_changed_code(
    uow: UnitOfWork,
    data: demo.DemoData,
    seeded: Seeded,
) -> None:
    connectors = seeded.connectors
    for package, entries in demo.NOORD_ADMINISTRATIONS.items():
        for office in ("Zuid", "Oost"):
            connection = uow.connections.get(data.connections[(f"Kantoor {office}", package)])
            assert connection is not None
            listed = connectors.connector(package).list_administrations(connection)
            expected = sorted(
                (("7002" if code == "1002" else code), name) for code, name in entries
            )
            assert [(pa.code, pa.name) for pa in listed] == expected
        west = uow.connections.get(data.connections[("Kantoor West", package)])
        assert west is not None
        assert connectors.connector(package).list_administrations(west) == []


def test_noords_administrations_are_linked_to_their_own_package_administrations(
    uow: UnitOfWork,
    data: demo.DemoData,
    seeded: Seeded,
) -> None:
    for administration_id in data.administrations.values():
        administration = uow.administrations.get(administration_id)
        assert administration is not None
        connection = uow.connections.get(administration.connection_id)
        assert connection is not None
        linked = seeded.connectors.connector_for(connection).find_administration(
            connection, administration.package_admin_id
        )
        assert linked is not None
        assert (linked.code, linked.name) == (administration.code, administration.name)


def test_a_restart_over_the_demo_database_fills_fresh_packages_the_same_way(
    uow: UnitOfWork,
    data: demo.DemoData,
    seeded: Seeded,
) -> None:
    fresh = InMemoryConnectorRegistry()
    demo.fill_packages(uow, fresh)

    for (_, package), connection_id in data.connections.items():
        connection = uow.connections.get(connection_id)
        assert connection is not None
        assert fresh.connector(package).list_administrations(
            connection
        ) == seeded.connectors.connector(package).list_administrations(connection)


def test_a_practice_holds_its_administrations_and_zuid_their_counterparts(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'practice.sqlite3'}")
    upgrade(engine)
    uow_factory = unit_of_work_factory(engine, b"demo-tests-server-secret-0123456789")
    connectors = InMemoryConnectorRegistry()
    archives = archive_stores({}, default_root=tmp_path / "archive")
    with uow_factory() as uow:
        data = demo.seed(uow, connectors, archives, practice=30)
    with uow_factory() as uow:
        praktijk = data.connections[("Kantoor Praktijk", EXACT)]
        own = uow.administrations.list_for_connection(praktijk)
        counts = {len(uow.documents.list_for_administration(a.id)) for a in own}
        zuid = uow.connections.get(data.connections[("Kantoor Zuid", EXACT)])
        others = [
            len(uow.administrations.list_for_connection(connection_id))
            for (office, package), connection_id in data.connections.items()
            if office == "Kantoor Praktijk" and package is not EXACT
        ]
    assert zuid is not None
    counterparts = {
        pa.code: pa.name for pa in connectors.connector(EXACT).list_administrations(zuid)
    }

    assert [a.code for a in own] == [f"6{n:04d}" for n in range(1, 31)]
    assert counts == {demo.PRACTICE_DOCUMENTS}
    assert others == [demo.PRACTICE_OTHERS] * 4
    assert counterparts["60001"] == own[0].name
    assert "60025" not in counterparts
    assert counterparts["80025"] == own[24].name
    assert counterparts["80007"] == f"{own[6].name} B.V."
    assert "Kantoor Praktijk" in data.environments
    assert "praktijk@example.nl" in data.users


def test_the_seed_is_fast(seeded: Seeded) -> None:
    assert seeded.seconds < 5.0


# --- the PDF files ---------------------------------------------------------------------------


def objects_by_offset(pdf: bytes) -> dict[int, int]:
    """What the cross-reference table says: object number -> byte offset, after checking
    that ``startxref`` points at it and that each offset starts its object."""
    assert pdf.startswith(b"%PDF-1.4\n")
    assert pdf.endswith(b"%%EOF\n")
    xref_at = int(re.findall(rb"startxref\n(\d+)\n%%EOF", pdf)[-1])
    assert pdf[xref_at:].startswith(b"xref\n0 ")
    header, _, rest = pdf[xref_at + len(b"xref\n") :].partition(b"\n")
    first, count = map(int, header.split())
    entries = [rest[i * 20 : (i + 1) * 20] for i in range(count)]
    assert entries[0] == b"0000000000 65535 f \n"
    offsets = {}
    for number, entry in enumerate(entries[1:], start=first + 1):
        assert re.fullmatch(rb"\d{10} 00000 n \n", entry)
        offsets[number] = int(entry[:10])
        assert pdf[offsets[number] :].startswith(b"%d 0 obj\n" % number)
    trailer = rest[count * 20 :]
    assert re.match(rb"trailer\n<< /Size %d /Root 1 0 R" % count, trailer)
    return offsets


def shown_text(pdf: bytes) -> list[str]:
    """The strings the content stream shows, with its declared length checked."""
    found = re.search(rb"<< /Length (\d+) >>\nstream\n(.*?)\nendstream", pdf, re.S)
    assert found is not None
    length, content = found.groups()
    assert int(length) == len(content)
    shown = re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", content)
    return [re.sub(rb"\\(.)", rb"\1", s).decode("latin-1") for s in shown]


def test_an_invoice_is_a_valid_pdf_showing_number_supplier_amount_and_date() -> None:
    invoice = demo.invoices("2001", "Installatiebedrijf Vos")[0]
    pdf = invoice.pdf()

    assert list(objects_by_offset(pdf)) == [1, 2, 3, 4, 5, 6]
    assert shown_text(pdf) == invoice.lines()
    assert invoice.lines() == [
        f"Factuur {invoice.number}",
        f"Leverancier: {invoice.supplier}",
        "Aan: Installatiebedrijf Vos",
        f"Factuurdatum: {invoice.issued_on:%d-%m-%Y}",
        f"Bedrag excl. btw: {demo.euros(invoice.amount_cents)}",
        f"Btw 21%: {demo.euros(invoice.amount_cents * 21 // 100)}",
        f"Totaal: {demo.euros(invoice.amount_cents + invoice.amount_cents * 21 // 100)}",
    ]
    assert invoice.supplier in demo.SUPPLIERS
    assert 500 < len(pdf) < 4096


def test_the_invoices_are_the_same_on_every_run_and_each_one_differs() -> None:
    first = [invoice.pdf() for invoice in demo.invoices("1001", "Bakkerij De Korenschoof")]
    again = [invoice.pdf() for invoice in demo.invoices("1001", "Bakkerij De Korenschoof")]

    assert first == again
    assert len(set(first)) == len(first) == 250


def test_parentheses_and_backslashes_in_a_line_are_escaped() -> None:
    pdf = demo.pdf_document(["Kop", r"Bakkerij (Oud) \ Nieuw"], title="Kop (1)")

    objects_by_offset(pdf)
    assert shown_text(pdf) == ["Kop", r"Bakkerij (Oud) \ Nieuw"]
    assert rb"/Title (Kop \(1\))" in pdf


@pytest.mark.parametrize(
    ("cents", "shown"),
    [(0, "EUR 0,00"), (5, "EUR 0,05"), (123456, "EUR 1.234,56"), (100_000_000, "EUR 1.000.000,00")],
)
def test_amounts_are_written_the_dutch_way(cents: int, shown: str) -> None:
    assert demo.euros(cents) == shown


def test_the_logins_name_every_user_and_the_password() -> None:
    printed = "\n".join(demo.logins())

    for email in ("noord", "zuid", "oost", "west", "medewerker"):
        assert f"{email}@example.nl" in printed
    assert printed.endswith("wachtwoord voor iedereen: demo")


def test_running_the_module_prints_the_logins() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "migrationkit.demo"], capture_output=True, text=True, check=True
    )

    assert printed.stdout.splitlines() == demo.logins()
