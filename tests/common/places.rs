//! One place per storage type that has an emulator here (a bucket, a container, Redis
//! databases, a directory), seeded with the same objects, with the fields a client gives to
//! reach it and a way for the test to look inside.

use std::sync::Arc;

use labelsync::backends::ObjectStore;
use labelsync::connectors::azure::backend::{AzureAuth, AzureBackend, ContainerTarget};
use labelsync::connectors::gcs::backend::{ClientSource, GcsBackend};
use labelsync::connectors::redis::backend::{RedisBackend, RedisTarget};
use labelsync::connectors::s3::backend::S3Backend;
use labelsync::egress::{EgressPolicy, Guard};
use serde_json::{Value, json};

use crate::common_aws;
use crate::emulators::{self, AZURITE_ACCOUNT, AZURITE_KEY, REDIS_PASSWORD};

/// The objects every place starts with: two direct children of `img/`.
pub const OBJECTS: [&str; 2] = ["img/a.jpg", "img/b.jpg"];

/// A storage type's place.
pub struct Place {
    pub slug: &'static str,
    /// Fields every storage on the place has (bucket, credentials, host, ...), as the SDK's
    /// keyword arguments.
    pub connection: Value,
    /// Fields of a source storage on the objects, and of a target storage writing into `target`.
    pub source: Value,
    pub target: Value,
    /// What a target storage writes is at `<target_prefix>/<annotation id>` (or `<id>`) here.
    pub target_store: Arc<dyn ObjectStore>,
    pub target_prefix: Option<&'static str>,
}

impl Place {
    /// The key an exported annotation has in the target.
    pub fn export_key(&self, annotation: u64) -> String {
        match self.target_prefix {
            Some(prefix) => format!("{prefix}/{annotation}"),
            None => annotation.to_string(),
        }
    }

    /// The JSON the SDK suite reads.
    pub fn to_json(&self) -> Value {
        json!({"connection": self.connection, "source": self.source, "target": self.target})
    }
}

async fn seed(store: &dyn ObjectStore) {
    for key in OBJECTS {
        store
            .put(key, key.as_bytes().to_vec().into())
            .await
            .expect("seed");
    }
}

/// A bucket-like place: one store holds the objects (`img/`) and the exports (`out/`).
async fn bucket_place(slug: &'static str, connection: Value, store: Arc<dyn ObjectStore>) -> Place {
    seed(&*store).await;
    Place {
        slug,
        connection,
        source: json!({"prefix": "img"}),
        target: json!({"prefix": "out"}),
        target_store: store,
        target_prefix: Some("out"),
    }
}

pub async fn s3() -> Place {
    let client = common_aws::moto_s3(&common_aws::moto_sdk().await);
    let bucket = emulators::unique("sdk-bucket");
    client
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create bucket");
    let connection = json!({"bucket": bucket, "s3endpoint": emulators::moto().endpoint,
        "region_name": "us-east-1", "aws_access_key_id": "test", "aws_secret_access_key": "test"});
    bucket_place("s3", connection, Arc::new(S3Backend::new(client, bucket))).await
}

/// GCS on fake-gcs-server; the server must have `STORAGE_EMULATOR_HOST` set to it.
pub async fn gcs() -> Place {
    let endpoint = emulators::fake_gcs().endpoint.clone();
    let bucket = emulators::unique("sdk-gcs");
    let created = reqwest::Client::new()
        .post(format!("{endpoint}/storage/v1/b?project=test"))
        .json(&json!({"name": bucket}))
        .send()
        .await
        .expect("create bucket");
    assert!(created.status().is_success(), "{}", created.status());
    let store = GcsBackend::new(ClientSource::Emulator(endpoint), &bucket, None);
    bucket_place("gcs", json!({"bucket": bucket}), Arc::new(store)).await
}

/// Azure on Azurite; the server must have `LABELSYNC_AZURE_BLOB_ENDPOINT` set to it.
pub async fn azure() -> Place {
    let container = emulators::azurite_container().await;
    let target = ContainerTarget {
        account_name: AZURITE_ACCOUNT,
        auth: AzureAuth::AccountKey(AZURITE_KEY),
        container: &container,
        endpoint: Some(&emulators::azurite().endpoint),
    };
    let store = AzureBackend::new(&target).expect("Azure backend");
    let connection = json!({"container": container, "account_name": AZURITE_ACCOUNT,
        "account_key": AZURITE_KEY});
    bucket_place("azure", connection, Arc::new(store)).await
}

fn redis_db(db: u16) -> RedisBackend {
    let endpoint = &emulators::redis().endpoint;
    let target = RedisTarget {
        // The test's own emulator, on loopback.
        guard: Guard::new(EgressPolicy::allow_all()),
        host: "127.0.0.1",
        port: endpoint.rsplit(':').next().unwrap().parse().unwrap(),
        password: Some(REDIS_PASSWORD),
        db,
    };
    RedisBackend::new(&target).expect("Redis backend")
}

/// Redis: two tasks in database 1 (Redis storages read every value as tasks, as Label
/// Studio's do), exports (keyed by annotation id alone) in database 2.
pub async fn redis() -> Place {
    let source = redis_db(1);
    for key in ["img/a", "img/b"] {
        let task = json!({"image": format!("https://example.com/{key}.jpg")});
        source
            .put(key, task.to_string().into_bytes().into())
            .await
            .expect("seed");
    }
    let port = emulators::redis()
        .endpoint
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    Place {
        slug: "redis",
        connection: json!({"host": "127.0.0.1", "port": port, "password": REDIS_PASSWORD}),
        source: json!({"db": 1, "path": "img/"}),
        target: json!({"db": 2}),
        target_store: Arc::new(redis_db(2)),
        target_prefix: None,
    }
}

/// Local files below the server's document root `root`: the objects in `sdk/in/img`, exports
/// in `sdk/out`.
pub async fn local(root: &std::path::Path) -> Place {
    use labelsync::connectors::localfiles::LocalBackend;
    let (objects, out) = (root.join("sdk/in"), root.join("sdk/out"));
    std::fs::create_dir_all(&out).expect("create the export directory");
    seed(&LocalBackend::new(objects.clone())).await;
    Place {
        slug: "localfiles",
        connection: json!({}),
        source: json!({"path": objects.join("img")}),
        target: json!({"path": out}),
        target_store: Arc::new(LocalBackend::new(out)),
        target_prefix: None,
    }
}

/// A Tasks-mode source of 25 tasks, 5 with a prediction, below `root` (the SDK suite's paging).
pub fn paged_tasks(root: &std::path::Path) -> Value {
    let tasks: Vec<Value> = (0..25)
        .map(|n| {
            let mut task = json!({"data": {"image": format!("https://example.com/{n}.jpg")}});
            if n % 5 == 0 {
                let result = json!([{"from_name": "c", "to_name": "img", "type": "choices",
                                     "value": {"choices": ["cat"]}}]);
                task["predictions"] = json!([{"result": result, "score": 0.5}]);
            }
            task
        })
        .collect();
    let dir = root.join("sdk/paging");
    crate::common::write(&dir.join("tasks.json"), Value::Array(tasks).to_string());
    json!({"path": dir, "use_blob_urls": false})
}
