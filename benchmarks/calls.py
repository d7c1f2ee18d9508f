"""SQL statements and accounting-package calls per request of the portal, for an offer of
10 and of 300 administrations (``--sizes``): the flow of ``tests/portal/scale_support.py``
(the demo portal; Noord offers, Zuid takes in), with Zuid's Exact Online account in memory
and behind Exact's faked web API. Prints one table per database.

    .venv/bin/python benchmarks/calls.py
    .venv/bin/python benchmarks/calls.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

With ``--database-url`` (a PostgreSQL server whose user may create databases) each flow runs
in a database of its own, dropped at the end; without, in a SQLite file in a temporary
folder. Counts, not times: they are the same on every machine.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "portal"))

from scale_support import REQUESTS, Count, flow

from migrationkit.testing._databases import throwaway_database


def measure(size: int, *, exact: bool, server_url: str | None) -> dict[str, Count]:
    with contextlib.ExitStack() as stack:
        home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mk_calls_")))
        url = None
        if server_url is not None:
            url = stack.enter_context(throwaway_database(server_url, prefix="mk_calls"))
        return stack.enter_context(flow(home, size, database_url=url, exact=exact)).run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 300])
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    options = parser.parse_args()
    counted = {
        (size, exact): measure(size, exact=exact, server_url=options.database_url)
        for size in options.sizes
        for exact in (False, True)
    }
    database = "PostgreSQL" if options.database_url else "SQLite"
    columns = [f"{size} administrations" for size in options.sizes]
    print(f"{database}: statements, package calls (in memory / Exact Online HTTP requests)")
    print(f"{'request':<14}" + "".join(f"{column:>28}" for column in columns))
    for request in REQUESTS:
        cells = []
        for size in options.sizes:
            memory, exact = counted[(size, False)][request], counted[(size, True)][request]
            assert memory.statements == exact.statements
            calls = f"{memory.package_calls} / {exact.package_calls}"
            cells.append(f"{memory.statements:,} st, {calls}")
        print(f"{request:<14}" + "".join(f"{cell:>28}" for cell in cells))


if __name__ == "__main__":
    main()
