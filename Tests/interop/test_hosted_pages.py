"""The hosted sign-up, code and recovery pages (contract §8.4), driven like a browser as the
sign-in form is in test_oidc_authlib.py: cookies kept, forms read and submitted, links
followed; the codes read from the mail a real SMTP server (aiosmtpd) received."""
import base64
import hashlib
import secrets
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import pytest
import requests

from test_lifecycle_mail import mail_env
from test_oidc_authlib import Browser, FormParser

CALLBACK = "http://127.0.0.1:65531/cb"
PASSWORD = "correct horse battery"


class LinkParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self._href = {}, None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href = dict(attrs).get("href")

    def handle_data(self, data):
        if self._href and data.strip():
            self.links[data.strip()] = self._href
            self._href = None


class Visitor(Browser):
    """A browser that also submits any form on a page and follows links by their text."""

    def submit(self, base, page, **values):
        form = FormParser()
        form.feed(page.text)
        response = requests.post(urljoin(base, form.action), data=dict(form.fields, **values), headers=self._headers(),
                                 allow_redirects=False, timeout=10)
        self._remember(response)
        return response

    def follow(self, base, page, text):
        links = LinkParser()
        links.feed(page.text)
        return self.get(urljoin(base, links.links[text]))


def authorization_url(server):
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(12)
    query = urlencode({"response_type": "code", "client_id": "spa", "redirect_uri": CALLBACK, "scope": "openid email",
                       "state": state, "code_challenge": challenge, "code_challenge_method": "S256"})
    return server.url("/oauth2/authorize?" + query), verifier, state


