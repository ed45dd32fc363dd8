"""Email verification and password recovery (contract §8) with the mail received by a real
SMTP server (aiosmtpd) over STARTTLS or implicit TLS under a throwaway CA, and the codes read
out of the messages with Python's `email` parser, as a user's mail client would."""
import json
import os
import signal
import socket
import subprocess
import threading

import pytest
import requests

from conftest import BIN_DIR, Tessera, free_port
from mailsink import MailSink

PASSWORD = "correct horse battery"


def mail_env(url, **extra):
    env = {"TESSERA_MAIL_URL": url, "TESSERA_CODE_IP_RATE": "0", "TESSERA_SIGNUP_IP_RATE": "0",
           "TESSERA_MAIL_RETRY_BASE_DELAY": "0.2", "TESSERA_PUBLIC_URL": "https://id.example.com"}
    env.update({key: str(value) for key, value in extra.items()})
    return env


def run_admin(server, *args):
    return subprocess.run([str(BIN_DIR / "tessera"), "admin", *args], env=server.env, cwd=server.tmp,
                          capture_output=True, text=True, timeout=60)


def mail_list(server, *args):
    result = run_admin(server, "mail", "list", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def post(server, path, body):
    return requests.post(server.url(path), json=body, timeout=10)


def test_signup_mail_over_starttls_with_auth_is_a_proper_message_and_its_code_verifies(start_tessera, sink):
    server = start_tessera(env=mail_env(sink.url(ca_file=sink.ca_file)))
    assert post(server, "/v1/signup", {"email": "Ann@Example.com", "password": PASSWORD}).status_code == 201
    [received] = sink.wait_for(to="ann@example.com")
    assert received.tls and received.authenticated
    assert received.mail_from == "no-reply@id.example.com" and received.rcpt_tos == ["Ann@Example.com"]
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["From"] == "Tessera <no-reply@id.example.com>" and message["To"] == "Ann@Example.com"
    assert message["Auto-Submitted"] == "auto-generated" and message["Date"] and message["Message-ID"].endswith("@id.example.com>")
    code = received.code
    assert len(code) == 8 and code not in message["Subject"] and code in received.html
    assert "https://id.example.com" in received.text
    answer = post(server, "/v1/email/verify", {"email": "ann@example.com", "code": f"{code[:4]} {code[4:]}"})
    assert answer.status_code == 200 and answer.json()["email_verified"] is True
    assert post(server, "/v1/email/verify", {"email": "ann@example.com", "code": code}).json()["error"] == "invalid_code"
    # The stored message no longer holds the code, and the CLI never shows one.
    listed = mail_list(server)
    assert listed[0]["status"] == "sent" and listed[0]["template"] == "verification_code" and code not in json.dumps(listed)


def test_implicit_tls_smtps(start_tessera, tmp_path):
    sink = MailSink(tmp_path, mode="implicit")
    try:
        server = start_tessera(env=mail_env(sink.url("smtps", ca_file=sink.ca_file)))
        post(server, "/v1/signup", {"email": "bo@example.com", "password": PASSWORD})
        [received] = sink.wait_for(to="bo@example.com")
        assert received.tls and received.authenticated and received.code
    finally:
        sink.stop()


def wait_for_error(server, fragment, timeout=15):
    import time
    deadline = time.time() + timeout
    while time.time() < deadline:
        listed = mail_list(server)
        if listed and listed[0]["last_error"] and fragment in listed[0]["last_error"]:
            return listed[0]
        time.sleep(0.2)
    raise AssertionError(f"no error with {fragment!r}: {mail_list(server)}")


def test_an_untrusted_certificate_is_refused_and_nothing_is_sent(start_tessera, sink):
    # No ca_file: the throwaway CA is not among the system roots.
    server = start_tessera(env=mail_env(sink.url(), TESSERA_MAIL_MAX_ATTEMPTS=1))
    post(server, "/v1/signup", {"email": "cy@example.com", "password": PASSWORD})
    failed = wait_for_error(server, "CERTIFICATE_VERIFY_FAILED")
    assert failed["status"] == "failed" and failed["attempts"] == 1
    assert sink.messages == []


def test_a_relay_without_starttls_is_refused_not_used_in_cleartext(start_tessera, tmp_path):
    sink = MailSink(tmp_path, mode="plain", auth=False)
    try:
        server = start_tessera(env=mail_env(sink.url(auth=False), TESSERA_MAIL_MAX_ATTEMPTS=1))
        post(server, "/v1/signup", {"email": "di@example.com", "password": PASSWORD})
        wait_for_error(server, "STARTTLS")
        assert sink.messages == []
        assert server.stop() == 0  # the next server shares its database (and so its queue)
        # Cleartext only when asked for, and only to loopback.
        server2 = start_tessera(env=mail_env(sink.url(auth=False, disable_starttls="true")))
        post(server2, "/v1/signup", {"email": "di2@example.com", "password": PASSWORD})
        assert sink.wait_for(to="di2@example.com")[0].tls is False
    finally:
        sink.stop()


def test_starttls_injection_is_refused(start_tessera, tmp_path):
    """A relay that sends cleartext right after agreeing to STARTTLS (CVE-2011-0411's hole)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    seen = []

    def serve():
        connection, _ = listener.accept()
        with connection:
            file = connection.makefile("rb")
            connection.sendall(b"220 evil ESMTP\r\n")
            while line := file.readline():
                seen.append(line)
                if line.upper().startswith(b"EHLO"):
                    connection.sendall(b"250-evil\r\n250 STARTTLS\r\n")
                elif line.upper().startswith(b"STARTTLS"):
                    connection.sendall(b"220 go ahead\r\n250 injected\r\n")

    threading.Thread(target=serve, daemon=True).start()
    server = start_tessera(env=mail_env(f"smtp://localhost:{port}"))
    result = run_admin(server, "mail", "test", "--to", "ops@example.com")
    listener.close()
    assert result.returncode == 1
    assert "cleartext after agreeing to STARTTLS" in result.stderr, result.stderr
    assert not any(line.upper().startswith(b"MAIL") for line in seen)


def test_require_email_verification_gates_login(start_tessera, sink):
    server = start_tessera(env=mail_env(sink.url(ca_file=sink.ca_file), TESSERA_REQUIRE_EMAIL_VERIFICATION="true"))
    assert post(server, "/v1/signup", {"email": "ed@example.com", "password": PASSWORD}).json()["status"] == "unconfirmed"
    refused = post(server, "/v1/login", {"email": "ed@example.com", "password": PASSWORD})
    assert refused.status_code == 403 and refused.json()["error"] == "user_unconfirmed"
    code = sink.wait_for(to="ed@example.com")[0].code
    assert post(server, "/v1/email/verify", {"email": "ed@example.com", "code": code}).status_code == 200
    assert post(server, "/v1/login", {"email": "ed@example.com", "password": PASSWORD}).status_code == 200


def test_recovery_revokes_everything_and_does_not_sign_in(start_tessera, sink):
    server = start_tessera(env=mail_env(sink.url(ca_file=sink.ca_file)))
    post(server, "/v1/signup", {"email": "Fay@Example.com", "password": PASSWORD})
    tokens = post(server, "/v1/login", {"email": "fay@example.com", "password": PASSWORD}).json()
    # Typed in another case, and with a second address in the body: refused outright.
    assert post(server, "/v1/password/forgot", {"email": ["fay@example.com", "evil@example.com"]}).status_code == 400
    answer = post(server, "/v1/password/forgot", {"email": "FAY@EXAMPLE.COM"})
    assert answer.status_code == 202 and answer.json() == {}
    recovery = [m for m in sink.wait_for(2, to="fay@example.com") if "Reset" in m.message["Subject"]]
    assert len(recovery) == 1 and recovery[0].rcpt_tos == ["Fay@Example.com"], "to the stored address, not as typed"
    weak = post(server, "/v1/password/reset", {"email": "fay@example.com", "code": recovery[0].code, "password": "short"})
    assert weak.json()["error"] == "weak_password"
    reset = post(server, "/v1/password/reset", {"email": "fay@example.com", "code": recovery[0].code, "password": "a brand new passphrase"})
    assert reset.status_code == 200 and set(reset.json()) == {"user_id"}
    assert requests.get(server.url("/v1/me"), headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=5).status_code == 401
    assert post(server, "/v1/token/refresh", {"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert post(server, "/v1/login", {"email": "fay@example.com", "password": "a brand new passphrase"}).status_code == 200
    notice = [m for m in sink.wait_for(3, to="fay@example.com") if "changed" in m.message["Subject"]]
    assert len(notice) == 1 and "was changed" in notice[0].text
    again = post(server, "/v1/password/reset", {"email": "fay@example.com", "code": recovery[0].code, "password": "yet another passphrase"})
    assert again.json()["error"] == "invalid_code"


def test_uniform_answers_for_unknown_disabled_throttled_and_real_accounts(start_tessera, sink):
    server = start_tessera(env=mail_env(sink.url(ca_file=sink.ca_file)))
    post(server, "/v1/signup", {"email": "gus@example.com", "password": PASSWORD})
    post(server, "/v1/signup", {"email": "hal@example.com", "password": PASSWORD})
    assert run_admin(server, "users", "disable", "hal@example.com", "--yes").returncode == 0
    answers = {}
    for label, path, email in [
        ("real", "/v1/password/forgot", "gus@example.com"), ("throttled", "/v1/password/forgot", "gus@example.com"),
        ("unknown", "/v1/password/forgot", "nobody@example.com"), ("disabled", "/v1/password/forgot", "hal@example.com"),
        ("unverified", "/v1/email/verification", "gus@example.com"), ("unknown-verify", "/v1/email/verification", "no@example.com"),
    ]:
        response = post(server, path, {"email": email})
        # Date and the generated request id differ per request whatever the account.
        assert len(response.headers["X-Request-Id"]) == 32
        headers = {k.lower(): v for k, v in response.headers.items() if k.lower() not in ("date", "x-request-id")}
        answers[label] = (response.status_code, response.content, headers)
    assert len(set(json.dumps([s, b.decode(), sorted(h.items())]) for s, b, h in answers.values())) == 1, answers


def test_kill_9_between_202_and_delivery_then_the_mail_still_arrives(tmp_path):
    # A relay that accepts connections and never answers: the courier waits for its greeting
    # while the server is killed, so the 202's message is committed but not yet sent.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    first = Tessera(tmp_path, env=mail_env(f"smtp://localhost:{silent.getsockname()[1]}?disable_starttls=true"))
    try:
        assert requests.post(first.url("/v1/signup"), json={"email": "ike@example.com", "password": PASSWORD}, timeout=10).status_code == 201
        assert requests.post(first.url("/v1/password/forgot"), json={"email": "ike@example.com"}, timeout=10).status_code == 202
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(10)
    finally:
        if first.process.poll() is None:
            first.process.kill()
        silent.close()
    sink = MailSink(tmp_path, mode="plain", auth=False)
    try:
        second = Tessera(tmp_path, env=mail_env(sink.url(auth=False, disable_starttls="true")))
        try:
            received = sink.wait_for(2, to="ike@example.com")
            assert sorted(m.message["Subject"] for m in received) == ["Reset your Tessera password", "Your Tessera verification code"]
            code = [m for m in received if "Reset" in m.message["Subject"]][0].code
            reset = requests.post(second.url("/v1/password/reset"), timeout=10,
                                  json={"email": "ike@example.com", "code": code, "password": "a brand new passphrase"})
            assert reset.status_code == 200
        finally:
            assert second.stop() == 0
    finally:
        sink.stop()


def test_admin_mail_test_retry_and_send_recovery(start_tessera, sink):
    server = start_tessera(env=mail_env(sink.url(ca_file=sink.ca_file), TESSERA_MAIL_MAX_ATTEMPTS=1))
    accepted = run_admin(server, "mail", "test", "--to", "ops@example.com", "--json")
    assert accepted.returncode == 0, accepted.stderr
    assert json.loads(accepted.stdout)["accepted"] is True
    assert "mail test" in sink.wait_for(to="ops@example.com")[0].message["Subject"]
    sink.answer = "550 5.1.1 mailbox unavailable"
    refused = run_admin(server, "mail", "test", "--to", "ops@example.com")
    assert refused.returncode == 1 and "550 5.1.1 mailbox unavailable" in refused.stderr
    # A permanent refusal fails at once; retry re-queues it and it goes once the relay takes it.
    post(server, "/v1/signup", {"email": "jo@example.com", "password": PASSWORD})
    failed = wait_for_error(server, "550")
    assert failed["status"] == "failed" and failed["attempts"] == 1
    sink.answer = None
    retried = run_admin(server, "mail", "retry", failed["id"], "--json")
    assert retried.returncode == 0 and json.loads(retried.stdout)["retried"] == [failed["id"]]
    assert sink.wait_for(to="jo@example.com")[0].code
    assert run_admin(server, "mail", "retry", "no-such-id").returncode == 1
    assert run_admin(server, "mail", "retry").returncode == 2
    # An operator sends a recovery code; the running server delivers it.
    assert run_admin(server, "users", "send-recovery", "jo@example.com").returncode == 0
    recovery = [m for m in sink.wait_for(2, to="jo@example.com") if "Reset" in m.message["Subject"]]
    assert len(recovery) == 1 and recovery[0].code
    shown = json.loads(run_admin(server, "users", "show", "jo@example.com", "--json").stdout)
    assert shown["emails"] == [{"email": "jo@example.com", "primary": True, "verified": False}]


@pytest.mark.parametrize("setting,value", [
    ("TESSERA_MAIL_FROM", "Evil\r\nBcc: x@example.com <a@example.com>"),
    ("TESSERA_MAIL_URL", "smtp://mail.example.com?disable_starttls=true"),
    ("TESSERA_MAIL_URL", "smtp://user:hunter2@mail.example.com?tls=off"),
    ("TESSERA_CODE_LENGTH", "5"),
    ("TESSERA_RECOVERY_CODE_TTL", "3601"),
    ("TESSERA_REQUIRE_EMAIL_VERIFICATION", "yes"),
])
def test_bad_mail_settings_stop_start_up(tmp_path, setting, value):
    env = {"PATH": os.environ.get("PATH", ""), "TESSERA_PORT": str(free_port()), "TESSERA_DATABASE": str(tmp_path / "t.sqlite"),
           "TESSERA_KEYS_DIR": str(tmp_path / "keys"), setting: value}
    result = subprocess.run([str(BIN_DIR / "tessera"), "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2, result.stderr
    assert setting in result.stderr and result.stderr.count("\n") == 1
    assert "hunter2" not in result.stderr, "a password in mail_url is never echoed"


def test_password_change_and_deletion_send_their_notices(start_tessera, sink):
    server = start_tessera(env=mail_env(sink.url(ca_file=sink.ca_file)))
    post(server, "/v1/signup", {"email": "lu@example.com", "password": PASSWORD})
    tokens = post(server, "/v1/login", {"email": "lu@example.com", "password": PASSWORD}).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    changed = requests.post(server.url("/v1/me/password"), headers=auth, timeout=10,
                            json={"current_password": PASSWORD, "password": "a brand new passphrase"})
    assert changed.status_code == 200 and changed.cookies.get("tessera_refresh") == changed.json()["refresh_token"]
    assert requests.get(server.url("/v1/me"), headers=auth, timeout=5).status_code == 401
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    me = requests.get(server.url("/v1/me"), headers=fresh, timeout=5).json()
    assert me["emails"] == [{"email": "lu@example.com", "primary": True, "verified": False}]
    assert [m for m in sink.wait_for(2, to="lu@example.com") if "was changed" in m.message["Subject"]]
    deleted = requests.post(server.url("/v1/me/deletion"), headers=fresh, json={"current_password": "a brand new passphrase"}, timeout=10)
    assert deleted.status_code == 204
    farewell = [m for m in sink.wait_for(3, to="lu@example.com") if "deleted" in m.message["Subject"]]
    assert len(farewell) == 1 and "lu@example.com" in farewell[0].text
    assert requests.get(server.url("/v1/me"), headers=fresh, timeout=5).status_code == 401
    assert post(server, "/v1/signup", {"email": "lu@example.com", "password": PASSWORD}).status_code == 201


def test_shutdown_does_not_wait_for_a_silent_relay(tmp_path):
    """SIGTERM while the courier waits on a relay that never answers: a prompt, clean exit,
    the message left queued for the next start."""
    import time
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    server = Tessera(tmp_path, env=mail_env(f"smtp://localhost:{silent.getsockname()[1]}?disable_starttls=true"))
    try:
        assert requests.post(server.url("/v1/signup"), json={"email": "ned@example.com", "password": PASSWORD}, timeout=10).status_code == 201
        time.sleep(0.5)
        started = time.time()
        assert server.stop() == 0
        assert time.time() - started < 5
    finally:
        silent.close()
    queued = mail_list(server)
    assert len(queued) == 1 and queued[0]["status"] == "queued" and queued[0]["attempts"] == 0


def test_auth_login_when_plain_is_not_offered_and_wrong_credentials_are_refused(start_tessera, tmp_path):
    sink = MailSink(tmp_path, mechanisms=["LOGIN"])
    try:
        server = start_tessera(env=mail_env(sink.url(ca_file=sink.ca_file)))
        assert run_admin(server, "mail", "test", "--to", "ops@example.com").returncode == 0
        [received] = sink.wait_for(to="ops@example.com")
        assert received.tls and received.authenticated
        wrong = sink.url(ca_file=sink.ca_file).replace("s3cret%20pass", "wrong")
        refused = run_admin(server, "mail", "test", "--to", "ops@example.com", "--mail-url", wrong)
        assert refused.returncode == 1 and "535" in refused.stderr and "wrong" not in refused.stderr
    finally:
        sink.stop()


def scripted_relay(pipelining, refuse_recipient=False):
    """A relay that offers PIPELINING (or not) and records what each read brought."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    reads = []

    def serve():
        connection, _ = listener.accept()
        with connection:
            connection.sendall(b"220 scripted ESMTP\r\n")
            buffer = b""
            in_data = False
            while True:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                reads.append(chunk)
                buffer += chunk
                while True:
                    if in_data:
                        end = buffer.find(b"\r\n.\r\n")
                        if end < 0:
                            break
                        buffer = buffer[end + 5:]
                        in_data = False
                        connection.sendall(b"250 queued\r\n")
                        continue
                    line, sep, rest = buffer.partition(b"\r\n")
                    if not sep:
                        break
                    buffer = rest
                    verb = line.split(b" ")[0].split(b":")[0].upper()
                    if verb == b"EHLO":
                        connection.sendall(b"250-scripted\r\n" + (b"250-PIPELINING\r\n" if pipelining else b"") + b"250 8BITMIME\r\n")
                    elif verb == b"MAIL":
                        connection.sendall(b"250 ok\r\n")
                    elif verb == b"RCPT":
                        connection.sendall(b"550 no such user\r\n" if refuse_recipient else b"250 ok\r\n")
                    elif verb == b"DATA":
                        if refuse_recipient:
                            connection.sendall(b"554 no valid recipients\r\n")
                        else:
                            in_data = True
                            connection.sendall(b"354 go ahead\r\n")
                    elif verb == b"RSET":
                        connection.sendall(b"250 reset\r\n")
                    elif verb == b"QUIT":
                        connection.sendall(b"221 bye\r\n")
                        return

    threading.Thread(target=serve, daemon=True).start()
    return listener, reads


@pytest.mark.parametrize("pipelining", [True, False])
def test_pipelining_sends_the_envelope_in_one_write_when_offered(start_tessera, pipelining):
    listener, reads = scripted_relay(pipelining)
    server = start_tessera(env=mail_env(f"smtp://localhost:{listener.getsockname()[1]}?disable_starttls=true"))
    result = run_admin(server, "mail", "test", "--to", "ops@example.com")
    listener.close()
    assert result.returncode == 0, result.stderr
    envelope = [read for read in reads if read.startswith(b"MAIL FROM:")]
    assert len(envelope) == 1
    if pipelining:
        assert b"RCPT TO:<ops@example.com>" in envelope[0] and envelope[0].endswith(b"DATA\r\n")
    else:
        assert b"RCPT" not in envelope[0]


def test_pipelined_refusal_of_the_recipient_is_a_permanent_failure(start_tessera):
    listener, reads = scripted_relay(True, refuse_recipient=True)
    server = start_tessera(env=mail_env(f"smtp://localhost:{listener.getsockname()[1]}?disable_starttls=true"))
    result = run_admin(server, "mail", "test", "--to", "ops@example.com")
    listener.close()
    assert result.returncode == 1 and "RCPT TO refused: 550 no such user" in result.stderr, result.stderr
    assert any(b"RSET" in read for read in reads)
