"""Who is calling: the subject of a verified JWT, or the one local user when auth is off.

``WAYFARER_AUTH_MODE=jwt``: every route but ``/health`` (and the site and docs) needs
``Authorization: Bearer <access token>``, verified with PyJWT: the signature against the
issuer's JWKS (cached; fetched again for a key id it has not seen), ``exp``, ``iss``, and the
audience (``client_id`` in a Cognito access token, ``aud`` otherwise). ID tokens are refused:
an API takes access tokens. A refusal is a 401 that says what is wrong with the token, never
which part of a key failed."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

import jwt
from aws_lambda_powertools import Logger
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from wayfarer.errors import WayfarerError
from wayfarer.table_keys import LOCAL_OWNER

logger = Logger(service="wayfarer", child=True)

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384"]
LEEWAY_SECONDS = 30  # clock skew between the issuer and us


class Unauthorized(WayfarerError):
    status_code = 401

    def __init__(self, message: str) -> None:
        super().__init__(
            message,
            headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{message}"'},
        )


class AuthUnavailable(WayfarerError):
    """The issuer's keys could not be fetched: an outage, not the caller's fault."""

    status_code = 503

    def __init__(self) -> None:
        super().__init__(
            "The sign-in service's keys could not be fetched; try again shortly.",
            headers={"Retry-After": "5"},
        )


@dataclass(frozen=True)
class Caller:
    """The signed-in user (``subject`` None: auth is off, one local user)."""

    subject: str | None = None
    issuer: str | None = None

    @property
    def owner(self) -> str:
        """The key their threads are stored under: a digest of issuer and subject, so two
        issuers' subjects never meet and any subject fits a DynamoDB key."""
        if self.subject is None:
            return LOCAL_OWNER
        return hashlib.sha256(f"{self.issuer}|{self.subject}".encode()).hexdigest()[:32]


class Authenticator(Protocol):
    required: bool

    async def caller(self, token: str | None) -> Caller: ...


class NoAuth:
    """Auth off: everyone is the one local user."""

    required = False

    async def caller(self, token: str | None) -> Caller:
        return Caller()


class JwtAuth:
    required = True

    def __init__(self, issuer: str, audience: str, jwks_url: str | None = None) -> None:
        self.issuer = issuer  # compared exactly: Auth0's, for one, ends with "/"
        self.audience = audience
        self.jwks_url = jwks_url or f"{issuer.rstrip('/')}/.well-known/jwks.json"
        self._keys = jwt.PyJWKClient(self.jwks_url, cache_jwk_set=True, lifespan=3600, timeout=5)

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as exc:
            raise Unauthorized(
                "The bearer token is not a JWT; send the access token you signed in with."
            ) from exc
        if header.get("alg") not in ALGORITHMS:
            raise Unauthorized("The token's signing algorithm is not accepted.")
        try:
            key = self._keys.get_signing_key(str(header.get("kid")))
        except (jwt.PyJWKClientConnectionError, jwt.PyJWKSetError) as exc:
            logger.error("JWKS fetch failed", extra={"jwks_url": self.jwks_url}, exc_info=exc)
            raise AuthUnavailable() from exc
        except jwt.PyJWKClientError as exc:
            raise Unauthorized("The token was not signed by this app's sign-in service.") from exc
        if header.get("alg") != key.algorithm_name:  # the key decides the algorithm, not the token
            raise Unauthorized("The token's signing algorithm does not match its key.")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm_name],
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "sub"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The token has expired; sign in again or refresh it.") from exc
        except jwt.InvalidIssuerError as exc:
            raise Unauthorized("The token was issued by another sign-in service than this app's.") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthorized(f"The token has no {exc.claim!r} claim.") from exc
        except jwt.InvalidSignatureError as exc:
            raise Unauthorized("The token's signature does not verify.") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("The token is not valid; sign in again.") from exc
        return claims

    def _check_use(self, claims: dict[str, Any]) -> None:
        use = claims.get("token_use")
        # Cognito says token_use; other issuers' ID tokens carry a nonce or an at_hash.
        if use == "id" or (use is None and ("nonce" in claims or "at_hash" in claims)):
            raise Unauthorized(
                "This is an ID token; send the access token (Authorization: Bearer <AccessToken>)."
            )
        if use not in (None, "access"):
            raise Unauthorized(f"A {use!r} token cannot call this API; send an access token.")
        aud = claims.get("aud")
        if aud is not None:  # an access token for an API names that API (RFC 9068)
            audiences = [aud] if isinstance(aud, str) else list(aud)
        else:  # Cognito access tokens have no aud: they name the app client
            audiences = [claims.get("client_id")]
        if self.audience not in audiences:
            raise Unauthorized("The token was issued for another app (wrong audience); sign in to this one.")

    async def caller(self, token: str | None) -> Caller:
        if not token:
            raise Unauthorized("Sign in first: send Authorization: Bearer <access token>.")
        claims = await asyncio.to_thread(self._verify, token)  # the JWKS fetch is blocking I/O
        self._check_use(claims)
        return Caller(subject=str(claims["sub"]), issuer=str(claims["iss"]))


bearer = HTTPBearer(
    auto_error=False, description="A Cognito access token (or your issuer's), when auth is on."
)


async def current_caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Caller:
    authenticator: Authenticator = request.app.state.services.auth
    if credentials is None and request.headers.get("authorization") and authenticator.required:
        raise Unauthorized("The Authorization header must be 'Bearer <access token>'.")
    caller = await authenticator.caller(credentials.credentials if credentials else None)
    if caller.subject is not None:
        logger.thread_safe_append_keys(sub=caller.subject)  # this request's context, and its runs
    return caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]
