//! Azure storages against Azurite, which verifies shared-key signatures and SAS tokens: the
//! backend conformance suite, Label Studio's validation, and sync, resolve (a SAS URL fetched,
//! a tampered one refused; ranged proxy) and export end to end through the real local process.

mod common;
#[path = "common/emulators.rs"]
mod emulators;
#[path = "common/entra.rs"]
mod entra;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::Server;
use common::round_trip::RoundTrip;
use emulators::{AZURITE_ACCOUNT, AZURITE_KEY};
use labelsync::backends::ObjectStore;
use labelsync::backends::conformance;
use labelsync::connectors::azure::backend::{AzureAuth, AzureBackend, ContainerTarget};
use serde_json::{Value, json};

fn endpoint() -> &'static str {
    &emulators::azurite().endpoint
}

async fn container() -> String {
    emulators::azurite_container().await
}

fn backend(container: &str) -> AzureBackend {
    let target = ContainerTarget {
        account_name: AZURITE_ACCOUNT,
        auth: AzureAuth::AccountKey(AZURITE_KEY),
        container,
        endpoint: Some(endpoint()),
    };
    AzureBackend::new(&target).unwrap()
}

fn azure_server() -> Server {
    Server::start_with(&[("LABELSYNC_AZURE_BLOB_ENDPOINT", endpoint())])
}

