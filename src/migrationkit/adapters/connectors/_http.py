"""Calls to one package's web API: timeouts, bounded retries, and its failures as
``PackageError``.

One ``PackageHttp`` per connector shares one ``requests.Session``. It waits and tries again
when the package rate-limits (429: ``Retry-After`` or the package's own reset header), unless
the limit is a daily one or lasts longer than it waits for: then the call ends at once, saying
until when. It tries again on a 5xx, a timeout or a lost connection when the call is
idempotent, but never on a 5xx that is the package's own answer (a SOAP fault). It never tries
a client error (4xx) again: Exact Online blocks an app's key after ten of them in an hour.

A person waits for most calls (a page, an API call): those wait a few seconds in all at most
(``RetryPolicy.interactive_wait_seconds``), and a package that asks for longer is not waited
for: the call ends at once as ``package_busy``, saying in how many seconds to try again. Only
a worker's calls, made inside ``patiently()``, wait as long as the policy allows.

Log lines name the package, the method, the path and the status: never a query string, a
header or a body, where tokens travel. A package's own error message reaches the user only
shortened and with every secret the call carried, and anything shaped like a token, blanked.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final
from urllib.parse import urlsplit

import attrs
import requests

from migrationkit.domain.dates import show_moment
from migrationkit.domain.errors import PackageError
from migrationkit.domain.model import AccountingPackage

logger = logging.getLogger("migrationkit.connectors")

#: How many pages a listing may follow before the package is taken to loop.
MAX_PAGES: Final = 500
#: How much of a package's own message is shown to the user.
DETAIL_LENGTH: Final = 200
#: Runs of token-like characters this long are blanked in a package's message.
_TOKEN_LIKE: Final = re.compile(r"(?i)bearer\s+\S+|[A-Za-z0-9._~+/=-]{32,}")
_BLANK: Final = "***"


@attrs.frozen
class RetryPolicy:
    """How often and how long a call waits and tries again."""

    #: Tries in all, the first included.
    attempts: int = 4
    #: The wait after a first 5xx, timeout or lost connection; it doubles each time.
    backoff_seconds: float = 1.0
    #: The longest wait. A package that asks for longer (a daily limit) is not waited for:
    #: the call fails at once as rate limited.
    max_wait_seconds: float = 60.0
    #: The most a call waits in all, timeouts included, while a person waits for its answer
    #: (every call outside ``patiently()``): a longer wait ends it at once, the package busy.
    interactive_wait_seconds: float = 3.0


#: Whether the calls made now are a worker's, which nobody waits for (``patiently``).
_patient: ContextVar[bool] = ContextVar("migrationkit_package_patient", default=False)


@contextmanager
def patiently() -> Iterator[None]:
    """The calls made inside wait as long as the ``RetryPolicy`` allows: for a worker's
    calls, which nobody waits for (rewriting a package's links after a move)."""
    token = _patient.set(True)
    try:
        yield
    finally:
        _patient.reset(token)


@attrs.frozen
class RateLimit:
    """What a 429 says: how long until the package takes calls again (when it says), and
    whether it is a daily limit, which is never waited for."""

    seconds: float | None = None
    daily: bool = False


class Dialect:
    """What differs per package in reading an answer. Connectors subclass it."""

    def message(self, response: requests.Response) -> str | None:
        """The package's own error message in the answer, if it has one."""
        return None

    def rate_limit(self, response: requests.Response, now: float) -> RateLimit:
        """What a 429 says; by default its ``Retry-After`` (seconds or an HTTP date)."""
        return RateLimit(retry_after(response.headers.get("Retry-After"), now))

    def is_auth_failure(self, response: requests.Response) -> bool:
        """Whether the answer says the access token is expired or revoked, or access is
        refused (the user must connect again)."""
        return response.status_code == 401

    def is_refusal(self, response: requests.Response) -> bool:
        """Whether a 5xx is the package's own answer (a SOAP fault) rather than an outage:
        it is not tried again, and its message reaches the user."""
        return False

    def error_in_answer(self, response: requests.Response) -> str | None:
        """The package's own error message in an answer that reports success (2xx)."""
        return None


class PackageHttp:
    """Sends one package's calls through a shared session, with retries and error mapping."""

    def __init__(
        self,
        package: AccountingPackage,
        *,
        dialect: Dialect | None = None,
        session: requests.Session | None = None,
        timeout_seconds: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.package = package
        self.dialect = dialect or Dialect()
        self.session = session or requests.Session()
        self.timeout_seconds = timeout_seconds
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._now = now

    def error(self, code: str, **params: object) -> PackageError:
        """A ``PackageError`` naming this package."""
        return PackageError(code, package=self.package.label, **params)

    def send(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | str | bytes | None = None,
        json: object = None,
        secrets: Iterable[str] = (),
        passthrough: Collection[int] = (),
    ) -> requests.Response:
        """The package's successful answer (or one whose status is in ``passthrough``);
        otherwise a ``PackageError``. ``secrets`` (tokens, client secrets) are blanked in
        any message that reaches the user; the Authorization header always is."""
        hidden = [*secrets, *_header_secrets(headers)]
        path = urlsplit(url).path
        patient = _patient.get()
        budget = self.retry.max_wait_seconds if patient else self.retry.interactive_wait_seconds
        waited = 0.0
        for attempt in range(1, self.retry.attempts + 1):
            last = attempt == self.retry.attempts
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=headers,
                    params=params,
                    data=data,
                    json=json,
                    timeout=self.timeout_seconds,
                    allow_redirects=False,
                )
            except (requests.Timeout, requests.ConnectionError) as failure:
                timed_out = isinstance(failure, requests.Timeout)
                reason = "timed out" if timed_out else "no connection"
                # Who waited for a timeout waited for the whole of it.
                waited += self.timeout_seconds if timed_out else 0.0
                backoff = self._backoff(attempt)
                if not idempotent or last or waited + backoff > budget:
                    logger.warning("%s %s %s: %s", self.package.label, method, path, reason)
                    raise self.error("package_unavailable") from None
                self._wait(backoff, method, path, reason)
                waited += backoff
                continue
            logger.debug("%s %s %s: %s", self.package.label, method, path, response.status_code)
            status = response.status_code
            if status in passthrough:
                return response
            if status < 300 and not self.dialect.is_auth_failure(response):
                return self._success(response, method, path, hidden)
            if status == 429:
                wait, limit = self._rate_limit(response)
                if limit.daily or wait > self.retry.max_wait_seconds:
                    raise self._limited_until(limit, wait, method, path)
                if waited + wait > budget:
                    raise self._busy(wait, method, path)
                if last:
                    raise self.error("package_rate_limited")
                self._wait(wait, method, path, "rate limited")
                waited += wait
                continue
            if (
                status >= 500
                and idempotent
                and not last
                and waited + self._backoff(attempt) <= budget
                and not self.dialect.is_auth_failure(response)
                and not self.dialect.is_refusal(response)
            ):
                self._wait(self._backoff(attempt), method, path, f"status {status}")
                waited += self._backoff(attempt)
                continue
            logger.warning("%s %s %s: refused with %s", self.package.label, method, path, status)
            raise self._failure(response, hidden)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _success(
        self, response: requests.Response, method: str, path: str, secrets: Iterable[str]
    ) -> requests.Response:
        """A 2xx answer, unless it carries the package's own error (then ``package_rejected``
        with that message)."""
        try:
            refused = self.dialect.error_in_answer(response)
        except ValueError:
            refused = None
        if refused:
            logger.warning(
                "%s %s %s: an error in a successful answer", self.package.label, method, path
            )
            raise self.error("package_rejected", detail=clean_detail(refused, secrets))
        return response

    def _failure(self, response: requests.Response, secrets: Iterable[str]) -> PackageError:
        """The ``PackageError`` that a failed answer (not a 429) stands for."""
        status = response.status_code
        refusal = self.dialect.is_refusal(response)
        if self.dialect.is_auth_failure(response):
            message = self._message(response)
            if message:
                return self.error("package_auth_refused", detail=clean_detail(message, secrets))
            return self.error("package_auth_expired")
        if status == 404 and not refusal:
            return self.error("package_not_found")
        if status >= 500 and not refusal:
            return self.error("package_unavailable")
        message = self._message(response)
        detail = clean_detail(message or f"{status} {response.reason or ''}".strip(), secrets)
        return self.error("package_rejected", detail=detail)

    def _message(self, response: requests.Response) -> str | None:
        try:
            return self.dialect.message(response)
        except ValueError:
            return None

    def read_json(self, response: requests.Response) -> Any:
        """The answer's JSON; an answer that is not JSON is ``package_malformed``."""
        try:
            return response.json()
        except ValueError:
            raise self.error("package_malformed") from None

    def malformed(self) -> PackageError:
        """The error for an answer that does not have the package's documented shape."""
        return self.error("package_malformed")

    def _rate_limit(self, response: requests.Response) -> tuple[float, RateLimit]:
        """The seconds to wait after a 429 (the first backoff when the package does not say),
        and what the package said."""
        limit = self.dialect.rate_limit(response, self._now())
        if limit.seconds is None:
            return self.retry.backoff_seconds, limit
        return max(0.0, limit.seconds), limit

    def _limited_until(self, limit: RateLimit, wait: float, method: str, path: str) -> PackageError:
        """The error of a limit not waited for: until when, when the package said."""
        kind = "daily limit" if limit.daily else f"limit for {wait:.0f} s"
        logger.warning("%s %s %s: rate limited (%s)", self.package.label, method, path, kind)
        if limit.seconds is None:
            return self.error("package_rate_limited")
        until = datetime.fromtimestamp(self._now() + wait, UTC)
        return self.error(
            "package_rate_limited_until", until=show_moment(until), until_iso=until.isoformat()
        )

    def _busy(self, wait: float, method: str, path: str) -> PackageError:
        """The error of a limit that a person would wait out: try again in so many seconds."""
        logger.warning(
            "%s %s %s: rate limited for %.0f s, not waited for while a person waits",
            self.package.label,
            method,
            path,
            wait,
        )
        seconds = max(1, math.ceil(wait))
        until = datetime.fromtimestamp(self._now() + seconds, UTC)
        return self.error("package_busy", seconds=seconds, until_iso=until.isoformat())

    def _backoff(self, attempt: int) -> float:
        wait: float = self.retry.backoff_seconds * 2.0 ** (attempt - 1)
        return min(wait, self.retry.max_wait_seconds)

    def _wait(self, seconds: float, method: str, path: str, reason: str) -> None:
        logger.info(
            "%s %s %s: %s, trying again in %.1f s",
            self.package.label,
            method,
            path,
            reason,
            seconds,
        )
        self._sleep(seconds)


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait by a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return parsedate_to_datetime(value).timestamp() - now
    except (TypeError, ValueError):
        return None


def clean_detail(text: str, secrets: Iterable[str] = ()) -> str:
    """A package's message fit to show: secrets and token-like runs blanked, one line,
    shortened."""
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, _BLANK)
    text = _TOKEN_LIKE.sub(_BLANK, " ".join(text.split()))
    if len(text) > DETAIL_LENGTH:
        text = text[: DETAIL_LENGTH - 1].rstrip() + "…"
    return text


def _header_secrets(headers: Mapping[str, str] | None) -> list[str]:
    if not headers:
        return []
    return [
        value.split(" ", 1)[-1]
        for name, value in headers.items()
        if name.lower() == "authorization"
    ]
