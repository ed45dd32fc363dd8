"""The OpenAPI document (contract §12.3): valid OpenAPI 3.1 by openapi-spec-validator, true
about every operation it lists, and held to it by schemathesis against the live binary."""
import os
import subprocess
import sys

import pytest
import requests
from openapi_spec_validator import validate

from conftest import BIN_DIR, ROOT

# Bounded for CI; `scripts/schemathesis` alone runs 10,000 cases per operation.
MAX_EXAMPLES = int(os.environ.get("TESSERA_SCHEMATHESIS_EXAMPLES", "40"))


def test_the_document_is_valid_openapi_3_1_and_names_the_issuer(tessera):
    response = requests.get(tessera.url("/openapi.json"), timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    document = response.json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": tessera.issuer}]
    assert requests.get(tessera.url("/openapi.json"), headers={"If-None-Match": response.headers["ETag"]}, timeout=10).status_code == 304
    # Every documented operation is served: none answers 404 or 405 for its method.
    for path, operations in document["paths"].items():
        for method in operations:
            answered = requests.request(method.upper(), tessera.url(path.replace("{email}", "x%40example.com")), timeout=10)
            assert answered.status_code not in (404, 405) or path.startswith("/v1/me/emails/"), (method, path, answered.status_code)
    # Bodies the server refuses when they carry unknown fields are documented so.
    schemas = document["components"]["schemas"]
    for name in ("SignUpRequest", "LoginRequest", "RefreshRequest", "PasswordChange", "ProfileUpdate", "ResetRequest"):
        assert schemas[name]["additionalProperties"] is False, name
    refused = requests.post(tessera.url("/v1/signup"), json={"email": "x@example.com", "password": "correct horse battery", "extra": 1}, timeout=10)
    assert refused.status_code == 400


@pytest.mark.sqlite_only  # the script starts its own server, always on SQLite: once per stage is enough
def test_schemathesis_finds_no_5xx_no_undocumented_status_and_no_body_off_its_schema():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "schemathesis"), "--bin-dir", str(BIN_DIR),
                             "--max-examples", str(MAX_EXAMPLES), "--quiet"], capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]
    assert "passed" in result.stdout
