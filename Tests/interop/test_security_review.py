"""Regression tests for the findings of the security review of 2026-12
(shared/reviews/security-2026-12.md) that need the real binary: races across connections,
restarts, the log, the files on disk and the admin CLI. Each test is named after its finding;
the others are in Tests/TesseraServerTests/SecurityReviewTests.swift."""
import json
import os
import stat
import subprocess
import threading
from collections import Counter
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from conftest import BIN_DIR
from test_oidc_authlib import Browser

PASSWORD = "correct horse battery"
CALLBACK = "http://127.0.0.1:65530/callback"


def run_admin(server, *args, env=None):
    return subprocess.run([str(BIN_DIR / "tessera"), "admin", *args], env={**server.env, **(env or {})}, cwd=server.tmp,
                          capture_output=True, text=True, timeout=60)


def create_client(server, *args):
    result = run_admin(server, "clients", "create", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def signup(server, email, password=PASSWORD):
    response = requests.post(server.url("/v1/signup"), json={"email": email, "password": password}, timeout=30)
    assert response.status_code == 201, response.text


def race(count, call):
    """Runs `call(i)` on `count` threads released together; returns their results in order."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def worker(index):
        barrier.wait()
        results[index] = call(index)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_F3_concurrent_redemptions_of_one_code_leave_nothing_usable(start_tessera):
    server = start_tessera(env={"TESSERA_SIGNUP_IP_RATE": "0"})
    web = create_client(server, "--name", "web", "--redirect-uri", CALLBACK, "--scope", "openid email offline_access")
    signup(server, "cora@example.com")
    browser = Browser()
    query = f"response_type=code&client_id={web['client_id']}&redirect_uri={CALLBACK}&scope=openid%20offline_access&state=s"
    first = browser.sign_in(server.url("/oauth2/authorize?" + query), "cora@example.com", PASSWORD)
    assert first.status_code == 303
    auth = (web["client_id"], web["client_secret"])
    trials = 25
    for trial in range(trials):
        redirect = first if trial == 0 else browser.get(server.url("/oauth2/authorize?" + query))
        code = parse_qs(urlparse(redirect.headers["Location"]).query)["code"][0]
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
        answers = race(2, lambda _: requests.post(server.url("/oauth2/token"), data=form, auth=auth, timeout=30))
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [200, 400], (trial, [a.text for a in answers])
        winner = next(answer.json() for answer in answers if answer.status_code == 200)
        rotated = requests.post(server.url("/oauth2/token"), auth=auth, timeout=30,
                                data={"grant_type": "refresh_token", "refresh_token": winner["refresh_token"]})
        assert rotated.status_code == 400 and rotated.json()["error"] == "invalid_grant", (trial, rotated.text)
        introspected = requests.post(server.url("/oauth2/introspect"), data={"token": winner["access_token"]}, auth=auth, timeout=30)
        assert introspected.json() == {"active": False}, trial


def test_F8_concurrent_wrong_passwords_try_at_most_the_limit(start_tessera):
    server = start_tessera(env={"TESSERA_LOGIN_MAX_FAILURES": "3", "TESSERA_LOGIN_IP_RATE": "0", "TESSERA_SIGNUP_IP_RATE": "0"})
    for round_ in range(5):
        email = f"target{round_}@example.com"
        signup(server, email)
        answers = race(16, lambda _: requests.post(server.url("/v1/login"), json={"email": email, "password": "wrong password!"},
                                                   timeout=60).status_code)
        counts = Counter(answers)
        assert counts[401] <= 3 and counts[401] + counts[429] == 16, (round_, counts)
        # Locked now, even for the right password.
        locked = requests.post(server.url("/v1/login"), json={"email": email, "password": PASSWORD}, timeout=30)
        assert locked.status_code == 429 and "Retry-After" in locked.headers


def test_F7_a_sign_up_flood_leaves_logins_working_and_one_address_is_rate_limited(start_tessera):
    server = start_tessera(env={"TESSERA_SIGNUP_IP_RATE": "0"})
    signup(server, "steady@example.com")
    login_status = []

    def call(index):
        if index == 40:
            threading.Event().wait(0.2)
            login_status.append(requests.post(server.url("/v1/login"), json={"email": "steady@example.com", "password": PASSWORD},
                                              timeout=60).status_code)
            return None
        return requests.post(server.url("/v1/signup"), json={"email": f"flood{index}@example.com", "password": PASSWORD},
                             timeout=60).status_code

    sign_ups = Counter(status for status in race(41, call) if status is not None)
    assert login_status == [200], (login_status, sign_ups)
    assert set(sign_ups) <= {201, 503}, sign_ups
    # With the default limit, one address gets a burst of 10 and then 429 with Retry-After.
    limited = start_tessera()
    answers = race(14, lambda i: requests.post(limited.url("/v1/signup"), json={"email": f"burst{i}@example.com", "password": PASSWORD},
                                               timeout=60))
    counts = Counter(answer.status_code for answer in answers)
    assert counts == {201: 10, 429: 4}, counts
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.json()["error"] == "too_many_requests" and int(refused.headers["Retry-After"]) >= 1


def test_F5_config_clients_are_owned_by_the_file(tmp_path, start_tessera):
    secret = "s" * 40
    config = tmp_path / "tessera.yaml"
    config.write_text(f"clients:\n  - client_id: cfgweb\n    client_secret: \"{secret}\"\n    grants: [client_credentials]\n    scope: api\n")
    server = start_tessera(args=["--config", str(config)])

    def token(secret_):
        return requests.post(server.url("/oauth2/token"), data={"grant_type": "client_credentials"}, auth=("cfgweb", secret_),
                             timeout=10).status_code

    assert token(secret) == 200
    for command in (["clients", "rotate-secret", "cfgweb", "--yes"], ["clients", "delete", "cfgweb", "--yes"]):
        refused = run_admin(server, *command, "--config", str(config))
        assert refused.returncode == 1 and "config file" in refused.stderr, refused.stderr
    assert token(secret) == 200
    assert server.stop() == 0
    config.write_text("clients: []\n")
    server = start_tessera(args=["--config", str(config)])
    assert token(secret) == 401
    listed = run_admin(server, "clients", "list", "--json")
    assert "cfgweb" not in listed.stdout


def test_F15_request_text_cannot_forge_log_lines(tessera):
    forged = "2026-12-06T07:12:00.000Z notice tessera ready address=0.0.0.0:443"
    body = f"x%0A{forged.replace(' ', '%20')}=1&x%0A{forged.replace(' ', '%20')}=2&grant_type=bogus%0D%0Aforged"
    requests.post(tessera.url("/oauth2/token"), data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    requests.post(tessera.url("/oauth2/token"), data={"grant_type": "bogus\nforged line"}, auth=("x\ny", "z"), timeout=10)
    tessera.stop()
    assert not any(line.startswith("2026-12-06T07:12:00.000Z") for line in tessera.log_lines), tessera.log_lines
    assert not any(line.startswith("forged") for line in tessera.log_lines), tessera.log_lines


@pytest.mark.sqlite_only
def test_F17_the_database_and_its_directory_are_private(tessera):
    signup(tessera, "file@example.com")
    data = tessera.tmp / "data"
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    for name in ("tessera.sqlite", "tessera.sqlite-wal", "tessera.sqlite-shm"):
        assert stat.S_IMODE(os.stat(data / name).st_mode) == 0o600, name


def test_F18_a_native_app_on_an_ephemeral_loopback_port(tessera):
    app = create_client(tessera, "--name", "native", "--public", "--redirect-uri", "http://127.0.0.1:9/cb", "--grant", "authorization_code",
                        "--scope", "openid")
    signup(tessera, "native@example.com")
    challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    url = tessera.url(f"/oauth2/authorize?response_type=code&client_id={app['client_id']}&redirect_uri=http://127.0.0.1:51234/cb"
                      f"&scope=openid&code_challenge={challenge}&code_challenge_method=S256")
    redirect = Browser().sign_in(url, "native@example.com", PASSWORD)
    assert redirect.status_code == 303
    assert redirect.headers["Location"].startswith("http://127.0.0.1:51234/cb?code=")


def test_F20_the_audit_log_names_the_real_user_and_marks_sudo_user_unverified(tessera):
    result = run_admin(tessera, "revoke", "--jti", "x", "--yes", env={"SUDO_USER": "mallory"})
    assert result.returncode == 0, result.stderr
    entry = json.loads(run_admin(tessera, "audit", "--json", "--limit", "1").stdout)[0]
    assert f"uid {os.getuid()}" in entry["actor"]
    assert "SUDO_USER=mallory (unverified)" in entry["actor"]
    assert "via sudo by mallory" not in entry["actor"]


def test_revoke_an_unknown_token_in_the_contract_format_exits_1(tessera):
    for token in ("tsr_" + "A" * 43, "tsr_" + "B" * 44, "tsr_" + "C" * 64):
        result = run_admin(tessera, "revoke", "--token", token, "--yes")
        assert result.returncode == 1, (token, result.stderr)
