"""Events and webhooks (contract §9) end to end: the real server, a receiver on loopback that
verifies every delivery with the `standardwebhooks` package and parses it with the
`cloudevents` SDK, the pull API read with requests, and the admin CLI."""
import json
import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from standardwebhooks import Webhook

from conftest import BIN_DIR, Tessera
from webhooksink import WebhookSink

PASSWORD = "correct horse battery"
NEW_PASSWORD = "another long passphrase"
PUBLIC_URL = "https://id.example.com"


def events_env(**extra):
    env = {"TESSERA_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true", "TESSERA_WEBHOOK_RETRY_SCHEDULE": "2,2,2",
           "TESSERA_WEBHOOK_TIMEOUT": "2", "TESSERA_SIGNUP_IP_RATE": "0", "TESSERA_CODE_IP_RATE": "0",
           "TESSERA_LOGIN_IP_RATE": "0", "TESSERA_PUBLIC_URL": PUBLIC_URL}
    env.update({key: str(value) for key, value in extra.items()})
    return env


def admin(server, *args, env=None):
    return subprocess.run([str(BIN_DIR / "tessera"), "admin", *args], env={**server.env, **(env or {})}, cwd=server.tmp,
                          capture_output=True, text=True, timeout=60)


def admin_json(server, *args):
    result = admin(server, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def register(server, sink, *events):
    created = admin_json(server, "webhooks", "create", "--url", sink.url, *[arg for event in events for arg in ("--event", event)])
    assert created["secret"].startswith("whsec_") and created["url"] == sink.url
    sink.secrets.append(created["secret"])
    return created["id"]


def reader_token(server, scope="events:read"):
    created = admin_json(server, "clients", "create", "--name", "reader", "--grant", "client_credentials", "--scope", scope)
    answer = requests.post(server.url("/oauth2/token"), data={"grant_type": "client_credentials"},
                           auth=(created["client_id"], created["client_secret"]), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def pull(server, token, **params):
    return requests.get(server.url("/v1/events"), params=params, headers={"Authorization": f"Bearer {token}"}, timeout=40)


def sign_up(server, email):
    answer = requests.post(server.url("/v1/signup"), json={"email": email, "password": PASSWORD}, timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()["user_id"]


def login(server, email, password=PASSWORD):
    answer = requests.post(server.url("/v1/login"), json={"email": email, "password": password}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def of(deliveries, subject):
    return [delivery for delivery in deliveries if delivery.subject == subject]


@pytest.fixture
def sink():
    receiver = WebhookSink()
    yield receiver
    receiver.stop()


def test_one_users_changes_arrive_in_order_signed_as_cloudevents_and_the_pull_api_agrees(start_tessera, sink):
    server = start_tessera(env=events_env())
    register(server, sink)
    user = sign_up(server, "ann@example.com")
    token = login(server, "ann@example.com")
    bearer = {"Authorization": f"Bearer {token}"}
    etag = requests.get(server.url("/v1/me"), headers=bearer, timeout=10).headers["ETag"]
    assert requests.patch(server.url("/v1/me"), json={"attributes": {"nickname": "annie"}},
                          headers={**bearer, "If-Match": etag}, timeout=10).status_code == 200
    assert admin(server, "users", "verify-email", "ann@example.com").returncode == 0
    changed = requests.post(server.url("/v1/me/password"), json={"current_password": PASSWORD, "password": NEW_PASSWORD},
                            headers=bearer, timeout=30)
    assert changed.status_code == 200, changed.text
    assert admin(server, "revoke", "--user", "ann@example.com", "--yes").returncode == 0
    assert admin(server, "users", "disable", "ann@example.com", "--yes").returncode == 0
    assert admin(server, "users", "enable", "ann@example.com").returncode == 0
    time.sleep(1.1)  # `iat` has whole seconds: a token from the second of the sign-out counts as before it
    token = login(server, "ann@example.com", NEW_PASSWORD)
    deleted = requests.post(server.url("/v1/me/deletion"), json={"current_password": NEW_PASSWORD},
                            headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert deleted.status_code in (200, 204), deleted.text
    expected = ["user.created", "user.updated", "user.email.verified", "user.password.changed", "user.sessions.revoked",
                "user.sessions.revoked", "user.disabled", "user.sessions.revoked", "user.enabled", "user.deleted"]
    delivered = sink.wait_for(lambda got: len(of(got, user)) >= len(expected))
    mine = of(delivered, user)
    assert [d.type for d in mine] == expected
    assert [d.sequence for d in mine] == list(range(1, len(expected) + 1))
    assert sink.verification_failures == []
    for d in mine:
        assert d.headers["webhook-id"] == d.id and d.id.startswith("evt_")
        assert d.event.get_source() == f"{PUBLIC_URL}/users/{user}" and d.event.get_specversion() == "1.0"
        assert d.event.get_datacontenttype() == "application/json" and d.event.get_time() is not None
        assert len(d.event.get_extension("sequence")) == 20
        text = json.dumps(d.data)
        assert PASSWORD not in text and NEW_PASSWORD not in text and "$2" not in text and "tsr_" not in text
    assert [d.position for d in mine] == sorted(d.position for d in mine)
    assert mine[0].data["email"] == "ann@example.com" and mine[1].data["changed"] == ["nickname"]
    assert mine[4].data["reason"] == "password_changed" and mine[6].data["status"] == "disabled"
    assert mine[-1].data == {"user_id": user, "status": "deleted"}

    # The pull API: the same ids in the same order; the deleted user's earlier data redacted.
    reader = reader_token(server)
    page = pull(server, reader, subject=user)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    body = page.json()
    assert [event["id"] for event in body["data"]] == [d.id for d in mine]
    assert body["next_cursor"] == body["data"][-1]["position"]
    assert all("email" not in event["data"] and "attributes" not in event["data"] for event in body["data"])
    assert body["data"][0]["data"]["user_id"] == user and body["data"][0]["type"] == "user.created"
    # Paging from a cursor, and a type prefix.
    first = pull(server, reader, subject=user, limit=3).json()
    rest = pull(server, reader, subject=user, after=first["next_cursor"]).json()
    assert [e["id"] for e in first["data"] + rest["data"]] == [d.id for d in mine]
    revoked = pull(server, reader, type="user.sessions.").json()["data"]
    assert [e["type"] for e in revoked] == ["user.sessions.revoked"] * 3
    empty = pull(server, reader, after=body["next_cursor"]).json()
    assert empty == {"data": [], "next_cursor": body["next_cursor"]}
    # The CLI prints the same envelopes.
    listed = admin_json(server, "events", "list", "--user", user)
    assert [event["id"] for event in listed] == [d.id for d in mine]


def test_a_failing_users_event_holds_up_only_that_user_and_is_retried_with_the_same_id(start_tessera, sink):
    server = start_tessera(env=events_env())
    endpoint = register(server, sink)
    failing = {"on": True, "subject": None}

    # Set before the sign-up: its first delivery may go out before sign_up returns. Until the
    # id is known, whatever arrives is the stuck user's (the only user).
    def respond(delivery):
        if failing["on"] and failing["subject"] in (None, delivery.subject):
            return 503, {}
        return 204, {}
    sink.respond = respond
    stuck = failing["subject"] = sign_up(server, "stuck@example.com")
    assert admin(server, "users", "verify-email", "stuck@example.com").returncode == 0
    flowing = sign_up(server, "flow@example.com")
    assert admin(server, "users", "verify-email", "flow@example.com").returncode == 0
    # The other user's events arrive while the first user's first event keeps failing.
    sink.wait_for(lambda got: [d.type for d in of(got, flowing)] == ["user.created", "user.email.verified"], timeout=20)
    attempts = sink.wait_for_requests(lambda requests_: sum(1 for h, _, s in requests_ if s == 503) >= 2, timeout=20)
    assert of(sink.deliveries, stuck) == []
    retries = [headers for headers, _, status in attempts if status == 503]
    assert len({h["webhook-id"] for h in retries}) == 1, "a retry carries the same webhook-id"
    assert retries[0]["webhook-timestamp"] != retries[1]["webhook-timestamp"]
    assert retries[0]["webhook-signature"] != retries[1]["webhook-signature"], "and a fresh signature"
    pending = admin_json(server, "webhooks", "deliveries", endpoint, "--user", stuck)
    assert [d["status"] for d in pending] == ["pending", "pending"]
    assert pending[-1]["type"] == "user.created" and pending[-1]["attempts"] >= 2 and pending[-1]["last_status"] == 503
    failing["on"] = False
    delivered = sink.wait_for(lambda got: len(of(got, stuck)) == 2, timeout=20)
    assert [d.type for d in of(delivered, stuck)] == ["user.created", "user.email.verified"]
    assert sink.verification_failures == []


def test_a_dead_letter_is_kept_then_retried_by_the_cli(start_tessera, sink):
    server = start_tessera(env=events_env(TESSERA_WEBHOOK_RETRY_SCHEDULE="1"))
    endpoint = register(server, sink)
    sink.respond = lambda delivery: (500, {})
    user = sign_up(server, "dead@example.com")
    sink.wait_for_requests(lambda got: len(got) >= 2, timeout=20)
    deadline = time.monotonic() + 20
    while True:
        [delivery] = admin_json(server, "webhooks", "deliveries", endpoint)
        if delivery["status"] == "failed" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert delivery["status"] == "failed" and delivery["attempts"] == 2 and delivery["last_error"] == "HTTP 500"
    assert delivery["user_id"] == user and delivery["next_attempt_at"] is None
    sink.respond = lambda delivery: (204, {})
    assert admin_json(server, "webhooks", "retry", "--all") == {"retried": 1}
    [received] = sink.wait_for(lambda got: len(got) == 1)
    assert received.id == delivery["event_id"]
    missing = admin(server, "webhooks", "retry", "999999")
    assert missing.returncode == 1 and "no failed delivery" in missing.stderr


def test_410_disables_the_endpoint_and_others_hear_of_it(start_tessera, sink):
    server = start_tessera(env=events_env())
    gone = WebhookSink()
    try:
        gone.respond = lambda delivery: (410, {})
        gone_id = register(server, gone)
        register(server, sink, "webhook.endpoint.disabled")
        sign_up(server, "gone@example.com")
        [notice] = sink.wait_for(lambda got: len(got) == 1)
        assert notice.type == "webhook.endpoint.disabled" and notice.data["endpoint_id"] == gone_id
        assert notice.event.get_source() == f"{PUBLIC_URL}/webhooks/{gone_id}"
        shown = admin_json(server, "webhooks", "show", gone_id)
        assert shown["enabled"] is False and "410" in shown["disabled_reason"]
        assert len(gone.requests) == 1
        # Enabled again, the waiting delivery goes out (the endpoint now accepts).
        gone.respond = lambda delivery: (204, {})
        assert admin(server, "webhooks", "enable", gone_id).returncode == 0
        [received] = gone.wait_for(lambda got: len(got) == 1, timeout=20)
        assert received.type == "user.created"
    finally:
        gone.stop()


def test_retry_after_is_honoured_and_a_redirect_is_a_failure(start_tessera, sink):
    server = start_tessera(env=events_env(TESSERA_WEBHOOK_RETRY_SCHEDULE="30,30"))
    register(server, sink)
    answers = iter([(307, {"Location": "http://127.0.0.1:1/"}), (503, {"Retry-After": "1"}), (204, {})])
    sink.respond = lambda delivery: next(answers)
    sign_up(server, "later@example.com")
    requests_ = sink.wait_for_requests(lambda got: len(got) >= 2, timeout=45)
    assert [status for _, _, status in requests_[:2]] == [307, 503]
    # The redirect was not followed: only the sink saw requests. The 503's Retry-After: 1 beats
    # the schedule's 30 s.
    sink.wait_for(lambda got: len(got) == 1, timeout=10)


def test_rotation_signs_with_both_secrets_during_the_overlap(start_tessera, sink):
    server = start_tessera(env=events_env())
    endpoint = register(server, sink)
    old = sink.secrets[0]
    rotated = admin_json(server, "webhooks", "rotate-secret", endpoint, "--overlap", "3600", "--yes")
    new = rotated["secret"]
    assert new != old and new.startswith("whsec_")
    sink.secrets = [new]
    sign_up(server, "rot@example.com")
    [delivery] = sink.wait_for(lambda got: len(got) == 1)
    signatures = delivery.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    Webhook(old).verify(delivery.body, delivery.headers)
    Webhook(new).verify(delivery.body, delivery.headers)
    # Without overlap, only the newest secret signs.
    newest = admin_json(server, "webhooks", "rotate-secret", endpoint, "--overlap", "0", "--yes")["secret"]
    sink.secrets = [newest]
    sign_up(server, "rot2@example.com")
    second = sink.wait_for(lambda got: len(got) == 2)[1]
    assert len(second.headers["webhook-signature"].split(" ")) == 1
    with pytest.raises(Exception):
        Webhook(new).verify(second.body, second.headers)


def test_replay_redelivers_the_log_after_a_cursor_in_order_with_the_same_ids(start_tessera, sink):
    server = start_tessera(env=events_env())
    endpoint = register(server, sink)
    user = sign_up(server, "re@example.com")
    assert admin(server, "users", "verify-email", "re@example.com").returncode == 0
    other = sign_up(server, "other@example.com")
    first = sink.wait_for(lambda got: len(got) == 3)
    cursor = first[0].position
    queued = admin_json(server, "webhooks", "replay", endpoint, "--after", str(cursor))
    assert queued["queued"] == 2
    again = sink.wait_for(lambda got: len(got) == 5)[3:]
    assert sorted(d.id for d in again) == sorted(d.id for d in first[1:])
    only_user = admin_json(server, "webhooks", "replay", endpoint, "--after", "0", "--user", user)
    assert only_user["queued"] == 2
    replayed = sink.wait_for(lambda got: len(got) == 7)[5:]
    assert [d.id for d in replayed] == [d.id for d in of(first, user)] and all(d.subject != other for d in replayed)


def test_test_command_filters_and_event_type_filter(start_tessera, sink):
    server = start_tessera(env=events_env())
    endpoint = register(server, sink, "user.deleted")
    tested = admin_json(server, "webhooks", "test", endpoint)
    assert tested["delivered"] is True and tested["status"] == 204
    [received] = sink.wait_for(lambda got: len(got) == 1)
    assert received.type == "webhook.test" and received.subject == endpoint
    sign_up(server, "filtered@example.com")  # user.created is not wanted by this endpoint
    listed = admin_json(server, "webhooks", "list")
    assert listed[0]["events"] == ["user.deleted"]
    time.sleep(1.5)
    assert len(sink.deliveries) == 1


def test_long_poll_answers_as_soon_as_an_event_exists(start_tessera):
    server = start_tessera(env=events_env())
    reader = reader_token(server)
    cursor = pull(server, reader).json()["next_cursor"]
    result = {}

    def wait():
        started = time.monotonic()
        result["answer"] = pull(server, reader, after=cursor, wait=20)
        result["elapsed"] = time.monotonic() - started
    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(1)
    assert waiter.is_alive(), "the request waits while there is nothing after the cursor"
    user = sign_up(server, "poll@example.com")
    waiter.join(30)
    answer = result["answer"]
    assert answer.status_code == 200 and [e["subject"] for e in answer.json()["data"]] == [user]
    assert result["elapsed"] < 15, "answered when the event committed, not at the end of the wait"
    # An event written by another process (the CLI) wakes a waiting request too.
    cursor = answer.json()["next_cursor"]
    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.5)
    assert admin(server, "users", "disable", "poll@example.com", "--yes").returncode == 0
    waiter.join(30)
    assert [e["type"] for e in result["answer"].json()["data"]][0] == "user.disabled"


def test_pull_api_refuses_bad_tokens_and_parameters(start_tessera):
    server = start_tessera(env=events_env())
    sign_up(server, "p@example.com")
    assert requests.get(server.url("/v1/events"), timeout=10).json()["error"] == "invalid_token"
    no_scope = pull(server, reader_token(server, scope="reports.read"))
    assert no_scope.status_code == 403 and no_scope.json()["error"] == "insufficient_scope"
    assert 'scope="events:read"' in no_scope.headers["WWW-Authenticate"]
    user_token = pull(server, login(server, "p@example.com"))
    assert user_token.status_code == 403 and user_token.json()["error"] == "insufficient_scope"
    reader = reader_token(server)
    for params in ({"limit": 0}, {"limit": 501}, {"after": -1}, {"after": "x"}, {"wait": 26}, {"type": "user email"}):
        answer = pull(server, reader, **params)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_request", params
    assert pull(server, reader, limit=500).status_code == 200


@pytest.mark.parametrize("url, fragment", [
    ("ftp://hooks.example.com/", "scheme"),
    ("not a url", "control"),
    ("http://hooks.example.com/x", "loopback"),
    ("https://user:pw@hooks.example.com/", "credentials"),
    ("https://10.1.2.3/hook", "private"),
    ("https://169.254.169.254/latest", "private"),
    ("https://[::1]/hook", "loopback"),
    ("https://[::ffff:192.168.0.1]/", "private"),
    ("http://127.0.0.1:9/hook", "loopback"),
    ("http://localhost:9/hook", "loopback"),
    ("https://nonexistent.invalid/hook", "cannot resolve"),
])
def test_registration_refuses_bad_and_private_targets(start_tessera, url, fragment):
    server = start_tessera(env=events_env(TESSERA_WEBHOOK_ALLOW_PRIVATE_NETWORKS="false"))
    refused = admin(server, "webhooks", "create", "--url", url)
    assert refused.returncode == 2 and fragment in refused.stderr, refused.stderr
    assert admin_json(server, "webhooks", "list") == []


def test_unknown_event_types_are_refused(start_tessera):
    server = start_tessera(env=events_env())
    refused = admin(server, "webhooks", "create", "--url", "http://127.0.0.1:9/", "--event", "user.exploded")
    assert refused.returncode == 2 and "unknown event type user.exploded" in refused.stderr


def test_the_address_is_checked_again_at_every_connection(start_tessera, sink, tmp_path):
    # Registered while private networks were allowed; the server now refuses them.
    server = start_tessera(env=events_env(TESSERA_WEBHOOK_ALLOW_PRIVATE_NETWORKS="false"))
    endpoint = register_allowing_private(server, sink)
    sign_up(server, "ssrf@example.com")
    deadline = time.monotonic() + 15
    while True:
        [delivery] = admin_json(server, "webhooks", "deliveries", endpoint)
        if delivery["attempts"] >= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert delivery["attempts"] >= 1 and "refused" in delivery["last_error"] and "loopback" in delivery["last_error"]
    assert sink.requests == []


def register_allowing_private(server, sink):
    result = admin(server, "webhooks", "create", "--url", sink.url, "--json", env={"TESSERA_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true"})
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    sink.secrets.append(created["secret"])
    return created["id"]


def update_profile(server, email, phase):
    """Signs in and changes an attribute: one user.updated event."""
    token = login(server, email)
    answer = requests.patch(server.url("/v1/me"), json={"attributes": {"phase": phase}},
                            headers={"Authorization": f"Bearer {token}", "If-Match": "*"}, timeout=30)
    assert answer.status_code == 200, answer.text


def test_kill_9_in_a_burst_of_200_sign_ups_loses_no_event_and_keeps_order(tmp_path, sink):
    env = events_env(TESSERA_WEBHOOK_RETRY_SCHEDULE="1,1,1,1,1")

    def slow(delivery):
        time.sleep(0.01)
        return 204, {}
    sink.respond = slow
    server = Tessera(tmp_path, env=env)
    try:
        register(server, sink)
        emails = [f"burst{i}@example.com" for i in range(200)]
        acknowledged = []

        def attempt(email):
            # Each user: sign-up, then a profile change (two events, in this order).
            try:
                answer = requests.post(server.url("/v1/signup"), json={"email": email, "password": PASSWORD}, timeout=30)
                if answer.status_code == 201:
                    acknowledged.append(answer.json()["user_id"])
                    update_profile(server, email, "1")
            except (requests.RequestException, AssertionError):
                pass
        with ThreadPoolExecutor(16) as pool:
            futures = [pool.submit(attempt, email) for email in emails]
            while len(acknowledged) < 60:
                time.sleep(0.01)
            server.process.send_signal(signal.SIGKILL)
            server.process.wait(10)
            for future in futures:
                future.result()
    finally:
        if server.process.poll() is None:
            server.process.kill()
    assert 60 <= len(acknowledged) < 200
    restarted = Tessera(tmp_path, env=env)
    try:
        # Sign up those the crash interrupted (a committed one answers 409: its event exists),
        # then one more profile change each.
        def finish(email):
            answer = requests.post(restarted.url("/v1/signup"), json={"email": email, "password": PASSWORD}, timeout=30)
            assert answer.status_code in (201, 409), answer.text
            update_profile(restarted, email, "2")
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(finish, emails))
        reader = reader_token(restarted)
        logged = pull(restarted, reader, limit=500).json()["data"]
        logged += pull(restarted, reader, limit=500, after=logged[-1]["position"]).json()["data"]
        users = [e for e in logged if e["type"].startswith("user.")]
        assert sum(1 for e in users if e["type"] == "user.created") == 200
        expected_ids = {e["id"] for e in users}
        delivered = sink.wait_for(lambda got: expected_ids <= {d.id for d in got}, timeout=90)
        # At least once: every event of the log arrived; dedup by id leaves exactly the log.
        first_arrival = {}
        for d in delivered:
            first_arrival.setdefault(d.id, d)
        assert set(first_arrival) == expected_ids
        assert len({d.id for d in delivered if d.type == "user.created"}) == 200
        assert set(acknowledged) <= {d.subject for d in delivered if d.type == "user.created"}
        # In order per user, across the crash: each user's events first arrived in sequence order.
        per_user = {}
        for d in first_arrival.values():
            per_user.setdefault(d.subject, []).append(d)
        for subject, events in per_user.items():
            arrived = sorted(events, key=lambda d: d.received_at)
            assert [d.sequence for d in arrived] == list(range(1, len(events) + 1)), subject
            assert arrived[0].type == "user.created" and arrived[-1].data["attributes"] == {"phase": "2"}
        assert sink.verification_failures == []
        assert restarted.stop() == 0
    finally:
        if restarted.process.poll() is None:
            restarted.process.kill()


def test_an_endless_answer_is_cut_off_and_counts_as_a_failure(start_tessera):
    # A raw endpoint that answers every request with a body that never ends (endless headers
    # are refused by NIO's HTTP parser itself).
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    sent = {"bytes": 0}

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            try:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n")
                chunk = b"a" * 8000
                while sent["bytes"] < 64 << 20:
                    connection.sendall(chunk)
                    sent["bytes"] += len(chunk)
            except OSError:
                pass
            finally:
                connection.close()
    threading.Thread(target=serve, daemon=True).start()
    server = start_tessera(env=events_env(TESSERA_WEBHOOK_TIMEOUT=10))
    created = admin_json(server, "webhooks", "create", "--url", f"http://127.0.0.1:{port}/")
    sign_up(server, "endless@example.com")
    deadline = time.monotonic() + 15
    while True:
        [delivery] = admin_json(server, "webhooks", "deliveries", created["id"])
        if delivery["attempts"] >= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    listener.close()
    assert delivery["status"] == "pending" and delivery["attempts"] >= 1 and delivery["last_status"] is None
    assert "longer than 1048576 bytes" in delivery["last_error"], delivery["last_error"]
    assert sent["bytes"] < 8 << 20, "the connection was closed soon after the limit, not read to the end"


def test_an_endpoint_that_never_answers_times_out_and_is_retried(start_tessera):
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held = []

    def accept():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            held.append(connection)  # read nothing, answer nothing
    threading.Thread(target=accept, daemon=True).start()
    server = start_tessera(env=events_env(TESSERA_WEBHOOK_TIMEOUT=1, TESSERA_WEBHOOK_RETRY_SCHEDULE="1,1"))
    created = admin_json(server, "webhooks", "create", "--url", f"http://127.0.0.1:{listener.getsockname()[1]}/")
    sign_up(server, "silent@example.com")
    deadline = time.monotonic() + 30
    while True:
        [delivery] = admin_json(server, "webhooks", "deliveries", created["id"])
        if delivery["status"] == "failed" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    listener.close()
    for connection in held:
        connection.close()
    assert delivery["status"] == "failed" and delivery["attempts"] == 3
    assert delivery["last_error"] == "no answer within 1 s"
    assert len(held) == 3, "each attempt on a fresh connection: a timed-out one is never reused"
