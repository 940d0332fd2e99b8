"""Tasks through the SDK: the pager over many pages, the list's totals, predictions imported
with tasks, task deletion; and what labelsync does not implement answers Label Studio's 404
or 405."""

import json

import pytest
from label_studio_sdk.core.api_error import ApiError

from helpers import IMAGE_CONFIG, api_error, choice, sync_and_wait


@pytest.fixture(scope="module")
def paged(ls, stores):
    """A project whose Tasks-mode source made 25 tasks, 5 of them with a prediction."""
    project = ls.projects.create(title="sdk paging", label_config=IMAGE_CONFIG).id
    source = ls.import_storage.local.create(project=project, **stores["paging"])
    synced = sync_and_wait(ls.import_storage.local, source.id)
    assert (synced.status, synced.last_sync_count) == ("completed", 25), synced
    return project


def test_the_task_pager_ends_and_sees_every_task_once(ls, paged):
    for page_size in (10, 25, 100):
        ids = [t.id for t in ls.tasks.list(project=paged, page_size=page_size)]
        assert len(ids) == 25 and len(set(ids)) == 25, (page_size, ids)


def test_the_task_list_totals_count_the_whole_project(ls, paged):
    tasks = list(ls.tasks.list(project=paged, page_size=100))
    first = ls.annotations.create(id=tasks[0].id, result=choice("cat"))
    ls.annotations.create(id=tasks[1].id, result=choice("dog"))
    ls.annotations.create(id=tasks[2].id, result=choice("dog"), was_cancelled=True)
    page = ls.tasks.list(project=paged, page_size=3, page=2).response
    assert (page.total, page.total_annotations, page.total_predictions) == (25, 2, 5)
    predicted = [t for t in tasks if t.predictions]
    assert len(predicted) == 5 and predicted[0].total_predictions == 1
    ls.annotations.delete(id=first.id)
    page = ls.tasks.list(project=paged, page_size=3).response
    assert page.total_annotations == 1


def test_a_task_is_read_and_deleted(ls, stores):
    project = ls.projects.create(title="sdk task delete", label_config=IMAGE_CONFIG).id
    source = ls.import_storage.local.create(project=project, **stores["paging"])
    sync_and_wait(ls.import_storage.local, source.id)
    task = next(iter(ls.tasks.list(project=project)))
    assert ls.tasks.get(id=str(task.id)).data == task.data
    ls.tasks.delete(id=str(task.id))
    api_error(404, ls.tasks.get, id=str(task.id))
    ls.tasks.delete_all_tasks(id=project)
    assert list(ls.tasks.list(project=project)) == []


# SDK calls labelsync does not implement, and the status each answers (Label Studio's error
# envelope; the fixture checks its shape).
NOT_IMPLEMENTED = {
    "projects.list_counts": (404, lambda ls, p, t: ls.projects.list_counts()),
    "projects.list_unique_annotators": (
        404,
        lambda ls, p, t: ls.projects.list_unique_annotators(id=p),
    ),
    "projects.duplicate": (
        404,
        lambda ls, p, t: ls.projects.duplicate(id=p, mode="settings", workspace=1, title="x"),
    ),
    "projects.import_tasks": (
        404,
        lambda ls, p, t: ls.projects.import_tasks(id=p, request=[{"image": "x"}]),
    ),
    "projects.import_predictions": (
        404,
        lambda ls, p, t: ls.projects.import_predictions(id=p, request=[]),
    ),
    "projects.validate_label_config": (
        404,
        lambda ls, p, t: ls.projects.validate_label_config(id=p, label_config=IMAGE_CONFIG),
    ),
    "tasks.create_many_status": (
        404,
        lambda ls, p, t: ls.tasks.create_many_status(id=p, import_pk="1"),
    ),
    "tasks.create": (405, lambda ls, p, t: ls.tasks.create(project=p, data={"image": "x"})),
    "tasks.update": (405, lambda ls, p, t: ls.tasks.update(id=str(t), data={"image": "y"})),
    "tasks.create_event": (
        404,
        lambda ls, p, t: ls.tasks.create_event(
            id=str(t), event_key="x", event_time="2026-01-01T00:00:00Z"
        ),
    ),
    "annotations.create_bulk": (
        405,
        lambda ls, p, t: ls.annotations.create_bulk(tasks=[t], result=[]),
    ),
    "annotations.delete_bulk": (
        405,
        lambda ls, p, t: ls.annotations.delete_bulk(ids=[1], project=p),
    ),
    "predictions.list": (404, lambda ls, p, t: ls.predictions.list(task=t)),
    "predictions.create": (404, lambda ls, p, t: ls.predictions.create(task=t, result=[])),
    "predictions.get": (404, lambda ls, p, t: ls.predictions.get(id=1)),
    "predictions.update": (404, lambda ls, p, t: ls.predictions.update(id=1, result=[])),
    "predictions.delete": (404, lambda ls, p, t: ls.predictions.delete(id=1)),
    "import_storage.gcs_sa.list": (404, lambda ls, p, t: ls.import_storage.gcs_sa.list(project=p)),
    "export_storage.gcs_sa.list": (404, lambda ls, p, t: ls.export_storage.gcs_sa.list(project=p)),
}


@pytest.mark.parametrize("status,call", NOT_IMPLEMENTED.values(), ids=NOT_IMPLEMENTED.keys())
def test_what_is_not_implemented_says_so(ls, paged, status, call):
    task = next(iter(ls.tasks.list(project=paged))).id
    with pytest.raises(ApiError) as raised:
        call(ls, paged, task)
    assert raised.value.status_code == status, json.dumps(raised.value.body)
