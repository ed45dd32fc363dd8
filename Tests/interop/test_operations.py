"""Running Tessera (contract §12.1, §12.2): the management listener's /metrics read with
Prometheus's own parser (prometheus-client), counters that move by exactly the requests sent,
request ids, and the JSON log lines."""
import concurrent.futures
import json
import socket
import subprocess

import pytest
import requests
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

from conftest import BIN_DIR, free_port

PASSWORD = "correct horse battery"


def scrape(server, accept=None):
    response = requests.get(server.management_url("/metrics"), headers={"Accept": accept} if accept else {}, timeout=10)
    assert response.status_code == 200, response.text
    return response


def samples(server) -> dict:
    """Every sample of a text-format scrape, parsed by prometheus-client: {(name, labels): value}."""
    response = scrape(server)
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: dict, after: dict, name: str, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def admin(server, *args, stdin=""):
    result = subprocess.run([str(BIN_DIR / "tessera"), "admin", *args, "--json", "--yes"], input=stdin, env=server.env,
                            cwd=server.tmp, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def signup(server, email):
    return requests.post(server.url("/v1/signup"), json={"email": email, "password": PASSWORD}, timeout=10)


def login(server, email, password=PASSWORD):
    return requests.post(server.url("/v1/login"), json={"email": email, "password": password}, timeout=10)


@pytest.fixture
def server(start_tessera):
    return start_tessera(env={"TESSERA_SIGNUP_IP_RATE": "0", "TESSERA_LOGIN_IP_RATE": "0", "TESSERA_LOGIN_MAX_FAILURES": "3"})


def test_the_management_listener_serves_metrics_and_health_and_nothing_else(server):
    text = scrape(server).text
    families = {family.name: family for family in text_string_to_metric_families(text)}
    for name, kind in [
        ("tessera_logins", "counter"), ("tessera_signups", "counter"), ("tessera_tokens_issued", "counter"),
        ("tessera_refresh_reuse_detected", "counter"), ("tessera_webhook_deliveries", "counter"),
        ("tessera_password_hash_pool_in_use", "gauge"), ("tessera_password_hash_pool_queue", "gauge"),
        ("tessera_mail_queue", "gauge"), ("tessera_webhook_lag_seconds", "gauge"), ("tessera_signing_key_age_seconds", "gauge"),
        ("tessera_db_commit_seconds", "histogram"),
        ("process_cpu_seconds", "counter"), ("process_resident_memory_bytes", "gauge"), ("process_open_fds", "gauge"),
        ("process_max_fds", "gauge"), ("process_start_time_seconds", "gauge"), ("process_virtual_memory_bytes", "gauge"),
    ]:
        assert name in families, f"{name} missing from:\n{text}"
        assert families[name].type == kind, (name, families[name].type)
    found = samples(server)
    assert value(found, "process_resident_memory_bytes") > 1_000_000
    assert value(found, "process_open_fds") >= 3
    assert 0 <= value(found, "tessera_signing_key_age_seconds") < 600
    for status in ("queued", "sent", "failed", "expired"):
        assert ("tessera_mail_queue", (("status", status),)) in found
    for result in ("success", "invalid_credentials", "locked", "unconfirmed", "disabled", "migrated"):
        assert ("tessera_logins_total", (("result", result),)) in found

    # OpenMetrics when asked for by Accept, read by prometheus-client's OpenMetrics parser.
    open_metrics = scrape(server, accept="application/openmetrics-text; version=1.0.0,text/plain;q=0.5")
    assert open_metrics.headers["Content-Type"].startswith("application/openmetrics-text; version=1.0.0")
    assert open_metrics.text.endswith("# EOF\n")
    names = {family.name for family in openmetrics_families(open_metrics.text)}
    assert {"tessera_logins", "tessera_db_commit_seconds", "process_cpu_seconds"} <= names

    assert requests.get(server.management_url("/healthz"), timeout=5).json() == {"status": "ok"}
    assert requests.get(server.management_url("/readyz"), timeout=5).json()["status"] == "ready"
    for path in ("/v1/me", "/.well-known/jwks.json", "/oauth2/token", "/"):
        assert requests.get(server.management_url(path), timeout=5).status_code == 404
    # /metrics is not on the main listener; health stays there.
    assert requests.get(server.url("/metrics"), timeout=5).status_code == 404
    assert requests.get(server.url("/healthz"), timeout=5).status_code == 200


def test_counters_move_by_exactly_the_requests_sent(server):
    app = admin(server, "clients", "create", "--name", "ops app", "--grant", "password", "--grant", "refresh_token",
                "--grant", "client_credentials", "--scope", "api")
    auth = (app["client_id"], app["client_secret"])
    before = samples(server)

    for i in range(5):
        assert signup(server, f"ops{i}@example.com").status_code == 201
    assert signup(server, "ops0@example.com").status_code == 409
    assert signup(server, "not-an-address").status_code == 400
    for i in range(3):
        assert login(server, f"ops{i}@example.com").status_code == 200
    for _ in range(2):
        assert login(server, "ops4@example.com", "wrong password entirely").status_code == 401
    assert login(server, "nobody@example.com").status_code == 401
    token = lambda data: requests.post(server.url("/oauth2/token"), data=data, auth=auth, timeout=10)
    granted = token({"grant_type": "password", "username": "ops3@example.com", "password": PASSWORD})
    assert granted.status_code == 200, granted.text
    first = granted.json()["refresh_token"]
    rotated = token({"grant_type": "refresh_token", "refresh_token": first})
    assert rotated.status_code == 200
    assert token({"grant_type": "client_credentials"}).status_code == 200
    assert token({"grant_type": "client_credentials"}).status_code == 200
    assert token({"grant_type": "refresh_token", "refresh_token": first}).status_code == 400  # reuse

    after = samples(server)
    assert delta(before, after, "tessera_signups_total", result="created") == 5
    assert delta(before, after, "tessera_signups_total", result="email_taken") == 1
    assert delta(before, after, "tessera_signups_total", result="invalid") == 1
    assert delta(before, after, "tessera_logins_total", result="success") == 4
    assert delta(before, after, "tessera_logins_total", result="invalid_credentials") == 3
    assert delta(before, after, "tessera_tokens_issued_total", grant="password") == 4
    assert delta(before, after, "tessera_tokens_issued_total", grant="refresh_token") == 1
    assert delta(before, after, "tessera_tokens_issued_total", grant="client_credentials") == 2
    assert delta(before, after, "tessera_refresh_reuse_detected_total") == 1
    assert delta(before, after, "tessera_http_requests_total", route="/v1/signup", method="POST", status="201") == 5
    assert delta(before, after, "tessera_http_requests_total", route="/v1/signup", method="POST", status="409") == 1
    assert delta(before, after, "tessera_http_requests_total", route="/v1/signup", method="POST", status="400") == 1
    assert delta(before, after, "tessera_http_requests_total", route="/v1/login", method="POST", status="200") == 3
    assert delta(before, after, "tessera_http_requests_total", route="/v1/login", method="POST", status="401") == 3
    assert delta(before, after, "tessera_http_requests_total", route="/oauth2/token", method="POST", status="200") == 4
    assert delta(before, after, "tessera_http_requests_total", route="/oauth2/token", method="POST", status="400") == 1
    assert delta(before, after, "tessera_http_request_duration_seconds_count", route="/v1/login", method="POST") == 6
    assert delta(before, after, "tessera_http_request_duration_seconds_bucket", route="/v1/login", method="POST", le="+Inf") == 6
    # Every sign-up hashes once; every sign-in with a known or unknown address verifies once.
    assert delta(before, after, "tessera_password_hash_seconds_count") >= 5 + 7
    assert delta(before, after, "tessera_db_commit_seconds_count") >= 5
    # The raw path never becomes a label: an unknown path is counted as `unmatched`.
    requests.get(server.url("/v1/no/such/path/12345"), timeout=5)
    requests.get(server.url("/v1/users/ops0@example.com"), timeout=5)
    final = samples(server)
    assert delta(after, final, "tessera_http_requests_total", route="unmatched", method="GET", status="404") == 2
    assert not any("12345" in str(labels) or "ops0@" in str(labels) for _, labels in final)


def test_locked_unconfirmed_and_disabled_sign_ins_are_counted_by_result(start_tessera):
    server = start_tessera(env={"TESSERA_SIGNUP_IP_RATE": "0", "TESSERA_LOGIN_IP_RATE": "0", "TESSERA_LOGIN_MAX_FAILURES": "2",
                                "TESSERA_REQUIRE_EMAIL_VERIFICATION": "true"})
    admin(server, "users", "create", "lock@example.com", "--password-stdin", "--confirmed", stdin=PASSWORD + "\n")
    gone = admin(server, "users", "create", "gone@example.com", "--password-stdin", "--confirmed", stdin=PASSWORD + "\n")
    admin(server, "users", "disable", gone["user_id"])
    assert signup(server, "new@example.com").status_code == 201
    before = samples(server)
    for _ in range(2):
        assert login(server, "lock@example.com", "wrong password entirely").status_code == 401
    assert login(server, "lock@example.com").status_code == 429
    assert login(server, "new@example.com").status_code == 403
    assert login(server, "gone@example.com").status_code == 403
    after = samples(server)
    assert delta(before, after, "tessera_logins_total", result="invalid_credentials") == 2
    assert delta(before, after, "tessera_logins_total", result="locked") == 1
    assert delta(before, after, "tessera_logins_total", result="unconfirmed") == 1
    assert delta(before, after, "tessera_logins_total", result="disabled") == 1
    assert delta(before, after, "tessera_logins_total", result="success") == 0


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_requests_are_each_counted_once(start_tessera, round_):
    # No lock-out: it counts attempts in flight, and these race on four accounts on purpose.
    server = start_tessera(env={"TESSERA_SIGNUP_IP_RATE": "0", "TESSERA_LOGIN_IP_RATE": "0", "TESSERA_LOGIN_MAX_FAILURES": "0"})
    for i in range(4):
        assert signup(server, f"race{i}@example.com").status_code == 201
    before = samples(server)
    attempts = [(f"race{i % 4}@example.com", PASSWORD if i % 2 == 0 else "wrong password entirely") for i in range(48)]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda attempt: login(server, *attempt).status_code, attempts))
    assert sorted(set(statuses)) == [200, 401], statuses
    after = samples(server)
    assert delta(before, after, "tessera_logins_total", result="success") == statuses.count(200) == 24
    assert delta(before, after, "tessera_logins_total", result="invalid_credentials") == statuses.count(401) == 24
    assert delta(before, after, "tessera_http_requests_total", route="/v1/login", method="POST", status="200") == 24
    assert delta(before, after, "tessera_http_request_duration_seconds_count", route="/v1/login", method="POST") == 48


