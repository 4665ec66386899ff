"""OAuth2 access tokens for IMAP XOAUTH2 (Microsoft 365 via msal, or a token from elsewhere).

A `TokenProvider` hands out a current access token; the IMAP source asks for one at each
login, so a provider that caches (msal does) keeps reconnects cheap. `expires_at` says
until when the last token is valid, when that is known, for a health page.

Tokens and secrets never appear in reprs, log lines or error messages.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from intake.settings import Settings

AUTHORITY_HOST = "https://login.microsoftonline.com"
# App-only access (client credentials): the app's Exchange Online permissions, as granted
# by an administrator (IMAP.AccessAsApp plus a service principal with mailbox access).
OUTLOOK_APP_SCOPE = "https://outlook.office365.com/.default"
# Delegated access (a signed-in user's refresh token).
OUTLOOK_DELEGATED_SCOPE = "https://outlook.office365.com/IMAP.AccessAsUser.All"


class TokenError(Exception):
    """No access token could be had: the identity provider refused or the setup is wrong."""


class TokenProvider(Protocol):
    """Something that returns a current OAuth2 access token."""

    def token(self) -> str:
        """A current access token (fetched or refreshed as needed)."""
        ...

    @property
    def expires_at(self) -> datetime | None:
        """When the last token handed out stops working (UTC), if known."""
        ...


class StaticToken:
    """A token obtained elsewhere (e.g. Gmail via another tool), used as given."""

    def __init__(self, token: str, expires_at: datetime | None = None) -> None:
        if not token:
            raise ValueError("StaticToken needs a non-empty token")
        self._token = token
        self.expires_at = expires_at

    def token(self) -> str:
        """The configured token."""
        return self._token

    def __repr__(self) -> str:
        return f"StaticToken(expires_at={self.expires_at!r})"


def _first_line(text: object) -> str:
    # Microsoft's error_description is several lines (trace and correlation IDs, time);
    # the first line carries the AADSTS code and the reason, which is what a person needs.
    lines = str(text or "").strip().splitlines()
    return lines[0][:300] if lines else ""


class _MsalProvider:
    """Shared by the msal flows: scope, authority, token cache, result checking."""

    flow = "msal"

    def __init__(
        self,
        tenant: str,
        client_id: str,
        scopes: list[str],
        authority_host: str,
        timeout: float,
        app: Any,
    ) -> None:
        if not tenant:
            raise ValueError(f"{type(self).__name__} needs a tenant (INTAKE_OAUTH_TENANT)")
        if not client_id:
            raise ValueError(f"{type(self).__name__} needs a client id (INTAKE_OAUTH_CLIENT_ID)")
        self.tenant = tenant
        self.client_id = client_id
        self.scopes = list(scopes)
        self.authority = f"{authority_host.rstrip('/')}/{tenant}"
        self.timeout = timeout
        self.expires_at: datetime | None = None
        self._app = app  # built on first use: msal asks the authority's metadata then

    def _accept(self, result: object) -> str:
        """The access token from an msal result dict, or a TokenError saying why not."""
        if not isinstance(result, dict):
            raise TokenError(f"Microsoft sign-in ({self.flow}) returned no token")
        token = result.get("access_token")
        if isinstance(token, str) and token:
            try:
                # msal reports the remaining lifetime, for cached tokens too.
                seconds = int(result["expires_in"])
            except (KeyError, TypeError, ValueError):
                self.expires_at = None
            else:
                self.expires_at = datetime.now(UTC) + timedelta(seconds=seconds)
            return token
        error = str(result.get("error") or "unknown_error")
        detail = _first_line(result.get("error_description"))
        raise TokenError(
            f"Microsoft sign-in ({self.flow}) failed for client {self.client_id} in tenant "
            f"{self.tenant}: {error}" + (f": {detail}" if detail else "")
        )

    def _build(self) -> Any:
        raise NotImplementedError

    def _application(self) -> Any:
        if self._app is None:
            try:
                self._app = self._build()
            except ValueError as exc:  # msal: unknown tenant or malformed authority
                raise TokenError(f"Microsoft sign-in ({self.flow}) setup failed: {exc}") from exc
        return self._app


class MsalClientCredentials(_MsalProvider):
    """App-only tokens (client id + secret) for Microsoft 365 IMAP.

    msal's ConfidentialClientApplication keeps its tokens in an in-memory cache and hands
    out the cached one until shortly before it expires, so each reconnect does not ask
    Microsoft again.
    """

    flow = "client credentials"

    def __init__(
        self,
        tenant: str,
        client_id: str,
        client_secret: str,
        *,
        authority_host: str = AUTHORITY_HOST,
        timeout: float = 30.0,
        app: Any = None,
    ) -> None:
        super().__init__(tenant, client_id, [OUTLOOK_APP_SCOPE], authority_host, timeout, app)
        if not client_secret and app is None:
            raise ValueError("MsalClientCredentials needs a client secret")
        self._secret = client_secret

    def _build(self) -> Any:
        import msal

        return msal.ConfidentialClientApplication(
            self.client_id,
            client_credential=self._secret,
            authority=self.authority,
            token_cache=msal.TokenCache(),
            timeout=self.timeout,
        )

    def token(self) -> str:
        """A cached token while it is fresh, else a new one from Microsoft."""
        return self._accept(self._application().acquire_token_for_client(scopes=self.scopes))

    def __repr__(self) -> str:
        return (
            f"MsalClientCredentials(tenant={self.tenant!r}, client_id={self.client_id!r}, "
            f"expires_at={self.expires_at!r})"
        )


class MsalRefreshToken(_MsalProvider):
    """Delegated tokens from a refresh token obtained elsewhere (a public client app).

    The first call redeems the configured refresh token; msal then keeps the access token
    and the rotated refresh token in its cache and later calls are served silently.
    """

    flow = "refresh token"

    def __init__(
        self,
        tenant: str,
        client_id: str,
        refresh_token: str,
        *,
        authority_host: str = AUTHORITY_HOST,
        timeout: float = 30.0,
        app: Any = None,
    ) -> None:
        super().__init__(
            tenant or "organizations",
            client_id,
            [OUTLOOK_DELEGATED_SCOPE],
            authority_host,
            timeout,
            app,
        )
        if not refresh_token:
            raise ValueError("MsalRefreshToken needs a refresh token")
        self._refresh_token = refresh_token

    def _build(self) -> Any:
        import msal

        return msal.PublicClientApplication(
            self.client_id,
            authority=self.authority,
            token_cache=msal.TokenCache(),
            timeout=self.timeout,
        )

    def token(self) -> str:
        """From msal's cache (refreshing silently) when it can, else redeem the refresh token."""
        app = self._application()
        accounts = app.get_accounts()
        if accounts:
            cached = app.acquire_token_silent(self.scopes, account=accounts[0])
            if isinstance(cached, dict) and cached.get("access_token"):
                return self._accept(cached)
        return self._accept(
            app.acquire_token_by_refresh_token(self._refresh_token, scopes=self.scopes)
        )

    def __repr__(self) -> str:
        return (
            f"MsalRefreshToken(tenant={self.tenant!r}, client_id={self.client_id!r}, "
            f"expires_at={self.expires_at!r})"
        )


def token_provider_from_settings(settings: Settings) -> TokenProvider:
    """The provider the settings describe: a ready token, else a refresh token, else a secret."""
    token = settings.oauth_token.get_secret_value()
    if token:
        return StaticToken(token)
    refresh = settings.oauth_refresh_token.get_secret_value()
    if refresh:
        return MsalRefreshToken(
            settings.oauth_tenant,
            settings.oauth_client_id,
            refresh,
            timeout=settings.imap_timeout,
        )
    secret = settings.oauth_client_secret.get_secret_value()
    if secret:
        return MsalClientCredentials(
            settings.oauth_tenant,
            settings.oauth_client_id,
            secret,
            timeout=settings.imap_timeout,
        )
    raise ValueError(
        "INTAKE_IMAP_AUTH=xoauth2 needs INTAKE_OAUTH_TOKEN, INTAKE_OAUTH_REFRESH_TOKEN or "
        "INTAKE_OAUTH_CLIENT_SECRET (with INTAKE_OAUTH_TENANT and INTAKE_OAUTH_CLIENT_ID)"
    )
