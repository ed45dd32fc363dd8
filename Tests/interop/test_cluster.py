"""Several instances on one PostgreSQL database (contract §10.2), two real `tessera serve`
processes sharing it: refresh rotation decided once across both, revocations and lock-outs
honoured by both, outbox work done once, keys published everywhere before they sign, and a
database that goes away and comes back. Run only on PostgreSQL (TESSERA_INTEROP_POSTGRES)."""
import concurrent.futures
import os
import pathlib
import signal
import subprocess
import tempfile
import threading
import time

import jwt
import pytest
import requests

from conftest import BIN_DIR, POSTGRES, ROOT, database_rows
from mailsink import MailSink

pytestmark = pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (TESSERA_INTEROP_POSTGRES)")

PASSWORD = "correct horse battery"


def pair(start_tessera, binary="tessera", **env):
    """Instance A, then instance B on the same database, keys and issuer (as behind one load balancer)."""
    env = {key: str(value) for key, value in env.items()}
    a = start_tessera(binary=binary, env={"TESSERA_INSTANCE_ID": "a", **env})
    b = start_tessera(binary=binary, env={"TESSERA_INSTANCE_ID": "b", "TESSERA_ISSUER": a.issuer, **env})
    return a, b


def signup(server, email):
    return requests.post(server.url("/v1/signup"), json={"email": email, "password": PASSWORD}, timeout=30)


def login(server, email, password=PASSWORD):
    return requests.post(server.url("/v1/login"), json={"email": email, "password": password}, timeout=30)


def refresh(server, token):
    return requests.post(server.url("/v1/token/refresh"), json={"refresh_token": token}, timeout=30)


def me(server, access):
    return requests.get(server.url("/v1/me"), headers={"Authorization": f"Bearer {access}"}, timeout=10)


def test_a_token_rotated_on_one_instance_and_reused_on_the_other_revokes_the_family_on_both(start_tessera):
    a, b = pair(start_tessera)
    assert signup(a, "ann@example.com").status_code == 201
    first = login(a, "ann@example.com").json()["refresh_token"]
    rotated = refresh(a, first)
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    reused = refresh(b, first)
    assert reused.status_code == 401 and reused.json()["error"] == "invalid_grant"
    assert refresh(a, second).status_code == 401, "the reuse on B revoked the family A had rotated"
    assert refresh(b, second).status_code == 401


def test_concurrent_refreshes_of_one_token_split_across_instances_have_one_winner(start_tessera):
    a, b = pair(start_tessera)
    signup(a, "race@example.com")
    for _ in range(3):
        token = login(b, "race@example.com").json()["refresh_token"]
        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            statuses = list(pool.map(lambda i: refresh(a if i % 2 else b, token).status_code, range(32)))
        assert statuses.count(200) == 1 and statuses.count(401) == 31, statuses


def test_a_revocation_on_one_instance_is_honoured_by_the_other_also_after_its_connections_are_killed(start_tessera):
    a, b = pair(start_tessera)
    signup(a, "rev@example.com")
    tokens = login(a, "rev@example.com").json()
    assert me(b, tokens["access_token"]).status_code == 200
    # B's connections to the database are killed (an operator's pg_terminate_backend, a proxy
    # dropping them); each instance names its connections after its instance_id.
    killed = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-d", POSTGRES, "-c",
                             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'tessera:b'"],
                            check=True, capture_output=True, text=True)
    assert int(killed.stdout.strip()) >= 1
    # A global sign-out through A (a password change revokes everything).
    changed = requests.post(a.url("/v1/me/password"), headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=30,
                            json={"current_password": PASSWORD, "password": "a brand new passphrase"})
    assert changed.status_code == 200, changed.text
    deadline = time.time() + 1.0
    refused = me(b, tokens["access_token"]).status_code
    while refused != 401 and time.time() < deadline:
        time.sleep(0.05)
        refused = me(b, tokens["access_token"]).status_code
    assert refused == 401, "B refuses the signed-out token within the bound"
    assert refresh(b, tokens["refresh_token"]).status_code == 401


