"""The schema oracle of the Cognito API (contract §11.1): every answer a boto3 client of the
interop run receives is checked against botocore's service model — the output shape of a 200
(required members present, types right, no member the model does not have) and the error
shape of anything else — before botocore parses it."""
import json

import boto3
import botocore.session

MODEL = botocore.session.get_session().get_service_model("cognito-idp")

# Errors any operation may answer (the protocol's own, contract §11.1).
GENERIC_ERRORS = {"UnknownOperationException", "UnsupportedOperationException", "InternalErrorException",
                  "MissingAuthenticationTokenException", "IncompleteSignatureException", "InvalidSignatureException",
                  "UnrecognizedClientException", "SerializationException"}

checked = {"responses": 0}


def check_value(shape, value, path):
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), f"{path}: expected an object, got {value!r}"
        unknown = set(value) - set(shape.members)
        assert not unknown, f"{path}: members the model does not have: {sorted(unknown)}"
        missing = [name for name in shape.required_members if name not in value]
        assert not missing, f"{path}: required members missing: {missing}"
        for name, member in value.items():
            check_value(shape.members[name], member, f"{path}.{name}")
    elif kind == "list":
        assert isinstance(value, list), f"{path}: expected a list"
        for index, item in enumerate(value):
            check_value(shape.member, item, f"{path}[{index}]")
    elif kind == "map":
        assert isinstance(value, dict), f"{path}: expected a map"
        for key, item in value.items():
            check_value(shape.key, key, f"{path} key")
            check_value(shape.value, item, f"{path}[{key}]")
    elif kind == "string":
        assert isinstance(value, str), f"{path}: expected a string, got {value!r}"
        if shape.enum:
            assert value in shape.enum, f"{path}: {value!r} is not one of {shape.enum}"
    elif kind in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), f"{path}: expected an integer, got {value!r}"
    elif kind == "boolean":
        assert isinstance(value, bool), f"{path}: expected a boolean, got {value!r}"
    elif kind == "timestamp":
        assert isinstance(value, (int, float)) and not isinstance(value, bool), f"{path}: expected epoch seconds, got {value!r}"
    elif kind in ("double", "float"):
        assert isinstance(value, (int, float)), f"{path}: expected a number"
    elif kind == "blob":
        assert isinstance(value, str), f"{path}: expected base64 text"


def check_response(operation_model, response_dict, **_):
    """botocore's `before-parse` hook: the raw answer against the operation's shapes."""
    model = operation_model
    checked["responses"] += 1
    status = response_dict["status_code"]
    headers = {name.lower(): value for name, value in response_dict["headers"].items()}
    body = json.loads(response_dict["body"] or b"{}")
    assert headers.get("x-amzn-requestid"), "every answer carries x-amzn-RequestId"
    assert headers.get("content-type") == "application/x-amz-json-1.1"
    if status == 200:
        if model.output_shape is not None:
            check_value(model.output_shape, body, model.name)
        else:
            assert body == {}, f"{model.name}: no output shape, so no members"
        return
    assert status in (400, 500), f"{model.name}: status {status}"
    assert set(body) == {"__type", "message"} and body["message"], f"{model.name}: error body {body}"
    code = body["__type"]
    assert headers.get("x-amzn-errortype") == code + ":"
    declared = {shape.name for shape in model.error_shapes} | GENERIC_ERRORS
    assert code in declared, f"{model.name} answered {code}, which the model does not list for it"
    assert (status == 500) == (code == "InternalErrorException")


def watch(client):
    """Registers the oracle on a boto3 client (also one a library made, as pycognito's)."""
    client.meta.events.register("before-parse.cognito-identity-provider", check_response)
    return client


def client(endpoint, region="eu-west-1", access_key="unused", secret_key="unused", **kwargs):
    return watch(boto3.client("cognito-idp", endpoint_url=endpoint, region_name=region, aws_access_key_id=access_key,
                              aws_secret_access_key=secret_key, **kwargs))
