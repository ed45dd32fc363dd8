"""A webhook receiver for the interop stage: an HTTP server on loopback that checks every
delivery with the `standardwebhooks` package (the verifier an integrator would use) and parses
its body with the `cloudevents` SDK, as a consumer of Tessera's webhooks would. Tests choose
its answer per event (a status, a Retry-After) and read what arrived."""
import http.server
import threading
import time

from cloudevents.core.bindings.http import HTTPMessage, from_http
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from standardwebhooks import Webhook

from conftest import free_port


class Delivery:
    """One request as received: its headers, the verified CloudEvent and when it came."""

    def __init__(self, headers, body, event, received_at):
        self.headers = headers
        self.body = body
        self.event = event
        self.received_at = received_at

    @property
    def id(self):
        return self.event.get_id()

    @property
    def type(self):
        return self.event.get_type()

    @property
    def subject(self):
        return self.event.get_subject()

    @property
    def sequence(self):
        return int(self.event.get_extension("sequence"))

    @property
    def position(self):
        return int(self.event.get_extension("position"))

    @property
    def data(self):
        return self.event.get_data()


class WebhookSink:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.secrets: list[str] = []
        self.deliveries: list[Delivery] = []
        # Every request, verified or not: (headers, body, status answered).
        self.requests: list[tuple[dict, bytes, int]] = []
        self.verification_failures: list[str] = []
        # Decides the answer to a verified delivery: returns (status, headers).
        self.respond = lambda delivery: (204, {})
        self.condition = threading.Condition()
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {key.lower(): value for key, value in self.headers.items()}
                status, extra = sink._handle(headers, body)
                self.send_response(status)
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handle(self, headers, body):
        # An integrator holding any one of the endpoint's current secrets must be able to verify.
        if not self.secrets or not any(self._verifies(secret, body, headers) for secret in self.secrets):
            with self.condition:
                self.verification_failures.append(f"{headers.get('webhook-id')}: no secret verifies {headers.get('webhook-signature')}")
                self.requests.append((headers, body, 400))
                self.condition.notify_all()
            return 400, {}
        assert headers.get("content-type") == "application/cloudevents+json"
        event = from_http(HTTPMessage(headers=headers, body=body), JSONFormat(), CloudEvent)
        delivery = Delivery(headers, body, event, time.monotonic())
        status, extra = self.respond(delivery)
        with self.condition:
            self.requests.append((headers, body, status))
            if 200 <= status < 300:
                self.deliveries.append(delivery)
            self.condition.notify_all()
        return status, extra

    @staticmethod
    def _verifies(secret, body, headers):
        try:
            Webhook(secret).verify(body, headers)
            return True
        except Exception:  # noqa: BLE001
            return False

    def wait_for(self, predicate, timeout=30):
        """Waits until `predicate(deliveries)` holds (the 2xx-answered ones); returns them."""
        return self._wait(lambda: self.deliveries, predicate, timeout)

    def wait_for_requests(self, predicate, timeout=30):
        """Waits until `predicate(requests)` holds (every request, as (headers, body, status))."""
        return self._wait(lambda: self.requests, predicate, timeout)

    def _wait(self, current, predicate, timeout):
        deadline = time.monotonic() + timeout
        with self.condition:
            while not predicate(current()):
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"timed out; received {[(d.type, d.subject) for d in self.deliveries]}, {len(self.requests)} requests"
                self.condition.wait(remaining)
            return list(current())

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
