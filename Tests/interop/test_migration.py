"""Migration off Cognito (contract §11.7): `tessera admin users import` of files the AWS CLI
printed from an upstream pool, JSON Lines with bcrypt hashes made by Python's `bcrypt`, the
export round trip, and lazy migration against moto's server mode as the upstream Cognito, on
every sign-in path and on recovery."""
import csv
import io
import json
import os
import pty
import socket
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

import bcrypt
import boto3
import jwt
import pytest
import requests
from botocore.config import Config

from conftest import BIN_DIR, Tessera, database_rows
from moto_upstream import Upstream
from test_admin_cli import admin_json, run_admin
from test_hosted_pages import Visitor, authorization_url, hosted, redeem  # noqa: F401 (hosted is a fixture)

PASSWORD = "Correct-horse-1"


@pytest.fixture
def upstream(tmp_path):
    pool = Upstream(tmp_path)
    yield pool
    pool.stop()


def import_file(server, path, *args):
    return run_admin(server, "users", "import", str(path), *args)


def users(server):
    return {user["email"]: user for user in admin_json(server, "users", "list", "--limit", "1000")}


def exported(server, *args):
    result = run_admin(server, "users", "export", *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def login(server, email, password=PASSWORD):
    return requests.post(server.url("/v1/login"), json={"email": email, "password": password}, timeout=30)


def token_claims(server, token):
    key = jwt.PyJWKClient(server.url("/.well-known/jwks.json")).get_signing_key_from_jwt(token).key
    return jwt.decode(token, key, algorithms=["RS256"], issuer=server.issuer, options={"verify_aud": False})


def events_of(server, type_):
    return database_rows(server, f"SELECT subject FROM events WHERE type = '{type_}'")


# MARK: bulk import


def test_import_what_the_aws_cli_printed_keeps_subs_attributes_and_groups(start_tessera, upstream, tmp_path):
    ann = upstream.add_user("ann@example.com", PASSWORD, groups=["admins", "staff"], name="Ann", custom_team="red")
    bob = upstream.add_user("bob@example.com", PASSWORD, verified=False, groups=["staff"])
    upstream.client.admin_disable_user(UserPoolId=upstream.pool, Username="bob@example.com")
    (tmp_path / "users.json").write_text(upstream.aws("list-users"))
    (tmp_path / "groups.json").write_text(upstream.aws("list-groups"))
    (tmp_path / "staff.json").write_text(upstream.aws("list-users-in-group", "--group-name", "staff"))
    server = start_tessera()

    dry = import_file(server, tmp_path / "users.json", "--groups", str(tmp_path / "groups.json"),
                      "--members", f"staff={tmp_path / 'staff.json'}", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout) == {"created": 2, "updated": 0, "unchanged": 0, "failed": 0, "dry_run": True}
    assert users(server) == {} and admin_json(server, "groups", "list") == [], "a dry run writes nothing"

    done = import_file(server, tmp_path / "users.json", "--groups", str(tmp_path / "groups.json"),
                       "--members", f"staff={tmp_path / 'staff.json'}", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["created"] == 2
    shown = admin_json(server, "users", "show", "ann@example.com")
    assert shown["user_id"] == ann and shown["email_verified"] is True and shown["status"] == "active"
    assert shown["attributes"] == {"name": "Ann", "custom:team": "red"} and shown["has_password"] is False
    assert admin_json(server, "users", "show", bob)["status"] == "disabled"
    assert {g["name"]: g["precedence"] for g in admin_json(server, "groups", "list")} == {"admins": 6, "staff": 5}
    assert {m["user_id"] for m in admin_json(server, "groups", "members", "staff")} == {ann, bob}
    assert len(events_of(server, "user.created")) == 2

    # A re-run changes nothing and duplicates nothing; a changed attribute is updated.
    again = import_file(server, tmp_path / "users.json", "--json")
    assert json.loads(again.stdout) == {"created": 0, "updated": 0, "unchanged": 2, "failed": 0, "dry_run": False}
    upstream.client.admin_update_user_attributes(UserPoolId=upstream.pool, Username="ann@example.com",
                                                 UserAttributes=[{"Name": "name", "Value": "Ann B."}])
    (tmp_path / "users.json").write_text(upstream.aws("list-users"))
    assert json.loads(import_file(server, tmp_path / "users.json", "--json").stdout)["updated"] == 1
    assert admin_json(server, "users", "show", ann)["attributes"]["name"] == "Ann B."
    assert len(users(server)) == 2 and len(events_of(server, "user.created")) == 2

    # Without lazy migration an imported user has no password: a sign-in fails like any other.
    assert login(server, "ann@example.com").status_code == 401


def cognito_csv(upstream) -> str:
    """Cognito's CSV import file for the pool's users: GetCSVHeader's columns (moto does not
    implement GetCSVHeader, so they are Cognito's documented standard columns plus the pool's
    custom attributes, from DescribeUserPool) and one row per user from ListUsers."""
    custom = [a["Name"] for a in upstream.client.describe_user_pool(UserPoolId=upstream.pool)["UserPool"]["SchemaAttributes"]
              if a["Name"].startswith("custom:")]
    header = ["name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile", "picture", "website",
              "email", "email_verified", "gender", "birthdate", "zoneinfo", "locale", "phone_number", "phone_number_verified", "address",
              "updated_at", *custom, "cognito:mfa_enabled", "cognito:username"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for user in upstream.client.list_users(UserPoolId=upstream.pool)["Users"]:
        values = {a["Name"]: a["Value"] for a in user["Attributes"]}
        values.update({"cognito:mfa_enabled": "false", "cognito:username": user["Username"]})
        writer.writerow([values.get(column, "") for column in header])
    return out.getvalue()


def test_cognito_csv_import_and_its_bad_lines(start_tessera, upstream, tmp_path):
    cy = upstream.add_user("cy@example.com", PASSWORD, name="Cy, \"the\"\nSecond", custom_team="blue")
    di = upstream.add_user("di@example.com", PASSWORD)
    text = cognito_csv(upstream)
    (tmp_path / "users.csv").write_text(text)
    server = start_tessera()
    done = import_file(server, tmp_path / "users.csv", "--json")
    assert done.returncode == 0, done.stderr
    assert admin_json(server, "users", "show", cy)["attributes"] == {"name": "Cy, \"the\"\nSecond", "custom:team": "blue"}
    assert admin_json(server, "users", "show", di)["email"] == "di@example.com"

    # Bad records are reported with the line they start on; the good ones go in.
    header, *rows = text.split("\r\n")
    lines = [header, rows[-2], "broken,\"unterminated", "x" * 3, rows[-2].replace("di@example.com", "not-an-email")]
    (tmp_path / "bad.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode() + b"\xff,,\r\n")
    bad = import_file(server, tmp_path / "bad.csv")
    assert bad.returncode == 1
    reported = [line for line in bad.stderr.splitlines() if line.startswith(str(tmp_path / "bad.csv"))]
    assert any(":3: " in line for line in reported), bad.stderr  # the unterminated quote swallows the rest
    # An unknown column stops the file at line 1 and imports nothing.
    (tmp_path / "unknown.csv").write_text("email,shoe_size\r\nzed@example.com,44\r\n")
    unknown = import_file(server, tmp_path / "unknown.csv")
    assert unknown.returncode == 1 and ":1: unknown column \"shoe_size\"" in unknown.stderr
    assert "zed@example.com" not in users(server)


def test_json_lines_hashes_sign_in_at_once_and_are_rehashed(start_tessera, tmp_path):
    lines = []
    for index, (prefix, cost) in enumerate([("$2a$", 4), ("$2b$", 5), ("$2y$", 6)]):
        hashed = bcrypt.hashpw(f"{PASSWORD}{index}".encode(), bcrypt.gensalt(cost)).decode()
        lines.append({"user_id": f"legacy-{index}", "email": f"u{index}@example.com", "email_verified": True,
                      "created_at": "2020-01-02T03:04:05.678Z", "password_hash": prefix + hashed[4:],
                      "attributes": {"plan": "pro"}, "groups": ["imported"]})
    (tmp_path / "users.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    server = start_tessera()
    assert import_file(server, tmp_path / "users.jsonl").returncode == 0
    for index in range(3):
        assert login(server, f"u{index}@example.com", f"{PASSWORD}{index}x").status_code == 401
        tokens = login(server, f"u{index}@example.com", f"{PASSWORD}{index}")
        assert tokens.status_code == 200, tokens.text
        assert token_claims(server, tokens.json()["access_token"])["sub"] == f"legacy-{index}"
    # Rehashed to the configured cost (10) under Tessera's scheme on that first sign-in.
    def rehashed():
        return all(line["password_hash"].startswith("tessera-v2:$2b$10$") for line in exported(server, "--with-hashes"))
    for _ in range(100):
        if rehashed():
            break
        threading.Event().wait(0.05)
    assert rehashed()
    assert login(server, "u1@example.com", f"{PASSWORD}1").status_code == 200
    first = exported(server, "--with-hashes")[0]
    assert first["created_at"] == "2020-01-02T03:04:05.678Z" and first["groups"] == ["imported"]
    assert "password_hash" not in exported(server)[0], "hashes only when asked for"


def test_bad_json_lines_are_reported_by_number_and_never_half_written(start_tessera, tmp_path):
    server = start_tessera()
    requests.post(server.url("/v1/signup"), json={"email": "taken@example.com", "password": PASSWORD}, timeout=10)
    good = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    content = b"\n".join([
        json.dumps({"email": "ok1@example.com"}).encode(),                                   # 1
        b"{not json",                                                                        # 2
        json.dumps({"email": "ok1@EXAMPLE.com"}).encode(),                                   # 3 duplicate in the file
        json.dumps({"email": "taken@example.com", "user_id": "someone-else"}).encode(),      # 4 taken by another user
        json.dumps({"email": "x@example.com", "password_hash": good[:-1]}).encode(),         # 5 invalid hash
        json.dumps({"email": "y@example.com", "shoe_size": 44}).encode(),                    # 6 unknown field
        b'{"email": "\xff@example.com"}',                                                    # 7 not UTF-8
        json.dumps({"email": "z@example.com", "status": "gone"}).encode(),                   # 8 bad status
        json.dumps({"email": "w@example.com", "groups": ["bad\tname"]}).encode(),            # 9 bad group
        b"",                                                                                 # 10 blank: skipped
        json.dumps({"email": "ok2@example.com", "password_hash": good}).encode(),            # 11
    ]) + b"\n"
    (tmp_path / "bad.jsonl").write_bytes(content)
    before = len(users(server))
    result = import_file(server, tmp_path / "bad.jsonl")
    assert result.returncode == 1
    reported = {int(line.split(":")[1]): line for line in result.stderr.splitlines() if line.startswith(str(tmp_path / "bad.jsonl"))}
    assert sorted(reported) == [2, 3, 4, 5, 6, 7, 8, 9], result.stderr
    assert "already on line 1" in reported[3] and "belongs to another user" in reported[4] and "not UTF-8" in reported[7]
    assert "unknown field \"shoe_size\"" in reported[6] and "bcrypt" in reported[5]
    assert "8 lines were not imported" in result.stderr
    after = users(server)
    assert len(after) == before + 2 and {"ok1@example.com", "ok2@example.com"} <= set(after)
    assert login(server, "ok2@example.com").status_code == 200
    assert database_rows(server, "SELECT count(*) FROM users WHERE email_key = 'taken@example.com'")[0][0] in (1, "1")


def test_export_then_import_into_a_fresh_database_loses_nothing(start_tessera, tmp_path):
    source = start_tessera()
    for email in ["p@example.com", "q@example.com"]:
        requests.post(source.url("/v1/signup"), json={"email": email, "password": PASSWORD, "attributes": {"name": email[0]}}, timeout=10)
    admin_json(source, "users", "verify-email", "p@example.com")
    admin_json(source, "users", "disable", "q@example.com")
    admin_json(source, "groups", "create", "team", "--precedence", "3")
    admin_json(source, "groups", "add-user", "team", "p@example.com")
    dump = tmp_path / "dump.jsonl"
    assert run_admin(source, "users", "export", "--with-hashes", "--output", str(dump)).returncode == 0
    assert oct(dump.stat().st_mode & 0o777) == "0o600"

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    target = Tessera(fresh)  # its own directory: a fresh database
    try:
        assert import_file(target, dump).returncode == 0
        assert exported(target, "--with-hashes") == exported(source, "--with-hashes")
        assert login(target, "p@example.com").status_code == 200
        assert login(target, "q@example.com").json()["error"] == "user_disabled"
    finally:
        assert target.stop() == 0


@pytest.mark.sqlite_only  # the output does not depend on the backend; 10,001 users take a minute on PostgreSQL in a debug build
def test_progress_is_a_bar_on_a_terminal_and_a_count_otherwise(start_tessera, tmp_path):
    (tmp_path / "many.jsonl").write_text("".join(json.dumps({"email": f"p{i}@example.com"}) + "\n" for i in range(10_001)))
    server = start_tessera()
    plain = import_file(server, tmp_path / "many.jsonl", "--dry-run")
    assert plain.returncode == 0, plain.stderr
    assert plain.stderr.splitlines() == ["10000 users checked"] and "would create 10001" in plain.stdout
    # On a terminal: a bar redrawn in place (carriage returns), cleared at the end.
    primary, replica = pty.openpty()
    child = subprocess.Popen([str(BIN_DIR / "tessera"), "admin", "users", "import", str(tmp_path / "many.jsonl"), "--dry-run"],
                             env=server.env, cwd=server.tmp, stdout=subprocess.PIPE, stderr=replica)
    os.close(replica)
    seen = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    assert child.wait(60) == 0
    os.close(primary)
    assert b"\r[" in seen and b"%" in seen and b"users checked" in seen and b"\x1b[K" in seen


# MARK: lazy migration


def test_lazy_migration_on_every_sign_in_path(hosted, upstream):
    subs = {email: upstream.add_user(email, PASSWORD, groups=["admins"], name=email[:2])
            for email in ["json@example.com", "grant@example.com", "form@example.com", "cognito@example.com", "cli@example.com"]}
    # The hosted pages' server (their `spa` client), with the upstream and the Cognito API on.
    server = hosted(**upstream.settings(), TESSERA_COGNITO_POOL_ID="eu-west-1_TesseraPool1", TESSERA_LOGIN_IP_RATE="0")

    # The JSON API: the user is created in the same request, with the upstream sub and groups.
    tokens = login(server, "json@example.com")
    assert tokens.status_code == 200, tokens.text
    shown = admin_json(server, "users", "show", "json@example.com")
    assert shown["user_id"] == subs["json@example.com"] and shown["has_password"] is True and shown["email_verified"] is True
    assert shown["attributes"] == {"name": "js"}
    assert token_claims(server, tokens.json()["access_token"])["sub"] == subs["json@example.com"]
    assert [m["email"] for m in admin_json(server, "groups", "members", "admins")] == ["json@example.com"]
    # For good: the upstream password changing no longer matters.
    upstream.client.admin_set_user_password(UserPoolId=upstream.pool, Username="json@example.com", Password="Other-pass-2", Permanent=True)
    assert login(server, "json@example.com").status_code == 200

    # The password grant of a registered client.
    app = admin_json(server, "clients", "create", "--name", "cli", "--grant", "password", "--scope", "openid")
    grant = requests.post(server.url("/oauth2/token"), data={"grant_type": "password", "username": "grant@example.com", "password": PASSWORD},
                          auth=(app["client_id"], app["client_secret"]), timeout=30)
    assert grant.status_code == 200, grant.text
    assert token_claims(server, grant.json()["access_token"])["sub"] == subs["grant@example.com"]

    # The hosted login form.
    url, verifier, state = authorization_url(server)
    browser = Visitor()
    page = browser.get(url)
    redirect = browser.submit(url, page, email="form@example.com", password=PASSWORD)
    form_tokens = redeem(server, redirect, verifier, state)
    assert token_claims(server, form_tokens["access_token"])["sub"] == subs["form@example.com"]

    # The Cognito API's USER_PASSWORD_AUTH, through boto3.
    app_client = admin_json(server, "clients", "create", "--name", "pool app", "--public", "--grant", "password",
                            "--auth-flow", "USER_PASSWORD_AUTH")["client_id"]
    cognito = boto3.client("cognito-idp", endpoint_url=server.issuer, region_name="eu-west-1", aws_access_key_id="x",
                           aws_secret_access_key="y", config=Config(retries={"max_attempts": 1}))
    result = cognito.initiate_auth(ClientId=app_client, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": "cognito@example.com", "PASSWORD": PASSWORD})["AuthenticationResult"]
    assert jwt.decode(result["IdToken"], options={"verify_signature": False})["sub"] == subs["cognito@example.com"]
    assert len(events_of(server, "user.created")) == 4
    # The Cognito API's ForgotPassword for an address only the upstream knows moves the user over.
    cognito.forgot_password(ClientId=app_client, Username="cli@example.com")
    assert admin_json(server, "users", "show", "cli@example.com")["user_id"] == subs["cli@example.com"]


def test_wrong_and_unknown_answer_alike_and_create_nothing(start_tessera, upstream):
    upstream.add_user("real@example.com", PASSWORD)
    server = start_tessera(env={**upstream.settings(), "TESSERA_LOGIN_IP_RATE": "0"})
    wrong = login(server, "real@example.com", "Wrong-horse-1")
    nobody = login(server, "nobody@example.com")
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.json() == nobody.json() == {"error": "invalid_credentials", "error_description": "email or password is incorrect"}
    assert users(server) == {}
    assert login(server, "real@example.com").status_code == 200


def test_upstream_failure_is_503_migration_unavailable_and_stores_nothing(start_tessera, upstream, sink):
    upstream.add_user("late@example.com", PASSWORD)
    settings = upstream.settings()
    upstream.stop()
    server = start_tessera(env={**settings, "TESSERA_LOGIN_IP_RATE": "0", "TESSERA_CODE_IP_RATE": "0", "TESSERA_HOOK_TIMEOUT": "3",
                                "TESSERA_MAIL_URL": sink.url(ca_file=sink.ca_file), "TESSERA_COGNITO_POOL_ID": "eu-west-1_TesseraPool1"})
    answer = login(server, "late@example.com")
    assert answer.status_code == 503 and answer.json()["error"] == "migration_unavailable"
    grant_app = admin_json(server, "clients", "create", "--name", "cli", "--grant", "password", "--scope", "openid")
    grant = requests.post(server.url("/oauth2/token"), data={"grant_type": "password", "username": "late@example.com", "password": PASSWORD},
                          auth=(grant_app["client_id"], grant_app["client_secret"]), timeout=30)
    assert grant.status_code == 503 and grant.json()["error"] == "migration_unavailable"
    forgot = requests.post(server.url("/v1/password/forgot"), json={"email": "late@example.com"}, timeout=30)
    assert forgot.status_code == 503 and forgot.json()["error"] == "migration_unavailable"
    # The Cognito API answers as Cognito does when its migration trigger fails.
    pool_app = admin_json(server, "clients", "create", "--name", "pool app", "--public", "--grant", "password",
                          "--auth-flow", "USER_PASSWORD_AUTH")["client_id"]
    cognito = boto3.client("cognito-idp", endpoint_url=server.issuer, region_name="eu-west-1", aws_access_key_id="x",
                           aws_secret_access_key="y", config=Config(retries={"max_attempts": 1}))
    with pytest.raises(cognito.exceptions.UnexpectedLambdaException):
        cognito.initiate_auth(ClientId=pool_app, AuthFlow="USER_PASSWORD_AUTH",
                              AuthParameters={"USERNAME": "late@example.com", "PASSWORD": PASSWORD})
    assert users(server) == {} and events_of(server, "user.created") == []
    # An upstream that accepts the connection and never answers: hook_timeout, then 503.
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(16)
        silent = start_tessera(env={**settings, "TESSERA_MIGRATION_COGNITO_ENDPOINT": f"http://127.0.0.1:{hole.getsockname()[1]}",
                                    "TESSERA_LOGIN_IP_RATE": "0", "TESSERA_HOOK_TIMEOUT": "2"})
        stalled = login(silent, "late@example.com")
        assert stalled.status_code == 503 and stalled.json()["error"] == "migration_unavailable"
        assert users(silent) == {}
    # An address Tessera knows never asks the upstream.
    requests.post(server.url("/v1/signup"), json={"email": "local@example.com", "password": PASSWORD}, timeout=10)
    assert login(server, "local@example.com").status_code == 200


def test_recovery_of_an_address_only_the_upstream_knows(start_tessera, upstream, sink):
    sub = upstream.add_user("forgot@example.com", PASSWORD, groups=["staff"])
    server = start_tessera(env={**upstream.settings(), "TESSERA_CODE_IP_RATE": "0", "TESSERA_MAIL_URL": sink.url(ca_file=sink.ca_file)})
    assert requests.post(server.url("/v1/password/forgot"), json={"email": "forgot@example.com"}, timeout=30).status_code == 202
    assert requests.post(server.url("/v1/password/forgot"), json={"email": "none@example.com"}, timeout=30).status_code == 202
    [mail] = sink.wait_for(to="forgot@example.com")
    reset = requests.post(server.url("/v1/password/reset"), timeout=30,
                          json={"email": "forgot@example.com", "code": mail.code, "password": "Brand-new-pass-3"})
    assert reset.status_code == 200, reset.text
    tokens = login(server, "forgot@example.com", "Brand-new-pass-3")
    assert token_claims(server, tokens.json()["access_token"])["sub"] == sub
    assert set(users(server)) == {"forgot@example.com"}


def test_bulk_import_then_first_sign_in_adopts_the_upstream_password(start_tessera, upstream, tmp_path):
    sub = upstream.add_user("both@example.com", PASSWORD, name="Both")
    (tmp_path / "users.json").write_text(upstream.aws("list-users"))
    server = start_tessera(env={**upstream.settings(), "TESSERA_LOGIN_IP_RATE": "0"})
    assert import_file(server, tmp_path / "users.json").returncode == 0
    assert login(server, "both@example.com", "Wrong-horse-1").status_code == 401
    tokens = login(server, "both@example.com")
    assert tokens.status_code == 200, tokens.text
    assert token_claims(server, tokens.json()["access_token"])["sub"] == sub
    assert admin_json(server, "users", "show", sub)["has_password"] is True


def test_concurrent_first_sign_ins_create_the_user_once(start_tessera, upstream):
    server = start_tessera(env={**upstream.settings(), "TESSERA_LOGIN_IP_RATE": "0", "TESSERA_LOGIN_MAX_FAILURES": "1000"})
    for round_ in range(3):
        email = f"race{round_}@example.com"
        sub = upstream.add_user(email, PASSWORD)
        barrier = threading.Barrier(8)

        def attempt(_):
            barrier.wait()
            return login(server, email)
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(attempt, range(8)))
        assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers]
        assert {token_claims(server, a.json()["access_token"])["sub"] for a in answers} == {sub}
        assert database_rows(server, f"SELECT count(*) FROM users WHERE email_key = '{email}'")[0][0] in (1, "1")
        assert len([s for (s,) in events_of(server, "user.created") if s == sub]) == 1
