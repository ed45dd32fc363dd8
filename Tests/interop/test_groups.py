"""Groups (contract §11.5) through the admin CLI, and the `groups` claim in Tessera's own
tokens, read back with PyJWT against the published JWKS."""
import jwt
import requests

from test_admin_cli import admin_json, run_admin


def login(server, email, scope=None):
    password = "correct horse battery"
    requests.post(server.url("/v1/signup"), json={"email": email, "password": password}, timeout=10)
    body = {"email": email, "password": password}
    if scope:
        body["scope"] = scope
    response = requests.post(server.url("/v1/login"), json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def claims(server, token, **options):
    key = jwt.PyJWKClient(server.url("/.well-known/jwks.json")).get_signing_key_from_jwt(token).key
    return jwt.decode(token, key, algorithms=["RS256"], issuer=server.issuer, options={"verify_aud": False}, **options)


def test_groups_cli_and_the_groups_claim(tessera):
    assert admin_json(tessera, "groups", "create", "readers") == {"name": "readers", "description": None, "precedence": None}
    admin_json(tessera, "groups", "create", "admins", "--description", "Operators", "--precedence", "1")
    admin_json(tessera, "groups", "create", "staff", "--precedence", "5")
    assert run_admin(tessera, "groups", "create", "admins").returncode == 1, "a taken name"
    assert run_admin(tessera, "groups", "create", "bad\tname").returncode == 2
    assert run_admin(tessera, "groups", "create", "x", "--precedence", "-1").returncode == 2
    assert admin_json(tessera, "groups", "list") == [
        {"name": "admins", "description": "Operators", "precedence": 1},
        {"name": "readers", "description": None, "precedence": None},
        {"name": "staff", "description": None, "precedence": 5},
    ]

    login(tessera, "gia@example.com")
    for group in ["readers", "staff", "admins"]:
        admin_json(tessera, "groups", "add-user", group, "gia@example.com")
    admin_json(tessera, "groups", "add-user", "admins", "gia@example.com")  # again: no change
    assert run_admin(tessera, "groups", "add-user", "nope", "gia@example.com").returncode == 1
    assert run_admin(tessera, "groups", "add-user", "admins", "nobody@example.com").returncode == 1
    members = admin_json(tessera, "groups", "members", "admins")
    assert [member["email"] for member in members] == ["gia@example.com"] and set(members[0]) == {"user_id", "email"}

    # Without the scope no claim; with it, precedence order (none last), in both tokens.
    plain = login(tessera, "gia@example.com")
    assert "groups" not in claims(tessera, plain["access_token"])
    tokens = login(tessera, "gia@example.com", scope="openid email groups account")
    assert claims(tessera, tokens["access_token"])["groups"] == ["admins", "staff", "readers"]
    id_claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert id_claims["groups"] == ["admins", "staff", "readers"]
    # A refresh reads the membership as it is now.
    admin_json(tessera, "groups", "remove-user", "staff", "gia@example.com")
    refreshed = requests.post(tessera.url("/v1/token/refresh"), json={"refresh_token": tokens["refresh_token"]}, timeout=5).json()
    assert claims(tessera, refreshed["access_token"])["groups"] == ["admins", "readers"]

    assert run_admin(tessera, "groups", "delete", "admins").returncode == 2, "destructive: --yes without a terminal"
    assert admin_json(tessera, "groups", "delete", "admins") == {"name": "admins", "deleted": True}
    assert run_admin(tessera, "groups", "members", "admins").returncode == 1
    assert "groups" in requests.get(tessera.url("/.well-known/openid-configuration"), timeout=5).json()["scopes_supported"]
