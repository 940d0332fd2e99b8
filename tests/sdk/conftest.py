"""The SDK suite's fixtures: an official `label-studio-sdk` client on the running labelsync, and
the check that every response it received fits the SDK's own model.

`tests/sdk_client.rs` starts labelsync and the emulators, seeds each storage type's place and
runs this suite with:
- `LABELSYNC_URL`, `LABELSYNC_TOKEN`: the server and its admin token;
- `LABELSYNC_SDK_STORES`: per storage type, the SDK keyword arguments of its connection and
  of its source and target storages (JSON);
- `LABELSYNC_SDK_REPORT`: where to write, per type, the annotations that must be in its target
  and the ones that must be gone (the Rust side looks into the buckets).
"""

import json
import os

import httpx
import pydantic
import pytest
from label_studio_sdk.client import LabelStudio

from responses import model_of

RESPONSES = []


def _record(response: httpx.Response) -> None:
    response.read()
    RESPONSES.append(response)


@pytest.fixture(scope="session")
def ls() -> LabelStudio:
    """The SDK client; every response it gets is recorded for the model check."""
    client = httpx.Client(event_hooks={"response": [_record]}, timeout=30)
    return LabelStudio(
        base_url=os.environ["LABELSYNC_URL"],
        api_key=os.environ["LABELSYNC_TOKEN"],
        httpx_client=client,
    )


@pytest.fixture(scope="session")
def stores() -> dict:
    return json.loads(os.environ["LABELSYNC_SDK_STORES"])


@pytest.fixture(scope="session")
def report():
    """Collects, per storage type, `{"kept": [annotation ids], "deleted": [...]}`."""
    found = {}
    yield found
    with open(os.environ["LABELSYNC_SDK_REPORT"], "w") as out:
        json.dump(found, out)


@pytest.fixture(autouse=True)
def every_response_fits_the_sdk_models():
    """After each test: each response the SDK received fits the model the SDK parses it into
    (the SDK itself only constructs models, without validating)."""
    RESPONSES.clear()
    yield
    for response in RESPONSES:
        check_response(response)


def check_response(response: httpx.Response) -> None:
    request = response.request
    where = f"{request.method} {request.url.path} -> {response.status_code}"
    if response.status_code >= 400:
        body = response.json()
        assert body["status_code"] == response.status_code, where
        assert isinstance(body["detail"], str) and body["detail"], where
        return
    model = model_of(request.method, request.url.path)
    if model is None:
        assert response.status_code in (200, 204), where
        return
    try:
        pydantic.TypeAdapter(model).validate_python(response.json())
    except pydantic.ValidationError as error:
        pytest.fail(f"{where} does not fit {model}: {error}\n{response.text[:2000]}")
