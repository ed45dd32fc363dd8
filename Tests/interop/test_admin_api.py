"""The admin HTTP API (contract §12.4), driven by a client written against /openapi.json:
the user actions of the admin CLI with the CLI's shapes, admin scopes only through
client_credentials, If-Match on PATCH, and an audit entry naming the calling client."""
import json
import subprocess
import time

import pytest
import requests

from conftest import BIN_DIR, honoured
from openapi_client import OpenAPIClient

PASSWORD = "correct horse battery"
# The audit log also records every successful read of the admin API.
READS = {"users.list", "users.show", "clients.list", "clients.show", "keys.list", "audit.read", "groups.list", "groups.show",
         "groups.members", "webhooks.list", "webhooks.show", "webhooks.deliveries"}
REFUSALS = {"refused", "failed"}


def refusals_by(server, client_id, limit=200):
    """The audit log's entries of the client's calls that were refused, newest first, as (target, details)."""
    entries = admin_cli(server, "audit", "--limit", str(limit))
    return [(e["target"], e["details"]) for e in entries if e["actor"] == f"client {client_id}" and e["action"] in REFUSALS]


def changes_by(server, client_id, *fields, limit=200):
    """The audit log's entries of changes made by the client, newest first (`fields` of each)."""
    entries = admin_cli(server, "audit", "--limit", str(limit))
    picked = [e for e in entries if e["actor"] == f"client {client_id}" and e["action"] not in READS | REFUSALS]
    return [e[fields[0]] if len(fields) == 1 else tuple(e[f] for f in fields) for e in picked]


