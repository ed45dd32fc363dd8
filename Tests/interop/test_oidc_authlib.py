"""Tessera as an OpenID Connect provider, driven by unmodified third-party clients from
discovery alone: authlib's OAuth2Session runs the code + PKCE flow (the hosted login form
submitted as a browser would), validates the ID token (signature from jwks_uri, nonce,
at_hash), refreshes, calls userinfo, introspects and revokes; PyJWT checks the access token
as a resource server would."""
import secrets
import warnings
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlparse

import jwt
import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

warnings.filterwarnings("ignore", category=DeprecationWarning)
from authlib.jose import JsonWebKey  # noqa: E402
from authlib.jose import jwt as authlib_jwt  # noqa: E402
from authlib.oidc.core import CodeIDToken  # noqa: E402

WEB_SECRET = secrets.token_urlsafe(32)
RS_SECRET = secrets.token_urlsafe(32)
CALLBACK = "http://127.0.0.1:65530/callback"
SPA_CALLBACK = "http://127.0.0.1:65531/cb"
API = "https://api.example.test"


class FormParser(HTMLParser):
    """Reads the login form as a browser does: its action and its inputs."""

    def __init__(self):
        super().__init__()
        self.action, self.fields = None, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs.get("action")
        elif tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value", "")


class Browser:
    """Follows the hosted login like a browser: keeps cookies (also Secure ones, which
    browsers send to loopback), submits forms, and stops at the redirect to the client."""

    def __init__(self):
        self.cookies = {}

    def _remember(self, response):
        for header in response.raw.headers.getlist("Set-Cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in header:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def _headers(self):
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    def get(self, url):
        response = requests.get(url, headers=self._headers(), allow_redirects=False, timeout=10)
        self._remember(response)
        return response

    def sign_in(self, authorization_url, email, password):
        """Opens the authorization URL; if the login form shows, fills and submits it.
        Returns the redirect (to the client) response."""
        page = self.get(authorization_url)
        if page.status_code in (302, 303):
            return page
        assert page.status_code == 200, page.text
        form = FormParser()
        form.feed(page.text)
        fields = dict(form.fields, email=email, password=password)
        response = requests.post(urljoin(authorization_url, form.action), data=fields, headers=self._headers(),
                                 allow_redirects=False, timeout=10)
        self._remember(response)
        return response


@pytest.fixture
def provider(tmp_path, start_tessera):
    config = tmp_path / "tessera.yaml"
    config.write_text(f"""
clients:
  - client_id: web
    client_secret: "{WEB_SECRET}"
    name: Example web app
    redirect_uris: ["{CALLBACK}"]
    post_logout_redirect_uris: ["http://127.0.0.1:65530/signed-out"]
    grants: [authorization_code, refresh_token]
    scope: openid email profile offline_access
    audience: {API}
  - client_id: spa
    redirect_uris: ["{SPA_CALLBACK}"]
    grants: [authorization_code]
    scope: openid email
  - client_id: resource-server
    client_secret: "{RS_SECRET}"
    grants: [client_credentials]
    scope: api.read
""")
    server = start_tessera(args=["--config", str(config)])
    requests.post(server.url("/v1/signup"), json={"email": "yara@example.com", "password": "correct horse battery"},
                  timeout=10).raise_for_status()
    metadata = requests.get(server.url("/.well-known/openid-configuration"), timeout=5).json()
    return server, metadata


def validate_id_token(metadata, id_token, nonce, access_token, client_id):
    keys = JsonWebKey.import_key_set(requests.get(metadata["jwks_uri"], timeout=5).json())
    claims = authlib_jwt.decode(id_token, keys, claims_cls=CodeIDToken,
                                claims_options={"iss": {"essential": True, "value": metadata["issuer"]}},
                                claims_params={"nonce": nonce, "client_id": client_id, "access_token": access_token})
    claims.validate()  # exp, iat, iss, aud, nonce, at_hash
    return claims


def test_code_flow_with_pkce_refresh_userinfo_introspection_and_revocation(provider):
    server, metadata = provider
    assert "S256" in metadata["code_challenge_methods_supported"]
    client = OAuth2Session(client_id="web", client_secret=WEB_SECRET, scope="openid email profile offline_access",
                           redirect_uri=CALLBACK, code_challenge_method="S256",
                           token_endpoint_auth_method="client_secret_basic")
    verifier, nonce = generate_token(48), generate_token(20)
    url, state = client.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce)

    redirect = Browser().sign_in(url, "yara@example.com", "correct horse battery")
    assert redirect.status_code == 303
    callback = redirect.headers["Location"]
    assert callback.startswith(CALLBACK + "?")
    query = parse_qs(urlparse(callback).query)
    assert query["state"] == [state] and query["iss"] == [metadata["issuer"]]

    token = client.fetch_token(metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier, state=state)
    assert token["token_type"] == "Bearer" and token["expires_in"] == 900 and "refresh_token" in token
    claims = validate_id_token(metadata, token["id_token"], nonce, token["access_token"], "web")
    assert claims["email"] == "yara@example.com" and "auth_time" in claims

    # A resource server checks the access token with PyJWT, from the JWKS alone.
    jwks = jwt.PyJWKClient(metadata["jwks_uri"])
    access = jwt.decode(token["access_token"], jwks.get_signing_key_from_jwt(token["access_token"]).key,
                        algorithms=["RS256"], audience=API, issuer=metadata["issuer"])
    assert access["client_id"] == "web" and access["exp"] - access["iat"] == 900
    assert jwt.get_unverified_header(token["access_token"])["typ"] == "at+jwt"

    userinfo = client.get(metadata["userinfo_endpoint"]).json()
    assert userinfo["sub"] == claims["sub"] and userinfo["email"] == "yara@example.com"

    refreshed = client.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert validate_id_token(metadata, refreshed["id_token"], None, refreshed["access_token"], "web")["sub"] == claims["sub"]

    resource_server = OAuth2Session(client_id="resource-server", client_secret=RS_SECRET)
    active = resource_server.introspect_token(metadata["introspection_endpoint"], token=refreshed["access_token"]).json()
    assert active["active"] is True and active["client_id"] == "web" and active["username"] == "yara@example.com"

    client.revoke_token(metadata["revocation_endpoint"], token=refreshed["refresh_token"], token_type_hint="refresh_token").raise_for_status()
    gone = resource_server.introspect_token(metadata["introspection_endpoint"], token=refreshed["refresh_token"]).json()
    assert gone == {"active": False}
    client.revoke_token(metadata["revocation_endpoint"], token=refreshed["access_token"], token_type_hint="access_token").raise_for_status()
    assert resource_server.introspect_token(metadata["introspection_endpoint"], token=refreshed["access_token"]).json() == {"active": False}


