"""Signed-in users (WAYFARER_AUTH_MODE=jwt) against a real Cognito API: moto in server mode
(cognito-idp), the app under uvicorn. Every refusal is a 401 that says what is wrong; a thread
of another user is a 404 on every route, exactly like one that does not exist."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.servers import server_process
from tests.sse_clients import nodes_of
from wayfarer.auth import JwtAuth
from wayfarer.local_cognito import LocalPool, create_pool

ALICE = ("alice@example.com", "Alice-password-2024!")
BOB = ("bob@example.com", "Bob-password-2024!")


@pytest.fixture(scope="module")
def pool(moto_endpoint: str) -> LocalPool:
    pool = create_pool(moto_endpoint, name=f"auth-{time.time_ns()}")
    for email, password in (ALICE, BOB):
        pool.add_user(email, password)
    return pool


@pytest.fixture(scope="module")
def app_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("auth") / "app.log"


@pytest.fixture(scope="module")
def app_url(pool: LocalPool, moto_endpoint: str, app_log: Path) -> Iterator[str]:
    """The app in jwt mode against the pool, in its own process (its log in ``app_log``)."""
    settings = {key.removeprefix("WAYFARER_").lower(): value for key, value in pool.app_settings().items()}
    with server_process(
        app_log,
        dynamodb_endpoint_url=moto_endpoint,
        table_name=f"wf-auth-{time.time_ns()}",
        offline_pace_ms="0",
        **settings,
    ) as (_, url):
        yield url


def client_for(url: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, timeout=30, headers=headers)


def token_of(pool: LocalPool, user: tuple[str, str], kind: str = "AccessToken") -> str:
    token: str = pool.sign_in(*user)[kind]
    return token


def moto_signing_key() -> Any:
    """moto signs every pool's tokens with one packaged test key; re-signing with it makes a
    token that differs from a real one only in what a test changes."""
    raw = resources.files("moto").joinpath("cognitoidp/resources/jwks-private.json.gz").read_bytes()
    return jwt.PyJWK(json.loads(gzip.decompress(raw))).key


def resigned(token: str, **changes: Any) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(changes)
    return jwt.encode(claims, moto_signing_key(), algorithm="RS256", headers={"kid": "dummy"})


def refusal(response: httpx.Response) -> str:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    detail: str = response.json()["detail"]
    return detail


def test_health_needs_no_token_and_everything_else_does(app_url: str) -> None:
    with client_for(app_url, None) as anonymous:
        assert anonymous.get("/health").status_code == 200
        for method, path in [
            ("GET", "/threads"),
            ("POST", "/threads"),
            ("GET", "/threads/t1"),
            ("GET", "/threads/t1/state"),
            ("GET", "/threads/t1/history"),
            ("DELETE", "/threads/t1"),
            ("POST", "/runs/stream"),
            ("POST", "/runs/invoke"),
            ("GET", "/threads/t1/runs/01a20bed-f7ec-73e3-8720-c3441ff1566f"),
            ("GET", "/threads/t1/runs/01a20bed-f7ec-73e3-8720-c3441ff1566f/stream"),
            ("POST", "/threads/t1/runs/01a20bed-f7ec-73e3-8720-c3441ff1566f/cancel"),
        ]:
            body = {"message": "Paris"} if path.startswith("/runs") else None
            assert "Sign in first" in refusal(anonymous.request(method, path, json=body)), (method, path)


def test_bad_tokens_are_401_with_what_is_wrong(app_url: str, pool: LocalPool, moto_endpoint: str) -> None:
    access = token_of(pool, ALICE)
    other_pool = create_pool(moto_endpoint, name=f"other-{time.time_ns()}")
    other_pool.add_user(*ALICE)
    other_client = pool.client().create_user_pool_client(
        UserPoolId=pool.pool_id, ClientName="other-app", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cases = {
        "not a JWT": "not-a-token",
        "has expired": resigned(access, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
        "another sign-in service": token_of(other_pool, ALICE),
        "another app (wrong audience)": pool.sign_in(*ALICE, client_id=other_client)["AccessToken"],
        "ID token": token_of(pool, ALICE, "IdToken"),
        "signature does not verify": access[:-6] + ("AAAAAA" if not access.endswith("AAAAAA") else "BBBBBB"),
    }
    for expected, token in cases.items():
        with client_for(app_url, token) as client:
            message = refusal(client.get("/threads"))
            assert expected in message, (expected, message)
            assert "kid" not in message and "modulus" not in message
    with httpx.Client(base_url=app_url, headers={"Authorization": f"Basic {access}"}) as basic:
        assert "Bearer" in refusal(basic.get("/threads"))
    with client_for(app_url, access) as client:
        assert client.get("/threads").status_code == 200


def test_users_never_see_each_others_threads(app_url: str, pool: LocalPool) -> None:
    with client_for(app_url, token_of(pool, ALICE)) as alice, client_for(app_url, token_of(pool, BOB)) as bob:
        first = stream(alice, {"thread_id": "test123", "message": "Write about visiting Paris"})
        run_id = first[0]["run_id"]
        assert nodes_of(first) == ["planner"]

        thread = "/threads/test123"
        run = f"{thread}/runs/{run_id}"
        for method, path, body in [
            ("GET", thread, None),
            ("GET", f"{thread}/state", None),
            ("GET", f"{thread}/history", None),
            ("POST", f"{thread}/state", {"values": {"plan": "mine now"}}),
            ("DELETE", thread, None),
            ("GET", run, None),
            ("GET", f"{run}/stream", None),
            ("POST", f"{run}/cancel", None),
        ]:
            answer = bob.request(method, path, json=body)
            assert answer.status_code == 404, (method, path, answer.text)
            assert "does not exist" in answer.json()["detail"]
        assert bob.get("/threads").json()["threads"] == []

        # Bob's own test123 is another thread: he writes about Rome, Alice's stays Paris.
        bobs = stream(bob, {"thread_id": "test123", "message": "Write about visiting Rome"})
        assert nodes_of(bobs) == ["planner"] and bobs[0]["resumed"] is False
        alice_state = alice.get(f"{thread}/state").json()
        bob_state = bob.get(f"{thread}/state").json()
        assert alice_state["values"]["task"] == "Write about visiting Paris"
        assert bob_state["values"]["task"] == "Write about visiting Rome"
        assert alice_state["checkpoint"]["thread_id"] == "test123"  # the storage key stays inside
        assert [t["title"] for t in alice.get("/threads").json()["threads"]] == ["Write about visiting Paris"]
        assert [t["title"] for t in bob.get("/threads").json()["threads"]] == ["Write about visiting Rome"]

        resumed = stream(alice, {"thread_id": "test123"})
        assert nodes_of(resumed) == ["travel_plan"]


def test_the_thread_list_pages_newest_first(app_url: str, pool: LocalPool) -> None:
    with client_for(app_url, token_of(pool, BOB)) as bob:
        made = [f"page-{i}" for i in range(5)]
        for thread_id in made:
            assert bob.post("/threads", json={"thread_id": thread_id}).status_code == 201
            time.sleep(0.01)
        seen: list[str] = []
        cursor = None
        while True:
            page = bob.get("/threads", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
            seen += [t["thread_id"] for t in page["threads"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert [t for t in seen if t.startswith("page-")] == list(reversed(made))
        assert bob.get("/threads", params={"cursor": "bm9wZQ"}).status_code == 422
    with client_for(app_url, token_of(pool, ALICE)) as alice:
        # A cursor names no owner: the server starts the page in the caller's own threads, so
        # Bob's cursor in Alice's hands shows none of Bob's.
        bobs_cursor = page_cursor(app_url, token_of(pool, BOB))
        page = alice.get("/threads", params={"cursor": bobs_cursor})
        assert page.status_code == 200
        assert not [t for t in page.json()["threads"] if t["thread_id"].startswith("page-")]


def page_cursor(url: str, token: str) -> str:
    with client_for(url, token) as client:
        cursor: str = client.get("/threads", params={"limit": 1}).json()["next_cursor"]
        return cursor


def stream(client: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    with client.stream("POST", "/runs/stream", json=body) as response:
        assert response.status_code == 200, response.read()
        return [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]


def test_logs_carry_the_subject_and_no_token_or_text(app_url: str, pool: LocalPool, app_log: Path) -> None:
    """Runs log the caller's sub; no token, prompt or draft text at INFO."""
    token = token_of(pool, ALICE)
    with client_for(app_url, token) as alice:
        events = stream(
            alice, {"thread_id": "log-check", "message": "Write about visiting Lisbon", "use_hitl": False}
        )
        assert events[-1]["event"] == "complete"
    sub = jwt.decode(token, options={"verify_signature": False})["sub"]
    lines = [json.loads(line) for line in app_log.read_text().splitlines() if line.startswith("{")]
    info = [line for line in lines if line.get("level") == "INFO"]
    run_lines = [line for line in info if line.get("thread_id") == "log-check"]
    assert run_lines and all(line.get("sub") == sub for line in run_lines)
    draft = next(e for e in events if e["event"] == "node" and e["node"] == "generate")["data"]["draft"]
    text = "\n".join(json.dumps(line) for line in info)
    assert token not in text and "Write about visiting Lisbon" not in text and draft[:60] not in text


def test_a_token_whose_algorithm_does_not_match_its_key_is_401_not_500(app_url: str, pool: LocalPool) -> None:
    claims = jwt.decode(token_of(pool, ALICE), options={"verify_signature": False})
    ec_key = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(claims, ec_key, algorithm="ES256", headers={"kid": "dummy"})  # the RSA key's kid
    with client_for(app_url, forged) as client:
        assert "does not match its key" in refusal(client.get("/threads"))


def test_an_access_token_for_another_api_is_refused_even_from_our_client(
    app_url: str, pool: LocalPool
) -> None:
    """RFC 9068 access tokens name their API in aud; client_id alone must not let them in."""
    token = resigned(token_of(pool, ALICE), aud="https://another-api.example.com")
    with client_for(app_url, token) as client:
        assert "wrong audience" in refusal(client.get("/threads"))


def test_an_issuer_keeps_its_trailing_slash_for_the_iss_check() -> None:
    auth = JwtAuth("https://tenant.example.com/", "api")
    assert auth.issuer == "https://tenant.example.com/"
    assert auth.jwks_url == "https://tenant.example.com/.well-known/jwks.json"
