"""Whether a process of the product can serve: what ``/readyz`` answers (the portal's,
or an embedder's own). Each check says only ``ok`` or what is wrong and how to fix it:
never a row of office data, a URL's password, or a key.

- ``database``: it answers, and its schema is at the newest revision this version knows;
- ``redis``: it answers a PING (only with MIGRATIONKIT_REDIS_URL);
- ``archive:<store>``: each store that an environment names, or that the settings name,
  takes a write. The probe writes the same 29 bytes every time (the stores keep blobs by
  their content, so it is one small blob per store) and deletes nothing.
"""

from __future__ import annotations

import io

import attrs

from migrationkit.adapters.sqlalchemy.health import archive_store_names
from migrationkit.adapters.sqlalchemy.status import check_database
from migrationkit.bootstrap import Runtime

#: What the archive probe writes.
PROBE = b"migrationkit readiness probe\n"


@attrs.frozen
class Check:
    """One readiness check: ``ok``, or what is wrong."""

    name: str
    ok: bool
    detail: str = "ok"


@attrs.frozen
class Readiness:
    checks: tuple[Check, ...]

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks)

    def as_json(self) -> dict[str, object]:
        """``{"status": "ready" | "not ready", "checks": {name: {"ok": ..., "detail": ...}}}``."""
        return {
            "status": "ready" if self.ready else "not ready",
            "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in self.checks},
        }


def readiness(runtime: Runtime) -> Readiness:
    """Runs every check; each failure is caught and said, so one probe shows them all."""
    checks = [_database(runtime)]
    redis = _redis(runtime)
    if redis is not None:
        checks.append(redis)
    checks.extend(_archives(runtime, database_ok=checks[0].ok))
    return Readiness(tuple(checks))


def _database(runtime: Runtime) -> Check:
    try:
        check = check_database(runtime.database)
    except Exception as error:  # any failure to reach it is the answer
        return Check("database", False, f"unreachable: {type(error).__name__}")
    if check.unreachable is not None:  # the error's type only: the probe is public
        return Check("database", False, f"unreachable: {check.unreachable.partition(':')[0]}")
    if not check.current:
        return Check(
            "database",
            False,
            f"schema at {check.revision or 'no schema'}, newest is {check.head}:"
            " run `migrationkit db upgrade`",
        )
    return Check("database", True)


def _redis(runtime: Runtime) -> Check | None:
    if runtime.embedded:
        return None
    # Imported here: embedded mode runs without the ``worker`` extra.
    from migrationkit.adapters.rq import RQJobQueue

    assert isinstance(runtime.queue, RQJobQueue)
    try:
        runtime.queue.queue.connection.ping()
    except Exception as error:  # any failure to reach it is the answer
        return Check("redis", False, f"unreachable: {type(error).__name__}")
    return Check("redis", True)


def _archives(runtime: Runtime, *, database_ok: bool) -> list[Check]:
    names = set(runtime.settings.archive_locations)
    if database_ok:
        names |= set(archive_store_names(runtime.database))
    checks = []
    for name in sorted(names):
        try:
            runtime.archives.store(name).write(io.BytesIO(PROBE))
        except Exception as error:  # a full, read-only or missing store, a refused bucket
            checks.append(Check(f"archive:{name}", False, f"not writable: {type(error).__name__}"))
        else:
            checks.append(Check(f"archive:{name}", True))
    return checks
