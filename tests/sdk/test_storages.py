"""Source and target storages of every type with an emulator here, through the SDK's
`import_storage` and `export_storage` clients: validate, create, list, get, update, sync and
wait, annotations exported by the target, delete."""

import pytest

from helpers import IMAGE_CONFIG, api_error, choice, sync_and_wait

# labelsync's type slug -> the SDK's client attribute.
CLIENTS = {"s3": "s3", "gcs": "gcs", "azure": "azure", "redis": "redis", "localfiles": "local"}


@pytest.mark.parametrize("slug", CLIENTS)
def test_a_storage_type_round_trip(ls, stores, report, slug):
    place = stores[slug]
    sources = getattr(ls.import_storage, CLIENTS[slug])
    targets = getattr(ls.export_storage, CLIENTS[slug])
    project = ls.projects.create(title=f"sdk {slug}", label_config=IMAGE_CONFIG).id
    source_fields = {**place["connection"], **place["source"], "use_blob_urls": True}

    sources.validate(project=project, **source_fields)
    source = sources.create(project=project, title=f"{slug} in", **source_fields)
    assert [s.id for s in sources.list(project=project)] == [source.id]
    assert sources.get(id=source.id).title == f"{slug} in"
    assert sources.update(id=source.id, description="seeded").description == "seeded"
    synced = sync_and_wait(sources, source.id)
    assert (synced.status, synced.last_sync_count) == ("completed", 2), synced.traceback

    tasks = list(ls.tasks.list(project=project, page_size=1))
    assert len(tasks) == 2 and len({t.id for t in tasks}) == 2
    assert all(t.storage_filename for t in tasks), tasks

    target_fields = {**place["connection"], **place["target"], "can_delete_objects": True}
    targets.validate(project=project, **target_fields)
    target = targets.create(project=project, title=f"{slug} out", **target_fields)
    assert [t.id for t in targets.list(project=project)] == [target.id]
    kept, deleted = annotate_both(ls, [t.id for t in tasks])
    exported = sync_and_wait(targets, target.id)
    assert exported.status == "completed", exported
    report[slug] = {"kept": [kept], "deleted": [deleted]}

    assert targets.update(id=target.id, title="renamed").title == "renamed"
    spare = targets.create(project=project, **target_fields)
    targets.delete(id=spare.id)
    api_error(404, targets.get, id=spare.id)
    sources.delete(id=source.id)
    api_error(404, sources.get, id=source.id)
    assert len(list(ls.tasks.list(project=project))) == 2, "tasks outlive their storage"


def annotate_both(ls, task_ids):
    """Annotates both tasks, reads, updates and deletes one annotation; returns the ids of the
    annotation kept and of the one deleted."""
    kept = ls.annotations.create(id=task_ids[0], result=choice("cat"), lead_time=1.5)
    doomed = ls.annotations.create(id=task_ids[1], result=choice("cat"))
    assert ls.annotations.get(id=kept.id).result == choice("cat")
    updated = ls.annotations.update(id=kept.id, result=choice("dog"))
    assert updated.result == choice("dog")
    assert [a.id for a in ls.annotations.list(id=task_ids[0])] == [kept.id]
    ls.annotations.delete(id=doomed.id)
    api_error(404, ls.annotations.get, id=doomed.id)
    return kept.id, doomed.id


def test_the_storage_types_are_listed(ls):
    for listed in (ls.import_storage.list_types(), ls.export_storage.list_types()):
        names = {t.name for t in listed}
        assert set(CLIENTS) <= names, names