fn fields(project: u64, container: &str, extra: Value) -> Value {
    let mut body = json!({"project": project, "container": container,
                          "account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY});
    common::merge(&mut body, extra);
    body
}

#[tokio::test]
async fn the_azure_backend_passes_the_conformance_suite() {
    let name = container().await;
    conformance::run_all(&backend(&name), "suite/").await;
}

#[tokio::test]
async fn validation_speaks_label_studio_and_hides_the_account() {
    let name = container().await;
    backend(&name)
        .put("data/a.json", "{}".into())
        .await
        .unwrap();
    let server = azure_server();
    let project = server.project().await;
    let (status, reply) = server
        .post_json(
            "/api/storages/azure",
            fields(project, "no-such-container", json!({})),
        )
        .await;
    assert_eq!(
        (
            status,
            reply["validation_errors"]["non_field_errors"][0].as_str()
        ),
        (400, Some("Container not found: no-such-container")),
        "{reply}"
    );
    let (_, reply) = server
        .post_json(
            "/api/storages/azure",
            fields(project, &name, json!({"prefix": "nothing"})),
        )
        .await;
    let expected = format!("azure-blob://{name}/nothing not found.");
    assert_eq!(
        reply["validation_errors"]["non_field_errors"][0].as_str(),
        Some(expected.as_str())
    );
    let wrong_key = STANDARD.encode(b"not the account key at all, really");
    let (status, reply) = server
        .post_json(
            "/api/storages/azure",
            fields(project, &name, json!({"account_key": wrong_key})),
        )
        .await;
    assert_eq!(
        status, 400,
        "Azurite checks the shared-key signature: {reply}"
    );
    let (status, storage) = server
        .post_json(
            "/api/storages/azure",
            fields(project, &name, json!({"prefix": "data"})),
        )
        .await;
    assert_eq!(status, 201, "{storage}");
    let text = storage.to_string();
    for secret in ["account_name", "account_key", AZURITE_KEY, AZURITE_ACCOUNT] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
}

#[tokio::test]
async fn files_sync_then_sas_and_proxied_media_then_export() {
    let name = container().await;
    let store = backend(&name);
    let server = azure_server();
    let presigned = |resolved: &reqwest::Response| {
        let location = resolved.headers()["location"].to_str().unwrap();
        assert!(
            location.contains("sig=") && location.contains("se="),
            "{location}"
        );
    };
    let mut own = fields(0, &name, json!({}));
    own.as_object_mut().unwrap().remove("project");
    let trip = RoundTrip {
        server: &server,
        slug: "azure",
        fields: own,
        store: &store,
        presigned: Some(&presigned),
    };
    let imported = trip.run().await;
    let location = imported.location.as_deref().expect("a SAS URL");
    let tampered = location.replace("img/a.jpg", "img/b.jpg");
    assert_eq!(
        reqwest::get(&tampered).await.unwrap().status(),
        403,
        "Azurite refuses a SAS for another blob"
    );
    let ranged = server
        .get(&imported.url)
        .header("Range", "bytes=0-3")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(
        ranged.headers()["content-range"],
        "bytes 0-3/15",
        "inclusive, not LS's off-by-one"
    );
    assert_eq!(ranged.text().await.unwrap(), "jpeg");
    trip.delete(&imported).await;
}

/// `azure_spi`: the client-credentials request reaches the token service exactly as Entra ID
/// expects it. What no emulator here can check: Azurite accepts bearer tokens only over HTTPS
/// with `--oauth basic`, so the blob calls made with the token, and the user-delegation SAS, are
/// not exercised against a server (the test shows what Azurite answers and says so).
#[tokio::test]
async fn a_service_principal_asks_entra_for_a_storage_token() {
    let entra = entra::TokenService::start().await;
    let name = container().await;
    let server = Server::start_with(&[
        ("LABELSYNC_AZURE_BLOB_ENDPOINT", endpoint()),
        ("LABELSYNC_AZURE_AUTHORITY_HOST", entra.url.as_str()),
    ]);
    let project = server.project().await;
    let body = |secret: &str| {
        json!({"project": project, "container": name, "account_name": AZURITE_ACCOUNT,
               "tenant_id": entra::TENANT, "client_id": entra::CLIENT_ID, "client_secret": secret})
    };
    let (status, reply) = server
        .post_json("/api/storages/azure_spi", body("wrong-secret"))
        .await;
    assert_eq!(status, 400, "{reply}");
    assert!(!reply.to_string().contains("wrong-secret"), "{reply}");
    let refusal = reply["validation_errors"]["non_field_errors"][0].as_str();
    assert!(
        refusal
            .unwrap_or_default()
            .contains("Invalid client secret"),
        "Entra's words: {reply}"
    );
    let (status, reply) = server
        .post_json("/api/storages/azure_spi", body(entra::CLIENT_SECRET))
        .await;
    let requests = entra.requests();
    let (tenant, form) = requests.last().expect("a token request");
    assert_eq!(tenant, entra::TENANT);
    assert_eq!(
        form.get("grant_type").map(String::as_str),
        Some("client_credentials")
    );
    assert_eq!(
        form.get("scope").map(String::as_str),
        Some("https://storage.azure.com/.default")
    );
    assert_eq!(
        form.get("client_secret").map(String::as_str),
        Some(entra::CLIENT_SECRET)
    );
    // Azurite refuses a bearer token over plain HTTP; real Azure would list the container here.
    let message = reply["validation_errors"]["non_field_errors"][0].as_str();
    assert_eq!(status, 400, "{reply}");
    assert!(
        message
            .unwrap_or_default()
            .contains("with this service principal"),
        "{reply}"
    );
}

/// Event Grid pushing blob events to `/api/object-events` (payloads in Microsoft's documented
/// shape): the subscription handshake is answered, a call without the secret is refused, and a
/// created blob under the prefix becomes a task without a sync, once however often it is sent.
#[tokio::test]
async fn event_grid_blob_events_become_tasks_without_a_sync() {
    const SECRET: &str = "events-secret-0123456789";
    let name = container().await;
    let store = backend(&name);
    store.put("images/seed.png", "png".into()).await.unwrap();
    let server = Server::start_with(&[
        ("LABELSYNC_AZURE_BLOB_ENDPOINT", endpoint()),
        ("LABELSYNC_EVENTS_SECRET", SECRET),
    ]);
    let project = server.project().await;
    let body = fields(
        project,
        &name,
        json!({"prefix": "images", "use_blob_urls": true}),
    );
    let (status, storage) = server.post_json("/api/storages/azure", body).await;
    assert_eq!(status, 201, "{storage}");
    let push = |secret: &str, payload: Value| {
        server
            .http
            .post(server.url(&format!("/api/object-events?secret={secret}")))
            .json(&payload)
            .send()
    };

    let handshake = json!([{"id": "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66", "topic": "/subscriptions/0000",
        "subject": "", "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
        "eventTime": "2026-12-01T00:00:00Z", "metadataVersion": "1", "dataVersion": "1",
        "data": {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
                 "validationUrl": "https://rp-eastus2.eventgrid.azure.net/validate"}}]);
    let (status, answer) = common::json_of(push(SECRET, handshake).await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(
        answer,
        json!({"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"})
    );

    store.put("images/new cat.png", "png".into()).await.unwrap();
    let created = json!([{
        "topic": "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/devstoreaccount1",
        "subject": format!("/blobServices/default/containers/{name}/blobs/images/new cat.png"),
        "eventType": "Microsoft.Storage.BlobCreated", "eventTime": "2026-12-01T00:00:00Z",
        "id": "831e1650-001e-001b-66ab-eeb76e069631", "dataVersion": "", "metadataVersion": "1",
        "data": {"api": "PutBlob", "contentType": "image/png", "contentLength": 3,
                 "blobType": "BlockBlob", "sequencer": "00000000000004420000000000028963",
                 "url": format!("{}/{name}/images/new%20cat.png", endpoint())}}]);
    let refused = push("wrong-secret-0123456789", created.clone())
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert!(
        server.tasks(project).await.is_empty(),
        "a refused push made a task"
    );
    for _ in 0..2 {
        let (status, outcome) = common::json_of(push(SECRET, created.clone()).await.unwrap()).await;
        assert_eq!(status, 200, "{outcome}");
    }
    let tasks = server.tasks(project).await;
    assert_eq!(tasks.len(), 1, "one task, however often the event comes");
    assert_eq!(tasks[0]["storage_filename"], "images/new cat.png");
}
