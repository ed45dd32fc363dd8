"""A complete web app that signs its users in with Tessera, through Authlib's Flask client:
authorization code + PKCE, found from discovery alone.

    pip install flask authlib requests
    # register the app with Tessera (config file `clients:` entry, see the README), then:
    APP_SECRET_KEY=change-me TESSERA_CLIENT_ID=web TESSERA_CLIENT_SECRET=... \
        flask --app examples/flask_webapp run --port 5000
"""
import os

from authlib.integrations.flask_client import OAuth
from flask import Flask, redirect, session, url_for
from markupsafe import escape

ISSUER = os.environ.get("TESSERA_ISSUER", "http://127.0.0.1:8080")

app = Flask(__name__)
app.secret_key = os.environ["APP_SECRET_KEY"]

oauth = OAuth(app)
oauth.register(
    "tessera",
    server_metadata_url=f"{ISSUER}/.well-known/openid-configuration",
    client_id=os.environ["TESSERA_CLIENT_ID"],
    client_secret=os.environ["TESSERA_CLIENT_SECRET"],
    client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
)


@app.route("/")
def home():
    user = session.get("user")
    if not user:
        return '<a href="/login">Sign in</a>'
    return f'Signed in as {escape(user["email"])} — <a href="/logout">sign out</a>'


@app.route("/login")
def login():
    return oauth.tessera.authorize_redirect(url_for("callback", _external=True))


@app.route("/callback")
def callback():
    # Checks state, sends the PKCE verifier, validates the ID token (signature from
    # jwks_uri, iss, aud, exp, nonce, at_hash).
    token = oauth.tessera.authorize_access_token()
    session["user"] = token["userinfo"]
    session["id_token"] = token["id_token"]
    return redirect("/")


@app.route("/logout")
def logout():
    id_token = session.pop("id_token", None)
    session.pop("user", None)
    metadata = oauth.tessera.load_server_metadata()
    return redirect(f'{metadata["end_session_endpoint"]}?id_token_hint={id_token}'
                    f'&post_logout_redirect_uri={url_for("home", _external=True)}')
