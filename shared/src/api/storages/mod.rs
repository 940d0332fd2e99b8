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
            get(|c, q| crud::list_all(StorageRole::Import, c, q)),
        )
        .route(
            "/api/storages/export",
            get(|c, q| crud::list_all(StorageRole::Export, c, q)),
        );
    for (role, base) in [
        (StorageRole::Import, "/api/storages"),
        (StorageRole::Export, "/api/storages/export"),
    ] {
        router = router
            .route(
                &format!("{base}/{{storage_type}}"),
                get(move |c, p, q| crud::list(role, c, p, q))
                    .post(move |c, p, h, b| crud::create(role, c, p, h, b)),
            )
            .route(
                &format!("{base}/{{storage_type}}/validate"),
                post(move |c, p, h, b| actions::validate(role, c, p, h, b)),
            )
            .route(
                &format!("{base}/{{storage_type}}/form"),
                get(move |p| actions::form(role, p)),
            )
            .route(
                &format!("{base}/{{storage_type}}/{{id}}"),
                get(move |c, p| crud::get_one(role, c, p))
                    .patch(move |c, p, h, b| crud::update(role, c, p, h, b))
                    .put(move |c, p, h, b| crud::update(role, c, p, h, b))
                    .delete(move |c, p| crud::delete(role, c, p)),
            )
            .route(
                &format!("{base}/{{storage_type}}/{{id}}/sync"),
                post(move |c, p| actions::sync(role, c, p)),
            );
    }
    router.route("/api/storages/{storage_type}/files", post(actions::files))
}