def test_the_account_lock_out_counts_failures_on_both_instances(start_tessera):
    a, b = pair(start_tessera, TESSERA_LOGIN_MAX_FAILURES=4, TESSERA_LOGIN_IP_RATE=0)
    signup(a, "lock@example.com")
    statuses = [login(server, "lock@example.com", "wrong password!").status_code for server in (a, b, a, b)]
    assert statuses == [401, 401, 401, 401]
    for server in (a, b):
        locked = login(server, "lock@example.com")
        assert locked.status_code == 429 and locked.json()["error"] == "too_many_attempts", locked.text
        assert int(locked.headers["Retry-After"]) > 0


def test_sign_ups_spread_over_both_run_each_hook_and_send_each_mail_once_also_when_one_is_killed(start_tessera, tmp_path):
    sink = MailSink(tmp_path, mode="plain", auth=False)
    a = None
    try:
        log = tmp_path / "signups.log"
        a, b = pair(start_tessera, binary="tessera-example-hooks", EXAMPLE_ALLOWED_DOMAINS="example.com",
                    EXAMPLE_POST_SIGNUP_LOG=log, TESSERA_MAIL_URL=sink.url(scheme="smtp", auth=False, disable_starttls="true"),
                    TESSERA_SIGNUP_IP_RATE=0, TESSERA_CODE_IP_RATE=0, TESSERA_LEASE_TIMEOUT=2, TESSERA_BCRYPT_COST=10)
        emails = [f"u{index}@example.com" for index in range(200)]
        killed = False

        def sign_up(index):
            server = a if index % 2 else b
            if server is a and killed:
                server = b
            return signup(server, emails[index]).status_code

        statuses = []
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            futures = [pool.submit(sign_up, index) for index in range(200)]
            for done, future in enumerate(futures):
                if done == 100:
                    a.process.send_signal(signal.SIGKILL)
                    killed = True
                try:
                    statuses.append(future.result())
                except requests.RequestException:
                    statuses.append(None)
        a.process.wait(10)
        created = [email for email, status in zip(emails, statuses) if status == 201]
        assert len(created) >= 150, statuses
        users = {row[1]: row[0] for row in database_rows(b, "SELECT id, email FROM users")}
        expected = sorted(users[email] for email in users)
        deadline = time.time() + 30
        while time.time() < deadline and sorted(set(log.read_text().split())) != expected:
            time.sleep(0.2)
        runs = log.read_text().split()
        assert sorted(set(runs)) == expected, "every stored user's hook ran, A's leased runs taken over by B"
        # A run A had performed but not recorded is taken over once its lease ends, and recorded.
        deadline = time.time() + 30
        states = database_rows(b, "SELECT state, count(*) FROM hook_runs GROUP BY state")
        while states != [("succeeded", str(len(users)))] and time.time() < deadline:
            time.sleep(0.2)
            states = database_rows(b, "SELECT state, count(*) FROM hook_runs GROUP BY state")
        assert states == [("succeeded", str(len(users)))], states
        runs = log.read_text().split()
        duplicates = len(runs) - len(set(runs))
        messages = sink.wait_for(len(users), timeout=30)
        recipients = [message.rcpt_tos[0] for message in messages]
        assert set(recipients) == set(users), "every stored user got their verification code"
        # Once each: only work A had begun and not yet recorded when it was killed can run again.
        assert duplicates <= 4 and len(recipients) - len(set(recipients)) <= 4, (duplicates, len(recipients) - len(set(recipients)))
        print(f"after killing A: {duplicates} hook runs and {len(recipients) - len(set(recipients))} messages repeated of {len(users)}")
    finally:
        if a is not None:
            if a.process.poll() is None:
                a.process.kill()
            a.stop = lambda: 0  # killed on purpose: not a failed shutdown
        sink.stop()


def test_a_rotated_key_is_in_both_jwks_before_either_signs_with_it(start_tessera):
    a, b = pair(start_tessera)
    signup(a, "keys@example.com")
    env = {"PATH": os.environ.get("PATH", ""), **{k: v for k, v in a.env.items() if k.startswith("TESSERA_")}}
    rotated = subprocess.run([str(BIN_DIR / "tessera"), "admin", "keys", "rotate", "--json"], env=env, cwd=a.tmp,
                             capture_output=True, text=True, timeout=60)
    assert rotated.returncode == 0, rotated.stderr
    import json
    kid = json.loads(rotated.stdout)["kid"]
    published_everywhere = None
    deadline = time.time() + 15
    while time.time() < deadline:
        jwks = [{key["kid"] for key in requests.get(s.url("/.well-known/jwks.json"), timeout=10).json()["keys"]} for s in (a, b)]
        if published_everywhere is None and all(kid in keys for keys in jwks):
            published_everywhere = time.time()
        signed = [jwt.get_unverified_header(login(s, "keys@example.com").json()["access_token"])["kid"] for s in (a, b)]
        if kid in signed:
            assert published_everywhere is not None, "a token carried the new kid before both instances published it"
            break
        time.sleep(0.1)
    else:
        pytest.fail("the new key never signed")


