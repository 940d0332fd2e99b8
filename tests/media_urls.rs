//! Media a browser can load: the URLs in task data carry a signature that opens exactly that
//! object of that task, without an `Authorization` header, until it expires; keys rotate
//! without breaking live URLs; CORS follows `LABELSYNC_CORS_ORIGINS`; and a stalled storage
//! cannot hold a proxied read open past `RESOLVER_PROXY_TIMEOUT`. All through the real local
//! process over real HTTP.

mod common;
#[path = "common/aws.rs"]
mod common_aws;
#[path = "common/emulators.rs"]
mod emulators;
#[path = "common/faults.rs"]
mod faults;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{Server, TOKEN, write};
use labelsync::backends::failure::{Fault, Operation, Rule};
use serde_json::{Value, json};

const OLD_KEY: &str = "old-media-key-0123456789abcdefghijklmnop";
const NEW_KEY: &str = "new-media-key-0123456789abcdefghijklmnop";

/// GET `url` (relative to `server`) with no header at all, as an `<img>` would.
async fn bare_get(server: &Server, url: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(server.url(url))
        .send()
        .await
        .expect("the server answers")
}

async fn bare_status(server: &Server, url: &str) -> u16 {
    bare_get(server, url).await.status().as_u16()
}

/// The 403 of a bad signature, in Label Studio's error shape.
async fn assert_forbidden(server: &Server, url: &str) {
    let (status, body) = common::json_of(bare_get(server, url).await).await;
    assert_eq!(status, 403, "{url}: {body}");
    assert_eq!(body["status_code"], 403, "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
}

/// `url` with query parameter `name` set to `value` (replaced, or appended).
fn with_param(url: &str, name: &str, value: &str) -> String {
    let (path, query) = url.split_once('?').expect("a query");
    let mut replaced = false;
    let mut pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((n, _)) if n == name => {
                replaced = true;
                format!("{name}={value}")
            }
            _ => pair.to_owned(),
        })
        .collect();
    if !replaced {
        pairs.push(format!("{name}={value}"));
    }
    format!("{path}?{}", pairs.join("&"))
}

fn param<'a>(url: &'a str, name: &str) -> &'a str {
    url.split_once('?')
        .expect("a query")
        .1
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{url} has no {name}"))
}

/// The signature with its last character changed.
fn tampered(url: &str) -> String {
    let sig = param(url, "sig");
    let last = if sig.ends_with('A') { "B" } else { "A" };
    with_param(url, "sig", &format!("{}{last}", &sig[..sig.len() - 1]))
}

/// A project with a Files-mode local-files storage over `names` (each file's content is its
/// name), synced: `(project, media URL by file name)`.
async fn local_files_tasks(
    server: &Server,
    dir: &str,
    names: &[&str],
) -> (u64, Vec<(String, String)>) {
    let project = server.project().await;
    let path = server.dir(dir);
    for name in names {
        write(&path.join(name), name);
    }
    let storage = server
        .local_import(project, &path, json!({"use_blob_urls": true}))
        .await;
    server
        .sync(&format!("/api/storages/localfiles/{}", storage["id"]))
        .await;
    let urls = server
        .tasks(project)
        .await
        .iter()
        .map(|task| {
            let url = task["data"]["image"]
                .as_str()
                .expect("media URL")
                .to_owned();
            let name = task["storage_filename"].as_str().unwrap();
            let name = name.rsplit('/').next().unwrap().to_owned();
            (name, url)
        })
        .collect();
    (project, urls)
}

fn url_of<'a>(urls: &'a [(String, String)], name: &str) -> &'a str {
    &urls
        .iter()
        .find(|(n, _)| n == name)
        .expect("a task of the file")
        .1
}