def redeem(server, redirect, verifier, state):
    assert redirect.status_code == 303, redirect.text
    query = parse_qs(urlparse(redirect.headers["Location"]).query)
    assert redirect.headers["Location"].startswith(CALLBACK) and query["state"] == [state]
    tokens = requests.post(server.url("/oauth2/token"), timeout=10, data={
        "grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": CALLBACK, "client_id": "spa",
        "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.text
    return tokens.json()


@pytest.fixture
def hosted(tmp_path, start_tessera, sink):
    def start(**settings):
        config = tmp_path / "tessera.yaml"
        config.write_text(f"""
clients:
  - client_id: spa
    redirect_uris: ["{CALLBACK}"]
    grants: [authorization_code]
    scope: openid email
""")
        return start_tessera(args=["--config", str(config)], env=mail_env(sink.url(ca_file=sink.ca_file), **settings))
    return start


def assert_secure_page(page):
    assert page.status_code == 200, page.text
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store" and "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert 'name="csrf_token"' in page.text


def test_sign_up_with_verification_returns_to_the_client_signed_in(hosted, sink):
    server = hosted(TESSERA_REQUIRE_EMAIL_VERIFICATION="true")
    url, verifier, state = authorization_url(server)
    browser = Visitor()
    login = browser.get(url)
    assert_secure_page(login)
    form = browser.follow(url, login, "Create account")
    assert_secure_page(form)
    code_page = browser.submit(url, form, email="nia@example.com", password=PASSWORD)
    assert_secure_page(code_page)
    assert "nia@example.com" in code_page.text
    wrong = browser.submit(url, code_page, code="00000000" if sink.wait_for(to="nia@example.com")[0].code != "00000000" else "11111111")
    assert wrong.status_code == 400 and "not valid" in wrong.text
    redirect = browser.submit(url, wrong, code=sink.wait_for(to="nia@example.com")[0].code)
    tokens = redeem(server, redirect, verifier, state)
    assert tokens["access_token"]
    # The account is verified and active; the session lets the next request through at once.
    assert requests.post(server.url("/v1/login"), json={"email": "nia@example.com", "password": PASSWORD}, timeout=10).status_code == 200
    again, verifier2, state2 = authorization_url(server)
    assert browser.get(again).status_code == 303


def test_sign_in_of_an_unverified_account_shows_the_code_step(hosted, sink):
    server = hosted(TESSERA_REQUIRE_EMAIL_VERIFICATION="true", TESSERA_CODE_RESEND_INTERVAL="0")
    requests.post(server.url("/v1/signup"), json={"email": "oli@example.com", "password": PASSWORD}, timeout=10)
    sink.wait_for(to="oli@example.com")
    url, verifier, state = authorization_url(server)
    browser = Visitor()
    refused = browser.sign_in(url, "oli@example.com", "a wrong password")
    assert refused.status_code == 401 and "code" not in refused.text.lower().split("<form")[0]
    code_page = browser.sign_in(url, "oli@example.com", PASSWORD)
    assert_secure_page(code_page)
    newest = sink.wait_for(2, to="oli@example.com")[-1].code
    redeem(server, browser.submit(url, code_page, code=newest), verifier, state)


def test_the_code_page_signs_in_only_the_browser_that_proved_the_password(hosted, sink):
    server = hosted(TESSERA_REQUIRE_EMAIL_VERIFICATION="true")
    url, _, _ = authorization_url(server)
    browser = Visitor()
    form = browser.follow(url, browser.get(url), "Create account")
    code_page = browser.submit(url, form, email="pia@example.com", password=PASSWORD)
    code = sink.wait_for(to="pia@example.com")[0].code
    # Another browser, with its own CSRF pair, replays the page's fields for another address.
    intruder = Visitor()
    intruder.get(url)
    fields = FormParser()
    fields.feed(code_page.text)
    forged = dict(fields.fields, code=code, csrf_token=intruder.cookies["__Host-tessera_csrf"])
    response = requests.post(server.url("/oauth2/verify"), data=forged, headers=intruder._headers(), allow_redirects=False, timeout=10)
    assert response.status_code == 403


def test_recovery_pages_change_the_password_and_return_to_sign_in(hosted, sink):
    server = hosted()
    requests.post(server.url("/v1/signup"), json={"email": "quinn@example.com", "password": PASSWORD}, timeout=10)
    url, verifier, state = authorization_url(server)
    browser = Visitor()
    ask = browser.follow(url, browser.get(url), "Forgot password?")
    assert_secure_page(ask)
    unknown = browser.submit(url, ask, email="nobody@example.com")
    reset = browser.submit(url, browser.follow(url, browser.get(url), "Forgot password?"), email="quinn@example.com")
    assert_secure_page(reset)
    strip = lambda page: page.text.replace("nobody@example.com", "X").replace("quinn@example.com", "X").split('name="csrf_token"')[0]
    assert unknown.status_code == reset.status_code and strip(unknown) == strip(reset), "the same page for any address"
    code = [m for m in sink.wait_for(2, to="quinn@example.com") if "Reset" in m.message["Subject"]][0].code
    weak = browser.submit(url, reset, code=code, password="short")
    assert weak.status_code == 400 and "stronger" in weak.text
    signed_out = browser.submit(url, weak, code=code, password="a brand new passphrase")
    assert_secure_page(signed_out)
    assert "Your password was changed" in signed_out.text and 'name="password"' in signed_out.text
    assert "__Host-tessera_session" not in browser.cookies, "no automatic sign-in"
    redeem(server, browser.sign_in(url, "quinn@example.com", "a brand new passphrase"), verifier, state)


def test_without_hosted_signup_there_is_no_sign_up_page(hosted):
    server = hosted(TESSERA_HOSTED_SIGNUP="false")
    url, _, _ = authorization_url(server)
    login = Visitor().get(url)
    assert "Create account" not in login.text and "Forgot password?" in login.text
    assert requests.get(server.url("/oauth2/signup?" + urlparse(url).query), timeout=5).status_code == 404


def test_a_form_without_its_csrf_cookie_is_refused(hosted):
    server = hosted()
    url, _, _ = authorization_url(server)
    browser = Visitor()
    form = browser.follow(url, browser.get(url), "Create account")
    browser.cookies.pop("__Host-tessera_csrf")
    refused = browser.submit(url, form, email="rex@example.com", password=PASSWORD)
    assert refused.status_code == 403
    assert requests.post(server.url("/v1/login"), json={"email": "rex@example.com", "password": PASSWORD}, timeout=10).status_code == 401
