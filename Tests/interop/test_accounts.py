"""Accounts and tokens as a client application meets them: sign-up, login, verification of
the tokens with PyJWT against the JWKS, refresh rotation, reuse detection, logout, /v1/me."""
import base64
import hashlib
import hmac
import json
import time

import jwt
import requests


def signup(server, email, password="correct horse battery", **extra):
    return requests.post(server.url("/v1/signup"), json={"email": email, "password": password, **extra}, timeout=10)


def login(server, email, password="correct horse battery", **extra):
    return requests.post(server.url("/v1/login"), json={"email": email, "password": password, **extra}, timeout=10)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_signup_login_and_verify_tokens_with_pyjwt(tessera):
    created = signup(tessera, "Pat@Example.com")
    assert created.status_code == 201, created.text
    assert created.json()["email"] == "Pat@Example.com" and created.json()["status"] == "active"
    assert signup(tessera, "pat@example.COM").json()["error"] == "email_taken"

    response = login(tessera, "pat@example.com")
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["refresh_token"].startswith("tsr_")
    cookie = response.headers["Set-Cookie"]
    for attribute in ("tessera_refresh=" + body["refresh_token"], "HttpOnly", "Secure", "SameSite=Strict", "Path=/v1"):
        assert attribute in cookie

    jwks_uri = requests.get(tessera.url("/.well-known/openid-configuration"), timeout=5).json()["jwks_uri"]
    jwks = jwt.PyJWKClient(jwks_uri)
    access = body["access_token"]
    assert jwt.get_unverified_header(access)["typ"] == "at+jwt"
    claims = jwt.decode(access, jwks.get_signing_key_from_jwt(access).key, algorithms=["RS256"],
                        audience=tessera.issuer, issuer=tessera.issuer,
                        options={"require": ["exp", "iat", "sub", "jti", "iss", "aud"]})
    assert claims["exp"] - claims["iat"] == 900
    assert claims["sub"] == created.json()["user_id"]
    assert claims["client_id"] == "tessera"
    assert "openid" in claims["scope"].split()

    id_token = body["id_token"]
    id_claims = jwt.decode(id_token, jwks.get_signing_key_from_jwt(id_token).key, algorithms=["RS256"],
                           audience="tessera", issuer=tessera.issuer)
    assert id_claims["email"] == "Pat@Example.com"
    digest = hashlib.sha256(access.encode()).digest()
    assert id_claims["at_hash"] == b64url(digest[:16])

    me = requests.get(tessera.url("/v1/me"), headers={"Authorization": f"Bearer {access}"}, timeout=5)
    assert me.status_code == 200 and me.json()["email"] == "Pat@Example.com"


def test_refresh_rotation_reuse_detection_and_logout(tessera):
    signup(tessera, "quinn@example.com")
    first = login(tessera, "quinn@example.com").json()["refresh_token"]

    rotated = requests.post(tessera.url("/v1/token/refresh"), json={"refresh_token": first}, timeout=5)
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    assert second != first

    reuse = requests.post(tessera.url("/v1/token/refresh"), json={"refresh_token": first}, timeout=5)
    assert reuse.status_code == 401 and reuse.json()["error"] == "invalid_grant"
    killed = requests.post(tessera.url("/v1/token/refresh"), json={"refresh_token": second}, timeout=5)
    assert killed.status_code == 401, "reuse must revoke the whole family"

    third = login(tessera, "quinn@example.com").json()["refresh_token"]
    by_cookie = requests.post(tessera.url("/v1/token/refresh"), headers={"Cookie": f"tessera_refresh={third}"}, timeout=5)
    assert by_cookie.status_code == 200
    fourth = by_cookie.json()["refresh_token"]
    out = requests.post(tessera.url("/v1/logout"), json={"refresh_token": fourth}, timeout=5)
    assert out.status_code == 204
    assert "Max-Age=0" in out.headers["Set-Cookie"]
    assert requests.post(tessera.url("/v1/token/refresh"), json={"refresh_token": fourth}, timeout=5).status_code == 401
    assert requests.post(tessera.url("/v1/logout"), json={"refresh_token": fourth}, timeout=5).status_code == 204


def test_no_user_enumeration_at_login(tessera):
    signup(tessera, "rae@example.com")
    wrong = login(tessera, "rae@example.com", "not the password")
    unknown = login(tessera, "nobody-here@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.content == unknown.content


def test_forged_access_tokens_are_refused(tessera):
    signup(tessera, "sam@example.com")
    access = login(tessera, "sam@example.com").json()["access_token"]
    header, payload, _ = access.split(".")
    key = requests.get(tessera.url("/.well-known/jwks.json"), timeout=5).json()["keys"][0]
    public_pem = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(key)).public_bytes(
        encoding=__import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.PEM,
        format=__import__("cryptography.hazmat.primitives.serialization", fromlist=["PublicFormat"]).PublicFormat.SubjectPublicKeyInfo)

    def forged_with(alg_header: dict, sign) -> str:
        head = b64url(json.dumps(alg_header).encode())
        return f"{head}.{payload}.{sign(f'{head}.{payload}'.encode())}"

    kid = key["kid"]
    # The classic key-confusion attack: HS256 keyed with the RSA public key.
    confused = forged_with({"alg": "HS256", "typ": "at+jwt", "kid": kid},
                           lambda data: b64url(hmac.new(public_pem, data, hashlib.sha256).digest()))
    unsigned = forged_with({"alg": "none", "typ": "at+jwt", "kid": kid}, lambda data: "")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["exp"] = int(time.time()) - 3600
    expired = f"{header}.{b64url(json.dumps(claims).encode())}.{access.split('.')[2]}"
    for token in (confused, unsigned, expired, access + "x"):
        response = requests.get(tessera.url("/v1/me"), headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert response.status_code == 401, token
        assert response.json()["error"] == "invalid_token"
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_bad_input_gets_contract_errors(tessera):
    cases = [
        (dict(data="{not json", headers={"Content-Type": "application/json"}), 400),
        (dict(data='{"email":"a@example.com","password":"correct horse battery"}', headers={"Content-Type": "text/plain"}), 400),
        (dict(json={"email": "a@example.com", "password": "correct horse battery", "role": "admin"}), 400),
        (dict(data=b'{"email":"a@example.com","password":"\xff\xfe"}', headers={"Content-Type": "application/json"}), 400),
        (dict(json={"email": "a@example.com", "password": "x" * 100_000}), 413),
    ]
    for kwargs, status in cases:
        response = requests.post(tessera.url("/v1/signup"), timeout=5, **kwargs)
        assert response.status_code == status, (kwargs.get("json") or kwargs.get("data"))[:80]
        assert response.json()["error"] == "invalid_request"
    assert login(tessera, "a@example.com").status_code == 401