#[tokio::test]
async fn local_files_urls_from_task_data_load_without_a_header_and_nothing_else() {
    let server = Server::start();
    let (_, urls) = local_files_tasks(&server, "media", &["a.png", "b.png"]).await;
    let a = url_of(&urls, "a.png");
    let b = url_of(&urls, "b.png");
    assert!(
        a.starts_with("/data/local-files/?d=media/a.png&task="),
        "{a}"
    );

    let loaded = bare_get(&server, a).await;
    assert_eq!(loaded.status(), 200, "{a}");
    assert_eq!(loaded.headers()["content-type"], "image/png");
    assert_eq!(loaded.text().await.unwrap(), "a.png");
    let ranged = reqwest::Client::new()
        .get(server.url(a))
        .header("Range", "bytes=1-2")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), 206);

    assert_forbidden(&server, &tampered(a)).await;
    // A's signature does not open B's file, nor A's file as task B's.
    assert_forbidden(&server, &with_param(a, "d", "media/b.png")).await;
    assert_forbidden(&server, &with_param(a, "task", param(b, "task"))).await;
    assert_forbidden(
        &server,
        &with_param(
            a,
            "exp",
            &(param(a, "exp").parse::<u64>().unwrap() + 1).to_string(),
        ),
    )
    .await;
    // No signature and no token: 401, as before; a token needs no signature.
    let unsigned = "/data/local-files/?d=media/a.png";
    assert_eq!(bare_status(&server, unsigned).await, 401);
    assert_eq!(bare_status(&server, &with_param(a, "sig", "")).await, 403);
    let with_token = server.get(unsigned).send().await.unwrap();
    assert_eq!(with_token.status(), 200);
    // A signature opens media routes only.
    let task = param(a, "task");
    let api = format!(
        "/api/tasks/{task}?exp={}&sig={}",
        param(a, "exp"),
        param(a, "sig")
    );
    assert_eq!(bare_status(&server, &api).await, 401);
}

#[tokio::test]
async fn the_generated_key_is_private_and_survives_a_restart() {
    use std::os::unix::fs::PermissionsExt;
    let mut server = Server::start();
    let (_, urls) = local_files_tasks(&server, "kept", &["a.png"]).await;
    let url = url_of(&urls, "a.png").to_owned();
    let key_file = server.data_dir().join("media_signing_key");
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let key = std::fs::read_to_string(&key_file).unwrap();
    assert!(key.len() >= 32 && !server.startup_output.join("\n").contains(&key));
    server.restart();
    assert_eq!(bare_status(&server, &url).await, 200, "{url}");
}

async fn s3_bucket(objects: &[(&str, &str)]) -> String {
    let client = common_aws::moto_s3(&common_aws::moto_sdk().await);
    common_aws::bucket_with_objects(&client, objects).await
}

/// An S3 storage on moto (streamed through labelsync unless `presign`), synced: the media URLs
/// of its tasks by key.
async fn s3_tasks(
    server: &Server,
    bucket: &str,
    title: &str,
    presign: bool,
) -> Vec<(String, String)> {
    let project = server.project().await;
    let (status, storage) = server
        .post_json(
            "/api/storages/s3",
            json!({"project": project, "title": title, "bucket": bucket, "use_blob_urls": true,
                   "presign": presign, "s3_endpoint": emulators::moto().endpoint,
                   "region_name": "us-east-1", "aws_access_key_id": "test",
                   "aws_secret_access_key": "test"}),
        )
        .await;
    assert_eq!(status, 201, "{storage}");
    let synced = server
        .sync(&format!("/api/storages/s3/{}", storage["id"]))
        .await;
    assert_eq!(synced["status"], "completed", "{synced}");
    server
        .tasks(project)
        .await
        .iter()
        .map(|task| {
            let key = task["storage_filename"].as_str().unwrap().to_owned();
            (key, task["data"]["image"].as_str().unwrap().to_owned())
        })
        .collect()
}

fn fileuri(uri: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE.encode(uri)
}

