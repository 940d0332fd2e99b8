//! The local process's own settings (`LABELSYNC_*`), on top of the shared ones.

use std::net::SocketAddr;
use std::path::PathBuf;

use labelsync::config::{ConfigError, Env, SETTINGS_HELP, Settings, parse_number};

/// Everything `labelsync` reads at start-up.
#[derive(Clone, Debug)]
pub struct LocalConfig {
    /// `LABELSYNC_ADDR`: where the HTTP API listens.
    pub addr: SocketAddr,
    /// `LABELSYNC_DATA_DIR`: the embedded store file and the generated API token live here.
    pub data_dir: PathBuf,
    /// `LABELSYNC_API_TOKEN`: the token clients send; generated and saved when unset.
    pub api_token: Option<String>,
    /// `LABELSYNC_INGEST_WORKERS`: ingest messages handled at once.
    pub ingest_workers: usize,
    /// `LABELSYNC_EVENTS_QUEUE_URL`: an SQS queue of S3 object notifications to turn into tasks.
    pub events_queue_url: Option<String>,
    /// `LABELSYNC_SCHEDULE_TICK_SECS`: how often scheduled syncs are looked for.
    pub schedule_tick: std::time::Duration,
    pub settings: Settings,
}

/// The local process's variables with their defaults, for `--help`.
pub const LOCAL_HELP: &[(&str, &str)] = &[
    (
        "LABELSYNC_ADDR",
        "address the HTTP API listens on (default 127.0.0.1:8080; port 0 picks a free one)",
    ),
    (
        "LABELSYNC_DATA_DIR",
        "directory of the embedded store and the generated token (default ./.labelsync)",
    ),
    (
        "LABELSYNC_API_TOKEN",
        "API token clients send as `Authorization: Token <key>` (default: generated once, saved in the data directory)",
    ),
    (
        "LABELSYNC_INGEST_WORKERS",
        "ingest messages handled at the same time (default 4)",
    ),
    (
        "LABELSYNC_EVENTS_QUEUE_URL",
        "an SQS queue receiving a bucket's object notifications: new objects become tasks without a sync (the SQS endpoint, region and credentials come from the usual AWS_* variables; default: none)",
    ),
    (
        "LABELSYNC_SCHEDULE_TICK_SECS",
        "how often the process starts the scheduled syncs that are due (default 30)",
    ),
    ("RUST_LOG", "log filter (default info)"),
];

impl LocalConfig {
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let addr_text = env
            .var("LABELSYNC_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let addr = addr_text.parse().map_err(|_| ConfigError {
            variable: "LABELSYNC_ADDR".into(),
            value: addr_text.clone(),
            problem: "expected host:port, for example 127.0.0.1:8080".into(),
        })?;
        Ok(LocalConfig {
            addr,
            data_dir: env
                .var("LABELSYNC_DATA_DIR")
                .map_or_else(|| cwd.join(".labelsync"), PathBuf::from),
            api_token: env.var("LABELSYNC_API_TOKEN"),
            ingest_workers: env
                .var("LABELSYNC_INGEST_WORKERS")
                .map_or(Ok(4), |v| parse_number("LABELSYNC_INGEST_WORKERS", &v))?
                .max(1),
            events_queue_url: env.var("LABELSYNC_EVENTS_QUEUE_URL"),
            schedule_tick: std::time::Duration::from_secs(
                env.var("LABELSYNC_SCHEDULE_TICK_SECS")
                    .map_or(Ok(30), |v| parse_number("LABELSYNC_SCHEDULE_TICK_SECS", &v))?
                    .max(1) as u64,
            ),
            settings: Settings::from_env(env, &cwd)?,
        })
    }
}

/// `labelsync --help`.
pub fn help_text() -> String {
    let mut text = String::from(
        "labelsync: Label Studio-compatible cloud storage sync, all in one local process.\n\n\
         Usage: labelsync [--help]\n\nConfigured by environment variables:\n",
    );
    for (name, what) in LOCAL_HELP.iter().chain(SETTINGS_HELP) {
        text.push_str(&format!("  {name}\n      {what}\n"));
    }
    text
}
