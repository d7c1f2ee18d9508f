"""OAuth2 for the connectors: the consent, the refresh through the token store, and one
retry after a refused token.

Every package here speaks the authorization-code flow with refresh tokens, and most rotate
the refresh token on each use (a spent one is dead). So a refresh only ever happens inside
``TokenStore.rotate``, which holds the connection's tokens locked: two workers that find the
same expired token spend its refresh token once, and the second gets the first one's result.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Final, TypeVar
from urllib.parse import urlencode

import attrs
import requests

from migrationkit.adapters.connectors._http import PackageHttp
from migrationkit.domain.errors import CONNECT_AGAIN, PackageError
from migrationkit.domain.model import Connection
from migrationkit.ports import Clock, OAuthTokens, TokenStore

logger = logging.getLogger("migrationkit.connectors")

T = TypeVar("T")

#: A token this close to its expiry is refreshed before it is used.
REFRESH_MARGIN: Final = timedelta(seconds=60)
#: What a token endpoint answers about the app itself (its id, secret or scopes) rather than
#: the user's consent: connecting again would not help, the server's set-up must change.
_APP_ERRORS: Final = frozenset({"invalid_client", "invalid_scope", "unauthorized_client"})

#: Reads what the connection needs besides its tokens from a fresh access token (for
#: Twinfield: its cluster address); the pairs go into ``OAuthTokens.account``.
Describe = Callable[[str], tuple[tuple[str, str], ...]]


@attrs.frozen
class OAuthApp:
    """A package's OAuth2 endpoints and this server's registered app there."""

    authorize_url: str
    token_url: str
    client_id: str
    client_secret: str = attrs.field(repr=False)
    redirect_url: str
    scope: str
    #: Send the client id and secret as HTTP Basic (Xero) instead of in the form.
    basic_auth: bool = False


class OAuthClient:
    """Gets, refreshes and uses one package's tokens for each connection."""

    def __init__(
        self,
        app: OAuthApp,
        http: PackageHttp,
        tokens: TokenStore,
        clock: Clock,
        *,
        describe: Describe | None = None,
    ) -> None:
        self.app = app
        self._http = http
        self._tokens = tokens
        self._clock = clock
        self._describe = describe

    def authorization_url(self, state: str, **extra: str) -> str:
        """Where to send the user to give consent; ``state`` comes back with the code."""
        query = {
            "response_type": "code",
            "client_id": self.app.client_id,
            "redirect_uri": self.app.redirect_url,
            "state": state,
            **({"scope": self.app.scope} if self.app.scope else {}),
            **extra,
        }
        return f"{self.app.authorize_url}?{urlencode(query)}"

    def connect(
        self, connection: Connection, code: str, *, account: tuple[tuple[str, str], ...] = ()
    ) -> OAuthTokens:
        """Trades the consent's ``code`` for tokens and stores them for the connection;
        ``account`` adds what the user chose beside them (a company code)."""
        tokens = self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.app.redirect_url,
            },
            secrets=(code,),
            keep=account,
        )
        self._tokens.save(connection.id, tokens)
        return tokens

    def refresh(self, spent: OAuthTokens) -> OAuthTokens:
        """Spends the refresh token for new tokens; the store's ``rotate`` calls it."""
        return self._token_request(
            {"grant_type": "refresh_token", "refresh_token": spent.refresh_token},
            secrets=(spent.refresh_token, spent.access_token),
            keep=spent.account,
            old_refresh_token=spent.refresh_token,
        )

    def is_connected(self, connection: Connection) -> bool:
        """Whether tokens are kept for the connection (the package is not asked)."""
        return self._tokens.load(connection.id) is not None

    def account_value(self, connection: Connection, name: str) -> str | None:
        """One of the values kept with the connection's tokens (``OAuthTokens.account``)."""
        tokens = self._tokens.load(connection.id)
        return tokens.account_value(name) if tokens is not None else None

    def call(self, connection: Connection, send: Callable[[OAuthTokens], T]) -> T:
        """Runs ``send`` with valid tokens: refreshed first when they are about to expire,
        and once more after a refresh when the package refuses them."""
        tokens = self._tokens.load(connection.id)
        if tokens is None:
            raise self._http.error("package_auth_expired")
        if tokens.expires_at - REFRESH_MARGIN <= self._clock.now():
            tokens = self._tokens.rotate(connection.id, tokens, self.refresh)
        try:
            return send(tokens)
        except PackageError as error:
            if error.code not in CONNECT_AGAIN:
                raise
        logger.info(
            "%s refused the access token of connection %s; refreshing it once",
            self._http.package.label,
            connection.id,
        )
        tokens = self._tokens.rotate(connection.id, tokens, self.refresh)
        return send(tokens)

    def _token_request(
        self,
        form: dict[str, str],
        *,
        secrets: tuple[str, ...],
        keep: tuple[tuple[str, str], ...],
        old_refresh_token: str = "",
    ) -> OAuthTokens:
        auth = None
        if self.app.basic_auth:
            auth = (self.app.client_id, self.app.client_secret)
        else:
            form = {
                **form,
                "client_id": self.app.client_id,
                "client_secret": self.app.client_secret,
            }
        # Spending a refresh token is not idempotent: a lost answer may have rotated it.
        response = self._send_token_form(form, auth, (*secrets, self.app.client_secret))
        if response.status_code >= 400:
            raise self._token_failure(response)
        body = self._http.read_json(response)
        try:
            access_token = str(body["access_token"])
            refresh_token = str(body.get("refresh_token") or old_refresh_token)
            expires_in = int(body["expires_in"])
        except (KeyError, TypeError, ValueError, AttributeError):
            raise self._http.malformed() from None
        if not access_token or not refresh_token:
            raise self._http.malformed()
        described = self._describe(access_token) if self._describe else ()
        names = {name for name, _ in described}
        return OAuthTokens(
            access_token=access_token,
            refresh_token=refresh_token,
            expires_at=self._clock.now() + timedelta(seconds=expires_in),
            account=(*((n, v) for n, v in keep if n not in names), *described),
        )

    def _send_token_form(
        self, form: dict[str, str], auth: tuple[str, str] | None, secrets: tuple[str, ...]
    ) -> requests.Response:
        headers = {"Accept": "application/json"}
        if auth is not None:
            pair = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {pair}"
        return self._http.send(
            "POST",
            self.app.token_url,
            idempotent=False,
            headers=headers,
            data=form,
            secrets=secrets,
            passthrough=(400, 401, 403),
        )

    def _token_failure(self, response: requests.Response) -> PackageError:
        try:
            body = response.json()
            error = str(body.get("error") or "")
            description = str(body.get("error_description") or "")
        except (ValueError, AttributeError):
            error = description = ""
        logger.warning(
            "%s's token endpoint refused: %s %s",
            self._http.package.label,
            response.status_code,
            error or "(no error code)",
        )
        if is_app_error(error, description):
            return self._http.error("package_not_configured")
        return self._http.error("package_auth_expired")


def is_app_error(error: str, description: str) -> bool:
    """Whether a token endpoint's ``error`` (RFC 6749 5.2) is about the app rather than the
    user's tokens. ``unauthorized_client`` is, unless its description speaks of a token: Exact
    Online answers a spent refresh token with ``unauthorized_client`` "Old refresh token
    used.", which a new consent mends (docs/connectors.md, "Token endpoint errors")."""
    if error == "unauthorized_client" and "token" in description.lower():
        return False
    return error in _APP_ERRORS
