//! The console in a real browser: Debian's Chromium (installed by `tests/run`) driven by
//! `playwright-core` (installed into `.tools`) runs `tests/console/console.test.mjs` against
//! the local process. A sync started from the page's button shows its live progress (held
//! after its first listing page by a gate the script opens), reaches `completed` with the bar
//! at 100 %, and the task browser renders the synced PNG at its natural size. The screenshot
//! is written to `$CARGO_TARGET_DIR/console-screenshot.png` (`target/` by default).

mod common;
#[path = "common/gate.rs"]
mod gate;
#[path = "common/png.rs"]
mod png;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Server, TOKEN, write};
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
/// The synced image's size, which the browser must report as the `<img>`'s natural size.
const WIDTH: u32 = 37;
const HEIGHT: u32 = 23;
/// Images in the synced directory: three listing pages of 100.
const IMAGES: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_started_in_the_console_shows_progress_and_its_images() {
    let tools = tools_dir();
    let work = tempfile::tempdir().expect("tempdir");
    let gate = work.path().join("gate-open");
    let env = [
        ("LABELSYNC_LIST_PAGE_SIZE", "100"),
        ("LABELSYNC_INGEST_BATCH_SIZE", "20"),
        // Long enough for the page's steps, short enough to see a URL expire.
        ("LABELSYNC_MEDIA_URL_TTL_SECONDS", "20"),
    ];
    let server = Server::in_process(&env, gate::layer(gate.clone())).await;
    let project = server.project().await;
    let images = server.dir("images");
    let picture = png::png(WIDTH, HEIGHT);
    for i in 0..IMAGES {
        write(&images.join(format!("img-{i:03}.png")), &picture);
    }
    let storage = server
        .local_import(project, &images, json!({"use_blob_urls": true}))
        .await;
    let screenshot = target_dir().join("console-screenshot.png");

    let mut script = Command::new("node");
    script
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/console/console.test.mjs"
        ))
        .env("CONSOLE_URL", format!("{}/", server.base))
        .env("CONSOLE_TOKEN", TOKEN)
        .env("CONSOLE_PROJECT", project.to_string())
        .env(
            "CONSOLE_STORAGE",
            format!("import/localfiles/{}", storage["id"]),
        )
        .env("CONSOLE_TASKS", IMAGES.to_string())
        .env("CONSOLE_IMAGE_SIZE", format!("{WIDTH}x{HEIGHT}"))
        .env("CONSOLE_GATE", &gate)
        .env("CONSOLE_SCREENSHOT", &screenshot)
        .env("CONSOLE_CHROMIUM", CHROMIUM)
        .env("LABELSYNC_TOOLS", &tools);
    let status = tokio::task::spawn_blocking(move || script.status())
        .await
        .expect("the script's thread")
        .expect("run node (Node.js is needed, as for Azurite)");
    assert!(
        status.success(),
        "the console's browser test failed: {status}"
    );
    assert!(
        screenshot.is_file(),
        "no screenshot at {}",
        screenshot.display()
    );
    println!("console screenshot: {}", screenshot.display());
}

/// `.tools`, with `playwright-core` in it and Chromium where the script launches it; a
/// missing piece fails the test (it never skips).
fn tools_dir() -> PathBuf {
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools");
    assert!(
        tools
            .join("node_modules/playwright-core/package.json")
            .is_file(),
        "playwright-core is missing: run tests/run (it installs it with npm into .tools)"
    );
    assert!(
        Path::new(CHROMIUM).is_file(),
        "{CHROMIUM} is missing: run tests/run (it installs Debian's chromium package)"
    );
    tools
}

/// Where cargo writes builds: test artefacts go next to them.
fn target_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).expect("the target directory");
    dir
}
