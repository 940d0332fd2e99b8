//! The local-files storage API through the running process: create with defaults, validation
//! messages in Label Studio's words, validate, form, the files preview, patch, delete, lists.

mod common;

use common::{Server, write};
use serde_json::{Value, json};

fn message(body: &Value) -> String {
    body["validation_errors"]["non_field_errors"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn create_applies_defaults_and_lists_by_project() {
    let server = Server::start();
    let ds = server.dir("ds");
    let project = server.project().await;
    let (status, storage) = server
        .post_json(
            "/api/storages/localfiles/",
            json!({"project": project, "path": format!("{}/", ds.display())}),
        )
        .await;
    assert_eq!(status, 201, "{storage}");
    assert_eq!(storage["type"], "localfiles");
    assert_eq!(storage["path"], ds.to_str().unwrap(), "path is normalized");
    assert_eq!(
        (
            storage["use_blob_urls"].as_bool(),
            storage["recursive_scan"].as_bool()
        ),
        (Some(false), Some(false))
    );
    assert_eq!(
        (storage["status"].as_str(), &storage["meta"]),
        (Some("initialized"), &json!({}))
    );
    assert!(
        storage["regex_filter"].is_null()
            && storage["last_sync"].is_null()
            && storage["synchronizable"] == true
    );
    // Fields of other types are silently ignored, as Label Studio's legacy client sends them.
    let (status, export) = server
        .post_json(
            "/api/storages/export/localfiles",
            json!({"project": project, "path": ds, "presign": false}),
        )
        .await;
    assert_eq!(status, 201, "{export}");
    assert!(export.get("presign").is_none() && export.get("recursive_scan").is_none());
    assert!(export["can_delete_objects"].is_null());

    let (_, imports) = server
        .get_json(&format!("/api/storages/localfiles?project={project}"))
        .await;
    assert_eq!(imports.as_array().unwrap().len(), 1);
    let (_, all) = server
        .get_json(&format!("/api/storages/?project={project}"))
        .await;
    assert_eq!(all[0]["type"], "localfiles");
    let (_, exports) = server
        .get_json(&format!("/api/storages/export?project={project}"))
        .await;
    assert_eq!(exports[0]["id"], export["id"]);
    let other = server.project().await;
    let (_, none) = server
        .get_json(&format!("/api/storages/localfiles?project={other}"))
        .await;
    assert_eq!(none, json!([]));
    // An import id is not an export storage.
    assert_eq!(
        server
            .get_json(&format!(
                "/api/storages/export/localfiles/{}",
                storage["id"]
            ))
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn validation_messages_follow_label_studio() {
    let server = Server::start();
    let project = server.project().await;
    let root = server.root.clone();
    let cases = [
        (
            json!({"project": project}),
            "Path must be set for Local Files storage",
        ),
        (
            // Below the root: outside it, existing or not, the answer is "must be a
            // subdirectory" (no existence oracle; see hostile_input.rs).
            json!({"project": project, "path": root.join("definitely/not/here")}),
            "does not exist",
        ),
        (
            json!({"project": project, "path": root}),
            "cannot be the same as LOCAL_FILES_DOCUMENT_ROOT",
        ),
        (
            json!({"project": project, "path": "/tmp"}),
            "must be a subdirectory of LOCAL_FILES_DOCUMENT_ROOT",
        ),
        (
            json!({"project": project, "path": format!("{}/ds/../..", root.display())}),
            "must be a subdirectory",
        ),
    ];
    server.dir("ds");
    for (body, expected) in cases {
        let (status, reply) = server
            .post_json("/api/storages/localfiles", body.clone())
            .await;
        assert_eq!(status, 400, "{body} -> {reply}");
        assert!(message(&reply).contains(expected), "{body} -> {reply}");
        let (status, reply) = server
            .post_json("/api/storages/localfiles/validate", body.clone())
            .await;
        assert_eq!(status, 400, "validate {body} -> {reply}");
    }
    let (status, reply) = server
        .post_json("/api/storages/localfiles", json!({"path": root.join("ds")}))
        .await;
    assert_eq!(
        (status, reply["validation_errors"]["project"][0].as_str()),
        (400, Some("This field is required."))
    );
    let (status, reply) = server
        .post_json(
            "/api/storages/localfiles",
            json!({"project": 999, "path": root.join("ds")}),
        )
        .await;
    assert_eq!(status, 400, "{reply}");
    let (status, reply) = server
        .post_json(
            "/api/storages/localfiles",
            json!({"project": project, "path": root.join("ds"), "regex_filter": "(open"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        reply["validation_errors"]["regex_filter"][0]
            .as_str()
            .unwrap()
            .contains("regular expression"),
        "{reply}"
    );

    let ok = server
        .post(
            "/api/storages/localfiles/validate",
            json!({"project": project, "path": root.join("ds")}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.text().await.unwrap(),
        "",
        "validate answers an empty body"
    );
}

#[tokio::test]
async fn serving_disabled_refuses_local_storages() {
    let server = Server::start_with(&[("LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED", "false")]);
    let ds = server.dir("ds");
    let project = server.project().await;
    let (status, reply) = server
        .post_json(
            "/api/storages/localfiles",
            json!({"project": project, "path": ds}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        message(&reply).contains("LOCAL_FILES_SERVING_ENABLED"),
        "{reply}"
    );
    let served = server
        .get("/data/local-files/?d=ds/a.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 403);
    assert!(served.text().await.unwrap().contains("disabled by default"));
}

#[tokio::test]
async fn patch_keeps_what_it_does_not_name_and_revalidates() {
    let server = Server::start();
    let ds = server.dir("ds");
    let project = server.project().await;
    let storage = server
        .local_import(
            project,
            &ds,
            json!({"use_blob_urls": true, "regex_filter": ".*png"}),
        )
        .await;
    let path = format!("/api/storages/localfiles/{}", storage["id"]);
    let (status, patched) = server
        .patch_json(
            &path,
            json!({"title": "renamed", "status": "completed", "last_sync_count": 999}),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        (patched["title"].as_str(), patched["regex_filter"].as_str()),
        (Some("renamed"), Some(".*png"))
    );
    assert_eq!(
        (patched["status"].as_str(), patched["type"].as_str()),
        (Some("initialized"), Some("localfiles")),
        "status fields are ignored"
    );
    let (status, reply) = server.patch_json(&path, json!({"path": "/nowhere"})).await;
    assert_eq!(status, 400, "{reply}");
    let (_, unchanged) = server.get_json(&path).await;
    assert_eq!(unchanged["path"], ds.to_str().unwrap());
    let put = server
        .http
        .put(server.url(&path))
        .header("Authorization", format!("Token {}", common::TOKEN))
        .json(&json!({"project": project, "path": ds, "title": "put"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
}

#[tokio::test]
async fn form_describes_the_fields() {
    let server = Server::start();
    let (status, form) = server.get_json("/api/storages/localfiles/form").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = form[0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["title", "path"]);
    let (_, export_form) = server
        .get_json("/api/storages/export/localfiles/form")
        .await;
    assert!(export_form.to_string().contains("can_delete_objects"));
}

#[tokio::test]
async fn files_preview_lists_what_a_sync_would_import_with_a_sentinel() {
    let server = Server::start();
    let ds = server.dir("ds");
    for name in ["a.png", "b.png", "c.png", "d.txt", "sub/e.png"] {
        write(&ds.join(name), "x");
    }
    let project = server.project().await;
    let body = json!({"project": project, "path": ds, "regex_filter": ".*png", "limit": 2});
    let (status, reply) = server
        .post_json("/api/storages/localfiles/files", body)
        .await;
    assert_eq!(status, 200, "{reply}");
    let files = reply["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    assert_eq!(files[0]["key"], ds.join("a.png").to_str().unwrap());
    assert_eq!(files[0]["size"], 1);
    assert!(files[0]["last_modified"].is_string());
    assert_eq!(
        files[2],
        json!({"key": null, "last_modified": null, "size": null})
    );
    let (_, all) = server
        .post_json(
            "/api/storages/localfiles/files",
            json!({"project": project, "path": ds, "recursive_scan": true}),
        )
        .await;
    let keys: Vec<&str> = all["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 5, "{keys:?}");
    assert!(keys.iter().all(|k| !k.is_empty()));
}
