"""An upstream "Cognito" for the migration tests: moto's server mode (`moto_server`, a
third-party implementation of the cognito-idp API) on a loopback port, seeded with boto3 as a
team's real pool would be."""
import base64
import hashlib
import hmac
import os
import pathlib
import socket
import subprocess
import sys
import time

import boto3
from botocore.config import Config

from conftest import free_port

REGION = "us-east-1"
KEY_ID, SECRET = "AKIAMOTOTESTKEY00000", "moto-test-secret-access-key"


class Upstream:
    """A moto server with one user pool (users sign in by email, one custom attribute) and an
    app client with a secret that allows ADMIN_USER_PASSWORD_AUTH."""

    def __init__(self, tmp: pathlib.Path):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        binary = pathlib.Path(sys.executable).parent / "moto_server"
        self.log = open(tmp / f"moto-{self.port}.log", "w")
        self.process = subprocess.Popen([str(binary), "-H", "127.0.0.1", "-p", str(self.port)], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                assert time.time() < deadline and self.process.poll() is None, "moto_server did not start"
                time.sleep(0.1)
        self.client = boto3.client("cognito-idp", endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id=KEY_ID,
                                   aws_secret_access_key=SECRET, config=Config(retries={"max_attempts": 1}))
        self.pool = self.client.create_user_pool(
            PoolName="legacy", UsernameAttributes=["email"],
            Schema=[{"Name": "team", "AttributeDataType": "String", "Mutable": True}])["UserPool"]["Id"]
        app = self.client.create_user_pool_client(
            UserPoolId=self.pool, ClientName="migration", GenerateSecret=True,
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]
        self.app, self.app_secret = app["ClientId"], app["ClientSecret"]

    def settings(self) -> dict:
        """The `migration_cognito_*` settings that point Tessera at this pool."""
        return {"TESSERA_MIGRATION_COGNITO_ENDPOINT": self.endpoint, "TESSERA_MIGRATION_COGNITO_POOL_ID": self.pool,
                "TESSERA_MIGRATION_COGNITO_CLIENT_ID": self.app, "TESSERA_MIGRATION_COGNITO_CLIENT_SECRET": self.app_secret,
                "TESSERA_MIGRATION_COGNITO_ACCESS_KEY_ID": KEY_ID, "TESSERA_MIGRATION_COGNITO_SECRET_ACCESS_KEY": SECRET,
                "TESSERA_MIGRATION_COGNITO_REGION": REGION}

    def add_user(self, email, password, verified=True, groups=(), **attributes) -> str:
        """Creates a confirmed user with a permanent password; returns its `sub`."""
        pairs = [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true" if verified else "false"}]
        pairs += [{"Name": name.replace("custom_", "custom:"), "Value": value} for name, value in attributes.items()]
        self.client.admin_create_user(UserPoolId=self.pool, Username=email, UserAttributes=pairs, MessageAction="SUPPRESS")
        self.client.admin_set_user_password(UserPoolId=self.pool, Username=email, Password=password, Permanent=True)
        for group in groups:
            try:
                self.client.create_group(UserPoolId=self.pool, GroupName=group, Precedence=len(group))
            except self.client.exceptions.GroupExistsException:
                pass
            self.client.admin_add_user_to_group(UserPoolId=self.pool, Username=email, GroupName=group)
        user = self.client.admin_get_user(UserPoolId=self.pool, Username=email)
        return next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")

    def signs_in(self, email, password) -> bool:
        secret_hash = base64.b64encode(hmac.new(self.app_secret.encode(), (email + self.app).encode(), hashlib.sha256).digest()).decode()
        try:
            self.client.admin_initiate_auth(UserPoolId=self.pool, ClientId=self.app, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                            AuthParameters={"USERNAME": email, "PASSWORD": password, "SECRET_HASH": secret_hash})
            return True
        except self.client.exceptions.NotAuthorizedException:
            return False

    def aws(self, *args) -> str:
        """The AWS CLI against this pool, as a team exports from Cognito; its standard output."""
        env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION=REGION)
        binary = pathlib.Path(sys.executable).parent / "aws"
        result = subprocess.run([str(binary), "--endpoint-url", self.endpoint, "cognito-idp", *args, "--user-pool-id", self.pool],
                                env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
