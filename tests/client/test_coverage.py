"""Every management API operation of the server's OpenAPI schema has a client method, so a new
route (such as the notification routes) cannot be left out of the SDK unnoticed."""

import inspect
import io
import re
import typing
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from resentry_client import _resources
from resentry_client._calls import Call, ListCall
from resentry_client._resources import Resource, _Operation

SAMPLE_ID = 987654321
OUTSIDE_THE_SDK = re.compile(r"^/api/((v1/)?\{project_id\}/|projects/events)")  # ingest; an alias


def _sample(kind: Any) -> object:
    # An argument value of the annotated type whose place in a path is recognisable.
    options = typing.get_args(kind)
    if typing.get_origin(kind) is typing.Literal:
        return options[0]
    if kind is int or int in options:
        return SAMPLE_ID
    if kind is str or str in options:
        return str(SAMPLE_ID)
    return io.BytesIO()  # a download's destination


def _operation(build: Callable[..., Call[Any] | ListCall[Any]]) -> tuple[str, str]:
    hints = typing.get_type_hints(build)
    required = {
        name: _sample(hints[name])
        for name, parameter in inspect.signature(build).parameters.items()
        if parameter.default is inspect.Parameter.empty
    }
    call = build(**required)
    first = call.first if isinstance(call, ListCall) else call
    return _key(first.method, first.path.replace(str(SAMPLE_ID), "{}"))


def _key(method: str, path: str) -> tuple[str, str]:
    # PUT and PATCH of a path are one operation (the API answers both the same way).
    return ("PATCH" if method == "PUT" else method, path)


def _client_operations() -> set[tuple[str, str]]:
    namespaces = [
        value
        for value in vars(_resources).values()
        if isinstance(value, type) and issubclass(value, Resource)
    ]
    return {
        _operation(attribute._build)
        for namespace in namespaces
        for attribute in vars(namespace).values()
        if isinstance(attribute, _Operation)
    }


async def test_every_management_route_has_a_client_method(app: FastAPI) -> None:
    """Each method and path of the OpenAPI schema under ``/api/v1`` and ``/health`` is sent by
    some builder (ingestion and the original path alias are for SDKs, not this client)."""
    server = {
        _key(method.upper(), re.sub(r"\{[^}]+\}", "{}", path))
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(("/api/", "/health")) and not OUTSIDE_THE_SDK.match(path)
        for method in operations
    }
    client = _client_operations()
    assert ("POST", "/api/v1/projects/{}/channels/{}/test") in server
    assert server - client == set()
    assert client - server == set()
