"""The hooks example of contract §7 as an operator runs it: a pre-sign-up domain allow-list
and a post-sign-up hook whose failures are retried with backoff, survive a restart and are
dead-lettered."""
import os
import time

import requests

from conftest import database_rows


def wait_for(predicate, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def signup(server, email):
    return requests.post(server.url("/v1/signup"), json={"email": email, "password": "correct horse battery"}, timeout=10)


def lines(path):
    return path.read_text().split() if path.exists() else []


def hook_runs(server):
    rows = database_rows(server, "SELECT user_id, state, attempts, last_error FROM hook_runs ORDER BY id")
    return [(user, state, int(attempts), error) for user, state, attempts, error in rows]


def example(start_tessera, tmp_path, **env):
    base = {
        "EXAMPLE_ALLOWED_DOMAINS": "example.com, Example.org",
        "EXAMPLE_POST_SIGNUP_LOG": str(tmp_path / "signups.log"),
        "EXAMPLE_POST_SIGNUP_FAIL": str(tmp_path / "fail"),
        "TESSERA_HOOK_RETRY_BASE_DELAY": "0.2",
        "TESSERA_HOOK_MAX_ATTEMPTS": "3",
    }
    return start_tessera(binary="tessera-example-hooks", env={**base, **env})


def test_pre_signup_hook_allows_only_listed_domains(start_tessera, tmp_path):
    server = example(start_tessera, tmp_path)
    rejected = signup(server, "mallory@elsewhere.net")
    assert rejected.status_code == 403
    assert rejected.json() == {"error": "signup_rejected", "error_description": "email domain not allowed"}
    assert signup(server, "olivia@EXAMPLE.org").status_code == 201


def test_post_signup_hook_appends_the_user_id(start_tessera, tmp_path):
    server = example(start_tessera, tmp_path)
    user_id = signup(server, "pia@example.com").json()["user_id"]
    assert wait_for(lambda: lines(tmp_path / "signups.log") == [user_id])


def test_failures_are_retried_then_succeed(start_tessera, tmp_path):
    (tmp_path / "fail").touch()
    server = example(start_tessera, tmp_path, TESSERA_HOOK_MAX_ATTEMPTS="50")
    user_id = signup(server, "ria@example.com").json()["user_id"]
    assert wait_for(lambda: hook_runs(server) and hook_runs(server)[0][2] >= 2)
    assert lines(tmp_path / "signups.log") == []
    (tmp_path / "fail").unlink()
    assert wait_for(lambda: lines(tmp_path / "signups.log") == [user_id])
    # The run is marked succeeded in its own commit just after the hook returns.
    assert wait_for(lambda: hook_runs(server)[0][1] == "succeeded")


def test_exhausted_retries_are_dead_lettered(start_tessera, tmp_path):
    (tmp_path / "fail").touch()
    server = example(start_tessera, tmp_path)
    user_id = signup(server, "sia@example.com").json()["user_id"]
    assert wait_for(lambda: hook_runs(server) and hook_runs(server)[0][1] == "dead")
    row = hook_runs(server)[0]
    assert row[0] == user_id and row[2] == 3 and "failing on purpose" in row[3]
    (tmp_path / "fail").unlink()
    time.sleep(1.0)
    assert lines(tmp_path / "signups.log") == [], "a dead-lettered run waits for an operator"


def test_a_pending_run_survives_a_restart(start_tessera, tmp_path):
    (tmp_path / "fail").touch()
    first = example(start_tessera, tmp_path, TESSERA_HOOK_RETRY_BASE_DELAY="1", TESSERA_HOOK_MAX_ATTEMPTS="50")
    user_id = signup(first, "tia@example.com").json()["user_id"]
    assert wait_for(lambda: hook_runs(first) and hook_runs(first)[0][2] >= 1)
    assert first.stop() == 0
    (tmp_path / "fail").unlink()
    second = example(start_tessera, tmp_path, TESSERA_HOOK_RETRY_BASE_DELAY="1", TESSERA_HOOK_MAX_ATTEMPTS="50")
    assert wait_for(lambda: lines(tmp_path / "signups.log") == [user_id])
    assert wait_for(lambda: hook_runs(second)[0][1] == "succeeded")


def test_migration_hook_moves_legacy_users_at_first_sign_in(start_tessera, tmp_path):
    """The example's UserMigrationHook (contract §11.7): a legacy file of salted SHA-256 hashes."""
    import hashlib
    import json
    legacy = tmp_path / "legacy.jsonl"
    digest = hashlib.sha256(b"pepper" + b"old password 1").hexdigest()
    legacy.write_text(json.dumps({"id": "legacy-42", "email": "Old@Example.com", "verified": True, "name": "Old", "salt": "pepper",
                                  "sha256": digest}) + "\n")
    server = example(start_tessera, tmp_path, EXAMPLE_LEGACY_USERS=str(legacy), TESSERA_LOGIN_IP_RATE="0")
    login = lambda password: requests.post(server.url("/v1/login"), json={"email": "old@example.com", "password": password}, timeout=10)
    assert login("old password 2").status_code == 401
    assert database_rows(server, "SELECT count(*) FROM users")[0][0] in (0, "0")
    tokens = login("old password 1")
    assert tokens.status_code == 200, tokens.text
    assert database_rows(server, "SELECT id, email, email_verified FROM users") in ([("legacy-42", "old@example.com", 1)],
                                                                                  [("legacy-42", "old@example.com", "t")])
    legacy.unlink()
    assert login("old password 1").status_code == 200, "moved for good: the legacy file is no longer asked"
    missing = requests.post(server.url("/v1/login"), json={"email": "other@example.com", "password": "x" * 12}, timeout=10)
    assert missing.status_code == 503 and missing.json()["error"] == "migration_unavailable", "an unreadable legacy store is not a wrong password"