def test_public_client_single_sign_on_and_logout(provider):
    server, metadata = provider
    browser = Browser()
    web = OAuth2Session(client_id="web", client_secret=WEB_SECRET, scope="openid", redirect_uri=CALLBACK, code_challenge_method="S256")
    verifier = generate_token(48)
    url, state = web.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier, nonce="n")
    callback = browser.sign_in(url, "yara@example.com", "correct horse battery").headers["Location"]
    web_token = web.fetch_token(metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier, state=state)

    # A public client in the same browser: no form, straight back with a code (SSO).
    spa = OAuth2Session(client_id="spa", scope="openid email", redirect_uri=SPA_CALLBACK, code_challenge_method="S256",
                        token_endpoint_auth_method="none")
    spa_verifier = generate_token(48)
    spa_url, spa_state = spa.create_authorization_url(metadata["authorization_endpoint"], code_verifier=spa_verifier, nonce="m")
    silent = browser.get(spa_url)
    assert silent.status_code == 303 and silent.headers["Location"].startswith(SPA_CALLBACK)
    spa_token = spa.fetch_token(metadata["token_endpoint"], authorization_response=silent.headers["Location"],
                                code_verifier=spa_verifier, state=spa_state)
    assert "refresh_token" not in spa_token
    validate_id_token(metadata, spa_token["id_token"], "m", spa_token["access_token"], "spa")

    # A public client without PKCE is turned away.
    no_pkce = browser.get(f"{metadata['authorization_endpoint']}?response_type=code&client_id=spa&redirect_uri={SPA_CALLBACK}&state=x")
    assert parse_qs(urlparse(no_pkce.headers["Location"]).query)["error"] == ["invalid_request"]

    # RP-initiated logout ends the session: the next authorization shows the form again.
    out = browser.get(f"{metadata['end_session_endpoint']}?id_token_hint={web_token['id_token']}"
                      "&post_logout_redirect_uri=http://127.0.0.1:65530/signed-out&state=bye")
    assert out.status_code == 303 and out.headers["Location"] == "http://127.0.0.1:65530/signed-out?state=bye"
    again_url, _ = spa.create_authorization_url(metadata["authorization_endpoint"], code_verifier=generate_token(48))
    assert browser.get(again_url).status_code == 200


def test_client_credentials_and_the_error_contract(provider):
    server, metadata = provider
    resource_server = OAuth2Session(client_id="resource-server", client_secret=RS_SECRET, scope="api.read")
    token = resource_server.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "resource-server" and claims["scope"] == "api.read" and "refresh_token" not in token

    wrong = requests.post(metadata["token_endpoint"], data={"grant_type": "client_credentials"},
                          auth=("resource-server", RS_SECRET + "x"), timeout=5)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client" and "WWW-Authenticate" in wrong.headers
    unsupported = requests.post(metadata["token_endpoint"], data={"grant_type": "implicit"}, auth=("resource-server", RS_SECRET), timeout=5)
    assert unsupported.status_code == 400 and unsupported.json()["error"] == "unsupported_grant_type"
    assert unsupported.headers["Cache-Control"] == "no-store"
