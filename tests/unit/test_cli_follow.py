"""``migrationkit follow``: a migration's progress, redrawn in place on a terminal, a line per
change otherwise, until it is Voltooid (exit 0) or Mislukt (exit 1, with the reason); while
the database does not answer it tries again, backing off, and gives up after a while with
exit 3 (lost contact)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import attrs
import pytest

from migrationkit import services
from migrationkit.cli import (
    EXIT_COMPLETED,
    EXIT_LOST_CONTACT,
    RETRY_CAP_SECONDS,
    follow,
    progress_line,
)
from migrationkit.domain.errors import NotFound, Unavailable
from migrationkit.domain.model import ItemStatus
from migrationkit.ports import UnitOfWork
from migrationkit.services.dependencies import Dependencies

if TYPE_CHECKING:
    from conftest import Build, Scene


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def steps(*actions: Callable[[], object]) -> Callable[[float], None]:
    """A ``sleep`` that takes the next action each time ``follow`` waits."""
    pending: Iterator[Callable[[], object]] = iter(actions)

    def sleep(seconds: float) -> None:
        assert seconds == 1.0
        next(pending)()

    return sleep


def progress(scene: Scene, migration_id: int, done: int) -> Callable[[], None]:
    return lambda: services.record_progress(
        scene.deps,
        migration_id,
        documents_total=4,
        documents_done=done,
        bytes_total=4_000_000,
        bytes_done=done * 1_000_000,
    )


def test_off_a_terminal_each_change_is_one_line_until_voltooid(scene: Scene) -> None:
    _, migration = scene.processing()
    out = io.StringIO()

    code = follow(
        scene.deps,
        migration.id,
        out=out,
        sleep=steps(
            progress(scene, migration.id, 1),
            progress(scene, migration.id, 1),
            progress(scene, migration.id, 3),
            lambda: services.complete_migration(scene.deps, migration.id),
        ),
    )

    assert code == 0
    bar = "#" * 30
    assert out.getvalue().splitlines() == [
        f"[{'-' * 30}]   0%  0/0 documents  0 B/0 B  Aan het verwerken",
        f"[{bar[:7]}{'-' * 23}]  25%  1/4 documents  1.0 MB/4.0 MB  Aan het verwerken",
        f"[{bar[:22]}{'-' * 8}]  75%  3/4 documents  3.0 MB/4.0 MB  Aan het verwerken",
        f"[{bar}] 100%  3/4 documents  3.0 MB/4.0 MB  Voltooid",
    ]


def test_on_a_terminal_the_bar_is_redrawn_in_place(scene: Scene) -> None:
    _, migration = scene.processing()
    out = Terminal()

    follow(
        scene.deps,
        migration.id,
        out=out,
        sleep=steps(lambda: services.complete_migration(scene.deps, migration.id)),
    )

    first = f"[{'-' * 30}]   0%  0/0 documents  0 B/0 B  Aan het verwerken"
    last = f"[{'#' * 30}] 100%  0/0 documents  0 B/0 B  Voltooid"
    # The shorter last line is padded, so nothing of the longer first one stays visible.
    assert out.getvalue() == f"\r{first}\r{last.ljust(len(first))}\n"


def test_a_failed_migration_ends_with_its_reason_and_exit_1(scene: Scene) -> None:
    _, migration = scene.processing()
    services.fail_migration(scene.deps, migration.id, "Het archief noord is nu niet bereikbaar.")
    out = io.StringIO()

    assert follow(scene.deps, migration.id, out=out, sleep=steps()) == 1
    assert out.getvalue().splitlines()[1:] == ["reason: Het archief noord is nu niet bereikbaar."]


def test_an_unknown_migration_is_refused(scene: Scene) -> None:
    with pytest.raises(NotFound):
        follow(scene.deps, 404, out=io.StringIO(), sleep=steps())


class Away:
    """A database that does not answer for the next ``times`` units of work, then does."""

    def __init__(self, deps: Dependencies) -> None:
        self._uow = deps.uow
        self.times = 0
        self.deps = attrs.evolve(deps, uow=self.uow)

    def uow(self) -> UnitOfWork:
        if self.times:
            self.times -= 1
            raise Unavailable("database_unavailable")
        return self._uow()


class Clock:
    """A monotonic clock that only ``sleep`` moves, and the sleeps asked for."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_a_database_away_for_a_while_is_waited_for_backing_off_and_follow_goes_on(
    scene: Scene,
) -> None:
    _, migration = scene.processing()
    away, clock = Away(scene.deps), Clock()
    out, err = io.StringIO(), io.StringIO()
    reads = iter(
        [
            lambda: setattr(away, "times", 6),  # a restart after the first look
            lambda: services.complete_migration(scene.deps, migration.id),
        ]
    )

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if away.times == 0:
            next(reads)()

    code = follow(away.deps, migration.id, out=out, err=err, sleep=sleep, clock=lambda: clock.now)

    assert code == EXIT_COMPLETED
    assert clock.sleeps == [1.0, 1.0, 2.0, 4.0, 8.0, RETRY_CAP_SECONDS, RETRY_CAP_SECONDS]
    assert out.getvalue().splitlines()[-1].endswith("Voltooid")
    said = err.getvalue().splitlines()
    assert len(said) == 2
    assert Unavailable("database_unavailable").message("en") in said[0]
    assert said[1] == "migrationkit follow: the database answers again"


def test_a_database_away_longer_than_allowed_ends_follow_with_lost_contact(
    scene: Scene,
) -> None:
    _, migration = scene.processing()
    away, clock = Away(scene.deps), Clock()
    away.times = 1_000
    err = io.StringIO()

    code = follow(
        away.deps,
        migration.id,
        out=io.StringIO(),
        err=err,
        lost_contact_after=30,
        sleep=clock.sleep,
        clock=lambda: clock.now,
    )

    assert code == EXIT_LOST_CONTACT
    assert clock.now == 30  # the last wait ends at the limit, not beyond
    assert "lost contact" in err.getvalue().splitlines()[-1]


@pytest.mark.parametrize(
    ("done", "bytes_done", "shown"),
    [
        (0, 999, "0/200 documents  999 B/2.5 GB"),
        (1, 1_500, "1/200 documents  1.5 kB/2.5 GB"),
        (200, 2_500_000_000, "200/200 documents  2.5 GB/2.5 GB"),
    ],
)
def test_progress_is_counted_in_documents_and_readable_bytes(
    build: Build, done: int, bytes_done: int, shown: str
) -> None:
    migration = build.migration(
        documents_total=200, documents_done=done, bytes_total=2_500_000_000, bytes_done=bytes_done
    )

    assert shown in progress_line(migration, ItemStatus.PROCESSING)
