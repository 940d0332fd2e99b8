"""What the SDK tests share: a label config, waiting for a sync, expecting an API error."""

import time

import pytest
from label_studio_sdk.core.api_error import ApiError

IMAGE_CONFIG = (
    '<View><Image name="img" value="$image"/>'
    '<Choices name="c" toName="img"><Choice value="cat"/><Choice value="dog"/></Choices></View>'
)
FINAL = ("completed", "completed_with_errors", "failed")


def choice(value: str) -> list:
    """An annotation result choosing `value`."""
    return [{"from_name": "c", "to_name": "img", "type": "choices", "value": {"choices": [value]}}]


def sync_and_wait(storages, storage_id: int, timeout: float = 60):
    """Starts a sync through the SDK and polls the storage until its status is final."""
    storages.sync(id=storage_id)
    deadline = time.monotonic() + timeout
    while True:
        storage = storages.get(id=storage_id)
        if storage.status in FINAL:
            return storage
        assert time.monotonic() < deadline, f"sync of {storage_id} never finished: {storage}"
        time.sleep(0.05)


def api_error(status: int, call, *args, **kwargs) -> ApiError:
    """Calls an SDK method that must fail with `status`; returns the error."""
    with pytest.raises(ApiError) as raised:
        call(*args, **kwargs)
    assert raised.value.status_code == status, raised.value.body
    return raised.value
