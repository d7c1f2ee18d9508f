"""An offer of 300 administrations costs the portal's requests no more SQL statements and no
more calls to the accounting package than an offer of 10 (or a few statements more per
administration where each gets rows of its own), on SQLite and PostgreSQL, with the
in-memory package and with Exact Online's web API; and a package that asks to wait is not
waited for while a person waits."""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import pytest
from portal_support import signed_in_client
from scale_support import EXACT_PAGE, Count, flow, started, targets_address

from migrationkit import services
from migrationkit.domain.errors import PackageError
from migrationkit.testing._databases import throwaway_database

SMALL, LARGE = 10, 300
#: What one more administration may cost a request that writes rows for each: the offer
#: (its item and the item's first status change) and the start (its status change, its
#: migration and its audit event).
PER_ADMINISTRATION = {"offer post": 0, "start post": 0}


#: Makes a database for one flow: ``None`` for the portal's own SQLite file.
Databases = Callable[[], AbstractContextManager[str | None]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def databases(request: pytest.FixtureRequest) -> Databases:
    """Each flow's own database: the portal's SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return lambda: nullcontext(None)
    server = request.getfixturevalue("postgres_url")
    return lambda: throwaway_database(server, prefix="mk_scale")


def counts(home: Path, size: int, databases: Databases, *, exact: bool) -> dict[str, Count]:
    with databases() as url, flow(home, size, database_url=url, exact=exact) as offer:
        return offer.run()


def listing_calls(size: int, *, exact: bool) -> int:
    """What one listing of ``size`` administrations costs: one call of the in-memory
    package; Exact's ``Me`` and a request per page of its divisions."""
    return 1 + math.ceil(size / EXACT_PAGE) if exact else 1


@pytest.mark.parametrize("exact", [False, True], ids=["memory", "exact_online"])
def test_statements_and_package_calls_do_not_grow_with_the_offer(
    tmp_path: Path, databases: Databases, exact: bool
) -> None:
    small = counts(tmp_path / "small", SMALL, databases, exact=exact)
    large = counts(tmp_path / "large", LARGE, databases, exact=exact)

    for request in ("offerable", "summary", "targets page"):
        assert large[request].statements == small[request].statements, request
    for request, each in PER_ADMINISTRATION.items():
        grown = large[request].statements - small[request].statements
        assert grown <= each * (LARGE - SMALL), (request, small[request], large[request])
    for request in ("offerable", "summary", "offer post"):
        assert large[request].package_calls == 0, request
    for request in ("targets page", "start post"):  # one listing, looked up for every item
        assert small[request].package_calls == listing_calls(SMALL, exact=exact), request
        assert large[request].package_calls == listing_calls(LARGE, exact=exact), request


def test_a_busy_package_is_not_waited_for_while_a_person_waits(tmp_path: Path) -> None:
    """Exact answers 429 asking for 30 seconds: the targets page, the start and the API
    answer at once (the flow sleeps never) that the package is busy, and nothing starts."""
    with flow(tmp_path, 3, exact=True, busy_for=30) as offer:
        redeemed = offer.redeemed()
        zuid = offer.scene.user("zuid@example.nl")
        target = offer.scene.connection("Zuid")
        busy = PackageError("package_busy", package=target.package.label, seconds=30)
        client = signed_in_client(offer.app, zuid)

        page = client.get(targets_address(redeemed))
        start = client.post(targets_address(redeemed), data=started(page.get_data(as_text=True)))
        token = services.create_api_token(offer.runtime.deps, actor_id=zuid, name="Proef").secret
        api = offer.app.test_client().get(
            f"/api/v1/connections/{target.id}/package-administrations",
            headers={"Authorization": f"Bearer {token}"},
        )

        assert page.status_code == 200, page.get_data(as_text=True)
        assert busy.message("nl") in page.get_data(as_text=True)
        assert 'id="opnieuw"' in page.get_data(as_text=True)  # the page offers to ask again
        assert start.status_code == 200
        assert busy.message("nl") in start.get_data(as_text=True)
        assert (
            services.incoming_overview(offer.runtime.deps, actor_id=zuid).rows[0].migration is None
        )
        assert api.status_code == 503
        assert api.json is not None
        assert api.json["code"] == "package_busy"
        assert api.headers["Retry-After"] == "30"
        assert offer.package_calls() == 3  # the page, the start, the API: each asked once
