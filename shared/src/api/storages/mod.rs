//! `/api/storages/…`: Label Studio's storage API for every type, import and export.

mod actions;
mod crud;
pub mod json;
mod request;

use axum::Router;
use axum::routing::{get, post};

use crate::context::Context;
use crate::model::StorageRole;

/// The storage routes of both roles.
pub fn routes() -> Router<Context> {
    let mut router = Router::new()
        .route("/api/storages/types", get(actions::types))
        .route("/api/storages/export/types", get(actions::types))
        .route(
            "/api/storages",
            get(|c, a, q| crud::list_all(StorageRole::Import, c, a, q)),
        )
        .route(
            "/api/storages/export",
            get(|c, a, q| crud::list_all(StorageRole::Export, c, a, q)),
        );
    for (role, base) in [
        (StorageRole::Import, "/api/storages"),
        (StorageRole::Export, "/api/storages/export"),
    ] {
        router = router
            .route(
                &format!("{base}/{{storage_type}}"),
                get(move |c, a, p, q| crud::list(role, c, a, p, q))
                    .post(move |c, a, p, h, b| crud::create(role, c, a, p, h, b)),
            )
            .route(
                &format!("{base}/{{storage_type}}/validate"),
                post(move |c, a, p, h, b| actions::validate(role, c, a, p, h, b)),
            )
            .route(
                &format!("{base}/{{storage_type}}/form"),
                get(move |p| actions::form(role, p)),
            )
            .route(
                &format!("{base}/{{storage_type}}/{{id}}"),
                get(move |c, a, p| crud::get_one(role, c, a, p))
                    .patch(move |c, a, p, h, b| crud::update(role, c, a, p, h, b))
                    .put(move |c, a, p, h, b| crud::update(role, c, a, p, h, b))
                    .delete(move |c, a, p| crud::delete(role, c, a, p)),
            )
            .route(
                &format!("{base}/{{storage_type}}/{{id}}/sync"),
                post(move |c, a, p| actions::sync(role, c, a, p)),
            );
    }
    router.route("/api/storages/{storage_type}/files", post(actions::files))
}
