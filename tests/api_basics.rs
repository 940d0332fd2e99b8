//! The API's framing against the real process: auth, trailing slashes, the error envelope,
//! types, projects, `--help`.

mod common;

use common::{Server, TOKEN};
use serde_json::json;

#[tokio::test]
async fn every_endpoint_but_health_needs_the_token() {
    let server = Server::start();
    let anonymous = server
        .http
        .get(server.url("/api/projects"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let wrong = server
        .http
        .get(server.url("/api/projects"))
        .header("Authorization", "Token nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let (status, body) = common::json_of(wrong).await;
    assert_eq!((status, body["status_code"].as_u64()), (401, Some(401)));
    let files = server
        .http
        .get(server.url("/data/local-files/?d=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(files.status(), 401);
    let bearer = server
        .http
        .get(server.url("/api/projects"))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200);
    assert_eq!(
        server
            .http
            .get(server.url("/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn types_match_label_studio_shape_with_and_without_slash() {
    let server = Server::start();
    for path in [
        "/api/storages/types",
        "/api/storages/types/",
        "/api/storages/export/types",
    ] {
        let (status, body) = server.get_json(path).await;
        assert_eq!(status, 200, "{path}");
        let types = body.as_array().expect("a list");
        assert_eq!(types[0], json!({"name": "s3", "title": "AWS S3"}), "{path}");
        assert!(types.contains(&json!({"name": "localfiles", "title": "Local files"})));
        for ty in types {
            let name = ty["name"].as_str().expect("name");
            assert!(ty["title"].is_string() && ty.as_object().unwrap().len() == 2);
            let form = server.get_json(&format!("/api/storages/{name}/form")).await;
            assert_eq!(form.0, 200, "every listed type has its form: {name}");
        }
    }
}

#[tokio::test]
async fn errors_use_the_label_studio_envelope() {
    let server = Server::start();
    let (status, body) = server.get_json("/api/storages/localfiles/").await;
    assert_eq!(status, 400);
    assert_eq!(
        body["validation_errors"]["non_field_errors"][0],
        "query parameter \"project\" is required"
    );
    assert_eq!(body["status_code"], 400);
    assert!(
        body["id"].is_string() && body["version"].is_string() && body["exc_info"].is_null(),
        "{body}"
    );
    let (status, body) = server
        .get_json("/api/storages/localfiles/?project=999")
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = server.get_json("/api/storages/nosuchtype/?project=1").await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = server.get_json("/api/no/such/path").await;
    assert_eq!(status, 404);
    let (status, body) = server.get_json("/api/storages/?project=").await;
    assert_eq!((status, body), (200, json!([])));
    let bad_json = server
        .http
        .post(server.url("/api/projects"))
        .header("Authorization", format!("Token {TOKEN}"))
        .header("Content-Type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    let (status, body) = common::json_of(bad_json).await;
    assert_eq!(status, 400);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("JSON parse error"),
        "{body}"
    );
}

/// The SDK's calls that labelsync does not implement answer in the envelope too: a method a
/// path lacks is 405, an id that is not a number is a path that does not exist (404).
#[tokio::test]
async fn unsupported_methods_and_ids_answer_in_the_envelope() {
    let server = Server::start();
    let (status, body) = server.post_json("/api/tasks", json!({})).await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(
        (body["status_code"].as_u64(), body["detail"].as_str()),
        (Some(405), Some("Method \"POST\" not allowed.")),
        "{body}"
    );
    for path in ["/api/projects/counts", "/api/tasks/abc/annotations"] {
        let (status, body) = server.get_json(path).await;
        assert_eq!(
            (status, body["detail"].as_str()),
            (404, Some("This path not found.")),
            "{path}: {body}"
        );
    }
    let (status, body) = server.get_json("/api/projects?page=x").await;
    assert_eq!(
        (status, body["status_code"].as_u64()),
        (400, Some(400)),
        "{body}"
    );
}

#[tokio::test]
async fn projects_are_created_listed_and_patched() {
    let server = Server::start();
    let id = server.project().await;
    let (status, body) = server.get_json(&format!("/api/projects/{id}/")).await;
    assert_eq!(status, 200);
    assert_eq!(body["task_number"], 0);
    let (_, list) = server.get_json("/api/projects").await;
    assert_eq!(list["count"], 1);
    assert_eq!(list["results"][0]["id"], id);
    let (status, body) = server
        .patch_json(&format!("/api/projects/{id}"), json!({"title": "renamed"}))
        .await;
    assert_eq!((status, body["title"].as_str()), (200, Some("renamed")));
    let (status, _) = server.get_json("/api/projects/424242").await;
    assert_eq!(status, 404);
}

/// The project list pages as Label Studio's (30 a page, `page_size` to change it) and answers a
/// page past the end with 404 `Invalid page.`, which the SDK's pager takes as the end; before,
/// every page held every project and the pager never ended.
#[tokio::test]
async fn the_project_list_pages_and_ends() {
    let server = Server::start();
    for _ in 0..35 {
        server.project().await;
    }
    let (status, first) = server.get_json("/api/projects?page=1").await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            first["count"].as_u64(),
            first["results"].as_array().map(Vec::len)
        ),
        (Some(35), Some(30))
    );
    assert!(
        first["next"].as_str().is_some_and(|n| n.contains("page=2")),
        "{}",
        first["next"]
    );
    let (_, second) = server.get_json("/api/projects?page=2").await;
    assert_eq!(second["results"].as_array().map(Vec::len), Some(5));
    assert_eq!(
        (
            second["next"].is_null(),
            second["results"][0]["id"].as_u64()
        ),
        (true, Some(31))
    );
    let (status, past) = server.get_json("/api/projects?page=3").await;
    assert_eq!(
        (status, past["detail"].as_str()),
        (404, Some("Invalid page."))
    );
    let (_, small) = server.get_json("/api/projects?page=4&page_size=10").await;
    assert_eq!(small["results"].as_array().map(Vec::len), Some(5));
}

#[test]
fn help_lists_every_setting() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_labelsync-test-server"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for name in [
        "LABELSYNC_ADDR",
        "LABELSYNC_DATA_DIR",
        "LABELSYNC_API_TOKEN",
        "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT",
        "RESOLVER_PROXY_MAX_RANGE_SIZE",
    ] {
        assert!(text.contains(name), "--help lacks {name}:\n{text}");
    }
}

#[test]
fn a_bad_setting_stops_the_process_with_the_variable_named() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_labelsync-test-server"))
        .env("LABELSYNC_ADDR", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("LABELSYNC_ADDR"), "{text}");
}
