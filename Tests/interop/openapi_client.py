"""A client written against Tessera's OpenAPI document, not its code: it calls operations by
their operationId, builds each request from the document's method, path template and
security scheme, and checks every answer against the document (the status is listed, the
body matches its schema) with openapi-schema-validator."""
from urllib.parse import quote

import requests
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

BASE_URI = "urn:tessera:openapi"


class OpenAPIClient:
    def __init__(self, base_url: str, bearer: str | None = None):
        self.base_url = base_url
        self.bearer = bearer
        self.document = requests.get(base_url + "/openapi.json", timeout=10).json()
        self.operations = {
            operation["operationId"]: (method, path, operation)
            for path, item in self.document["paths"].items()
            for method, operation in item.items() if method != "parameters"
        }
        resource = Resource.from_contents({**self.document, "$id": BASE_URI}, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(BASE_URI, resource)

    def resolve(self, value: dict) -> dict:
        """A `$ref` of the document, followed (response and parameter objects)."""
        while "$ref" in value:
            node = self.document
            for part in value["$ref"].removeprefix("#/").split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            value = node
        return value

    def call(self, operation_id: str, path=None, query=None, body=None, headers=None, bearer=None) -> requests.Response:
        method, template, operation = self.operations[operation_id]
        url = self.base_url + template.format(**{name: quote(str(value), safe="") for name, value in (path or {}).items()})
        sent = dict(headers or {})
        token = bearer if bearer is not None else self.bearer
        if operation.get("security") and token:
            sent["Authorization"] = f"Bearer {token}"
        response = requests.request(method.upper(), url, params=query, json=body, headers=sent, timeout=30)
        self.check(operation_id, template, method, operation, response)
        return response

    def check(self, operation_id, template, method, operation, response):
        status = str(response.status_code)
        assert status in operation["responses"], f"{operation_id}: {status} is not documented: {response.text}"
        documented = self.resolve(operation["responses"][status])
        content = documented.get("content")
        if not content:
            assert not response.content, f"{operation_id}: {status} documents no body, got {response.text}"
            return
        media = response.headers["Content-Type"].split(";")[0]
        assert media in content, f"{operation_id}: {media} is not documented for {status}"
        pointer = "/".join(part.replace("~", "~0").replace("/", "~1") for part in
                           ["paths", template, method, "responses", status] if part)
        schema_ref = self._schema_pointer(operation["responses"][status], pointer) + "/content/" + media.replace("/", "~1") + "/schema"
        validator = OAS31Validator({"$ref": f"{BASE_URI}#/{schema_ref}"}, registry=self.registry)
        errors = sorted(validator.iter_errors(response.json()), key=str)
        assert not errors, f"{operation_id}: {status} body off its schema: {errors[0].message} in {response.text}"

    def documents_body(self, operation_id: str, body) -> bool:
        """Whether `body` matches the operation's JSON request schema."""
        method, template, operation = self.operations[operation_id]
        assert "application/json" in operation["requestBody"]["content"], operation_id
        pointer = "/".join(part.replace("~", "~0").replace("/", "~1") for part in
                           ["paths", template, method, "requestBody", "content", "application/json", "schema"])
        return OAS31Validator({"$ref": f"{BASE_URI}#/{pointer}"}, registry=self.registry).is_valid(body)

    def _schema_pointer(self, response_object: dict, pointer: str) -> str:
        """Where in the document the response object lives (following one `$ref`)."""
        if "$ref" in response_object:
            return response_object["$ref"].removeprefix("#/")
        return pointer