def test_request_ids_are_honoured_when_short_tokens_and_generated_otherwise(server):
    given = requests.get(server.url("/healthz"), headers={"X-Request-Id": "edge-7f3a.42"}, timeout=5)
    assert given.headers["X-Request-Id"] == "edge-7f3a.42"
    for refused in ("x" * 65, "has space", "line\tbreak", "ümlaut"):
        answered = requests.get(server.url("/healthz"), headers={"X-Request-Id": refused.encode()}, timeout=5)
        assert answered.headers["X-Request-Id"] != refused
        assert len(answered.headers["X-Request-Id"]) == 32 and int(answered.headers["X-Request-Id"], 16) >= 0
    generated = {requests.get(server.url("/healthz"), timeout=5).headers["X-Request-Id"] for _ in range(5)}
    assert len(generated) == 5
    server.stop()
    lines = [json.loads(line) for line in server.log_lines if line.startswith("{")]
    assert [line for line in lines if line.get("request_id") == "edge-7f3a.42" and line["msg"] == "request"]


def test_json_logs_one_line_per_request_and_no_secret_or_address(server):
    signup(server, "Secret.Person@example.com")
    tokens = login(server, "Secret.Person@example.com").json()
    login(server, "Secret.Person@example.com", "hunter2 wrong password")
    requests.post(server.url("/v1/password/forgot"), json={"email": "Secret.Person@example.com"}, timeout=10)
    requests.get(server.url("/v1/me"), headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10)
    requests.get(server.url("/v1/me\u0007"), timeout=10)
    server.stop()
    assert server.log_lines
    parsed = [json.loads(line) for line in server.log_lines]  # every line is one JSON object
    for line in parsed:
        assert {"ts", "level", "msg"} <= line.keys(), line
    requests_logged = [line for line in parsed if line["msg"] == "request"]
    assert len(requests_logged) == 6, requests_logged
    for line in requests_logged:
        assert line["level"] == "info"
        assert {"route", "method", "status", "duration_ms", "request_id"} <= line.keys()
        float(line["duration_ms"])
    assert [line["status"] for line in requests_logged] == ["201", "200", "401", "202", "200", "404"]
    # Lines logged on a request's behalf by the services carry its id too.
    failed = [line for line in parsed if line["msg"] == "login failed"]
    assert len(failed) == 1 and failed[0]["request_id"] == requests_logged[2]["request_id"], failed
    text = "\n".join(server.log_lines)
    for secret in ("Secret.Person@example.com", "secret.person@example.com", PASSWORD, "hunter2", tokens["access_token"][:40],
                   tokens["refresh_token"]):
        assert secret not in text, secret
    assert "\u0007" not in text


def test_management_port_zero_turns_it_off_and_a_taken_port_stops_start_up(start_tessera, tmp_path):
    off = start_tessera(env={"TESSERA_MANAGEMENT_PORT": "0"})
    with pytest.raises(requests.ConnectionError):
        requests.get(off.management_url("/metrics"), timeout=5)
    off.stop()

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = dict(off.env, TESSERA_PORT=str(free_port()), TESSERA_MANAGEMENT_PORT=str(port))
        result = subprocess.run([str(BIN_DIR / "tessera"), "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"management listener on 127.0.0.1:{port}" in result.stderr, result.stderr
