//! The test harness: a real `labelsync` process on a free loopback port, with its own data
//! directory and document root, driven over real HTTP.

#![allow(dead_code)]

pub mod round_trip;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const TOKEN: &str = "test-token-0123456789";

/// One running `labelsync` and the directories it owns.
pub struct Server {
    child: Option<Child>,
    pub base: String,
    pub http: reqwest::Client,
    /// `LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT`.
    pub root: PathBuf,
    data_dir: PathBuf,
    /// What the process printed before it listened (the start-up log).
    pub startup_output: Vec<String>,
    extra_env: Vec<(String, String)>,
    _dirs: tempfile::TempDir,
}

impl Server {
    /// Starts a server with local-files serving enabled below a fresh document root.
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    pub fn start_with(env: &[(&str, &str)]) -> Server {
        let dirs = tempfile::tempdir().expect("tempdir");
        let root = dirs.path().join("root");
        std::fs::create_dir_all(&root).expect("document root");
        let mut server = Server {
            child: None,
            base: String::new(),
            http: reqwest::Client::new(),
            root,
            data_dir: dirs.path().join("data"),
            startup_output: Vec::new(),
            extra_env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            _dirs: dirs,
        };
        server.spawn();
        server
    }

    /// A server in this test's own runtime, every backend through `layer` (fault injection),
    /// on a fresh data directory and document root. Ends with the test's runtime.
    pub async fn in_process(
        env: &[(&str, &str)],
        layer: labelsync::context::BackendLayer,
    ) -> Server {
        let dirs = tempfile::tempdir().expect("tempdir");
        let root = dirs.path().join("root");
        std::fs::create_dir_all(&root).expect("document root");
        let data_dir = dirs.path().join("data");
        let mut vars: std::collections::HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for (name, value) in [
            ("LABELSYNC_ADDR", "127.0.0.1:0".to_owned()),
            ("LABELSYNC_DATA_DIR", data_dir.display().to_string()),
            ("LABELSYNC_API_TOKEN", TOKEN.to_owned()),
            (
                "LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED",
                "true".to_owned(),
            ),
            (
                "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT",
                root.display().to_string(),
            ),
        ] {
            vars.entry(name.to_owned()).or_insert(value);
        }
        let env = move |name: &str| vars.get(name).cloned();
        let config = labelsync_local::LocalConfig::from_env(&env).expect("configuration");
        let running = labelsync_local::start(config, Some(layer))
            .await
            .expect("start the process");
        Server {
            child: None,
            base: format!("http://{}", running.addr),
            http: reqwest::Client::new(),
            root,
            data_dir,
            startup_output: Vec::new(),
            extra_env: Vec::new(),
            _dirs: dirs,
        }
    }