def test_postgresql_going_away_answers_503_and_service_resumes_without_a_restart(start_tessera, tmp_path):
    # Not under tmp_path: the cluster runs as `postgres`, which must reach its directory.
    cluster = pathlib.Path(tempfile.mkdtemp(prefix="tessera-pg-", dir="/tmp"))
    # Durable (no --fast): the halt below is a crash, and what was committed must survive it.
    url = subprocess.run([str(ROOT / "scripts" / "pg-cluster"), "start", str(cluster)], check=True, capture_output=True,
                         text=True).stdout.strip()
    try:
        migrated = subprocess.run([str(BIN_DIR / "tessera"), "migrate", "--database", url], capture_output=True, text=True,
                                  env={"PATH": os.environ.get("PATH", "")}, cwd=tmp_path)
        assert migrated.returncode == 0, migrated.stderr
        server = start_tessera(env={"TESSERA_DATABASE": url, "TESSERA_SIGNUP_IP_RATE": "0", "TESSERA_LOGIN_IP_RATE": "0"})
        signup(server, "down@example.com")
        access = login(server, "down@example.com").json()["access_token"]
        assert me(server, access).status_code == 200, "\n".join(server.log_lines)
        # Load throughout: token checks and refreshes from four threads until the end.
        statuses, checks, stop = [], [], threading.Event()

        def load():
            refresh_token = login(server, "down@example.com").json()["refresh_token"]
            while not stop.is_set():
                try:
                    checks.append(me(server, access).status_code)
                    answer = refresh(server, refresh_token)
                    statuses.append(answer.status_code)
                    if answer.status_code == 200:
                        refresh_token = answer.json()["refresh_token"]
                except requests.RequestException as error:
                    statuses.append(f"connection error: {error}")
        workers = [threading.Thread(target=load) for _ in range(4)]
        for worker in workers:
            worker.start()
        time.sleep(0.5)
        subprocess.run([str(ROOT / "scripts" / "pg-cluster"), "halt", str(cluster)], check=True)
        # A token check may be answered from what the instance read within the last second
        # (its memo is trusted only while the change counters' polls succeed); then 503.
        deadline = time.time() + 10
        down = me(server, access)
        while down.status_code == 200 and time.time() < deadline:
            time.sleep(0.1)
            down = me(server, access)
        assert down.status_code == 503 and down.json()["error"] == "temporarily_unavailable" and down.headers["Retry-After"], down.text
        assert login(server, "down@example.com").status_code == 503
        ready = requests.get(server.url("/readyz"), timeout=10)
        assert ready.status_code == 503 and ready.json()["checks"]["database"] == "unavailable"
        subprocess.run([str(ROOT / "scripts" / "pg-cluster"), "resume", str(cluster)], check=True)
        deadline = time.time() + 30
        while requests.get(server.url("/readyz"), timeout=10).status_code != 200 and time.time() < deadline:
            time.sleep(0.2)
        assert requests.get(server.url("/readyz"), timeout=10).status_code == 200
        assert me(server, access).status_code == 200
        assert login(server, "down@example.com").status_code == 200
        time.sleep(0.5)
        stop.set()
        for worker in workers:
            worker.join()
        # Never a 500 and never a wrong answer: served (from the database, or for a token check
        # from what was read within the last second) or 503; a refresh whose answer was lost with
        # the database may leave its token spent, so a 401 can follow a 503 of the same chain.
        assert set(checks) <= {200, 503}, sorted(set(map(str, checks)))
        assert set(statuses) <= {200, 401, 503}, sorted(set(map(str, statuses)))
        assert 503 in checks + statuses and checks.count(200) > 10
    finally:
        subprocess.run([str(ROOT / "scripts" / "pg-cluster"), "stop", str(cluster)])
