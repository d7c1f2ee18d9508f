"""The product's logs: structlog, configured once per process by ``configure_logging``.

Every line goes through one chain of processors and one handler on the root logger: the
library's events (``structlog.get_logger``, key-value pairs), and the records of the
standard library's loggers (RQ, gunicorn, werkzeug, SQLAlchemy, the library's own
``logging`` calls) alike. ``json`` writes one JSON object a line (for a log pipeline);
``console`` readable lines, coloured on a terminal. The values bound with
``structlog.contextvars`` (a request's id, a job's id and attempt) are on every line written
while they are bound.

No line holds a secret: the library logs ids, counts and error codes, never a code, a token,
a password or a cookie; ``redact`` masks any value under a key that names one, as a second
line of defence.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

#: The formats of ``MIGRATIONKIT_LOG_FORMAT``.
FORMATS = ("json", "console")

#: Keys whose values are never written, whoever logs them.
SECRET_KEYS = frozenset(
    {
        "authorization",
        "code",
        "cookie",
        "password",
        "secret",
        "secret_key",
        "session_id",
        "token",
        "transfer_code",
    }
)


def redact(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Masks the value of every key that names a secret (``SECRET_KEYS``)."""
    for key in SECRET_KEYS.intersection(event):
        event[key] = "***"
    return event


#: What every line goes through, structlog's and the standard library's alike.
_SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.PositionalArgumentsFormatter(),
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.StackInfoRenderer(),
    redact,
]


def _without_message(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """A standard library record's ``message`` is its ``event`` already."""
    event.pop("message", None)
    return event


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The root logger's handler that ``configure_logging`` put there (and replaces). Given
    no stream, it writes to whatever ``sys.stderr`` is when a line is written."""

    def __init__(self, stream: TextIO | None) -> None:
        logging.Handler.__init__(self)  # not StreamHandler's, which would fix sys.stderr
        self._given = stream

    @property
    def stream(self) -> TextIO:
        return self._given or sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        self._given = value


def configure_logging(
    log_format: str = "json", level: int | str = logging.INFO, stream: TextIO | None = None
) -> None:
    """Sends every log line of this process through the shared processors to ``stream``
    (stderr), as JSON lines or console lines; ``level`` is the root logger's. Calling it
    again replaces what an earlier call set up."""
    if log_format not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {log_format!r}")
    renderer: Processor
    if log_format == "json":
        renderer = structlog.processors.JSONRenderer()
        # A traceback as data, without the frames' local variables (they may hold secrets).
        tail: list[Processor] = [
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            )
        ]
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=_is_terminal(stream or sys.stderr),
            exception_formatter=structlog.dev.plain_traceback,
        )
        tail = []
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = _Handler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.ExtraAdder(), _without_message, *_SHARED],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *tail,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


#: The bound values that go with a job from where it was enqueued (a request) to where it
#: runs (a worker), as the job's meta.
CARRIED = ("request_id",)


def carried() -> dict[str, str]:
    """The values bound now that a job enqueued now carries along (``CARRIED``)."""
    bound = structlog.contextvars.get_contextvars()
    return {key: str(bound[key]) for key in CARRIED if key in bound}


def bound(values: Mapping[str, object]) -> AbstractContextManager[None]:
    """Binds ``values`` to every line logged inside (a job's id, what it carried along)."""
    return structlog.contextvars.bound_contextvars(**values)


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
