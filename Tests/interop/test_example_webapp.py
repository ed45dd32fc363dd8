"""The README's web-app example (examples/flask_webapp.py, Flask + Authlib) signs a user in
against the live binary, as documented."""
import importlib.util
import secrets

import requests

from conftest import ROOT
from test_oidc_authlib import Browser


def test_the_documented_flask_app_signs_in_and_out(tmp_path, start_tessera, monkeypatch):
    client_secret = secrets.token_urlsafe(32)
    config = tmp_path / "tessera.yaml"
    config.write_text(f"""
clients:
  - client_id: example-webapp
    client_secret: "{client_secret}"
    redirect_uris: ["http://localhost/callback"]
    post_logout_redirect_uris: ["http://localhost/"]
    grants: [authorization_code]
    scope: openid email profile
""")
    server = start_tessera(args=["--config", str(config)])
    requests.post(server.url("/v1/signup"), json={"email": "zoe@example.com", "password": "correct horse battery"},
                  timeout=10).raise_for_status()

    monkeypatch.setenv("APP_SECRET_KEY", secrets.token_hex(16))
    monkeypatch.setenv("TESSERA_ISSUER", server.issuer)
    monkeypatch.setenv("TESSERA_CLIENT_ID", "example-webapp")
    monkeypatch.setenv("TESSERA_CLIENT_SECRET", client_secret)
    spec = importlib.util.spec_from_file_location("flask_webapp", ROOT / "examples" / "flask_webapp.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = module.app.test_client()

    assert b"Sign in" in app.get("/").data
    to_tessera = app.get("/login")
    assert to_tessera.status_code == 302 and to_tessera.location.startswith(server.issuer + "/oauth2/authorize?")
    back = Browser().sign_in(to_tessera.location, "zoe@example.com", "correct horse battery")
    assert back.status_code == 303 and back.headers["Location"].startswith("http://localhost/callback?")
    signed_in = app.get(back.headers["Location"].removeprefix("http://localhost"), follow_redirects=True)
    assert b"Signed in as zoe@example.com" in signed_in.data

    out = app.get("/logout")
    assert out.location.startswith(server.issuer + "/oauth2/logout?id_token_hint=")
    assert Browser().get(out.location).headers["Location"] == "http://localhost/"
    assert b"Sign in" in app.get("/").data
