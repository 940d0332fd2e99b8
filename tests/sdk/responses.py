"""Which SDK model each labelsync response must fit: the type the SDK's generated client parses
that endpoint's response into (label_studio_sdk/*/raw_client.py, `type_=`)."""

import re
import typing

from label_studio_sdk import types as sdk
from label_studio_sdk.export_storage.types import ListTypesExportStorageResponseItem
from label_studio_sdk.import_storage.types import ListTypesImportStorageResponseItem

# Storage type slug -> (source storage model, target storage model).
STORAGE_MODELS = {
    "s3": (sdk.S3ImportStorage, sdk.S3ExportStorage),
    "s3s": (sdk.LseS3ImportStorage, sdk.LseS3ExportStorage),
    "gcs": (sdk.GcsImportStorage, sdk.GcsExportStorage),
    "gcswif": (sdk.GcswifImportStorage, sdk.GcswifExportStorage),
    "azure": (sdk.AzureBlobImportStorage, sdk.AzureBlobExportStorage),
    "azure_spi": (
        sdk.AzureServicePrincipalImportStorage,
        sdk.AzureServicePrincipalExportStorage,
    ),
    "redis": (sdk.RedisImportStorage, sdk.RedisExportStorage),
    "localfiles": (sdk.LocalFilesImportStorage, sdk.LocalFilesExportStorage),
    "databricks": (sdk.DatabricksImportStorage, sdk.DatabricksExportStorage),
}

ID = r"/(\d+)"
# (method, path pattern without the trailing slash, model); None: no body to check.
ROUTES = [
    ("GET", r"/api/projects", sdk.PaginatedAllRolesProjectListList),
    ("POST", r"/api/projects", sdk.LseProjectCreate),
    ("GET", rf"/api/projects{ID}", sdk.LseProjectResponse),
    ("PATCH", rf"/api/projects{ID}", sdk.LseProjectResponse),
    ("DELETE", rf"/api/projects{ID}", None),
    ("DELETE", rf"/api/projects{ID}/tasks", None),
    ("GET", r"/api/tasks", sdk.PaginatedRoleBasedTaskList),
    ("GET", rf"/api/tasks{ID}", sdk.RoleBasedTask),
    ("DELETE", rf"/api/tasks{ID}", None),
    ("GET", rf"/api/tasks{ID}/annotations", typing.List[sdk.Annotation]),
    ("POST", rf"/api/tasks{ID}/annotations", sdk.Annotation),
    ("GET", rf"/api/annotations{ID}", sdk.Annotation),
    ("PATCH", rf"/api/annotations{ID}", sdk.Annotation),
    ("DELETE", rf"/api/annotations{ID}", None),
    ("GET", r"/api/storages/types", typing.List[ListTypesImportStorageResponseItem]),
    ("GET", r"/api/storages/export/types", typing.List[ListTypesExportStorageResponseItem]),
]


def _storage_routes():
    for slug, (source, target) in STORAGE_MODELS.items():
        for base, model in (
            (f"/api/storages/{slug}", source),
            (f"/api/storages/export/{slug}", target),
        ):
            yield ("GET", base, typing.List[model])
            yield ("POST", base, model)
            yield ("POST", f"{base}/validate", None)
            yield ("GET", f"{base}{ID}", model)
            yield ("PATCH", f"{base}{ID}", model)
            yield ("DELETE", f"{base}{ID}", None)
            yield ("POST", f"{base}{ID}/sync", model)


ROUTES.extend(_storage_routes())


def model_of(method: str, path: str):
    """The model of a successful response to `method path`; fails for a route the suite does not
    know, so no response goes unchecked."""
    path = path.rstrip("/") or "/"
    for route_method, pattern, model in ROUTES:
        if route_method == method and re.fullmatch(pattern, path):
            return model
    raise AssertionError(f"no SDK model is known for {method} {path}")
