//! The round trip every bucket-like storage type makes, written once and run for each (as
//! object_store's one integration suite runs against every backend): objects in the bucket →
//! a Files-mode source storage → sync → the task of an object → its media (a pre-signed
//! redirect fetched, or a proxy stream) → a ranged proxy read → an annotation exported to a
//! target storage and deleted with it → the source storage deleted, its tasks kept. Each type's
//! test file keeps only what is particular to it.

use serde_json::{Value, json};

use super::{Server, merge};
use labelsync::backends::ObjectStore;

/// The objects every round trip starts from; only `img/a.jpg` and `img/b.jpg` are direct
/// children of the storage's `img` prefix (the sync is not recursive).
pub const OBJECTS: [(&str, &str); 3] = [
    ("img/a.jpg", "jpeg bytes of a"),
    ("img/b.jpg", "b"),
    ("img/deep/c.jpg", "c"),
];

/// One storage type's round trip.
pub struct RoundTrip<'a> {
    pub server: &'a Server,
    /// The type slug: `s3`, `gcs`, ...
    pub slug: &'a str,
    /// The type's own fields for a storage on the test bucket (bucket, credentials, host, ...).
    pub fields: Value,
    /// The bucket as the test reaches it directly (to seed it and to see exports).
    pub store: &'a dyn ObjectStore,
    /// Checks of the 303 a pre-signing storage answers, before its URL is fetched; `None` for
    /// a type that always proxies.
    pub presigned: Option<&'a (dyn Fn(&reqwest::Response) + Sync)>,
}

/// What a round trip made, for a type's own checks.
pub struct Imported {
    pub project: u64,
    /// `/api/storages/<type>/<id>`.
    pub storage_path: String,
    /// The task of `img/a.jpg`.
    pub task: Value,
    /// Its media URL (`/tasks/<id>/resolve/?fileuri=…`).
    pub url: String,
    /// The pre-signed URL it redirected to, for a pre-signing type.
    pub location: Option<String>,
}

impl RoundTrip<'_> {
    fn body(&self, project: u64, extra: Value) -> Value {
        let mut body = self.fields.clone();
        merge(&mut body, json!({"project": project}));
        merge(&mut body, extra);
        body
    }

    /// Seeds the bucket, imports it, reads the media both ways and exports an annotation.
    pub async fn run(&self) -> Imported {
        for (key, body) in OBJECTS {
            self.store
                .put(key, body.into())
                .await
                .expect("seed the bucket");
        }
        let server = self.server;
        let project = server.project().await;
        let source = self.body(project, json!({"prefix": "img", "use_blob_urls": true}));
        let (status, storage) = server
            .post_json(&format!("/api/storages/{}", self.slug), source)
            .await;
        assert_eq!(status, 201, "{storage}");
        let storage_path = format!("/api/storages/{}/{}", self.slug, storage["id"]);
        let done = server.sync(&storage_path).await;
        super::assert_synced(&done, "completed", 2);
        let tasks = server.tasks(project).await;
        let task = tasks
            .iter()
            .find(|t| t["storage_filename"] == "img/a.jpg")
            .expect("task of img/a.jpg")
            .clone();
        let url = task["data"]["image"]
            .as_str()
            .expect("media URL")
            .to_owned();
        assert!(
            url.starts_with(&format!("/tasks/{}/resolve/?fileuri=", task["id"])),
            "{url}"
        );
        let location = self.whole_media(&url).await;
        if location.is_some() {
            let (status, _) = server
                .patch_json(&storage_path, json!({"presign": false}))
                .await;
            assert_eq!(status, 200);
        }
        self.ranged_media(&url).await;
        self.export(project, &task).await;
        Imported {
            project,
            storage_path,
            task,
            url,
            location,
        }
    }

    /// The object whole: through its pre-signed URL (returned), or proxied.
    async fn whole_media(&self, url: &str) -> Option<String> {
        let Some(check) = self.presigned else {
            let whole = self.server.get(url).send().await.expect("proxied read");
            assert_eq!(whole.status(), 200);
            assert_eq!(whole.text().await.unwrap(), "jpeg bytes of a");
            return None;
        };
        let resolved = self.server.get_redirect(url).await;
        check(&resolved);
        let location = resolved.headers()["location"].to_str().unwrap().to_owned();
        let fetched = reqwest::get(&location).await.expect("fetch the URL");
        assert_eq!(fetched.status(), 200, "{location}");
        assert_eq!(fetched.text().await.unwrap(), "jpeg bytes of a");
        Some(location)
    }

    /// Bytes 5-9 through the proxy, with HTTP's range headers.
    async fn ranged_media(&self, url: &str) {
        let ranged = self
            .server
            .get(url)
            .header("Range", "bytes=5-9")
            .send()
            .await
            .expect("ranged read");
        assert_eq!(ranged.status(), 206);
        assert_eq!(ranged.headers()["content-range"], "bytes 5-9/15");
        assert_eq!(ranged.headers()["accept-ranges"], "bytes");
        let cache = ranged.headers()["cache-control"].to_str().unwrap();
        assert!(cache.starts_with("private"), "{cache}");
        assert_eq!(ranged.text().await.unwrap(), "bytes");
    }

    /// A target storage on the same bucket under `out/`: an annotation is written and deleted.
    async fn export(&self, project: u64, task: &Value) {
        let target = self.body(
            project,
            json!({"prefix": "out", "can_delete_objects": true}),
        );
        let (status, export) = self
            .server
            .post_json(&format!("/api/storages/export/{}", self.slug), target)
            .await;
        assert_eq!(status, 201, "{export}");
        let task = task["id"].as_u64().expect("task id");
        super::annotation_export_round_trip(self.server, task, self.store, "out").await;
    }

    /// Deletes the source storage: it is gone, its tasks stay.
    pub async fn delete(&self, imported: &Imported) {
        let deleted = self
            .server
            .delete(&imported.storage_path)
            .send()
            .await
            .expect("delete");
        assert_eq!(deleted.status(), 204);
        let (status, _) = self.server.get_json(&imported.storage_path).await;
        assert_eq!(status, 404);
        assert_eq!(self.server.tasks(imported.project).await.len(), 2);
    }
}