#[tokio::test]
async fn proxied_s3_urls_load_without_a_header_for_their_task_only() {
    let server = Server::start_with(&[("LABELSYNC_ALLOW_PRIVATE_ENDPOINTS", "true")]);
    let bucket = s3_bucket(&[("a.jpg", "bytes of a"), ("b.jpg", "bytes of b")]).await;
    let urls = s3_tasks(&server, &bucket, "proxied", false).await;
    let a = url_of(&urls, "a.jpg");
    let b = url_of(&urls, "b.jpg");
    assert!(
        a.contains("/resolve/?fileuri=") && a.contains("&sig="),
        "{a}"
    );

    let loaded = bare_get(&server, a).await;
    assert_eq!(loaded.status(), 200, "{a}");
    assert_eq!(loaded.text().await.unwrap(), "bytes of a");

    assert_forbidden(&server, &tampered(a)).await;
    // A's signature on B's task, and on another object of A's task.
    let task_a = a.split('/').nth(2).unwrap();
    let task_b = b.split('/').nth(2).unwrap();
    assert_forbidden(
        &server,
        &a.replace(&format!("/tasks/{task_a}/"), &format!("/tasks/{task_b}/")),
    )
    .await;
    let other_object = fileuri(&format!("s3://{bucket}/b.jpg"));
    assert_forbidden(&server, &with_param(a, "fileuri", &other_object)).await;
    assert_forbidden(&server, &a.replace("/resolve/", "/presign/")).await;
    let project_route = format!("/projects/1/resolve/?{}", a.split_once('?').unwrap().1);
    assert_forbidden(&server, &project_route).await;
    // Without a signature nothing changed: 401 bare, 200 with the token.
    let unsigned = a.split('&').next().unwrap();
    assert_eq!(bare_status(&server, unsigned).await, 401);
    assert_eq!(server.get(unsigned).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn presigned_s3_urls_redirect_without_a_header() {
    let server = Server::start_with(&[("LABELSYNC_ALLOW_PRIVATE_ENDPOINTS", "true")]);
    let bucket = s3_bucket(&[("a.jpg", "bytes of a")]).await;
    let urls = s3_tasks(&server, &bucket, "presigned", true).await;
    let resolved = bare_get(&server, url_of(&urls, "a.jpg")).await;
    assert_eq!(resolved.status(), 303);
    let location = resolved.headers()["location"].to_str().unwrap();
    assert_eq!(
        reqwest::get(location).await.unwrap().text().await.unwrap(),
        "bytes of a"
    );
}

#[tokio::test]
async fn expired_urls_answer_403_and_a_new_read_signs_afresh() {
    let server = Server::start_with(&[("LABELSYNC_MEDIA_URL_TTL_SECONDS", "2")]);
    let (project, urls) = local_files_tasks(&server, "brief", &["a.png"]).await;
    let url = url_of(&urls, "a.png").to_owned();
    assert_eq!(bare_status(&server, &url).await, 200);
    let expires: u64 = param(&url, "exp").parse().unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let until_expired = expires as f64 + 1.2 - now;
    assert!(
        until_expired < 10.0,
        "the URL lives for the TTL, not longer: {url}"
    );
    tokio::time::sleep(Duration::from_secs_f64(until_expired.max(0.0))).await;
    assert_forbidden(&server, &url).await;
    let fresh = server.tasks(project).await[0]["data"]["image"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(bare_status(&server, &fresh).await, 200, "{fresh}");
}

#[tokio::test]
async fn rotated_keys_keep_live_urls_until_the_old_key_goes() {
    let mut server = Server::start_with(&[("LABELSYNC_MEDIA_SIGNING_KEYS", OLD_KEY)]);
    let (project, urls) = local_files_tasks(&server, "rotate", &["a.png"]).await;
    let old_url = url_of(&urls, "a.png").to_owned();
    assert_eq!(bare_status(&server, &old_url).await, 200);

    server.set_env(
        "LABELSYNC_MEDIA_SIGNING_KEYS",
        Some(&format!("{NEW_KEY},{OLD_KEY}")),
    );
    server.restart();
    assert_eq!(
        bare_status(&server, &old_url).await,
        200,
        "the old key still verifies"
    );
    let new_url = server.tasks(project).await[0]["data"]["image"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(param(&new_url, "sig"), param(&old_url, "sig"));
    assert_eq!(bare_status(&server, &new_url).await, 200);

    server.set_env("LABELSYNC_MEDIA_SIGNING_KEYS", Some(NEW_KEY));
    server.restart();
    assert_forbidden(&server, &old_url).await;
    assert_eq!(
        bare_status(&server, &new_url).await,
        200,
        "the new key signed it"
    );
    let (_, body) = common::json_of(bare_get(&server, &old_url).await).await;
    assert!(!body.to_string().contains("media-key"), "{body}");
}

#[tokio::test]
async fn a_short_signing_key_stops_the_start_without_showing_it() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_labelsync-test-server"))
        .env("LABELSYNC_ADDR", "127.0.0.1:0")
        .env("LABELSYNC_DATA_DIR", tempfile::tempdir().unwrap().path())
        .env(
            "LABELSYNC_MEDIA_SIGNING_KEYS",
            format!("{OLD_KEY},tooshort-secret"),
        )
        .output()
        .expect("run the server");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("LABELSYNC_MEDIA_SIGNING_KEYS"), "{stderr}");
    assert!(
        !stderr.contains("tooshort-secret") && !stderr.contains(OLD_KEY),
        "{stderr}"
    );
}

async fn preflight(server: &Server, path: &str, origin: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, server.url(path))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn cors_follows_the_allowed_origins() {
    const APP: &str = "https://app.example.com";
    let server = Server::start_with(&[(
        "LABELSYNC_CORS_ORIGINS",
        &format!("{APP}, http://other.example:8080"),
    )]);
    let (_, urls) = local_files_tasks(&server, "cors", &["a.png"]).await;
    for path in [
        "/api/projects",
        "/api/projects/",
        "/data/local-files/",
        "/tasks/1/resolve/",
    ] {
        let answered = preflight(&server, path, APP).await;
        assert!(
            matches!(answered.status().as_u16(), 200 | 204),
            "{path}: {}",
            answered.status()
        );
        assert_eq!(
            header(&answered, "access-control-allow-origin"),
            Some(APP),
            "{path}"
        );
        let methods = header(&answered, "access-control-allow-methods").unwrap_or_default();
        assert!(
            methods.contains("POST") && methods.contains("GET"),
            "{methods}"
        );
        let headers = header(&answered, "access-control-allow-headers")
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(
            headers.contains("authorization") && headers.contains("content-type"),
            "{headers}"
        );
        assert!(
            header(&answered, "access-control-max-age").is_some(),
            "{path}"
        );
    }
    let refused = preflight(&server, "/api/projects", "https://evil.example").await;
    assert_eq!(header(&refused, "access-control-allow-origin"), None);

    let simple = server
        .get("/api/projects")
        .header("Origin", APP)
        .send()
        .await
        .unwrap();
    assert_eq!(simple.status(), 200);
    assert_eq!(header(&simple, "access-control-allow-origin"), Some(APP));
    let media = reqwest::Client::new()
        .get(server.url(url_of(&urls, "a.png")))
        .header("Origin", APP)
        .send()
        .await
        .unwrap();
    assert_eq!(media.status(), 200);
    assert_eq!(header(&media, "access-control-allow-origin"), Some(APP));
    let other = server
        .get("/api/projects")
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&other, "access-control-allow-origin"), None);
    // The token check still holds for requests that are not preflights.
    let no_token = reqwest::Client::new()
        .get(server.url("/api/projects"))
        .header("Origin", APP)
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 401);
}