    fn spawn(&mut self) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_labelsync-test-server"));
        command
            .env("LABELSYNC_ADDR", "127.0.0.1:0")
            .env("LABELSYNC_DATA_DIR", &self.data_dir)
            .env("LABELSYNC_API_TOKEN", TOKEN)
            .env("LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED", "true")
            .env("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT", &self.root)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in &self.extra_env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("start labelsync-test-server");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("server exited before listening")
                .expect("read stdout");
            if let Some(addr) = line.strip_prefix("labelsync listening on ") {
                break addr.trim().to_owned();
            }
            self.startup_output.push(line);
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        self.base = addr;
        self.child = Some(child);
    }

    /// Kills the process at once (SIGKILL: no graceful shutdown, like a crash).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The server's peak resident memory so far (`VmHWM`), KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let pid = self.child.as_ref()?.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Sets (or, with `None`, removes) a variable for the next start.
    pub fn set_env(&mut self, name: &str, value: Option<&str>) {
        self.extra_env.retain(|(k, _)| k != name);
        if let Some(value) = value {
            self.extra_env.push((name.to_owned(), value.to_owned()));
        }
    }

    /// Kills and starts again on the same data directory (a new port).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// The data directory (store file, generated token).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Whether the process is still running.
    pub fn is_alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// A request with another token than the admin's: `(status, JSON or Null)`.
    pub async fn send_as(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, self.url(path))
            .header("Authorization", format!("Token {token}"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        json_of(request.send().await.expect("the server answers")).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(self.url(path))
            .header("Authorization", format!("Token {TOKEN}"))
    }

    pub fn post(&self, path: &str, body: Value) -> reqwest::RequestBuilder {
        self.http
            .post(self.url(path))
            .header("Authorization", format!("Token {TOKEN}"))
            .json(&body)
    }

    pub fn patch(&self, path: &str, body: Value) -> reqwest::RequestBuilder {
        self.http
            .patch(self.url(path))
            .header("Authorization", format!("Token {TOKEN}"))
            .json(&body)
    }

    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .delete(self.url(path))
            .header("Authorization", format!("Token {TOKEN}"))
    }

    /// GET returning (status, JSON body or Null).
    /// GET `path` with the token, not following redirects; asserts a 303 and returns it.
    pub async fn get_redirect(&self, path: &str) -> reqwest::Response {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        let response = client
            .get(self.url(path))
            .header("Authorization", format!("Token {TOKEN}"))
            .send()
            .await
            .expect("the server answers");
        assert_eq!(response.status(), 303, "{path} redirects");
        response
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        json_of(self.get(path).send().await.expect("GET")).await
    }

    pub async fn post_json(&self, path: &str, body: Value) -> (u16, Value) {
        json_of(self.post(path, body).send().await.expect("POST")).await
    }

    pub async fn patch_json(&self, path: &str, body: Value) -> (u16, Value) {
        json_of(self.patch(path, body).send().await.expect("PATCH")).await
    }

    /// A project whose label config names `$image` (so Files-mode data shows as `image`).
    pub async fn project(&self) -> u64 {
        let config = r#"<View><Image name="img" value="$image"/><Choices name="c" toName="img"><Choice value="a"/></Choices></View>"#;
        let (status, body) = self
            .post_json(
                "/api/projects",
                json!({"title": "p", "label_config": config}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_u64().expect("project id")
    }

    /// A project with one task (a file synced from `in/`) and a local-files target storage
    /// writing into `out/`: `(project, task, out)`.
    pub async fn task_with_local_target(&self) -> (u64, u64, PathBuf) {
        let project = self.project().await;
        let dir = self.dir("in");
        write(&dir.join("a.png"), "png");
        let storage = self
            .local_import(project, &dir, json!({"use_blob_urls": true}))
            .await;
        self.sync(&format!("/api/storages/localfiles/{}", storage["id"]))
            .await;
        let task = self.tasks(project).await[0]["id"]
            .as_u64()
            .expect("task id");
        let out = self.dir("out");
        self.local_export(project, &out, json!({})).await;
        (project, task, out)
    }

    /// Creates a target storage writing into `path`, with extra fields; returns its JSON.
    pub async fn local_export(&self, project: u64, path: &Path, fields: Value) -> Value {
        let mut body = json!({"project": project, "path": path});
        merge(&mut body, fields);
        let (status, target) = self
            .post_json("/api/storages/export/localfiles", body)
            .await;
        assert_eq!(status, 201, "{target}");
        target
    }

    /// Annotates `task` with one choice; returns the annotation's JSON.
    pub async fn annotate(&self, task: u64) -> Value {
        let result = json!([{"type": "choices", "value": {"choices": ["a"]}}]);
        let (status, annotation) = self
            .post_json(
                &format!("/api/tasks/{task}/annotations"),
                json!({"result": result}),
            )
            .await;
        assert_eq!(status, 201, "{annotation}");
        annotation
    }

    /// A directory below the document root, created.
    pub fn dir(&self, name: &str) -> PathBuf {
        let dir = self.root.join(name);
        std::fs::create_dir_all(&dir).expect("create dir");
        dir
    }

    /// Creates an import storage on `path` with extra fields; returns its JSON.
    pub async fn local_import(&self, project: u64, path: &Path, fields: Value) -> Value {
        let mut body = json!({"project": project, "path": path, "title": "local"});
        merge(&mut body, fields);
        let (status, storage) = self.post_json("/api/storages/localfiles", body).await;
        assert_eq!(status, 201, "{storage}");
        storage
    }

    /// Starts a sync and waits until it has a final status; returns the storage JSON.
    pub async fn sync(&self, storage_path: &str) -> Value {
        let (status, body) = self
            .post_json(&format!("{storage_path}/sync"), json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
        self.wait_final(storage_path).await
    }

    /// Polls a storage until its status is final (120 s at most).
    pub async fn wait_final(&self, storage_path: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let (status, body) = self.get_json(storage_path).await;
            assert_eq!(status, 200, "{body}");
            if matches!(
                body["status"].as_str(),
                Some("completed" | "completed_with_errors" | "failed")
            ) {
                return body;
            }
            assert!(Instant::now() < deadline, "sync did not finish: {body}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every task of a project, following pages.
    pub async fn tasks(&self, project: u64) -> Vec<Value> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let (status, body) = self
                .get_json(&format!(
                    "/api/tasks?project={project}&page={page}&page_size=1000"
                ))
                .await;
            assert_eq!(status, 200, "{body}");
            let tasks = body["tasks"].as_array().expect("tasks").clone();
            let done = tasks.len() < 1000;
            out.extend(tasks);
            if done {
                return out;
            }
            page += 1;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A benchmark's size from the environment variable `name`, else `default`.
pub fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Adds `extra`'s keys to `base`.
pub fn merge(base: &mut Value, extra: Value) {
    if let (Some(base), Value::Object(extra)) = (base.as_object_mut(), extra) {
        base.extend(extra);
    }
}

/// Writes a file, creating its directories.
pub fn write(path: &Path, content: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("parent dirs");
    }
    std::fs::write(path, content).expect("write file");
}

/// Waits (30 s at most) until `key` exists in `store` (`present`) or is gone; returns its bytes
/// if present.
pub async fn wait_for_key(
    store: &dyn labelsync::backends::ObjectStore,
    key: &str,
    present: bool,
) -> Option<Vec<u8>> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = match store.get(key, None).await {
            Ok(got) => Some(got.bytes().await.expect("object body").to_vec()),
            Err(_) => None,
        };
        if got.is_some() == present {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "{key} never became {}",
            if present { "present" } else { "absent" }
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Annotates `task`, checks that a target storage with `can_delete_objects` wrote it to `store`
/// under `<prefix>/<annotation id>` (`<id>` with no prefix), then deletes the annotation and
/// checks the object goes with it.
pub async fn annotation_export_round_trip(
    server: &Server,
    task: u64,
    store: &dyn labelsync::backends::ObjectStore,
    prefix: &str,
) {
    let result = json!([{"from_name": "c", "to_name": "img", "type": "choices", "value": {"choices": ["a"]}}]);
    let (status, annotation) = server
        .post_json(
            &format!("/api/tasks/{task}/annotations"),
            json!({"result": result}),
        )
        .await;
    assert_eq!(status, 201, "{annotation}");
    let id = &annotation["id"];
    let key = if prefix.is_empty() {
        id.to_string()
    } else {
        format!("{prefix}/{id}")
    };
    let exported = wait_for_key(store, &key, true).await.expect("exported");
    let document: Value = serde_json::from_slice(&exported).expect("export JSON");
    assert_eq!(
        (&document["result"], document["task"]["id"].as_u64()),
        (&result, Some(task))
    );
    let deleted = server
        .delete(&format!("/api/annotations/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert!(wait_for_key(store, &key, false).await.is_none());
}

/// A fresh 2048-bit RSA private key in PEM, made by `openssl` (for service-account key files).
pub fn rsa_private_key_pem() -> String {
    let key = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ])
        .output()
        .expect("openssl makes a test key");
    assert!(key.status.success(), "openssl genpkey failed");
    String::from_utf8(key.stdout).expect("PEM is text")
}

/// A storage's final status and task count after a sync, as one assertion that shows the
/// storage when it fails.
pub fn assert_synced(storage: &Value, status: &str, count: u64) {
    assert_eq!(
        (
            storage["status"].as_str(),
            storage["last_sync_count"].as_u64()
        ),
        (Some(status), Some(count)),
        "{storage}"
    );
}