def admin_cli(server, *args, stdin=""):
    result = subprocess.run([str(BIN_DIR / "tessera"), "admin", *args, "--json", "--yes"], input=stdin, env=server.env,
                            cwd=server.tmp, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def client_token(server, scope: str, grants=("client_credentials",), name="automation"):
    created = admin_cli(server, "clients", "create", "--name", name, *[arg for grant in grants for arg in ("--grant", grant)], "--scope", scope)
    answer = requests.post(server.url("/oauth2/token"), data={"grant_type": "client_credentials"},
                           auth=(created["client_id"], created["client_secret"]), timeout=10)
    assert answer.status_code == 200, answer.text
    return created, answer.json()["access_token"]


@pytest.fixture
def introspector(tessera):
    created = admin_cli(tessera, "clients", "create", "--name", "resource server", "--grant", "client_credentials", "--scope", "api")
    return lambda token: requests.post(tessera.url("/oauth2/introspect"), data={"token": token},
                                       auth=(created["client_id"], created["client_secret"]), timeout=5).json()["active"]


def login(server, email, password=PASSWORD):
    return requests.post(server.url("/v1/login"), json={"email": email, "password": password}, timeout=10)


def test_users_through_the_admin_api_as_the_cli_sees_them(tessera):
    created_client, token = client_token(tessera, "admin:users")
    api = OpenAPIClient(tessera.issuer, bearer=token)

    made = api.call("adminCreateUser", body={"email": "Ops.User@example.com", "password": PASSWORD, "confirmed": True})
    assert made.status_code == 201 and made.json()["status"] == "active" and made.json()["email"] == "Ops.User@example.com"
    user_id = made.json()["user_id"]
    assert api.call("adminCreateUser", body={"email": "ops.user@EXAMPLE.com"}).status_code == 409
    assert api.call("adminCreateUser", body={"email": "not an address"}).status_code == 400
    assert api.call("adminCreateUser", body={"email": "weak@example.com", "password": "password"}).status_code == 400
    assert api.call("adminCreateUser", body={"email": "x@example.com", "role": "root"}).status_code == 400
    no_password = api.call("adminCreateUser", body={"email": "nopass@example.com"}).json()
    assert no_password["status"] == "unconfirmed"

    listed = api.call("adminListUsers", query={"email_prefix": "ops.", "limit": 10})
    assert [u["user_id"] for u in listed.json()] == [user_id]
    assert api.call("adminListUsers", query={"limit": 0}).status_code == 400
    assert api.call("adminListUsers", query={"status": "nonsense"}).status_code == 400
    assert api.call("adminListUsers", query={"after": "no-such-user"}).status_code == 404

    # The API answers with the CLI's --json shapes.
    shown = api.call("adminGetUser", path={"user": user_id})
    assert shown.json() == admin_cli(tessera, "users", "show", user_id)
    assert api.call("adminGetUser", path={"user": "ops.user@example.com"}).json()["user_id"] == user_id
    assert api.call("adminGetUser", path={"user": "nobody"}).status_code == 404

    # PATCH with If-Match, like /v1/me.
    assert api.call("adminUpdateUser", path={"user": user_id}, body={"attributes": {"team": "ops"}}).status_code == 428
    etag = shown.headers["ETag"]
    updated = api.call("adminUpdateUser", path={"user": user_id}, body={"attributes": {"team": "ops"}}, headers={"If-Match": etag})
    assert updated.status_code == 200 and updated.json()["attributes"] == {"team": "ops"}
    stale = api.call("adminUpdateUser", path={"user": user_id}, body={"attributes": {"team": "dev"}}, headers={"If-Match": etag})
    assert stale.status_code == 412 and stale.headers["ETag"] == updated.headers["ETag"]

    # Sign-out, disable, enable, password: the user's own sessions feel each at once.
    tokens = login(tessera, "ops.user@example.com").json()
    me = lambda: requests.get(tessera.url("/v1/me"), headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10)
    assert me().status_code == 200
    assert api.call("adminSignOutUser", path={"user": user_id}).json() == {"revoked": "user", "user_id": user_id}
    assert me().status_code == 401
    assert api.call("adminDisableUser", path={"user": user_id}).json() == {"user_id": user_id, "status": "disabled"}
    assert login(tessera, "ops.user@example.com").json()["error"] == "user_disabled"
    assert api.call("adminSendUserRecovery", path={"user": user_id}).status_code == 409
    assert api.call("adminEnableUser", path={"user": user_id}).json()["status"] == "active"
    assert api.call("adminSetUserPassword", path={"user": user_id}, body={"password": "short"}).status_code == 400
    assert api.call("adminSetUserPassword", path={"user": user_id}, body={"password": "a new passphrase"}).json()["password_set"] is True
    assert login(tessera, "ops.user@example.com").status_code == 401
    assert login(tessera, "ops.user@example.com", "a new passphrase").status_code == 200
    assert api.call("adminSendUserRecovery", path={"user": user_id}).json() == {"user_id": user_id, "queued": True}
    verified = api.call("adminVerifyUserEmail", path={"user": no_password["user_id"]}).json()
    assert verified["email_verified"] is True and verified["status"] == "active"

    assert api.call("adminDeleteUser", path={"user": user_id}).json() == {"user_id": user_id, "deleted": True}
    assert api.call("adminGetUser", path={"user": user_id}).status_code == 404

    # Every call that changed something is in the audit log, by the calling client.
    audit = admin_cli(tessera, "audit", "--limit", "50")
    by_client = [entry for entry in audit if entry["actor"] == f"client {created_client['client_id']}"]
    assert {entry["action"] for entry in by_client} >= {
        "users.create", "users.update", "revoke.user", "users.disable", "users.enable", "users.set-password", "users.send-recovery",
        "users.verify-email", "users.delete"}
    assert all(entry["target"].startswith("user ") for entry in by_client if entry["action"] not in READS | REFUSALS)
    # Reads are recorded too: a list with no target, a show naming the user by id (never the address used).
    reads = [(entry["action"], entry["target"]) for entry in by_client if entry["action"] in READS]
    assert ("users.list", "") in reads and ("users.show", f"user {user_id}") in reads
    # So are the refused calls, newest first: by route template (never the path, which may hold an address) and status.
    one, users = "/admin/v1/users/{user}", "/admin/v1/users"
    assert refusals_by(tessera, created_client["client_id"]) == [
        ("GET " + one, "status 404"), ("POST " + one + "/password", "status 400"), ("POST " + one + "/send-recovery", "status 409"),
        ("PATCH " + one, "status 412"), ("PATCH " + one, "status 428"), ("GET " + one, "status 404"), ("GET " + users, "status 404"),
        ("GET " + users, "status 400"), ("GET " + users, "status 400")] + [("POST " + users, "status 400")] * 3 + [
        ("POST " + users, "status 409")]
    assert not any("@" in entry["target"] for entry in audit)


def test_admin_scopes_come_only_from_client_credentials_of_clients_registered_with_them(tessera):
    api = OpenAPIClient(tessera.issuer)
    assert api.call("adminListUsers", bearer="").status_code == 401
    assert api.call("adminListUsers", bearer="not-a-token").status_code == 401
    # A client without the scope.
    plain_client, plain = client_token(tessera, "api", name="plain")
    refused = api.call("adminListUsers", bearer=plain)
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope"
    # A user's token, even of a client registered with admin:users.
    app, _ = client_token(tessera, "admin:users openid", grants=("client_credentials", "password", "refresh_token"), name="mixed")
    requests.post(tessera.url("/v1/signup"), json={"email": "end.user@example.com", "password": PASSWORD}, timeout=10)
    asked = requests.post(tessera.url("/oauth2/token"), data={"grant_type": "password", "username": "end.user@example.com",
                                                               "password": PASSWORD, "scope": "admin:users"},
                          auth=(app["client_id"], app["client_secret"]), timeout=10)
    assert asked.status_code == 400 and asked.json()["error"] == "invalid_scope"
    user_grant = requests.post(tessera.url("/oauth2/token"), data={"grant_type": "password", "username": "end.user@example.com",
                                                                    "password": PASSWORD},
                               auth=(app["client_id"], app["client_secret"]), timeout=10).json()
    assert "admin:users" not in user_grant["scope"].split()
    assert api.call("adminListUsers", bearer=user_grant["access_token"]).status_code == 403
    first_party = login(tessera, "end.user@example.com").json()["access_token"]
    assert api.call("adminListUsers", bearer=first_party).status_code == 403
    # Through the authorization code flow, never.
    web = admin_cli(tessera, "clients", "create", "--name", "web", "--grant", "authorization_code", "--scope", "openid admin:users",
                    "--redirect-uri", "https://app.example.test/cb")
    authorize = requests.get(tessera.url("/oauth2/authorize"), params={
        "response_type": "code", "client_id": web["client_id"], "redirect_uri": "https://app.example.test/cb",
        "scope": "openid admin:users", "state": "s", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256"}, allow_redirects=False, timeout=10)
    assert authorize.status_code in (302, 303) and "error=invalid_scope" in authorize.headers["Location"], authorize.headers
    # The admin token works, and is refused once its client is revoked.
    holder, token = client_token(tessera, "admin:users", name="holder")
    assert api.call("adminListUsers", bearer=token).status_code == 200
    admin_cli(tessera, "revoke", "--client", holder["client_id"])
    assert honoured(lambda: api.call("adminListUsers", bearer=token).status_code, 401) == 401
    # The registered client's refused call is in the audit log, by method and route; the calls
    # with no valid token (a revoked client's included) or with a user's token are not.
    refused = [(e["actor"], e["action"], e["target"], e["details"]) for e in admin_cli(tessera, "audit", "--limit", "500")
               if e["action"] in REFUSALS]
    assert refused == [(f"client {plain_client['client_id']}", "refused", "GET /admin/v1/users", "status 403")], refused


def test_revocations_and_the_audit_trail_through_the_admin_api(tessera, introspector):
    holder, token = client_token(tessera, "admin:revoke admin:audit", name="security-bot")
    api = OpenAPIClient(tessera.issuer, bearer=token)
    requests.post(tessera.url("/v1/signup"), json={"email": "target@example.com", "password": PASSWORD}, timeout=10)
    tokens = login(tessera, "target@example.com").json()
    me = lambda access: requests.get(tessera.url("/v1/me"), headers={"Authorization": f"Bearer {access}"}, timeout=10).status_code

    # One access token by its jti: refused until it expires; the rest of the session lives.
    import jwt
    jti = jwt.decode(tokens["access_token"], options={"verify_signature": False})["jti"]
    assert api.call("adminRevoke", body={"jti": jti}).json() == {"revoked": "jti", "jti": jti}
    assert me(tokens["access_token"]) == 401
    rotated = requests.post(tessera.url("/v1/token/refresh"), json={"refresh_token": tokens["refresh_token"]}, timeout=10).json()
    assert me(rotated["access_token"]) == 200
    # A refresh token's family.
    family = api.call("adminRevoke", body={"token": rotated["refresh_token"]}).json()
    assert family["revoked"] == "family" and family["user_id"]
    assert requests.post(tessera.url("/v1/token/refresh"), json={"refresh_token": rotated["refresh_token"]}, timeout=10).status_code == 401
    # A user, by address.
    again = login(tessera, "target@example.com").json()
    assert api.call("adminRevoke", body={"user": "target@example.com"}).json()["revoked"] == "user"
    assert me(again["access_token"]) == 401
    # A client: its client_credentials token stops working at introspection.
    other, other_token = client_token(tessera, "api", name="other")
    assert introspector(other_token) is True
    assert api.call("adminRevoke", body={"client": other["client_id"]}).json()["client_id"] == other["client_id"]
    assert introspector(other_token) is False
    # Refusals.
    assert api.call("adminRevoke", body={"user": "nobody@example.com"}).status_code == 404
    assert api.call("adminRevoke", body={"client": "no-such-client"}).status_code == 404
    assert api.call("adminRevoke", body={"token": "tsr_" + "A" * 43}).status_code == 404
    assert api.call("adminRevoke", body={"token": "not-a-refresh-token"}).status_code == 400
    assert api.call("adminRevoke", body={"user": "target@example.com", "jti": "x"}).status_code == 400
    assert api.call("adminRevoke", body={}).status_code == 400
    _, users_only = client_token(tessera, "admin:users", name="users-only")
    assert api.call("adminRevoke", body={"jti": "x"}, bearer=users_only).status_code == 403

    # The audit trail, newest first, paged with after; the CLI reads the same.
    bot = f"client {holder['client_id']}"
    everything = api.call("adminAudit", query={"limit": 50}).json()
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)
    assert [e["action"] for e in everything if e["actor"] == bot] == ["refused"] * 6 + ["revoke.client", "revoke.user", "revoke.token", "revoke.jti"]
    # A refusal names the route and the status, never what the body asked for.
    assert [(e["target"], e["details"]) for e in everything if e["actor"] == bot][:6] == [
        ("POST /admin/v1/revoke", f"status {status}") for status in (400, 400, 400, 404, 404, 404)]
    assert [(e["action"], e["target"], e["details"]) for e in everything if e["action"] == "refused" and e["actor"] != bot] == [
        ("refused", "POST /admin/v1/revoke", "status 403")]
    token_entry = next(e for e in everything if e["action"] == "revoke.token")
    older = api.call("adminAudit", query={"limit": 10, "after": token_entry["id"]}).json()
    assert older[0]["action"] == "revoke.jti" and all(e["id"] < token_entry["id"] for e in older)
    # The CLI's listing has, on top, the entries of the API's two reads.
    seen_by_cli = admin_cli(tessera, "audit", "--limit", "52")
    assert [(e["action"], e["actor"]) for e in seen_by_cli[:2]] == [("audit.read", bot)] * 2 and seen_by_cli[2:] == everything
    assert admin_cli(tessera, "audit", "--limit", "10", "--after", str(token_entry["id"])) == older
    assert api.call("adminAudit", query={"limit": 0}).status_code == 400
    assert api.call("adminAudit", bearer=users_only).status_code == 403


def test_signing_keys_listed_and_rotated_through_the_admin_api(tessera):
    _, token = client_token(tessera, "admin:keys", name="key-rotator")
    api = OpenAPIClient(tessera.issuer, bearer=token)
    before = api.call("adminListKeys").json()
    assert [k["state"] for k in before] == ["active"]
    assert before == admin_cli(tessera, "keys", "list")
    rotated = api.call("adminRotateKeys").json()
    assert rotated["state"] == "next" and rotated["kid"] != before[0]["kid"]
    # Published at once by the running server (within cluster_sync_interval), then signing.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        kids = [k["kid"] for k in requests.get(tessera.url("/.well-known/jwks.json"), timeout=5).json()["keys"]]
        if rotated["kid"] in kids:
            break
        time.sleep(0.1)
    assert rotated["kid"] in kids and before[0]["kid"] in kids
    assert {k["kid"] for k in api.call("adminListKeys").json()} == {before[0]["kid"], rotated["kid"]}
    assert any(e["action"] == "keys.rotate" and e["target"] == f"key {rotated['kid']}" for e in admin_cli(tessera, "audit"))
    _, users_only = client_token(tessera, "admin:users", name="not-keys")
    assert api.call("adminRotateKeys", bearer=users_only).status_code == 403


def test_clients_through_the_admin_api(start_tessera, tmp_path):
    (tmp_path / "tessera.yaml").write_text("clients:\n  - client_id: from-config\n    client_secret: a-config-file-secret-of-32-chars-x\n"
                                           "    grants: [client_credentials]\n    scope: api\n")
    server = start_tessera(env={"TESSERA_CONFIG": str(tmp_path / "tessera.yaml")})
    holder, token = client_token(server, "admin:clients", name="registrar")
    api = OpenAPIClient(server.issuer, bearer=token)
    made = api.call("adminCreateClient", body={"name": "Reports", "grants": ["client_credentials"], "scope": "reports.read"})
    assert made.status_code == 201 and made.json()["client_secret"] and made.json()["grants"] == ["client_credentials"]
    created = made.json()
    issued = requests.post(server.url("/oauth2/token"), data={"grant_type": "client_credentials"},
                           auth=(created["client_id"], created["client_secret"]), timeout=10)
    assert issued.status_code == 200 and issued.json()["scope"] == "reports.read"
    shown = api.call("adminGetClient", path={"client": created["client_id"]}).json()
    assert "client_secret" not in shown and shown == admin_cli(server, "clients", "show", created["client_id"])
    assert {c["client_id"] for c in api.call("adminListClients").json()} >= {created["client_id"], "from-config", holder["client_id"]}
    for refused in ({"name": ""}, {"name": "x", "grants": ["implicit"]}, {"name": "x", "public": True, "grants": ["client_credentials"]},
                    {"name": "x", "redirect_uris": ["http://evil.example/cb"]}, {"name": "x", "secret": "mine"}):
        assert api.call("adminCreateClient", body=refused).status_code == 400, refused
    # PATCH with If-Match: a merge, checked as a create is, seen by the next token at once.
    client_path = {"client": created["client_id"]}
    etag = api.call("adminGetClient", path=client_path).headers["ETag"]
    change = {"scope": "reports.read reports.write", "audience": "https://reports.example.test", "access_token_ttl": 600}
    assert api.call("adminUpdateClient", path=client_path, body=change).status_code == 428
    assert api.call("adminUpdateClient", path=client_path, body=change, headers={"If-Match": '"c0"'}).headers["ETag"] == etag
    for refused in ({"grants": []}, {"public": True}, {"name": None}, {"audience": ""}, {"access_token_ttl": 10}, {"grants": ["implicit"]},
                    {"grants": ["authorization_code"]}, {"scope": "quote\"d"}, {"retry_grace_seconds": 61}, {"client_secret": "mine"}):
        answer = api.call("adminUpdateClient", path=client_path, body=refused, headers={"If-Match": etag})
        assert answer.status_code == 400, (refused, answer.text)
    updated = api.call("adminUpdateClient", path=client_path, body=change, headers={"If-Match": etag})
    assert updated.status_code == 200 and updated.headers["ETag"] != etag
    assert {k: updated.json()[k] for k in change} == change and updated.json()["name"] == "Reports"
    assert updated.json() == admin_cli(server, "clients", "show", created["client_id"])
    assert api.call("adminUpdateClient", path=client_path, body={"name": "Stale"}, headers={"If-Match": etag}).status_code == 412
    import jwt
    issued = requests.post(server.url("/oauth2/token"), data={"grant_type": "client_credentials", "scope": "reports.write"},
                           auth=(created["client_id"], created["client_secret"]), timeout=10).json()
    claims = jwt.decode(issued["access_token"], options={"verify_signature": False, "verify_aud": False})
    assert issued["scope"] == "reports.write" and claims["aud"] == "https://reports.example.test" and claims["exp"] - claims["iat"] == 600
    # null removes; the CLI changes the same client unconditionally.
    removed = api.call("adminUpdateClient", path=client_path, body={"audience": None, "access_token_ttl": None},
                       headers={"If-Match": updated.headers["ETag"]}).json()
    assert "audience" not in removed and "access_token_ttl" not in removed
    assert admin_cli(server, "clients", "update", created["client_id"], "--name", "Reports v2")["name"] == "Reports v2"
    for refused in ((), ("--grant", "implicit"), ("--audience", "x", "--no-audience")):
        result = subprocess.run([str(BIN_DIR / "tessera"), "admin", "clients", "update", created["client_id"], *refused], env=server.env,
                                cwd=server.tmp, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and result.stderr, (refused, result.stderr)
    assert subprocess.run([str(BIN_DIR / "tessera"), "admin", "clients", "update", "from-config", "--name", "x"], env=server.env,
                          cwd=server.tmp, capture_output=True, text=True, timeout=60).returncode == 1
    # Of concurrent changes made from one read, one wins and the others get 412 (5 rounds of 6).
    from concurrent.futures import ThreadPoolExecutor
    for round in range(5):
        current = api.call("adminGetClient", path=client_path).headers["ETag"]
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda n: api.call("adminUpdateClient", path=client_path, body={"name": f"Racer {round}.{n}"},
                                                       headers={"If-Match": current}).status_code, range(6)))
        assert sorted(answers) == [200, 412, 412, 412, 412, 412], answers
    assert api.call("adminUpdateClient", path={"client": "from-config"}, body={"name": "x"}, headers={"If-Match": "*"}).status_code == 409
    assert api.call("adminUpdateClient", path={"client": "nobody"}, body={"name": "x"}, headers={"If-Match": "*"}).status_code == 404

    rotated = api.call("adminRotateClientSecret", path={"client": created["client_id"]}).json()
    assert rotated["client_secret"] != created["client_secret"]
    assert requests.post(server.url("/oauth2/token"), data={"grant_type": "client_credentials"},
                         auth=(created["client_id"], created["client_secret"]), timeout=10).status_code == 401
    assert api.call("adminDeleteClient", path={"client": "from-config"}).status_code == 409
    assert api.call("adminRotateClientSecret", path={"client": "from-config"}).status_code == 409
    assert api.call("adminDeleteClient", path={"client": created["client_id"]}).json() == {"client_id": created["client_id"], "deleted": True}
    assert api.call("adminGetClient", path={"client": created["client_id"]}).status_code == 404
    actions = changes_by(server, holder["client_id"], "action")
    assert actions == ["clients.delete", "clients.rotate-secret"] + ["clients.update"] * 7 + ["clients.create"]
    # And every refused call, newest first, by route template and status.
    one, update = "/admin/v1/clients/{client}", "PATCH /admin/v1/clients/{client}"
    assert refusals_by(server, holder["client_id"]) == (
        [("GET " + one, "status 404"), ("POST " + one + "/rotate-secret", "status 409"), ("DELETE " + one, "status 409"),
         (update, "status 404"), (update, "status 409")] + [(update, "status 412")] * 26 + [(update, "status 400")] * 10
        + [(update, "status 412"), (update, "status 428")] + [("POST /admin/v1/clients", "status 400")] * 5)


def test_groups_through_the_admin_api(tessera):
    holder, token = client_token(tessera, "admin:groups", name="group-sync")
    api = OpenAPIClient(tessera.issuer, bearer=token)
    made = api.call("adminCreateGroup", body={"name": "site admins/eu", "description": "Operators", "precedence": 1})
    assert made.status_code == 201 and made.json() == {"name": "site admins/eu", "description": "Operators", "precedence": 1}
    assert api.call("adminCreateGroup", body={"name": "readers"}).json() == {"name": "readers", "description": None, "precedence": None}
    assert api.call("adminCreateGroup", body={"name": "readers"}).status_code == 409
    for refused in ({"name": ""}, {"name": "tab\tname"}, {"name": "x", "precedence": -1}, {"name": "x", "description": "d" * 2049},
                    {"name": "x", "owner": "me"}):
        assert api.call("adminCreateGroup", body=refused).status_code == 400, refused
    # The same JSON as the CLI, paged by name.
    assert api.call("adminListGroups").json() == admin_cli(tessera, "groups", "list")
    assert [g["name"] for g in api.call("adminListGroups", query={"limit": 1}).json()] == ["readers"]
    assert [g["name"] for g in api.call("adminListGroups", query={"after": "readers"}).json()] == ["site admins/eu"]
    assert api.call("adminListGroups", query={"limit": 1001}).status_code == 400
    # A name with a slash and a space travels percent-encoded in the path.
    assert api.call("adminGetGroup", path={"group": "site admins/eu"}).json()["description"] == "Operators"
    assert api.call("adminGetGroup", path={"group": "nobody"}).status_code == 404

    user_id = requests.post(tessera.url("/v1/signup"), json={"email": "gus@example.com", "password": PASSWORD}, timeout=10).json()["user_id"]
    added = api.call("adminAddGroupMember", path={"group": "site admins/eu", "user": "gus@example.com"})
    assert added.json() == {"name": "site admins/eu", "user_id": user_id}
    assert api.call("adminAddGroupMember", path={"group": "readers", "user": user_id}).status_code == 200
    assert api.call("adminAddGroupMember", path={"group": "readers", "user": user_id}).status_code == 200, "adding again changes nothing"
    assert api.call("adminAddGroupMember", path={"group": "nobody", "user": user_id}).status_code == 404
    assert api.call("adminAddGroupMember", path={"group": "readers", "user": "nobody@example.com"}).status_code == 404
    members = api.call("adminListGroupMembers", path={"group": "readers"}).json()
    assert members == [{"user_id": user_id, "email": "gus@example.com"}] == admin_cli(tessera, "groups", "members", "readers")
    # The next token asking for them names the groups, in precedence order.
    import jwt
    groups = lambda: jwt.decode(requests.post(tessera.url("/v1/login"), json={"email": "gus@example.com", "password": PASSWORD, "scope": "openid groups"},
                                              timeout=10).json()["access_token"], options={"verify_signature": False}).get("groups")
    assert groups() == ["site admins/eu", "readers"]
    assert api.call("adminRemoveGroupMember", path={"group": "readers", "user": user_id}).status_code == 200
    assert api.call("adminListGroupMembers", path={"group": "readers"}).json() == []
    assert api.call("adminDeleteGroup", path={"group": "site admins/eu"}).json() == {"name": "site admins/eu", "deleted": True}
    assert api.call("adminDeleteGroup", path={"group": "site admins/eu"}).status_code == 404
    assert groups() == []

    actions = changes_by(tessera, holder["client_id"], "action", "target")
    assert actions == [("groups.delete", "group site admins/eu"), ("groups.remove-user", "group readers"),
                       ("groups.add-user", "group readers"), ("groups.add-user", "group readers"),
                       ("groups.add-user", "group site admins/eu"), ("groups.create", "group readers"),
                       ("groups.create", "group site admins/eu")]
    _, users_only = client_token(tessera, "admin:users", name="not-groups")
    assert api.call("adminListGroups", bearer=users_only).status_code == 403


def test_webhooks_through_the_admin_api(start_tessera):
    from standardwebhooks import Webhook
    from webhooksink import WebhookSink
    from test_events_webhooks import events_env

    sink = WebhookSink()
    try:
        server = start_tessera(env=events_env())
        holder, token = client_token(server, "admin:webhooks", name="hook-admin")
        api = OpenAPIClient(server.issuer, bearer=token)
        made = api.call("adminCreateWebhook", body={"url": sink.url, "events": ["user.created"], "description": "CRM"})
        assert made.status_code == 201, made.text
        endpoint = made.json()
        assert endpoint["secret"].startswith("whsec_") and endpoint["events"] == ["user.created"]
        sink.secrets.append(endpoint["secret"])
        for refused in ({"url": "ftp://example.com/x"}, {"url": sink.url, "events": ["user.nonsense"]},
                        {"url": sink.url, "description": "x" * 201}, {"url": sink.url, "secret": "mine"}):
            assert api.call("adminCreateWebhook", body=refused).status_code == 400, refused
        shown = api.call("adminGetWebhook", path={"webhook": endpoint["id"]}).json()
        assert "secret" not in shown and shown == admin_cli(server, "webhooks", "show", endpoint["id"])
        assert api.call("adminListWebhooks").json() == admin_cli(server, "webhooks", "list") == [shown]

        # A test event, signed with the secret the create answered.
        tested = api.call("adminTestWebhook", path={"webhook": endpoint["id"]}).json()
        assert tested["delivered"] is True and tested["status"] == 204
        assert sink.wait_for(lambda ds: any(d.type == "webhook.test" for d in ds))

        # A sign-up is delivered; the receiver refusing dead-letters the next (retry schedule 2,2,2 s).
        requests.post(server.url("/v1/signup"), json={"email": "hook.user@example.com", "password": PASSWORD}, timeout=10)
        delivered = sink.wait_for(lambda ds: any(d.type == "user.created" for d in ds))
        user_id = next(d.subject for d in delivered if d.type == "user.created")
        # The receiver has it; the server records it as delivered once the answer is in.
        def delivered_types(expected):
            deadline = time.monotonic() + 10
            while True:
                deliveries = api.call("adminListWebhookDeliveries", path={"webhook": endpoint["id"]}, query={"status": "delivered"}).json()
                if sorted(d["type"] for d in deliveries) == expected or time.monotonic() > deadline:
                    return deliveries
                time.sleep(0.05)

        deliveries = delivered_types(["user.created", "webhook.test"])
        assert {d["type"] for d in deliveries} == {"user.created", "webhook.test"}
        assert deliveries == admin_cli(server, "webhooks", "deliveries", endpoint["id"], "--status", "delivered")
        assert api.call("adminListWebhookDeliveries", path={"webhook": endpoint["id"]}, query={"status": "lost"}).status_code == 400

        # Disabled: nothing goes out; replayed after enabling: the same event id again.
        assert api.call("adminDisableWebhook", path={"webhook": endpoint["id"]}).json() == {"id": endpoint["id"], "enabled": False}
        assert api.call("adminGetWebhook", path={"webhook": endpoint["id"]}).json()["disabled_reason"] == "disabled by an operator"
        assert api.call("adminEnableWebhook", path={"webhook": endpoint["id"]}).json()["enabled"] is True
        replayed = api.call("adminReplayWebhook", path={"webhook": endpoint["id"]}, body={"after": 0, "user": user_id}).json()
        assert replayed == {"id": endpoint["id"], "queued": 1}
        first_id = next(d.id for d in delivered if d.type == "user.created")
        sink.wait_for(lambda ds: sum(1 for d in ds if d.id == first_id) == 2)
        assert api.call("adminReplayWebhook", path={"webhook": endpoint["id"]}, body={"after": -1}).status_code == 400

        # A failing receiver: the test call succeeds and says why; the dead letter is retried on request.
        sink.respond = lambda delivery: (500, {})
        failed = api.call("adminTestWebhook", path={"webhook": endpoint["id"]}).json()
        assert failed["delivered"] is False and failed["status"] == 500 and failed["error"]
        sink.wait_for_requests(lambda rs: sum(1 for r in rs if r[2] == 500) >= 4, timeout=40)
        dead = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not dead:
            dead = api.call("adminListWebhookDeliveries", path={"webhook": endpoint["id"]}, query={"status": "failed"}).json()
            time.sleep(0.2)
        assert dead, "the test delivery is dead-lettered after its schedule"
        sink.respond = lambda delivery: (204, {})
        assert api.call("adminRetryWebhookDeliveries", body={"delivery": dead[0]["delivery_id"]}).json() == {"retried": 1}
        assert api.call("adminRetryWebhookDeliveries", body={"delivery": dead[0]["delivery_id"]}).status_code == 404
        assert api.call("adminRetryWebhookDeliveries", body={"all": True, "endpoint": endpoint["id"]}).json() == {"retried": 0}
        assert api.call("adminRetryWebhookDeliveries", body={"delivery": 1, "all": True}).status_code == 400
        assert api.call("adminRetryWebhookDeliveries", body={}).status_code == 400
        # The document states the rule the server holds to: one delivery, or all (of one endpoint).
        for body, accepted in [({"delivery": 1}, True), ({"delivery": 1, "all": False}, True), ({"all": True}, True),
                               ({"all": True, "endpoint": endpoint["id"]}, True), ({}, False), ({"all": False}, False),
                               ({"delivery": 1, "all": True}, False), ({"delivery": 1, "endpoint": endpoint["id"]}, False)]:
            assert api.documents_body("adminRetryWebhookDeliveries", body) is accepted, body
            assert (api.call("adminRetryWebhookDeliveries", body=body).status_code != 400) is accepted, body
        sink.wait_for(lambda ds: sum(1 for d in ds if d.type == "webhook.test") == 2)
        # (Recorded, so the endpoint's test lane is free for the next test.)
        assert [d["type"] for d in delivered_types(["user.created", "user.created", "webhook.test", "webhook.test"])].count("webhook.test") == 2

        # Rotation: the new secret signs at once, the old one beside it for the overlap.
        rotated = api.call("adminRotateWebhookSecret", path={"webhook": endpoint["id"]}, body={"overlap": 0}).json()
        assert rotated["secret"].startswith("whsec_") and rotated["secret"] != endpoint["secret"] and rotated["overlap"] == 0
        sink.secrets[:] = [rotated["secret"]]
        assert api.call("adminTestWebhook", path={"webhook": endpoint["id"]}).json()["delivered"] is True
        headers, body, _ = sink.requests[-1]
        Webhook(rotated["secret"]).verify(body, headers)
        assert api.call("adminRotateWebhookSecret", path={"webhook": endpoint["id"]}, body={"overlap": 2592001}).status_code == 400
        assert api.call("adminRotateWebhookSecret", path={"webhook": endpoint["id"]}).json()["overlap"] == 86400

        assert api.call("adminDeleteWebhook", path={"webhook": endpoint["id"]}).json() == {"id": endpoint["id"], "deleted": True}
        for operation in ("adminGetWebhook", "adminDeleteWebhook", "adminEnableWebhook", "adminTestWebhook", "adminListWebhookDeliveries"):
            assert api.call(operation, path={"webhook": endpoint["id"]}).status_code == 404, operation
        actions = changes_by(server, holder["client_id"], "action")
        assert actions == ["webhooks.delete", "webhooks.rotate-secret", "webhooks.test", "webhooks.rotate-secret",
                           *["webhooks.retry"] * 4, "webhooks.test", "webhooks.replay", "webhooks.enable", "webhooks.disable",
                           "webhooks.test", "webhooks.create"]
        _, users_only = client_token(server, "admin:users", name="not-webhooks")
        assert api.call("adminListWebhooks", bearer=users_only).status_code == 403
    finally:
        sink.stop()
