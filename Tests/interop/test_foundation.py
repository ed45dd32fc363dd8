"""Foundation, as third-party libraries see it: discovery, the JWKS, and a token signed by
Tessera's crypto module verified by PyJWT and joserfc against that JWKS."""
import os
import pathlib
import socket
import stat
import subprocess
import time

import jwt
import pytest
import requests
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet, RSAKey

from conftest import ROOT, sign_with_tessera


def test_discovery_is_valid_json_with_the_configured_issuer(tessera):
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        response = requests.get(tessera.url(path), timeout=5)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        document = response.json()
        assert document["issuer"] == tessera.issuer
        assert document["jwks_uri"].startswith(tessera.issuer + "/")


def test_jwks_uri_resolves_to_rs256_signing_keys(tessera):
    jwks_uri = requests.get(tessera.url("/.well-known/openid-configuration"), timeout=5).json()["jwks_uri"]
    response = requests.get(jwks_uri, timeout=5)
    assert response.status_code == 200
    assert "max-age=" in response.headers["Cache-Control"]
    assert response.headers.get("ETag")
    keys = response.json()["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    # joserfc computes the RFC 7638 thumbprint independently: it must equal our kid.
    assert RSAKey.import_key(key).thumbprint() == key["kid"]
    assert KeySet.import_key_set(response.json()).keys


def test_a_token_signed_by_tessera_verifies_with_pyjwt_and_joserfc(tessera):
    now = int(time.time())
    claims = {"iss": tessera.issuer, "sub": "interop", "aud": "interop-api", "iat": now, "exp": now + 300}
    token = sign_with_tessera(tessera, claims)
    jwks_uri = requests.get(tessera.url("/.well-known/openid-configuration"), timeout=5).json()["jwks_uri"]

    signing_key = jwt.PyJWKClient(jwks_uri).get_signing_key_from_jwt(token)
    decoded = jwt.decode(token, signing_key.key, algorithms=["RS256"], audience="interop-api", issuer=tessera.issuer)
    assert decoded == claims

    key_set = KeySet.import_key_set(requests.get(jwks_uri, timeout=5).json())
    verified = jose_jwt.decode(token, key_set, algorithms=["RS256"])
    assert verified.header["alg"] == "RS256"
    assert verified.claims["sub"] == "interop"

    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    try:
        jwt.decode(tampered, signing_key.key, algorithms=["RS256"], audience="interop-api")
        raise AssertionError("a tampered signature verified")
    except jwt.InvalidSignatureError:
        pass


@pytest.mark.keys_dir
def test_first_start_generates_a_0600_key_and_logs_one_ready_line(tessera):
    keys = list((tessera.tmp / "keys").glob("*.pem"))
    assert len(keys) == 1
    assert stat.S_IMODE(keys[0].stat().st_mode) == 0o600
    ready = [line for line in tessera.log_lines if "tessera ready" in line]
    assert len(ready) == 1
    assert tessera.issuer in ready[0] and f"127.0.0.1:{tessera.port}" in ready[0]


@pytest.mark.keys_dir
def test_a_key_from_gen_key_sh_is_used_as_is(tmp_path, start_tessera):
    generated = subprocess.run([str(ROOT / "scripts" / "gen-key.sh"), str(tmp_path / "keys")],
                               capture_output=True, text=True, check=True).stdout.strip()
    server = start_tessera()
    assert list((tmp_path / "keys").glob("*.pem")) == [pathlib.Path(generated)]
    expected_kid = RSAKey.import_key(pathlib.Path(generated).read_text()).thumbprint()
    keys = requests.get(server.url("/.well-known/jwks.json"), timeout=5).json()["keys"]
    assert [key["kid"] for key in keys] == [expected_kid]


def test_health_readiness_and_json_errors(tessera):
    assert requests.get(tessera.url("/healthz"), timeout=5).json() == {"status": "ok"}
    assert requests.get(tessera.url("/readyz"), timeout=5).json()["status"] == "ready"
    missing = requests.get(tessera.url("/nowhere"), timeout=5)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong_method = requests.delete(tessera.url("/.well-known/jwks.json"), timeout=5)
    assert wrong_method.status_code == 405 and "GET" in wrong_method.headers["Allow"]


def test_restart_keeps_the_same_key_and_sigterm_exits_zero(tmp_path, start_tessera):
    first = start_tessera()
    kid = requests.get(first.url("/.well-known/jwks.json"), timeout=5).json()["keys"][0]["kid"]
    assert first.stop() == 0
    second = start_tessera()
    assert requests.get(second.url("/.well-known/jwks.json"), timeout=5).json()["keys"][0]["kid"] == kid


def closed_by_server(connection: socket.socket) -> bool:
    """Waits (up to the socket's timeout) until the server closes the connection."""
    try:
        return connection.recv(4096) == b""
    except ConnectionResetError:
        return True


def test_idle_and_trickling_connections_are_closed_after_http_idle_timeout(start_tessera):
    server = start_tessera(env={"TESSERA_HTTP_IDLE_TIMEOUT": "1"})
    kept_alive = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    kept_alive.sendall(b"GET /healthz HTTP/1.1\r\nHost: tessera\r\n\r\n")
    assert kept_alive.recv(4096).startswith(b"HTTP/1.1 200 OK")
    trickling = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    trickling.sendall(b"GET /healthz HTTP/1.1\r\nHost: tessera\r\n")  # a head never finished
    assert closed_by_server(kept_alive)
    assert closed_by_server(trickling)
    assert requests.get(server.url("/healthz"), timeout=5).status_code == 200
