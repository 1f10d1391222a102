"""A Cognito user pool on a local moto server, for ``make dev AUTH=cognito`` and the tests.

moto in server mode implements cognito-idp (pools, app clients, admin-created users,
USER_PASSWORD_AUTH, refresh) and serves one JWKS per pool. Its tokens name AWS's real issuer,
so the app verifies them with a JWKS URL override. moto keeps everything in memory: seeding
its random ids first makes the pool, client and users the same on every start, so a user's
threads (stored under a digest of issuer and subject) are theirs again after a restart."""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3

REGION = "us-east-1"
SEED = 2024
DEMO_USERS = (("demo@example.com", "Wayfarer-demo-2024!"), ("friend@example.com", "Wayfarer-friend-2024!"))


@dataclass(frozen=True)
class LocalPool:
    endpoint: str
    pool_id: str
    client_id: str

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{REGION}.amazonaws.com/{self.pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.endpoint}/{self.pool_id}/.well-known/jwks.json"

    def app_settings(self) -> dict[str, str]:
        """The app's environment for jwt mode against this pool."""
        return {
            "WAYFARER_AUTH_MODE": "jwt",
            "WAYFARER_AUTH_ISSUER": self.issuer,
            "WAYFARER_AUTH_AUDIENCE": self.client_id,
            "WAYFARER_AUTH_JWKS_URL": self.jwks_url,
            "WAYFARER_AUTH_COGNITO_ENDPOINT": self.endpoint,
        }

    def client(self) -> Any:
        return cognito_client(self.endpoint)

    def add_user(self, email: str, password: str) -> None:
        client = self.client()
        client.admin_create_user(
            UserPoolId=self.pool_id,
            Username=email,
            TemporaryPassword=f"{password}-tmp",
            MessageAction="SUPPRESS",
        )
        client.admin_set_user_password(
            UserPoolId=self.pool_id, Username=email, Password=password, Permanent=True
        )

    def sign_in(self, email: str, password: str, client_id: str | None = None) -> dict[str, Any]:
        """The tokens (AccessToken, IdToken, RefreshToken), as the site gets them."""
        answer = self.client().initiate_auth(
            ClientId=client_id or self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        tokens: dict[str, Any] = answer["AuthenticationResult"]
        return tokens


def cognito_client(endpoint: str) -> Any:
    return boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def seed(endpoint: str, value: int = SEED) -> None:
    """Make moto's random ids (pool, client, user subjects) repeat from start to start."""
    request = urllib.request.Request(f"{endpoint}/moto-api/seed?a={value}", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


def create_pool(endpoint: str, name: str = "wayfarer-local") -> LocalPool:
    """A pool as the template makes it (email as username, a public app client with
    USER_PASSWORD_AUTH and refresh)."""
    client = cognito_client(endpoint)
    pool_id = client.create_user_pool(
        PoolName=name,
        UsernameAttributes=["email"],
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 12,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
            }
        },
    )["UserPool"]["Id"]
    client_id = client.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="web",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return LocalPool(endpoint, pool_id, client_id)


def demo_pool(endpoint: str) -> LocalPool:
    """The seeded pool with the demo users of ``DEMO_USERS``."""
    seed(endpoint)
    pool = create_pool(endpoint)
    for email, password in DEMO_USERS:
        pool.add_user(email, password)
    return pool


def main(argv: list[str] | None = None) -> None:
    """``python -m wayfarer.local_cognito ENDPOINT EMAIL PASSWORD``: print an access token of
    the local demo pool (for curl)."""
    import sys

    endpoint, email, password = (argv if argv is not None else sys.argv[1:])[:3]
    client = cognito_client(endpoint)
    pools = client.list_user_pools(MaxResults=10)["UserPools"]
    pool_id = next(p["Id"] for p in pools if p["Name"] == "wayfarer-local")
    client_id = client.list_user_pool_clients(UserPoolId=pool_id, MaxResults=10)["UserPoolClients"][0][
        "ClientId"
    ]
    print(LocalPool(endpoint, pool_id, client_id).sign_in(email, password)["AccessToken"])


if __name__ == "__main__":
    main()
