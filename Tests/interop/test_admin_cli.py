"""The admin CLI as an operator's scripts use it: the real `tessera admin …` run as a
subprocess (no terminal) against a live server on the same database. Each revocation is
followed by the request it must now break."""
import json
import os
import subprocess
import time

import jwt
import pytest
import requests

from conftest import BIN_DIR, honoured


def run_admin(server, *args, stdin=""):
    return subprocess.run([str(BIN_DIR / "tessera"), "admin", *args], input=stdin, env=server.env, cwd=server.tmp,
                          capture_output=True, text=True, timeout=60)


def admin_json(server, *args, stdin=""):
    result = run_admin(server, *args, "--json", "--yes", stdin=stdin)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def signup_and_login(server, email="ann@example.com", password="correct horse battery"):
    requests.post(server.url("/v1/signup"), json={"email": email, "password": password}, timeout=10)
    response = requests.post(server.url("/v1/login"), json={"email": email, "password": password}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def me(server, access):
    return requests.get(server.url("/v1/me"), headers={"Authorization": f"Bearer {access}"}, timeout=5).status_code


def refresh(server, token):
    return requests.post(server.url("/v1/token/refresh"), json={"refresh_token": token}, timeout=5).status_code


@pytest.fixture
def introspector(tessera):
    created = admin_json(tessera, "clients", "create", "--name", "resource server", "--grant", "client_credentials", "--scope", "api")
    return lambda token: requests.post(tessera.url("/oauth2/introspect"), data={"token": token},
                                       auth=(created["client_id"], created["client_secret"]), timeout=5).json()["active"]


def test_revoke_token_kills_the_family(tessera):
    tokens = signup_and_login(tessera)
    refused = run_admin(tessera, "revoke", "--token", tokens["refresh_token"])
    assert refused.returncode == 2 and "--yes" in refused.stderr and refused.stderr.count("\n") == 1
    assert refresh(tessera, tokens["refresh_token"]) == 200, "nothing changed without --yes"
    fresh = signup_and_login(tessera)
    assert admin_json(tessera, "revoke", "--token", fresh["refresh_token"])["revoked"] == "family"
    assert refresh(tessera, fresh["refresh_token"]) == 401
    assert run_admin(tessera, "revoke", "--token", "tsr_" + "A" * 43, "--yes").returncode == 1
    assert run_admin(tessera, "revoke", "--token", "not-a-token", "--yes").returncode == 2


def test_revoke_user_signs_out_everywhere(tessera, introspector):
    tokens = signup_and_login(tessera)
    assert me(tessera, tokens["access_token"]) == 200 and introspector(tokens["access_token"]) is True
    admin_json(tessera, "revoke", "--user", "ANN@example.com")
    assert honoured(lambda: me(tessera, tokens["access_token"]), 401) == 401
    assert introspector(tokens["access_token"]) is False
    assert refresh(tessera, tokens["refresh_token"]) == 401
    userinfo = requests.get(tessera.url("/oauth2/userinfo"), headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=5)
    assert userinfo.status_code == 401
    assert run_admin(tessera, "revoke", "--user", "nobody@example.com", "--yes").returncode == 1


def test_revoke_client_and_jti(tessera, introspector):
    app = admin_json(tessera, "clients", "create", "--name", "cli app", "--grant", "password", "--grant", "refresh_token", "--scope", "openid")
    signup_and_login(tessera)
    issued = requests.post(tessera.url("/oauth2/token"), data={"grant_type": "password", "username": "ann@example.com",
                                                                "password": "correct horse battery"},
                           auth=(app["client_id"], app["client_secret"]), timeout=10).json()
    assert introspector(issued["access_token"]) is True
    admin_json(tessera, "revoke", "--client", app["client_id"])
    assert honoured(lambda: introspector(issued["access_token"]), False) is False
    again = requests.post(tessera.url("/oauth2/token"), data={"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
                          auth=(app["client_id"], app["client_secret"]), timeout=5)
    assert again.json()["error"] == "invalid_grant"
    assert run_admin(tessera, "revoke", "--client", "no-such-client", "--yes").returncode == 1

    tokens = signup_and_login(tessera)
    jti = jwt.decode(tokens["access_token"], options={"verify_signature": False})["jti"]
    assert me(tessera, tokens["access_token"]) == 200, "the server has checked (and remembers) this token's standing"
    assert admin_json(tessera, "revoke", "--jti", jti)["jti"] == jti
    assert honoured(lambda: me(tessera, tokens["access_token"]), 401) == 401
    assert run_admin(tessera, "revoke", "--jti", "any-jti-at-all", "--yes").returncode == 0


def test_users_lifecycle(tessera):
    created = admin_json(tessera, "users", "create", "Bea@Example.com", "--password-stdin", "--confirmed",
                         stdin="correct horse battery\n")
    assert created["status"] == "active" and created["email"] == "Bea@Example.com"
    assert run_admin(tessera, "users", "create", "bea@example.com", "--yes").returncode == 1
    login = requests.post(tessera.url("/v1/login"), json={"email": "bea@example.com", "password": "correct horse battery"}, timeout=10)
    assert login.status_code == 200
    access = login.json()["access_token"]

    for i in range(3):
        admin_json(tessera, "users", "create", f"page{i}@example.com")
    everyone = admin_json(tessera, "users", "list")
    assert [u["email"] for u in everyone] == ["Bea@Example.com", "page0@example.com", "page1@example.com", "page2@example.com"]
    assert set(everyone[0]) == {"user_id", "email", "status", "created_at"}
    page = admin_json(tessera, "users", "list", "--limit", "2", "--after", everyone[0]["user_id"])
    assert [u["email"] for u in page] == ["page0@example.com", "page1@example.com"]
    assert [u["email"] for u in admin_json(tessera, "users", "list", "--email-prefix", "PAGE1")] == ["page1@example.com"]
    assert len(admin_json(tessera, "users", "list", "--status", "unconfirmed")) == 3
    assert admin_json(tessera, "users", "show", "bea@example.com")["user_id"] == created["user_id"]

    assert me(tessera, access) == 200
    admin_json(tessera, "users", "disable", created["user_id"])
    assert requests.post(tessera.url("/v1/login"), json={"email": "bea@example.com", "password": "correct horse battery"},
                         timeout=10).json()["error"] == "user_disabled"
    assert honoured(lambda: me(tessera, access), 401) == 401
    admin_json(tessera, "users", "enable", "bea@example.com")
    assert requests.post(tessera.url("/v1/login"), json={"email": "bea@example.com", "password": "correct horse battery"},
                         timeout=10).status_code == 200

    admin_json(tessera, "users", "delete", "bea@example.com")
    assert run_admin(tessera, "users", "show", "bea@example.com").returncode == 1
    assert requests.post(tessera.url("/v1/login"), json={"email": "bea@example.com", "password": "correct horse battery"},
                         timeout=10).status_code == 401
    audit = admin_json(tessera, "audit")
    assert audit[0]["action"] == "users.delete" and created["user_id"] in audit[0]["target"]
    assert "bea@" not in json.dumps(audit).lower(), "the audit log keeps no personal data of a deleted user"
    assert "uid" in audit[0]["actor"]


def test_clients_lifecycle(tessera):
    created = admin_json(tessera, "clients", "create", "--name", "Reports", "--grant", "client_credentials", "--scope", "reports.read",
                         "--audience", "https://api.example.test")
    client_id, secret = created["client_id"], created["client_secret"]
    shown = admin_json(tessera, "clients", "show", client_id)
    assert "client_secret" not in shown and shown["audience"] == "https://api.example.test"
    assert [c["client_id"] for c in admin_json(tessera, "clients", "list")] == [client_id]

    def token(secret_to_use):
        return requests.post(tessera.url("/oauth2/token"), data={"grant_type": "client_credentials"}, auth=(client_id, secret_to_use), timeout=5)
    assert token(secret).status_code == 200
    rotated = admin_json(tessera, "clients", "rotate-secret", client_id)
    assert honoured(lambda: token(secret).status_code, 401) == 401 and token(rotated["client_secret"]).status_code == 200
    admin_json(tessera, "clients", "delete", client_id)
    assert honoured(lambda: token(rotated["client_secret"]).status_code, 401) == 401
    assert run_admin(tessera, "clients", "show", client_id).returncode == 1
    public = admin_json(tessera, "clients", "create", "--name", "SPA", "--public", "--redirect-uri", "https://spa.example.test/cb")
    assert "client_secret" not in public and public["grants"] == ["authorization_code", "refresh_token"]
    assert run_admin(tessera, "clients", "rotate-secret", public["client_id"], "--yes").returncode == 2


def test_key_rotation_without_restart(tessera):
    before = signup_and_login(tessera)["access_token"]
    assert [k["state"] for k in admin_json(tessera, "keys", "list")] == ["active"]
    rotated = admin_json(tessera, "keys", "rotate")
    new_kid = rotated["kid"]
    assert rotated["state"] == "next"

    def login():
        return requests.post(tessera.url("/v1/login"), json={"email": "ann@example.com", "password": "correct horse battery"},
                             timeout=10).json()["access_token"]

    # Published first (within cluster_sync_interval), signing only after the activation delay:
    # no token carries a kid the JWKS does not.
    deadline = time.time() + 10
    while len(requests.get(tessera.url("/.well-known/jwks.json"), timeout=5).json()["keys"]) < 2 and time.time() < deadline:
        time.sleep(0.05)
    assert jwt.get_unverified_header(login())["kid"] != new_kid, "the new key does not sign before its activation"
    deadline = time.time() + 10
    after = login()
    while jwt.get_unverified_header(after)["kid"] != new_kid and time.time() < deadline:
        time.sleep(0.2)
        after = login()
    assert jwt.get_unverified_header(after)["kid"] == new_kid != jwt.get_unverified_header(before)["kid"]
    jwks = jwt.PyJWKClient(tessera.url("/.well-known/jwks.json"), cache_keys=False)
    for token in (before, after):
        jwt.decode(token, jwks.get_signing_key_from_jwt(token).key, algorithms=["RS256"], audience=tessera.issuer)
        assert me(tessera, token) == 200
    assert {k["state"] for k in admin_json(tessera, "keys", "list")} == {"active", "retiring"}


def test_dead_lettered_hooks_are_listed_and_retried(tmp_path, start_tessera):
    (tmp_path / "fail").touch()
    server = start_tessera(binary="tessera-example-hooks", env={
        "EXAMPLE_POST_SIGNUP_LOG": str(tmp_path / "signups.log"), "EXAMPLE_POST_SIGNUP_FAIL": str(tmp_path / "fail"),
        "TESSERA_HOOK_MAX_ATTEMPTS": "1"})
    user_id = requests.post(server.url("/v1/signup"), json={"email": "hal@example.com", "password": "correct horse battery"},
                            timeout=10).json()["user_id"]
    deadline = time.time() + 10
    failed = []
    while not failed and time.time() < deadline:
        failed = admin_json(server, "hooks", "failed")
        time.sleep(0.1)
    assert failed[0]["user_id"] == user_id and failed[0]["attempts"] == 1 and "failing on purpose" in failed[0]["last_error"]
    assert set(failed[0]) == {"id", "user_id", "hook", "attempts", "last_error"}
    assert run_admin(server, "hooks", "retry", "999999", "--yes").returncode == 1
    (tmp_path / "fail").unlink()
    assert admin_json(server, "hooks", "retry", str(failed[0]["id"]))["requeued"] == 1
    log = tmp_path / "signups.log"
    deadline = time.time() + 10
    while not (log.exists() and log.read_text().split()) and time.time() < deadline:
        time.sleep(0.1)
    assert log.read_text().split() == [user_id]
    assert admin_json(server, "hooks", "failed") == []


def test_destructive_commands_ask_on_a_terminal(tessera):
    tokens = signup_and_login(tessera)

    def on_terminal(answer):
        primary, secondary = os.openpty()
        process = subprocess.Popen([str(BIN_DIR / "tessera"), "admin", "revoke", "--user", "ann@example.com"], stdin=secondary,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=tessera.env, cwd=tessera.tmp, text=True)
        os.close(secondary)
        os.write(primary, answer.encode())
        out, err = process.communicate(timeout=30)
        os.close(primary)
        return process.returncode, err

    status, err = on_terminal("n\n")
    assert status == 1 and "[y/N]" in err
    assert me(tessera, tokens["access_token"]) == 200, "declined: nothing changed"
    status, _ = on_terminal("y\n")
    assert status == 0
    assert honoured(lambda: me(tessera, tokens["access_token"]), 401) == 401


@pytest.mark.parametrize("args", [
    ["nonsense"], ["users", "list", "--limit", "0"], ["revoke"], ["revoke", "--user", "a@example.com", "--jti", "x"],
    ["users", "list", "--status", "sleeping"], ["clients", "create"], ["hooks", "retry"],
    ["clients", "create", "--name", "x", "--auth-flow", "BOGUS"], ["clients", "create", "--name", "x", "--retry-grace-seconds", "61"],
    ["access-keys", "delete"],
])
def test_usage_errors_exit_2_with_one_line(tessera, args):
    result = run_admin(tessera, *args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("tessera: ")


@pytest.mark.parametrize("command", [
    ["revoke"], ["users", "list"], ["users", "show"], ["users", "create"], ["users", "disable"], ["users", "enable"],
    ["users", "delete"], ["clients", "create"], ["clients", "list"], ["clients", "show"], ["clients", "delete"],
    ["clients", "rotate-secret"], ["keys", "list"], ["keys", "rotate"], ["hooks", "failed"], ["hooks", "retry"], ["audit"],
    ["users", "verify-email"], ["users", "set-password"],
    ["groups", "create"], ["groups", "list"], ["groups", "delete"], ["groups", "add-user"], ["groups", "remove-user"], ["groups", "members"],
    ["access-keys", "create"], ["access-keys", "list"], ["access-keys", "delete"],
])
def test_every_command_has_help_with_an_example(tessera, command):
    result = run_admin(tessera, *command, "--help")
    assert result.returncode == 0 and "Example" in result.stdout


def test_verify_email_activates_an_unconfirmed_user(tessera):
    created = admin_json(tessera, "users", "create", "uma@example.com", "--password-stdin", stdin="correct horse battery\n")
    assert created["status"] == "unconfirmed"
    login = {"email": "uma@example.com", "password": "correct horse battery"}
    refused = requests.post(tessera.url("/v1/login"), json=login, timeout=10)
    assert refused.status_code == 403 and refused.json()["error"] == "user_unconfirmed"
    verified = admin_json(tessera, "users", "verify-email", "uma@example.com")
    assert verified == {"user_id": created["user_id"], "email": "uma@example.com", "email_verified": True, "status": "active"}
    assert requests.post(tessera.url("/v1/login"), json=login, timeout=10).status_code == 200
    assert admin_json(tessera, "users", "show", created["user_id"])["email_verified"] is True
    assert run_admin(tessera, "users", "verify-email", "nobody@example.com").returncode == 1


def test_set_password_replaces_it_and_revokes_everything(tessera):
    tokens = signup_and_login(tessera, "sam@example.com")
    without_yes = run_admin(tessera, "users", "set-password", "sam@example.com", "--password-stdin", stdin="a brand new passphrase\n")
    assert without_yes.returncode == 2 and "--yes" in without_yes.stderr
    assert run_admin(tessera, "users", "set-password", "sam@example.com", "--password-stdin", "--yes", stdin="short\n").returncode == 2
    assert run_admin(tessera, "users", "set-password", "sam@example.com", "--yes").returncode == 2, "the password comes from stdin"
    assert me(tessera, tokens["access_token"]) == 200, "nothing changed by the refused calls"
    done = admin_json(tessera, "users", "set-password", "sam@example.com", "--password-stdin", stdin="a brand new passphrase\n")
    assert done["password_set"] is True
    assert honoured(lambda: me(tessera, tokens["access_token"]), 401) == 401
    assert refresh(tessera, tokens["refresh_token"]) == 401
    old = requests.post(tessera.url("/v1/login"), json={"email": "sam@example.com", "password": "correct horse battery"}, timeout=10)
    assert old.status_code == 401
    new = requests.post(tessera.url("/v1/login"), json={"email": "sam@example.com", "password": "a brand new passphrase"}, timeout=10)
    assert new.status_code == 200
    assert run_admin(tessera, "users", "set-password", "nobody@example.com", "--password-stdin", "--yes", stdin="a brand new passphrase\n").returncode == 1
    assert [e["action"] for e in admin_json(tessera, "audit", "--limit", "1")] == ["users.set-password"]
