"""A real SMTP server for the interop stage: aiosmtpd on loopback, optionally with STARTTLS
or implicit TLS under a certificate from a throwaway CA (trustme), and AUTH. Messages are
parsed with Python's `email` package, as a user's mail client would."""
import email
import email.policy
import re
import ssl
import threading
import time

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from conftest import free_port


class Received:
    def __init__(self, envelope, session, transport_is_tls=False):
        self.mail_from = envelope.mail_from
        self.rcpt_tos = list(envelope.rcpt_tos)
        self.raw = envelope.original_content or envelope.content
        # session.ssl is set by STARTTLS; under implicit TLS the transport itself is TLS.
        self.tls = session.ssl is not None or transport_is_tls
        self.authenticated = bool(session.authenticated)
        self.message = email.message_from_bytes(self.raw, policy=email.policy.default)

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()

    @property
    def code(self) -> str:
        """The code: the line of the text part that is only digits."""
        lines = [line.strip() for line in self.text.splitlines() if re.fullmatch(r"\s*\d{6,10}\s*", line)]
        assert len(lines) == 1, self.text
        return lines[0]


class Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        if self.sink.answer is not None:
            return self.sink.answer
        with self.sink.lock:
            tls = server.transport.get_extra_info("ssl_object") is not None
            self.sink.messages.append(Received(envelope, session, tls))
        return "250 OK queued"


class MailSink:
    """aiosmtpd on 127.0.0.1. `mode`: "starttls" (required, the default), "implicit" or "plain"."""

    USER, PASSWORD = "tessera", "s3cret pass"

    def __init__(self, tmp_path, mode="starttls", auth=True, mechanisms=None):
        self.port = free_port()
        self.messages: list[Received] = []
        self.lock = threading.Lock()
        self.answer = None  # e.g. "451 try later" or "550 no such user" to refuse DATA
        self.ca = trustme.CA()
        self.ca_file = tmp_path / f"ca-{self.port}.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        certificate = self.ca.issue_cert("localhost", "127.0.0.1")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(context)
        options = dict(hostname="127.0.0.1", port=self.port)
        if auth:
            # aiosmtpd counts only STARTTLS as TLS for auth_require_tls; implicit TLS is TLS throughout.
            options.update(authenticator=self._authenticate, auth_require_tls=mode == "starttls")
            if mechanisms is not None:
                options.update(auth_exclude_mechanism=[m for m in ("PLAIN", "LOGIN") if m not in mechanisms])
        if mode == "starttls":
            options.update(tls_context=context, require_starttls=True)
        elif mode == "implicit":
            options.update(ssl_context=context)
        self.controller = Controller(Handler(self), **options)
        self.controller.start()

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == self.USER.encode() and auth_data.password == self.PASSWORD.encode()
        return AuthResult(success=ok, handled=False)

    def url(self, scheme="smtp", host="localhost", auth=True, **query) -> str:
        credentials = f"{self.USER}:{self.PASSWORD.replace(' ', '%20')}@" if auth else ""
        options = "&".join(f"{key}={value}" for key, value in query.items())
        return f"{scheme}://{credentials}{host}:{self.port}" + (f"?{options}" if options else "")

    def wait_for(self, count=1, timeout=15.0, to=None) -> list[Received]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                found = [m for m in self.messages if to is None or to.lower() in [r.lower() for r in m.rcpt_tos]]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{count} message(s) to {to} not received in {timeout} s; got {len(found)}")

    def stop(self):
        self.controller.stop()
