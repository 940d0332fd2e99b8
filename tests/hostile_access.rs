//! Who may see what, and what lies on disk: the data directory and store are private, the
//! generated admin token is never printed, and a project token sees only its projects (404
//! for everything else, as Label Studio answers for objects you may not see), cannot mint
//! tokens or create projects, cannot make a storage act with the server's own cloud
//! credentials, and stops working when revoked. Each test fails on the code before the fix.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::Server;
use reqwest::Method;
use serde_json::{Value, json};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn the_data_directory_is_private_and_the_generated_token_is_never_printed() {
    // An empty LABELSYNC_API_TOKEN counts as unset: the process generates one.
    let server = Server::start_with(&[("LABELSYNC_API_TOKEN", "")]);
    let data = server.data_dir();
    assert_eq!(mode(data), 0o700);
    assert_eq!(mode(&data.join("labelsync.redb")), 0o600);
    let token_file = data.join("api_token");
    assert_eq!(mode(&token_file), 0o600);
    let token = std::fs::read_to_string(&token_file).unwrap();
    let printed = server.startup_output.join("\n");
    assert!(!printed.contains(token.trim()), "{printed}");
    assert!(
        printed.contains("api_token"),
        "the log says where: {printed}"
    );
}

/// Two projects, a token for the first; returns (token, mine, theirs).
async fn project_token(server: &Server) -> (String, u64, u64) {
    let mine = server.project().await;
    let theirs = server.project().await;
    let (status, minted) = server
        .post_json("/api/tokens", json!({"projects": [mine], "name": "ci"}))
        .await;
    assert_eq!(status, 201, "{minted}");
    let token = minted["token"].as_str().unwrap().to_owned();
    let (_, listed) = server.get_json("/api/tokens").await;
    assert!(
        !listed.to_string().contains(&token),
        "secrets are shown once: {listed}"
    );
    (token, mine, theirs)
}

#[tokio::test]
async fn a_project_token_sees_its_projects_only() {
    let server = Server::start();
    let (token, mine, theirs) = project_token(&server).await;
    let dir = server.dir("theirs");
    common::write(&dir.join("a.txt"), "x");
    let storage = server
        .local_import(theirs, &dir, json!({"use_blob_urls": true}))
        .await;
    let storage_path = format!("/api/storages/localfiles/{}", storage["id"]);
    server.sync(&storage_path).await;
    let task = server.tasks(theirs).await[0].clone();
    let task_id = task["id"].as_u64().unwrap();
    let (status, annotation) = server
        .post_json(
            &format!("/api/tasks/{task_id}/annotations"),
            json!({"result": []}),
        )
        .await;
    assert_eq!(status, 201, "{annotation}");

    let as_project = |method: Method, path: String, body: Option<Value>| {
        let (server, token) = (&server, &token);
        async move { server.send_as(token, method, &path, body).await }
    };
    let (status, projects) = as_project(Method::GET, "/api/projects".into(), None).await;
    assert_eq!(status, 200);
    let ids: Vec<u64> = projects["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [mine]);
    let media = task["data"]["image"].as_str().unwrap().to_owned();
    for path in [
        format!("/api/projects/{theirs}"),
        format!("/api/storages/localfiles?project={theirs}"),
        format!("/api/storages?project={theirs}"),
        storage_path.clone(),
        format!("/api/tasks?project={theirs}"),
        format!("/api/tasks/{task_id}"),
        format!("/api/tasks/{task_id}/annotations"),
        format!("/api/annotations/{}", annotation["id"]),
        media,
    ] {
        let (status, reply) = as_project(Method::GET, path.clone(), None).await;
        assert_eq!(status, 404, "{path}: {reply}");
    }
    for (method, path, body) in [
        (Method::POST, format!("{storage_path}/sync"), json!({})),
        (
            Method::PATCH,
            storage_path.clone(),
            json!({"title": "mine now"}),
        ),
        (Method::DELETE, storage_path.clone(), json!({})),
        (
            Method::POST,
            format!("/api/tasks/{task_id}/annotations"),
            json!({"result": []}),
        ),
        (
            Method::DELETE,
            format!("/api/annotations/{}", annotation["id"]),
            json!({}),
        ),
        (Method::DELETE, format!("/api/projects/{theirs}"), json!({})),
    ] {
        let (status, reply) = as_project(method, path.clone(), Some(body)).await;
        assert_eq!(status, 404, "{path}: {reply}");
    }
    let (status, _) = server.get_json(&format!("/api/projects/{theirs}")).await;
    assert_eq!(status, 200, "their project is still there");
    let steal = json!({"project": theirs, "path": dir});
    let (status, reply) =
        as_project(Method::POST, "/api/storages/localfiles".into(), Some(steal)).await;
    assert_eq!(status, 400, "{reply}");
    assert!(reply["validation_errors"]["project"].is_array(), "{reply}");
    let (status, _) = as_project(Method::GET, format!("/api/projects/{mine}"), None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_project_token_cannot_mint_tokens_create_projects_or_borrow_server_credentials() {
    let server = Server::start();
    let (token, mine, _) = project_token(&server).await;
    let as_project = |method: Method, path: &'static str, body: Value| {
        let (server, token) = (&server, &token);
        async move { server.send_as(token, method, path, Some(body)).await }
    };
    let (status, _) = as_project(Method::POST, "/api/tokens", json!({"projects": [mine]})).await;
    assert_eq!(status, 403);
    let (status, _) = as_project(Method::GET, "/api/tokens", json!({})).await;
    assert_eq!(status, 403);
    let (status, _) = as_project(Method::POST, "/api/projects", json!({"title": "x"})).await;
    assert_eq!(status, 403);
    let role = json!({"project": mine, "bucket": "their-bucket",
                      "role_arn": "arn:aws:iam::123456789012:role/anything"});
    let (status, reply) = as_project(Method::POST, "/api/storages/s3s", role).await;
    assert_eq!(status, 400, "{reply}");
    assert!(
        reply["validation_errors"]["role_arn"][0]
            .as_str()
            .unwrap_or_default()
            .contains("server's own cloud credentials"),
        "{reply}"
    );
    let federated = json!({"project": mine, "bucket": "b", "google_project_number": "1",
        "google_wif_pool_id": "pool", "google_wif_provider_id": "prov",
        "google_service_account_email": "sa@p.iam.gserviceaccount.com"});
    let (status, reply) = as_project(Method::POST, "/api/storages/gcswif", federated).await;
    assert_eq!(status, 400, "{reply}");
    assert!(
        reply["validation_errors"]["google_service_account_email"].is_array(),
        "{reply}"
    );
}

#[tokio::test]
async fn a_revoked_token_stops_working_at_once() {
    let server = Server::start();
    let (token, mine, _) = project_token(&server).await;
    let path = format!("/api/projects/{mine}");
    let (status, _) = server.send_as(&token, Method::GET, &path, None).await;
    assert_eq!(status, 200);
    let (_, listed) = server.get_json("/api/tokens").await;
    let id = listed[0]["id"].as_u64().unwrap();
    let revoked = server
        .delete(&format!("/api/tokens/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    let (status, _) = server.send_as(&token, Method::GET, &path, None).await;
    assert_eq!(status, 401);
    let forged = format!("lst_{id}_{}", "0".repeat(64));
    let (status, _) = server.send_as(&forged, Method::GET, &path, None).await;
    assert_eq!(status, 401);
}