#[tokio::test]
async fn cors_any_origin_and_no_cors_when_unset() {
    let any = Server::start_with(&[("LABELSYNC_CORS_ORIGINS", "*")]);
    let answered = preflight(&any, "/api/tasks", "https://anywhere.example").await;
    assert!(matches!(answered.status().as_u16(), 200 | 204));
    assert_eq!(header(&answered, "access-control-allow-origin"), Some("*"));

    let unset = Server::start();
    let answered = preflight(&unset, "/api/projects", "https://app.example.com").await;
    assert!(
        !answered.status().is_success(),
        "no CORS: a preflight is an unauthenticated request"
    );
    assert_eq!(header(&answered, "access-control-allow-origin"), None);
    let simple = unset
        .get("/api/projects")
        .header("Origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(simple.status(), 200);
    assert!(
        simple
            .headers()
            .keys()
            .all(|k| !k.as_str().starts_with("access-control-")),
        "{:?}",
        simple.headers()
    );
}

/// A storage that answers and then stops sending, or never answers: the proxied read ends
/// within `RESOLVER_PROXY_TIMEOUT` instead of holding the response open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_storage_cannot_hold_a_proxied_read_open() {
    let faults = faults::Faults::new();
    faults.on(
        "stalls",
        Rule::always(Operation::Get, Fault::StallBody).on_keys("mid"),
    );
    faults.on(
        "stalls",
        Rule::always(Operation::Get, Fault::Hang).on_keys("never"),
    );
    let server = Server::in_process(
        &[
            ("LABELSYNC_ALLOW_PRIVATE_ENDPOINTS", "true"),
            ("RESOLVER_PROXY_TIMEOUT", "2"),
            ("RESOLVER_PROXY_MAX_RANGE_SIZE", "100000000"),
        ],
        faults.layer(),
    )
    .await;
    let large = "x".repeat(4 * 1024 * 1024);
    let bucket = s3_bucket(&[
        ("mid.bin", &large),
        ("never.bin", "n"),
        ("fine.bin", "fine"),
    ])
    .await;
    let urls = s3_tasks(&server, &bucket, "stalls", false).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let get = |name: &str| {
        let request = client
            .get(server.url(url_of(&urls, name)))
            .header("Authorization", format!("Token {TOKEN}"));
        async move { request.send().await.expect("headers arrive") }
    };

    let started = Instant::now();
    let mid = get("mid.bin").await;
    assert_eq!(mid.status(), 200);
    let body = mid.bytes().await;
    assert!(
        body.as_ref().map_or(true, |b| b.len() < large.len()),
        "a stalled body must not look complete"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the read was not bounded"
    );

    let started = Instant::now();
    let (status, detail): (u16, Value) = common::json_of(get("never.bin").await).await;
    assert_eq!(status, 424, "{detail}");
    assert!(
        detail["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("RESOLVER_PROXY_TIMEOUT"),
        "{detail}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the read was not bounded"
    );
    assert!(faults.injected("stalls") >= 2);

    let fine = get("fine.bin").await;
    assert_eq!(fine.text().await.unwrap(), "fine");
    faults.clear("stalls");
}

/// With `LABELSYNC_MEDIA_URL` (on AWS, `uri-resolve`'s streaming Function URL), task data's
/// media links point there, signed as always; the API's own links are unchanged.
#[tokio::test]
async fn media_links_use_the_media_origin_when_one_is_set() {
    let media = "https://abcdefg.lambda-url.us-east-1.on.aws";
    let server = Server::start_with(&[
        ("LABELSYNC_ALLOW_PRIVATE_ENDPOINTS", "true"),
        (
            "LABELSYNC_MEDIA_URL",
            "https://abcdefg.lambda-url.us-east-1.on.aws/",
        ),
    ]);
    let bucket = s3_bucket(&[("a.jpg", "bytes of a")]).await;
    let urls = s3_tasks(&server, &bucket, "elsewhere", false).await;
    let a = url_of(&urls, "a.jpg");
    let path = a
        .strip_prefix(media)
        .unwrap_or_else(|| panic!("{a} is not below {media}"));
    assert!(path.starts_with("/tasks/") && path.contains("&sig="), "{a}");
    let loaded = bare_get(&server, path).await;
    assert_eq!(
        loaded.text().await.unwrap(),
        "bytes of a",
        "the same route serves it"
    );
}
