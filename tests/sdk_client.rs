//! The official `label-studio-sdk` (pinned in `tests/run`) as a client of the real local
//! process: the Python suite in `tests/sdk/` drives projects, tasks, annotations and storages
//! of every type with an emulator here, and checks every response against the SDK's own
//! models. Then this test looks into each target for what the suite exported and deleted.

mod common;
#[path = "common/aws.rs"]
mod common_aws;
#[path = "common/emulators.rs"]
mod emulators;
#[path = "common/places.rs"]
mod places;

use std::process::Command;
use std::time::Instant;

use common::{Server, TOKEN, wait_for_key};
use places::Place;
use serde_json::{Map, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_sdk_works_against_the_local_process() {
    let server = Server::start_with(&[
        ("LABELSYNC_ALLOW_PRIVATE_ENDPOINTS", "true"),
        ("STORAGE_EMULATOR_HOST", &emulators::fake_gcs().endpoint),
        (
            "LABELSYNC_AZURE_BLOB_ENDPOINT",
            &emulators::azurite().endpoint,
        ),
    ]);
    let places = vec![
        places::s3().await,
        places::gcs().await,
        places::azure().await,
        places::redis().await,
        places::local(&server.root).await,
    ];
    let mut stores: Map<String, Value> = places
        .iter()
        .map(|p| (p.slug.to_owned(), p.to_json()))
        .collect();
    stores.insert("paging".into(), places::paged_tasks(&server.root));
    let report = server.root.join("sdk-report.json");

    let started = Instant::now();
    run_python_suite(&server, &Value::Object(stores), &report);
    println!(
        "the SDK suite took {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let report: Value = serde_json::from_slice(&std::fs::read(&report).expect("the report"))
        .expect("the report is JSON");
    for place in &places {
        check_exports(place, &report[place.slug]).await;
    }
}

/// Runs `python -m pytest tests/sdk` with the server and the places in its environment and
/// asserts it passed.
fn run_python_suite(server: &Server, stores: &Value, report: &std::path::Path) {
    let suite = concat!(env!("CARGO_MANIFEST_DIR"), "/sdk");
    let status = Command::new(emulators::venv_bin("python"))
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", suite])
        .env("LABELSYNC_URL", &server.base)
        .env("LABELSYNC_TOKEN", TOKEN)
        .env("LABELSYNC_SDK_STORES", stores.to_string())
        .env("LABELSYNC_SDK_REPORT", report)
        // No __pycache__ in the source tree.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .status()
        .expect("run pytest from the test virtualenv (tests/run installs it)");
    assert!(status.success(), "the SDK suite failed: {status}");
}

/// The annotation the suite kept is in the place's target; the one it deleted is not.
async fn check_exports(place: &Place, report: &Value) {
    let ids = |name: &str| -> Vec<u64> {
        let listed = report[name].as_array().unwrap_or_else(|| {
            panic!(
                "the suite reported no {name} annotations for {}",
                place.slug
            )
        });
        listed.iter().filter_map(Value::as_u64).collect()
    };
    for id in ids("kept") {
        let body = wait_for_key(&*place.target_store, &place.export_key(id), true).await;
        let document: Value = serde_json::from_slice(&body.expect("exported")).expect("JSON");
        assert_eq!(
            document["id"].as_u64(),
            Some(id),
            "{}: {document}",
            place.slug
        );
        assert_eq!(
            document["result"][0]["value"]["choices"][0], "dog",
            "the update"
        );
    }
    for id in ids("deleted") {
        wait_for_key(&*place.target_store, &place.export_key(id), false).await;
    }
}
