"""Projects through the SDK: create, read, update, list with the SDK's pager, delete."""

from helpers import IMAGE_CONFIG, api_error, choice, sync_and_wait


def test_a_project_is_created_read_updated_and_deleted(ls):
    created = ls.projects.create(title="sdk lifecycle", label_config=IMAGE_CONFIG)
    project = ls.projects.get(id=created.id)
    assert (project.title, project.label_config, project.task_number) == (
        "sdk lifecycle",
        IMAGE_CONFIG,
        0,
    )
    updated = ls.projects.update(id=created.id, title="renamed", description="by the SDK")
    assert (updated.title, updated.description) == ("renamed", "by the SDK")
    assert ls.projects.get(id=created.id).title == "renamed"
    ls.projects.delete(id=created.id)
    api_error(404, ls.projects.get, id=created.id)
    api_error(404, ls.projects.delete, id=created.id)


def test_the_project_pager_ends_after_the_last_project(ls):
    made = {ls.projects.create(title=f"sdk pager {n}").id for n in range(35)}
    for page_size in (None, 7):
        seen = [p.id for p in ls.projects.list(page_size=page_size)]
        assert len(seen) == len(set(seen)), "no project twice"
        assert made <= set(seen), "every project once"


def test_deleting_a_project_takes_its_storages_tasks_and_annotations(ls, stores):
    local = stores["localfiles"]
    project = ls.projects.create(title="sdk doomed", label_config=IMAGE_CONFIG).id
    source = ls.import_storage.local.create(
        project=project, use_blob_urls=True, **local["connection"], **local["source"]
    )
    assert sync_and_wait(ls.import_storage.local, source.id).status == "completed"
    task = next(iter(ls.tasks.list(project=project))).id
    annotation = ls.annotations.create(id=task, result=choice("cat")).id
    assert ls.projects.get(id=project).total_annotations_number == 1

    ls.projects.delete(id=project)
    api_error(404, ls.projects.get, id=project)
    api_error(404, ls.import_storage.local.get, id=source.id)
    api_error(404, ls.tasks.get, id=str(task))
    api_error(404, ls.annotations.get, id=annotation)
    assert project not in {p.id for p in ls.projects.list()}
