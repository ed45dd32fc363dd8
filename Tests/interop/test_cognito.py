"""The Cognito-compatible API (contract §11.1–11.6) driven by the clients teams already run
against Cognito: boto3 pointed at Tessera with `endpoint_url`, the AWS CLI, and pycognito
(SRP included). Every answer passes the schema oracle (botocore's service model); codes are
read out of the mail a real SMTP server (aiosmtpd) received."""
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import boto3
import botocore
import jwt
import pytest
import requests
from botocore.config import Config
from pycognito import Cognito
from pycognito.aws_srp import AWSSRP

import cognito_oracle
from conftest import BIN_DIR

POOL = "eu-west-1_TesseraPool1"
PASSWORD = "correct horse battery"


def admin(server, *args, stdin=""):
    result = subprocess.run([str(BIN_DIR / "tessera"), "admin", *args, "--json", "--yes"], input=stdin, env=server.env,
                            cwd=server.tmp, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


class Pool:
    """A Tessera server with the Cognito API on, its app clients and an access key."""

    def __init__(self, server, sink):
        self.server, self.sink, self.endpoint = server, sink, server.issuer
        flows = ["--auth-flow", "USER_PASSWORD_AUTH", "--auth-flow", "USER_SRP_AUTH", "--auth-flow", "REFRESH_TOKEN_AUTH",
                 "--auth-flow", "ADMIN_USER_PASSWORD_AUTH"]
        self.app = admin(server, "clients", "create", "--name", "app", "--public", "--grant", "password", *flows)["client_id"]
        self.legacy = admin(server, "clients", "create", "--name", "legacy", "--public", "--grant", "password", *flows,
                            "--refresh-token-rotation", "disabled")["client_id"]
        confidential = admin(server, "clients", "create", "--name", "backend", "--grant", "password", *flows)
        self.backend, self.backend_secret = confidential["client_id"], confidential["client_secret"]
        self.key = admin(server, "access-keys", "create")
        self.client = cognito_oracle.client(self.endpoint)
        self.admin = self.signed()

    def signed(self, secret=None, key_id=None):
        return cognito_oracle.client(self.endpoint, access_key=key_id or self.key["access_key_id"],
                                     secret_key=secret or self.key["secret_access_key"])

    def code(self, email, count=1):
        """The code of the `count`-th message with a code to `email` (notices carry none)."""
        deadline = time.time() + 15
        while True:
            with_code = [m for m in self.sink.wait_for(to=email) if re.search(r"(?m)^\s*\d{6,10}\s*$", m.text)]
            if len(with_code) >= count:
                return with_code[count - 1].code
            assert time.time() < deadline, f"no {count} codes to {email}"
            time.sleep(0.05)

    def sign_up(self, email, password=PASSWORD, client_id=None):
        return self.client.sign_up(ClientId=client_id or self.app, Username=email, Password=password)

    def sign_in(self, email, password=PASSWORD, client_id=None):
        return self.client.initiate_auth(ClientId=client_id or self.app, AuthFlow="USER_PASSWORD_AUTH",
                                         AuthParameters={"USERNAME": email, "PASSWORD": password})["AuthenticationResult"]


@pytest.fixture
def pool(start_tessera, sink):
    server = start_tessera(env={
        "TESSERA_COGNITO_POOL_ID": POOL, "TESSERA_MAIL_URL": sink.url(ca_file=sink.ca_file), "TESSERA_CODE_IP_RATE": "0",
        "TESSERA_SIGNUP_IP_RATE": "0", "TESSERA_LOGIN_IP_RATE": "0", "TESSERA_REQUIRE_EMAIL_VERIFICATION": "true",
    })
    return Pool(server, sink)


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def pool_claims(pool, token, audience=None):
    """Verifies a token as a Cognito resource server does: the pool's discovery document and JWKS."""
    issuer = f"{pool.endpoint}/{POOL}"
    discovery = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=5).json()
    assert discovery["issuer"] == issuer and discovery["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(token).key
    return jwt.decode(token, key, algorithms=["RS256"], issuer=issuer, audience=audience,
                      options={"verify_aud": audience is not None})


# MARK: client-facing operations


def test_sign_up_confirm_sign_in_and_the_tokens(pool):
    answer = pool.client.sign_up(ClientId=pool.app, Username="ann@example.com", Password=PASSWORD,
                                 UserAttributes=[{"Name": "name", "Value": "Ann"}, {"Name": "custom:team", "Value": "blue"}])
    assert answer["UserConfirmed"] is False and answer["UserSub"]
    assert answer["CodeDeliveryDetails"] == {"Destination": "a***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    with pytest.raises(pool.client.exceptions.UsernameExistsException):
        pool.sign_up("ann@example.com")
    with pytest.raises(pool.client.exceptions.UserNotConfirmedException):
        pool.sign_in("ann@example.com")
    with pytest.raises(pool.client.exceptions.CodeMismatchException):
        pool.client.confirm_sign_up(ClientId=pool.app, Username="ann@example.com", ConfirmationCode="00000000")
    code = pool.code("ann@example.com")
    pool.client.confirm_sign_up(ClientId=pool.app, Username="ann@example.com", ConfirmationCode=code)
    with pytest.raises(pool.client.exceptions.ExpiredCodeException):
        pool.client.confirm_sign_up(ClientId=pool.app, Username="ann@example.com", ConfirmationCode=code)
    with pytest.raises(pool.client.exceptions.NotAuthorizedException) as wrong:
        pool.sign_in("ann@example.com", "wrong horse battery")
    assert wrong.value.response["Error"]["Message"] == "Incorrect username or password."
    with pytest.raises(pool.client.exceptions.NotAuthorizedException) as unknown:
        pool.sign_in("nobody@example.com")
    assert unknown.value.response["Error"]["Message"] == "Incorrect username or password.", "unknown users answer alike"

    tokens = pool.sign_in("ann@example.com")
    assert tokens["TokenType"] == "Bearer" and tokens["ExpiresIn"] == 900 and tokens["RefreshToken"].startswith("tsr_")
    access = pool_claims(pool, tokens["AccessToken"])
    assert "aud" not in access and access["token_use"] == "access" and access["client_id"] == pool.app
    assert access["username"] == access["sub"] == answer["UserSub"]
    assert access["scope"].split()[0] == "aws.cognito.signin.user.admin"
    assert {"origin_jti", "event_id", "jti", "auth_time", "iat", "exp"} <= set(access)
    identity = pool_claims(pool, tokens["IdToken"], audience=pool.app)
    assert identity["token_use"] == "id" and identity["cognito:username"] == answer["UserSub"]
    assert identity["email"] == "ann@example.com" and identity["email_verified"] is True
    assert identity["name"] == "Ann" and identity["custom:team"] == "blue" and identity["origin_jti"] == access["origin_jti"]

    user = pool.client.get_user(AccessToken=tokens["AccessToken"])
    assert user["Username"] == answer["UserSub"]
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attributes == {"sub": answer["UserSub"], "email": "ann@example.com", "email_verified": "true", "name": "Ann",
                          "custom:team": "blue"}
    # Tessera's own endpoints take the same token.
    me = requests.get(pool.server.url("/v1/me"), headers={"Authorization": "Bearer " + tokens["AccessToken"]}, timeout=5)
    assert me.status_code == 200 and me.json()["user_id"] == answer["UserSub"]
    # The username may be the user id as well as the email.
    assert pool.sign_in(answer["UserSub"])["AccessToken"]


def test_the_endpoint_url_from_the_environment_alone(pool):
    pool.sign_up("env@example.com")
    pool.client.confirm_sign_up(ClientId=pool.app, Username="env@example.com", ConfirmationCode=pool.code("env@example.com"))
    env = dict(os.environ, AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=pool.endpoint, AWS_ACCESS_KEY_ID="x",
               AWS_SECRET_ACCESS_KEY="y", AWS_DEFAULT_REGION="eu-west-1")
    script = ("import boto3, json, sys; c = boto3.client('cognito-idp'); "
              "print(json.dumps(c.initiate_auth(ClientId=sys.argv[1], AuthFlow='USER_PASSWORD_AUTH', "
              "AuthParameters={'USERNAME': 'env@example.com', 'PASSWORD': sys.argv[2]})['AuthenticationResult']['TokenType']))")
    result = subprocess.run([sys.executable, "-c", script, pool.app, PASSWORD], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == '"Bearer"', result.stderr


def confirmed(pool, email, client_id=None):
    pool.sign_up(email, client_id=client_id)
    pool.client.confirm_sign_up(ClientId=client_id or pool.app, Username=email, ConfirmationCode=pool.code(email))
    return pool.sign_in(email, client_id=client_id)


def test_refresh_rotates_and_reuse_is_caught_or_stays_with_rotation_disabled(pool):
    tokens = confirmed(pool, "rot@example.com")
    first = tokens["RefreshToken"]
    rotated = pool.client.initiate_auth(ClientId=pool.app, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": first})
    second = rotated["AuthenticationResult"]["RefreshToken"]
    assert second != first and rotated["AuthenticationResult"]["IdToken"]
    third = pool.client.get_tokens_from_refresh_token(ClientId=pool.app, RefreshToken=second)["AuthenticationResult"]["RefreshToken"]
    with pytest.raises(pool.client.exceptions.RefreshTokenReuseException):
        pool.client.get_tokens_from_refresh_token(ClientId=pool.app, RefreshToken=first)
    with pytest.raises(pool.client.exceptions.NotAuthorizedException):
        pool.client.get_tokens_from_refresh_token(ClientId=pool.app, RefreshToken=third)
    with pytest.raises(pool.client.exceptions.NotAuthorizedException):
        pool.client.get_user(AccessToken=rotated["AuthenticationResult"]["AccessToken"]), "reuse revoked the family's access tokens"

    legacy = pool.sign_in("rot@example.com", client_id=pool.legacy)
    for _ in range(3):
        again = pool.client.initiate_auth(ClientId=pool.legacy, AuthFlow="REFRESH_TOKEN_AUTH",
                                          AuthParameters={"REFRESH_TOKEN": legacy["RefreshToken"]})["AuthenticationResult"]
        assert "RefreshToken" not in again and pool.client.get_user(AccessToken=again["AccessToken"])
    with pytest.raises(pool.client.exceptions.NotAuthorizedException):
        pool.client.initiate_auth(ClientId=pool.app, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": legacy["RefreshToken"]})


def test_a_retry_within_the_grace_gets_the_same_successor(pool):
    graceful = admin(pool.server, "clients", "create", "--name", "mobile", "--public", "--grant", "password", "--auth-flow",
                     "USER_PASSWORD_AUTH", "--auth-flow", "REFRESH_TOKEN_AUTH", "--retry-grace-seconds", "30")["client_id"]
    first = confirmed(pool, "grace@example.com", client_id=graceful)["RefreshToken"]
    answer = pool.client.get_tokens_from_refresh_token(ClientId=graceful, RefreshToken=first)["AuthenticationResult"]
    retried = pool.client.get_tokens_from_refresh_token(ClientId=graceful, RefreshToken=first)["AuthenticationResult"]
    assert retried["RefreshToken"] == answer["RefreshToken"], "the lost answer's successor, again"
    assert retried["AccessToken"] != answer["AccessToken"] and pool.client.get_user(AccessToken=retried["AccessToken"])
    third = pool.client.get_tokens_from_refresh_token(ClientId=graceful, RefreshToken=answer["RefreshToken"])["AuthenticationResult"]
    with pytest.raises(pool.client.exceptions.RefreshTokenReuseException):
        pool.client.get_tokens_from_refresh_token(ClientId=graceful, RefreshToken=first)  # its successor was used: reuse
    with pytest.raises(pool.client.exceptions.NotAuthorizedException):
        pool.client.get_tokens_from_refresh_token(ClientId=graceful, RefreshToken=third["RefreshToken"])


def test_revoke_token_and_global_sign_out_end_the_access_tokens(pool):
    tokens = confirmed(pool, "out@example.com")
    other = pool.sign_in("out@example.com")
    pool.client.revoke_token(ClientId=pool.app, Token=tokens["RefreshToken"])
    with pytest.raises(pool.client.exceptions.NotAuthorizedException):
        pool.client.get_user(AccessToken=tokens["AccessToken"])
    assert requests.get(pool.server.url("/v1/me"), headers={"Authorization": "Bearer " + tokens["AccessToken"]}, timeout=5).status_code == 401
    assert pool.client.get_user(AccessToken=other["AccessToken"]), "another session stays"
    pool.client.global_sign_out(AccessToken=other["AccessToken"])
    with pytest.raises(pool.client.exceptions.NotAuthorizedException):
        pool.client.get_user(AccessToken=other["AccessToken"])
    with pytest.raises(pool.client.exceptions.NotAuthorizedException):
        pool.client.get_tokens_from_refresh_token(ClientId=pool.app, RefreshToken=other["RefreshToken"])


def secret_hash(username, client_id, secret):
    return base64.b64encode(hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()).decode()


def test_a_confidential_client_needs_its_secret_hash(pool):
    email = "sec@example.com"
    with pytest.raises(pool.client.exceptions.NotAuthorizedException):
        pool.client.sign_up(ClientId=pool.backend, Username=email, Password=PASSWORD)
    with pytest.raises(pool.client.exceptions.NotAuthorizedException):
        pool.client.sign_up(ClientId=pool.backend, Username=email, Password=PASSWORD, SecretHash=secret_hash(email, pool.backend, "wrong"))
    pool.client.sign_up(ClientId=pool.backend, Username=email, Password=PASSWORD, SecretHash=secret_hash(email, pool.backend, pool.backend_secret))
    pool.client.confirm_sign_up(ClientId=pool.backend, Username=email, ConfirmationCode=pool.code(email),
                                SecretHash=secret_hash(email, pool.backend, pool.backend_secret))
    tokens = pool.client.initiate_auth(ClientId=pool.backend, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={
        "USERNAME": email, "PASSWORD": PASSWORD, "SECRET_HASH": secret_hash(email, pool.backend, pool.backend_secret)})["AuthenticationResult"]
    sub = pool.client.get_user(AccessToken=tokens["AccessToken"])["Username"]
    refreshed = pool.client.initiate_auth(ClientId=pool.backend, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={
        "REFRESH_TOKEN": tokens["RefreshToken"], "SECRET_HASH": secret_hash(sub, pool.backend, pool.backend_secret)})
    with pytest.raises(pool.client.exceptions.NotAuthorizedException):
        pool.client.get_tokens_from_refresh_token(ClientId=pool.backend, RefreshToken=refreshed["AuthenticationResult"]["RefreshToken"],
                                                  ClientSecret="wrong-secret-of-the-right-length")
    assert pool.client.get_tokens_from_refresh_token(ClientId=pool.backend, RefreshToken=refreshed["AuthenticationResult"]["RefreshToken"],
                                                     ClientSecret=pool.backend_secret)["AuthenticationResult"]["AccessToken"]


def test_flows_a_client_is_not_registered_for_are_refused(pool, start_tessera):
    only_srp = admin(pool.server, "clients", "create", "--name", "default", "--public", "--grant", "password")["client_id"]
    with pytest.raises(pool.client.exceptions.InvalidParameterException):
        pool.client.initiate_auth(ClientId=only_srp, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "a@example.com", "PASSWORD": "x"})
    with pytest.raises(pool.client.exceptions.ResourceNotFoundException):
        pool.client.initiate_auth(ClientId="nope", AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "a@example.com", "PASSWORD": "x"})


def test_profile_password_recovery_and_deletion(pool):
    tokens = confirmed(pool, "pat@example.com")
    access = tokens["AccessToken"]
    pool.client.update_user_attributes(AccessToken=access, UserAttributes=[{"Name": "given_name", "Value": "Pat"},
                                                                          {"Name": "custom:plan", "Value": "pro"}])
    with pytest.raises(pool.client.exceptions.InvalidParameterException):
        pool.client.update_user_attributes(AccessToken=access, UserAttributes=[{"Name": "sub", "Value": "mine"}])
    pool.client.delete_user_attributes(AccessToken=access, UserAttributeNames=["custom:plan"])
    names = {a["Name"]: a["Value"] for a in pool.client.get_user(AccessToken=access)["UserAttributes"]}
    assert names.get("given_name") == "Pat" and "custom:plan" not in names

    with pytest.raises(pool.client.exceptions.NotAuthorizedException):
        pool.client.change_password(AccessToken=access, PreviousPassword="wrong horse battery", ProposedPassword="new horse battery")
    with pytest.raises(pool.client.exceptions.InvalidPasswordException):
        pool.client.change_password(AccessToken=access, PreviousPassword=PASSWORD, ProposedPassword="short")
    pool.client.change_password(AccessToken=access, PreviousPassword=PASSWORD, ProposedPassword="new horse battery")
    with pytest.raises(pool.client.exceptions.NotAuthorizedException):
        pool.client.get_user(AccessToken=access)  # a change revokes every session, this one too
    access = pool.sign_in("pat@example.com", "new horse battery")["AccessToken"]

    sent = pool.client.forgot_password(ClientId=pool.app, Username="pat@example.com")
    assert sent["CodeDeliveryDetails"]["Destination"] == "p***@e***"
    unknown = pool.client.forgot_password(ClientId=pool.app, Username="nobody@example.com")
    assert unknown["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL", "unknown users answer alike"
    code = pool.code("pat@example.com", count=2)
    with pytest.raises(pool.client.exceptions.CodeMismatchException):
        pool.client.confirm_forgot_password(ClientId=pool.app, Username="pat@example.com", ConfirmationCode="00000000", Password="third horse battery")
    pool.client.confirm_forgot_password(ClientId=pool.app, Username="pat@example.com", ConfirmationCode=code, Password="third horse battery")
    with pytest.raises(pool.client.exceptions.ExpiredCodeException):
        pool.client.confirm_forgot_password(ClientId=pool.app, Username="pat@example.com", ConfirmationCode=code, Password="fourth horse battery")
    access = pool.sign_in("pat@example.com", "third horse battery")["AccessToken"]

    pool.client.delete_user(AccessToken=access)
    with pytest.raises(pool.client.exceptions.NotAuthorizedException):
        pool.client.get_user(AccessToken=access)
    with pytest.raises(pool.client.exceptions.NotAuthorizedException):
        pool.sign_in("pat@example.com", "third horse battery")


def test_a_code_dies_after_its_attempts(pool):
    pool.sign_up("lim@example.com")
    pool.code("lim@example.com")
    errors = []
    for _ in range(6):
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            pool.client.confirm_sign_up(ClientId=pool.app, Username="lim@example.com", ConfirmationCode="00000000")
        errors.append(error_code(refused))
    assert errors == ["CodeMismatchException"] * 5 + ["LimitExceededException"]


def test_unknown_and_unimplemented_operations_and_cors(pool):
    with pytest.raises(botocore.exceptions.ClientError) as unsupported:
        pool.admin.describe_user_pool_domain(Domain="example")
    assert error_code(unsupported) == "UnsupportedOperationException"
    raw = requests.post(pool.endpoint + "/", data="{}", timeout=5, headers={
        "X-Amz-Target": "AWSCognitoIdentityProviderService.NoSuchThing", "Content-Type": "application/x-amz-json-1.1"})
    assert raw.status_code == 400 and raw.json()["__type"] == "UnknownOperationException"
    assert raw.headers["x-amzn-ErrorType"] == "UnknownOperationException:"
    preflight = requests.options(pool.endpoint + "/", timeout=5, headers={
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-amz-target"})
    assert preflight.status_code == 204 and preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "x-amz-target" in preflight.headers["Access-Control-Allow-Headers"]


def test_input_that_breaks_the_model_is_refused_and_changes_nothing(pool):
    """botocore checks input before sending; with its checks off, the server's are what stand."""
    loose = cognito_oracle.client(pool.endpoint, config=Config(parameter_validation=False))
    long_name = "x" * 120 + "@example.com"
    with pytest.raises(loose.exceptions.InvalidParameterException) as too_long:
        loose.sign_up(ClientId=pool.app, Username=long_name, Password=PASSWORD)
    assert too_long.value.response["Error"]["Message"] == (
        "1 validation error detected: Value at 'username' failed to satisfy constraint: Member must have length less than or equal to 128")
    with pytest.raises(loose.exceptions.InvalidParameterException) as flow:
        loose.initiate_auth(ClientId=pool.app, AuthFlow="NO_SUCH_FLOW", AuthParameters={})
    assert "authFlow" in flow.value.response["Error"]["Message"] and "enum value set" in flow.value.response["Error"]["Message"]
    with pytest.raises(loose.exceptions.InvalidParameterException) as missing:
        loose.get_user()
    assert "'accessToken'" in missing.value.response["Error"]["Message"] and "must not be null" in missing.value.response["Error"]["Message"]
    with pytest.raises(loose.exceptions.InvalidParameterException) as attribute:
        loose.sign_up(ClientId=pool.app, Username="short@example.com", Password=PASSWORD,
                      UserAttributes=[{"Name": "name", "Value": "v" * 2049}])
    assert "'userAttributes.1.member.value'" in attribute.value.response["Error"]["Message"]
    signed_loose = cognito_oracle.client(pool.endpoint, access_key=pool.key["access_key_id"], secret_key=pool.key["secret_access_key"],
                                         config=Config(parameter_validation=False))
    with pytest.raises(signed_loose.exceptions.InvalidParameterException):
        signed_loose.list_users(UserPoolId=POOL, Limit=61)
    with pytest.raises(pool.admin.exceptions.UserNotFoundException):
        pool.admin.admin_get_user(UserPoolId=POOL, Username="short@example.com")  # nothing was created


def test_the_api_is_off_without_a_pool_id(tessera):
    response = requests.post(tessera.url("/"), data="{}", timeout=5, headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.SignUp"})
    assert response.status_code == 404 and response.json()["error"] == "not_found"


# MARK: admin operations (SigV4)


def test_admin_create_user_and_the_new_password_challenge(pool):
    created = pool.admin.admin_create_user(UserPoolId=POOL, Username="new@example.com", TemporaryPassword="temporary horse 1",
                                           MessageAction="SUPPRESS", UserAttributes=[{"Name": "email_verified", "Value": "true"}])["User"]
    assert created["UserStatus"] == "FORCE_CHANGE_PASSWORD" and created["Enabled"] is True
    with pytest.raises(pool.admin.exceptions.UsernameExistsException):
        pool.admin.admin_create_user(UserPoolId=POOL, Username="new@example.com", TemporaryPassword="temporary horse 1", MessageAction="SUPPRESS")
    challenge = pool.admin.admin_initiate_auth(UserPoolId=POOL, ClientId=pool.app, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                               AuthParameters={"USERNAME": "new@example.com", "PASSWORD": "temporary horse 1"})
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED" and challenge["Session"]
    with pytest.raises(pool.admin.exceptions.NotAuthorizedException):
        pool.admin.admin_respond_to_auth_challenge(UserPoolId=POOL, ClientId=pool.app, ChallengeName="NEW_PASSWORD_REQUIRED",
                                                   Session="forged-session-of-enough-length", ChallengeResponses={"USERNAME": "new@example.com", "NEW_PASSWORD": "x" * 12})
    tokens = pool.admin.admin_respond_to_auth_challenge(
        UserPoolId=POOL, ClientId=pool.app, ChallengeName="NEW_PASSWORD_REQUIRED", Session=challenge["Session"],
        ChallengeResponses={"USERNAME": "new@example.com", "NEW_PASSWORD": "chosen horse battery", "userAttributes.name": "Neo"})
    assert pool.client.get_user(AccessToken=tokens["AuthenticationResult"]["AccessToken"])
    with pytest.raises(pool.admin.exceptions.NotAuthorizedException):
        pool.admin.admin_respond_to_auth_challenge(UserPoolId=POOL, ClientId=pool.app, ChallengeName="NEW_PASSWORD_REQUIRED",
                                                   Session=challenge["Session"],
                                                   ChallengeResponses={"USERNAME": "new@example.com", "NEW_PASSWORD": "another horse 1"})
    user = pool.admin.admin_get_user(UserPoolId=POOL, Username="new@example.com")
    assert user["UserStatus"] == "CONFIRMED" and {"Name": "name", "Value": "Neo"} in user["UserAttributes"]
    # Without SUPPRESS the invitation is a recovery code, never a password.
    pool.admin.admin_create_user(UserPoolId=POOL, Username="invited@example.com")
    invitation = pool.sink.wait_for(to="invited@example.com")[-1]
    assert invitation.code and "temporary" not in invitation.text.lower()


def test_tessera_own_sign_in_refuses_an_operator_set_or_reset_password_in_its_format(pool):
    """The password states the Cognito API sets hold at /v1/login too, answered as §4 answers."""
    pool.admin.admin_create_user(UserPoolId=POOL, Username="state@example.com", TemporaryPassword="temporary horse 1",
                                 MessageAction="SUPPRESS")
    temporary = requests.post(pool.server.url("/v1/login"), json={"email": "state@example.com", "password": "temporary horse 1"}, timeout=10)
    assert temporary.status_code == 403 and temporary.json()["error"] == "password_change_required"
    assert set(temporary.json()) == {"error", "error_description"}
    wrong = requests.post(pool.server.url("/v1/login"), json={"email": "state@example.com", "password": "wrong horse battery"}, timeout=10)
    assert wrong.status_code == 401, "the state shows only to the right password"
    pool.admin.admin_set_user_password(UserPoolId=POOL, Username="state@example.com", Password="permanent horse 1", Permanent=True)
    pool.admin.admin_reset_user_password(UserPoolId=POOL, Username="state@example.com")
    reset = requests.post(pool.server.url("/v1/login"), json={"email": "state@example.com", "password": "permanent horse 1"}, timeout=10)
    assert reset.status_code == 403 and reset.json()["error"] == "password_reset_required"


def test_admin_user_management(pool):
    confirmed(pool, "mgmt@example.com")
    with pytest.raises(pool.admin.exceptions.UserNotFoundException):
        pool.admin.admin_get_user(UserPoolId=POOL, Username="nobody@example.com")
    with pytest.raises(pool.admin.exceptions.ResourceNotFoundException):
        pool.admin.admin_get_user(UserPoolId="eu-west-1_Other", Username="mgmt@example.com")
    pool.admin.admin_update_user_attributes(UserPoolId=POOL, Username="mgmt@example.com",
                                            UserAttributes=[{"Name": "family_name", "Value": "Gee"}])
    pool.admin.admin_delete_user_attributes(UserPoolId=POOL, Username="mgmt@example.com", UserAttributeNames=["family_name"])
    pool.admin.admin_disable_user(UserPoolId=POOL, Username="mgmt@example.com")
    assert pool.admin.admin_get_user(UserPoolId=POOL, Username="mgmt@example.com")["Enabled"] is False
    with pytest.raises(pool.client.exceptions.NotAuthorizedException) as disabled:
        pool.sign_in("mgmt@example.com")
    assert disabled.value.response["Error"]["Message"] == "User is disabled."
    pool.admin.admin_enable_user(UserPoolId=POOL, Username="mgmt@example.com")
    tokens = pool.sign_in("mgmt@example.com")
    pool.admin.admin_user_global_sign_out(UserPoolId=POOL, Username="mgmt@example.com")
    with pytest.raises(pool.client.exceptions.NotAuthorizedException):
        pool.client.get_user(AccessToken=tokens["AccessToken"])
    pool.admin.admin_set_user_password(UserPoolId=POOL, Username="mgmt@example.com", Password="admin set horse", Permanent=True)
    assert pool.sign_in("mgmt@example.com", "admin set horse")["AccessToken"]
    pool.admin.admin_reset_user_password(UserPoolId=POOL, Username="mgmt@example.com")
    with pytest.raises(pool.client.exceptions.PasswordResetRequiredException):
        pool.sign_in("mgmt@example.com", "admin set horse")
    code = pool.code("mgmt@example.com", count=2)
    pool.client.confirm_forgot_password(ClientId=pool.app, Username="mgmt@example.com", ConfirmationCode=code, Password="reset horse battery")
    assert pool.sign_in("mgmt@example.com", "reset horse battery")["AccessToken"]

    pool.sign_up("later@example.com")
    assert pool.admin.admin_get_user(UserPoolId=POOL, Username="later@example.com")["UserStatus"] == "UNCONFIRMED"
    pool.admin.admin_confirm_sign_up(UserPoolId=POOL, Username="later@example.com")
    with pytest.raises(pool.admin.exceptions.NotAuthorizedException):
        pool.admin.admin_confirm_sign_up(UserPoolId=POOL, Username="later@example.com")
    pool.admin.admin_delete_user(UserPoolId=POOL, Username="later@example.com")
    with pytest.raises(pool.admin.exceptions.UserNotFoundException):
        pool.admin.admin_get_user(UserPoolId=POOL, Username="later@example.com")

    audit = admin(pool.server, "audit", "--limit", "100")
    assert any(entry["action"] == "cognito.AdminDeleteUser" and pool.key["access_key_id"] in entry["actor"] for entry in audit)


def test_list_users_filters_and_pages(pool):
    for name in ["alice", "albert", "bob", "carol", "alma"]:
        pool.admin.admin_create_user(UserPoolId=POOL, Username=f"{name}@example.com", TemporaryPassword="temporary horse 1",
                                     MessageAction="SUPPRESS", UserAttributes=[{"Name": "given_name", "Value": name.title()}])
    emails = lambda users: sorted(next(a["Value"] for a in u["Attributes"] if a["Name"] == "email") for u in users)
    assert emails(pool.admin.list_users(UserPoolId=POOL, Filter='email ^= "al"')["Users"]) == [
        "albert@example.com", "alice@example.com", "alma@example.com"]
    exact = pool.admin.list_users(UserPoolId=POOL, Filter='email = "bob@example.com"')["Users"]
    assert emails(exact) == ["bob@example.com"]
    by_sub = pool.admin.list_users(UserPoolId=POOL, Filter=f'sub = "{exact[0]["Username"]}"')["Users"]
    assert [u["Username"] for u in by_sub] == [exact[0]["Username"]]
    assert emails(pool.admin.list_users(UserPoolId=POOL, Filter='given_name = "Carol"')["Users"]) == ["carol@example.com"]
    assert len(pool.admin.list_users(UserPoolId=POOL, Filter='cognito:user_status = "FORCE_CHANGE_PASSWORD"')["Users"]) == 5
    pages, token = [], None
    while True:
        page = pool.admin.list_users(UserPoolId=POOL, Limit=2, **({"PaginationToken": token} if token else {}),
                                     AttributesToGet=["email"])
        pages.append(page["Users"])
        assert all([a["Name"] for a in u["Attributes"]] == ["email"] for u in page["Users"])
        token = page.get("PaginationToken")
        if not token:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    with pytest.raises(pool.admin.exceptions.InvalidParameterException):
        pool.admin.list_users(UserPoolId=POOL, Filter="email contains x")
    # The AWS CLI, with a key from the admin CLI.
    env = dict(os.environ, AWS_ACCESS_KEY_ID=pool.key["access_key_id"], AWS_SECRET_ACCESS_KEY=pool.key["secret_access_key"],
               AWS_DEFAULT_REGION="eu-west-1")
    aws_path = os.path.join(os.path.dirname(sys.executable), "aws")  # installed beside this Python (requirements.txt)

    def aws(*arguments):
        result = subprocess.run([aws_path, "--endpoint-url", pool.endpoint, "cognito-idp", *arguments, "--output", "json"], env=env,
                                capture_output=True, text=True, timeout=120)
        return result.returncode, json.loads(result.stdout) if result.returncode == 0 and result.stdout.strip() else result.stderr

    status, listed = aws("list-users", "--user-pool-id", POOL, "--filter", 'email ^= "a"')
    assert status == 0, listed
    assert emails(listed["Users"]) == ["albert@example.com", "alice@example.com", "alma@example.com"]
    status, signed_up = aws("sign-up", "--client-id", pool.app, "--username", "cli@example.com", "--password", PASSWORD,
                            "--user-attributes", "Name=name,Value=Cli")
    assert status == 0 and signed_up["UserConfirmed"] is False, signed_up
    status, _ = aws("confirm-sign-up", "--client-id", pool.app, "--username", "cli@example.com", "--confirmation-code", pool.code("cli@example.com"))
    assert status == 0
    status, tokens = aws("initiate-auth", "--client-id", pool.app, "--auth-flow", "USER_PASSWORD_AUTH",
                         "--auth-parameters", f"USERNAME=cli@example.com,PASSWORD={PASSWORD}")
    assert status == 0 and tokens["AuthenticationResult"]["TokenType"] == "Bearer", tokens
    status, fetched = aws("admin-get-user", "--user-pool-id", POOL, "--username", "cli@example.com")
    assert status == 0 and fetched["UserStatus"] == "CONFIRMED" and {"Name": "name", "Value": "Cli"} in fetched["UserAttributes"]
    status, refused = aws("admin-get-user", "--user-pool-id", POOL, "--username", "nobody@example.com")
    assert status != 0 and "UserNotFoundException" in refused


def test_groups_through_the_api_and_in_the_tokens(pool):
    pool.admin.create_group(UserPoolId=POOL, GroupName="editors", Description="Edit", Precedence=5)
    pool.admin.create_group(UserPoolId=POOL, GroupName="admins", Precedence=1)
    pool.admin.create_group(UserPoolId=POOL, GroupName="readers")
    with pytest.raises(pool.admin.exceptions.GroupExistsException):
        pool.admin.create_group(UserPoolId=POOL, GroupName="admins")
    assert pool.admin.get_group(UserPoolId=POOL, GroupName="editors")["Group"]["Precedence"] == 5
    pool.admin.update_group(UserPoolId=POOL, GroupName="editors", Precedence=3)
    assert [g["GroupName"] for g in pool.admin.list_groups(UserPoolId=POOL)["Groups"]] == ["admins", "editors", "readers"]
    first = pool.admin.list_groups(UserPoolId=POOL, Limit=2)
    assert len(first["Groups"]) == 2 and pool.admin.list_groups(UserPoolId=POOL, Limit=2, NextToken=first["NextToken"])["Groups"][0]["GroupName"] == "readers"
    confirmed(pool, "grp@example.com")
    for group in ["readers", "editors", "admins"]:
        pool.admin.admin_add_user_to_group(UserPoolId=POOL, Username="grp@example.com", GroupName=group)
    with pytest.raises(pool.admin.exceptions.ResourceNotFoundException):
        pool.admin.admin_add_user_to_group(UserPoolId=POOL, Username="grp@example.com", GroupName="nope")
    assert [g["GroupName"] for g in pool.admin.admin_list_groups_for_user(UserPoolId=POOL, Username="grp@example.com")["Groups"]] == [
        "admins", "editors", "readers"]
    assert [u["Username"] for u in pool.admin.list_users_in_group(UserPoolId=POOL, GroupName="admins")["Users"]] == [
        pool.admin.admin_get_user(UserPoolId=POOL, Username="grp@example.com")["Username"]]
    tokens = pool.sign_in("grp@example.com")
    assert pool_claims(pool, tokens["AccessToken"])["cognito:groups"] == ["admins", "editors", "readers"]
    assert pool_claims(pool, tokens["IdToken"], audience=pool.app)["cognito:groups"] == ["admins", "editors", "readers"]
    pool.admin.admin_remove_user_from_group(UserPoolId=POOL, Username="grp@example.com", GroupName="editors")
    pool.admin.delete_group(UserPoolId=POOL, GroupName="readers")
    assert "cognito:groups" not in pool_claims(pool, pool.sign_in("grp@example.com")["AccessToken"]) or \
        pool_claims(pool, pool.sign_in("grp@example.com")["AccessToken"])["cognito:groups"] == ["admins"]
    assert admin(pool.server, "groups", "members", "admins")[0]["email"] == "grp@example.com", "the CLI sees the same groups"


def test_describe_the_pool_its_clients_and_the_csv_header(pool):
    described = pool.admin.describe_user_pool(UserPoolId=POOL)["UserPool"]
    assert described["Id"] == POOL and described["UsernameAttributes"] == ["email"]
    client = pool.admin.describe_user_pool_client(UserPoolId=POOL, ClientId=pool.legacy)["UserPoolClient"]
    assert client["ClientId"] == pool.legacy and client["RefreshTokenRotation"]["Feature"] == "DISABLED"
    assert "ALLOW_USER_SRP_AUTH" in client["ExplicitAuthFlows"]
    header = pool.admin.get_csv_header(UserPoolId=POOL)["CSVHeader"]
    assert "cognito:username" in header and "email_verified" in header


def test_sigv4_is_required_and_checked(pool):
    with pytest.raises(botocore.exceptions.ClientError) as wrong:
        pool.signed(secret="wrong" * 8).list_users(UserPoolId=POOL)
    assert error_code(wrong) == "InvalidSignatureException"
    with pytest.raises(botocore.exceptions.ClientError) as unknown:
        pool.signed(key_id="AKTSUNKNOWNUNKNOWN00").list_users(UserPoolId=POOL)
    assert error_code(unknown) == "UnrecognizedClientException"
    unsigned = cognito_oracle.client(pool.endpoint, config=Config(signature_version=botocore.UNSIGNED))
    with pytest.raises(botocore.exceptions.ClientError) as missing:
        unsigned.list_users(UserPoolId=POOL)
    assert error_code(missing) == "MissingAuthenticationTokenException"
    # A request signed 10 minutes ago, sent now.
    stale = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=10)
    with mock.patch("botocore.auth.get_current_datetime", return_value=stale):
        with pytest.raises(botocore.exceptions.ClientError) as expired:
            pool.admin.list_users(UserPoolId=POOL)
    assert error_code(expired) == "InvalidSignatureException" and "expired" in expired.value.response["Error"]["Message"]
    # The same signed now passes; a deleted key stops at once.
    assert pool.admin.list_users(UserPoolId=POOL)["Users"] is not None
    admin(pool.server, "access-keys", "delete", pool.key["access_key_id"])
    with pytest.raises(botocore.exceptions.ClientError) as deleted:
        pool.admin.list_users(UserPoolId=POOL)
    assert error_code(deleted) == "UnrecognizedClientException"


# MARK: SRP


def test_pycognito_end_to_end(pool):
    user = Cognito(POOL, pool.app, username="pyc@example.com", boto3_client_kwargs={"endpoint_url": pool.endpoint})
    cognito_oracle.watch(user.client)
    user.set_base_attributes(email="pyc@example.com", name="Py Cog")
    user.register("pyc@example.com", PASSWORD)
    user.confirm_sign_up(pool.code("pyc@example.com"), username="pyc@example.com")
    user.authenticate(password=PASSWORD)  # USER_SRP_AUTH
    user.verify_tokens()  # the pool's issuer and JWKS, as pycognito checks them
    assert user.access_claims["token_use"] == "access" and user.id_claims["email"] == "pyc@example.com"
    assert user.get_user().name == "Py Cog"
    user.update_profile({"given_name": "Py"}, attr_map={})
    assert user.get_user().given_name == "Py"

    legacy = Cognito(POOL, pool.legacy, username="pyc@example.com", boto3_client_kwargs={"endpoint_url": pool.endpoint})
    cognito_oracle.watch(legacy.client)
    legacy.authenticate(password=PASSWORD)
    old_access = legacy.access_token
    time.sleep(1.1)
    legacy.renew_access_token()  # REFRESH_TOKEN_AUTH; it keeps its refresh token (rotation disabled)
    assert legacy.access_token != old_access and legacy.get_user().email == "pyc@example.com"

    user.change_password(PASSWORD, "changed horse battery")
    user.authenticate(password="changed horse battery")
    user.initiate_forgot_password()
    code = pool.code("pyc@example.com", count=2)
    user.confirm_forgot_password(code, "recovered horse battery")
    user.authenticate(password="recovered horse battery")

    boss = Cognito(POOL, pool.app, boto3_client_kwargs={"endpoint_url": pool.endpoint}, access_key=pool.key["access_key_id"],
                   secret_key=pool.key["secret_access_key"])
    cognito_oracle.watch(boss.client)
    boss.admin_create_user("fresh@example.com", temporary_password="temporary horse 1", email="fresh@example.com")
    fresh = Cognito(POOL, pool.app, username="fresh@example.com", boto3_client_kwargs={"endpoint_url": pool.endpoint})
    cognito_oracle.watch(fresh.client)
    fresh.new_password_challenge("temporary horse 1", "fresh horse battery")  # SRP, then NEW_PASSWORD_REQUIRED
    fresh.authenticate(password="fresh horse battery")
    pool.admin.create_group(UserPoolId=POOL, GroupName="team", Precedence=2)
    pool.admin.admin_add_user_to_group(UserPoolId=POOL, Username="fresh@example.com", GroupName="team")
    fresh.authenticate(password="fresh horse battery")
    assert fresh.access_claims["cognito:groups"] == ["team"]
    assert [group.group_name for group in boss.get_groups()] == ["team"]

    signed_out = user.access_token
    user.logout()  # GlobalSignOut
    with pytest.raises(pool.client.exceptions.NotAuthorizedException):
        pool.client.get_user(AccessToken=signed_out)


def srp_start(pool, username, a_hex=None):
    srp = AWSSRP(username=username, password=PASSWORD, pool_id=POOL, client_id=pool.app, client=pool.client)
    params = srp.get_auth_params()
    if a_hex is not None:
        params["SRP_A"] = a_hex
    return srp, pool.client.initiate_auth(ClientId=pool.app, AuthFlow="USER_SRP_AUTH", AuthParameters=params)


def test_srp_refuses_wrong_passwords_replays_stale_timestamps_and_a_zero_a(pool):
    confirmed(pool, "srp@example.com")
    srp, started = srp_start(pool, "srp@example.com")
    wrong = AWSSRP(username="srp@example.com", password="wrong horse battery", pool_id=POOL, client_id=pool.app, client=pool.client)
    wrong.large_a_value, wrong.small_a_value = srp.large_a_value, srp.small_a_value
    with pytest.raises(pool.client.exceptions.NotAuthorizedException):
        pool.client.respond_to_auth_challenge(ClientId=pool.app, ChallengeName="PASSWORD_VERIFIER",
                                              ChallengeResponses=wrong.process_challenge(started["ChallengeParameters"], {"USERNAME": "srp@example.com"}))
    srp, started = srp_start(pool, "srp@example.com")
    answer = srp.process_challenge(started["ChallengeParameters"], {"USERNAME": "srp@example.com"})
    tokens = pool.client.respond_to_auth_challenge(ClientId=pool.app, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=answer)
    assert tokens["AuthenticationResult"]["AccessToken"]
    with pytest.raises(pool.client.exceptions.NotAuthorizedException):
        pool.client.respond_to_auth_challenge(ClientId=pool.app, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=answer)
    # A claim made ten minutes ago.
    srp, started = srp_start(pool, "srp@example.com")
    stale = (datetime.datetime.utcnow() - datetime.timedelta(minutes=10))
    stamp = stale.strftime("%a %b ") + str(stale.day) + stale.strftime(" %H:%M:%S UTC %Y")
    params = started["ChallengeParameters"]
    hkdf = srp.get_password_authentication_key(params["USER_ID_FOR_SRP"], PASSWORD, int(params["SRP_B"], 16), params["SALT"])
    message = POOL.split("_")[1].encode() + params["USER_ID_FOR_SRP"].encode() + base64.b64decode(params["SECRET_BLOCK"]) + stamp.encode()
    signature = base64.b64encode(hmac.new(hkdf, message, hashlib.sha256).digest()).decode()
    with pytest.raises(pool.client.exceptions.NotAuthorizedException):
        pool.client.respond_to_auth_challenge(ClientId=pool.app, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses={
            "TIMESTAMP": stamp, "USERNAME": params["USER_ID_FOR_SRP"], "PASSWORD_CLAIM_SECRET_BLOCK": params["SECRET_BLOCK"],
            "PASSWORD_CLAIM_SIGNATURE": signature})
    # A = 0 and A = N are refused before any work.
    from pycognito.aws_srp import N_HEX
    for a in ["0", N_HEX, format(2 * int(N_HEX, 16), "x")]:
        with pytest.raises(pool.client.exceptions.NotAuthorizedException):
            srp_start(pool, "srp@example.com", a_hex=a)


def test_one_srp_answer_raced_signs_in_once(pool):
    """The same PASSWORD_VERIFIER answer sent eight times at once: one sign-in, seven refusals
    (the secret block is spent once), in three rounds."""
    confirmed(pool, "race@example.com")
    for _ in range(3):
        srp, started = srp_start(pool, "race@example.com")
        answer = srp.process_challenge(started["ChallengeParameters"], {"USERNAME": "race@example.com"})
        body = json.dumps({"ClientId": pool.app, "ChallengeName": "PASSWORD_VERIFIER", "ChallengeResponses": answer})
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityProviderService.RespondToAuthChallenge"}
        barrier = threading.Barrier(8)

        def send(_):
            barrier.wait()
            return requests.post(pool.endpoint + "/", data=body, headers=headers, timeout=30).status_code

        with ThreadPoolExecutor(8) as executor:
            statuses = sorted(executor.map(send, range(8)))
        assert statuses == [200] + [400] * 7


def test_srp_salts_of_every_leading_nibble(pool):
    """Cognito's padding: a salt whose hex starts with 8-f is padded with 00, one of odd length
    (its hex starting with 0) with 0. Each sign-up draws a new salt; two dozen cover 8-f and
    1-7 surely, and odd lengths often (the Swift unit vectors pin that case every run)."""
    seen = set()
    for index in range(24):
        email = f"salt{index}@example.com"
        pool.sign_up(email)
        pool.client.confirm_sign_up(ClientId=pool.app, Username=email, ConfirmationCode=pool.code(email))
        srp, started = srp_start(pool, email)
        salt = started["ChallengeParameters"]["SALT"]
        seen.add("high" if salt[0] in "89abcdef" else "odd" if len(salt) % 2 else "low")
        answer = srp.process_challenge(started["ChallengeParameters"], {"USERNAME": email})
        assert pool.client.respond_to_auth_challenge(ClientId=pool.app, ChallengeName="PASSWORD_VERIFIER",
                                                     ChallengeResponses=answer)["AuthenticationResult"]["AccessToken"]
        if {"high", "low", "odd"} <= seen:
            break
    assert {"high", "low"} <= seen


def test_srp_for_a_user_without_a_verifier_and_for_nobody(pool, start_tessera):
    # Nobody: a challenge like any other, which no answer passes.
    srp, started = srp_start(pool, "ghost@example.com")
    assert started["ChallengeName"] == "PASSWORD_VERIFIER"
    with pytest.raises(pool.client.exceptions.NotAuthorizedException):
        pool.client.respond_to_auth_challenge(ClientId=pool.app, ChallengeName="PASSWORD_VERIFIER",
                                              ChallengeResponses=srp.process_challenge(started["ChallengeParameters"], {"USERNAME": "ghost@example.com"}))
    # A user created before the API kept verifiers (by the admin CLI, which keeps none).
    admin(pool.server, "users", "create", "old@example.com", "--password-stdin", "--confirmed", stdin=PASSWORD + "\n")
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        srp_start(pool, "old@example.com")
    assert error_code(refused) == "NotAuthorizedException" and "USER_PASSWORD_AUTH" in refused.value.response["Error"]["Message"]
    pool.sign_in("old@example.com")  # the password sign-in keeps a verifier from now on
    for _ in range(50):
        try:
            srp, started = srp_start(pool, "old@example.com")
            break
        except botocore.exceptions.ClientError:
            time.sleep(0.05)
    tokens = pool.client.respond_to_auth_challenge(ClientId=pool.app, ChallengeName="PASSWORD_VERIFIER",
                                                   ChallengeResponses=srp.process_challenge(started["ChallengeParameters"], {"USERNAME": "old@example.com"}))
    assert tokens["AuthenticationResult"]["AccessToken"]


def test_every_answer_passed_the_oracle():
    assert cognito_oracle.checked["responses"] > 0
