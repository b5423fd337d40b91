"""Every status code the API answers with is in its OpenAPI schema (a drf-spectacular
post-processing hook): what a client must handle besides success, and the bounds the
API enforces."""

import re

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
DECIMAL = re.compile(r"\^-\?\\d\{0,(\d+)\}\(\?:\\\.\\d\{0,(\d+)\}\)\?\$")
PAGES = {"page": {"minimum": 1}, "page_size": {"minimum": 1, "maximum": 1000}}
STRICT = set(PAGES)  # not filters: an empty one is refused
# DRF's validation errors: {"field": ["message", ...], ...} or {"detail": ..., "errors": [...]}
# (the bulk endpoint), or a list of either for a list body.
INVALID = {"anyOf": [{"type": "object"}, {"type": "array"}]}


def _decimal_needs_a_digit(node) -> None:
    """drf-spectacular's decimal pattern also matches "" and "-": require a digit."""
    if isinstance(node, dict):
        pattern = node.get("pattern", "")
        if node.get("format") == "decimal" and (match := DECIMAL.fullmatch(pattern)):
            whole, places = match.groups()
            node["pattern"] = rf"^-?(?:\d{{1,{whole}}}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})$"
        for value in node.values():
            _decimal_needs_a_digit(value)
    elif isinstance(node, list):
        for value in node:
            _decimal_needs_a_digit(value)


def _decimals_may_be_numbers(schema: dict) -> None:
    """A request's decimal may come as a JSON number too (DRF reads 19.9 as well as
    "19.90"): say so, or a client sending numbers breaks the contract."""
    for name, prop in list(schema.get("properties", {}).items()):
        if prop.get("format") == "decimal":
            nullable = {"nullable": True} if prop.pop("nullable", False) else {}
            schema["properties"][name] = {"oneOf": [prop, {"type": "number"}], **nullable}


def _response(description: str, schema_name: str) -> dict:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}
        },
    }


def document_errors(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR
    schemas["ValidationError"] = INVALID
    _decimal_needs_a_digit(schemas)
    for name, schema in schemas.items():
        if name.endswith("Request"):
            _decimals_may_be_numbers(schema)
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.setdefault("401", _response("No token or a wrong one.", "Error"))
            responses.setdefault("403", _response("The token's user is not an owner.", "Error"))
            if operation.get("parameters") or operation.get("requestBody"):
                responses.setdefault(
                    "400", _response("The request is not valid.", "ValidationError")
                )
            if operation.get("requestBody"):
                responses.setdefault("415", _response("The body is not JSON.", "Error"))
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "query":
                    continue
                if parameter["name"] in STRICT:
                    parameter["schema"].update(PAGES[parameter["name"]])
                else:
                    parameter["allowEmptyValue"] = True  # an empty filter is no filter
            if "{" in path or any(p["name"] == "page" for p in operation.get("parameters", [])):
                responses.setdefault("404", _response("No such record, or no such page.", "Error"))
    return result
