//! Settings every labelsync process reads from its environment, validated at start-up.
//!
//! Label Studio's own variable names are honoured where LS has one, with its lookup order
//! `LABEL_STUDIO_<NAME>`, `HEARTEX_<NAME>`, `<NAME>`; labelsync's own use `LABELSYNC_*`.

mod cloud;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use cloud::OperatorCloud;

use crate::egress::EgressPolicy;
use crate::ingest::ReadLimits;
use crate::model::Secret;

/// A setting that could not be used; names the variable and what to change.
#[derive(Debug, thiserror::Error)]
#[error("{variable}={value:?}: {problem}")]
pub struct ConfigError {
    pub variable: String,
    pub value: String,
    pub problem: String,
}

/// Where local-files storages may live and whether their files are served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalFilesSettings {
    /// `LOCAL_FILES_SERVING_ENABLED`: serve `/data/local-files/` and allow localfiles storages.
    pub serving_enabled: bool,
    /// `LOCAL_FILES_DOCUMENT_ROOT`: every localfiles storage path lies strictly below it.
    pub document_root: PathBuf,
}

/// The media resolver's limits (Label Studio's `RESOLVER_PROXY_*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolverSettings {
    /// `RESOLVER_PROXY_MAX_RANGE_SIZE`: the most bytes one proxy response carries.
    pub max_range_size: u64,
    /// `RESOLVER_PROXY_CACHE_TIMEOUT`: `max-age` of proxied responses, seconds.
    pub cache_timeout: u64,
    /// `RESOLVER_PROXY_TIMEOUT`: the longest a proxied read may take, from the request to the
    /// last byte; a stalled upstream ends the response (aborted) instead of holding it open.
    pub proxy_timeout: Duration,
}

/// Signed media URLs: what lets an `<img>` load `/tasks/<id>/resolve/` and
/// `/data/local-files/` without an `Authorization` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaSettings {
    /// `LABELSYNC_MEDIA_SIGNING_KEYS`: comma-separated keys; the first signs, every one
    /// verifies (so a new key goes first and the old one stays until its URLs have expired).
    /// Empty after [`Settings::from_env`] when unset: the local process then uses a random key
    /// kept in its data directory, a Lambda one derived from `LABELSYNC_API_TOKEN`; with no
    /// key at all, URLs are not signed and only a token opens media.
    pub signing_keys: Vec<Secret>,
    /// `LABELSYNC_MEDIA_URL_TTL_SECONDS`: how long a signed URL stays valid after the task
    /// data that carries it was read.
    pub url_ttl: Duration,
    /// `LABELSYNC_MEDIA_URL`: the origin of the media routes in task data when they are served
    /// elsewhere than the API (on AWS, `uri-resolve`'s Function URL, which streams); `None`:
    /// the API's own (`HOST`).
    pub base_url: Option<String>,
}

/// `LABELSYNC_CORS_ORIGINS`: the browser origins that may call the API and load media from
/// scripts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CorsOrigins {
    /// `*`: any origin (credentials are never allowed; clients send their token themselves).
    Any,
    /// Exact origins (`https://app.example.com`, scheme, host and port).
    List(Vec<String>),
}

/// Settings shared by the API and the workers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `HOST`: the public origin prefixed to URLs in task data; empty gives relative URLs.
    pub hostname: String,
    pub local_files: LocalFilesSettings,
    pub resolver: ResolverSettings,
    /// `SYNC_ON_TARGET_STORAGE_CREATION`: export every annotation when a target storage is made.
    pub sync_on_target_storage_creation: bool,
    /// `LABELSYNC_LIST_PAGE_SIZE`: keys per listing page, so per `sync` queue message.
    pub list_page_size: usize,
    /// `LABELSYNC_LIST_PARALLELISM`: key ranges a sync lists at once, where the storage can
    /// start a listing after a key (1 lists in one chain).
    pub list_parallelism: usize,
    /// `LABELSYNC_INGEST_BATCH_SIZE`: keys per `ingest` queue message.
    pub ingest_batch_size: usize,
    /// `LABELSYNC_VISIBILITY_TIMEOUT_SECS`: how long a received message stays hidden.
    pub visibility_timeout: Duration,
    /// `LABELSYNC_ALLOW_PRIVATE_ENDPOINTS`: which loopback, private and other special-purpose
    /// addresses storages may reach (none by default: that is server-side request forgery).
    pub egress: EgressPolicy,
    /// `LABELSYNC_PROJECT_TOKENS_USE_SERVER_CREDENTIALS`: whether project tokens may set up
    /// storages that act with the server's own cloud credentials (off: only the admin may).
    pub project_tokens_use_server_credentials: bool,
    /// The operator's cloud credentials and endpoints ([`OperatorCloud`]).
    pub cloud: OperatorCloud,
    /// `LABELSYNC_QUEUE_MAX_RECEIVES`: deliveries of a message before it is given up (the
    /// queues' dead-letter threshold; the SAM template and Terraform set the same number).
    pub max_receives: u32,
    /// `LABELSYNC_JOB_STALE_SECS`: a running job that has not moved for this long is failed,
    /// and a new sync may start.
    pub job_stale_after: Duration,
    /// `LABELSYNC_MAX_TASK_BYTES` and `LABELSYNC_MAX_PARQUET_BYTES`: the largest JSON value (a
    /// single-object file, a JSONL line, an array item) and Parquet file read in Tasks mode;
    /// larger ones are an error naming the file and the limit.
    pub read_limits: ReadLimits,
    /// `LABELSYNC_EVENTS_SECRET`: what providers that push object notifications over HTTP
    /// (Event Grid, Pub/Sub) present as `?secret=`; unset, that endpoint is off.
    pub events_secret: Option<Secret>,
    /// Signed media URLs ([`MediaSettings`]).
    pub media: MediaSettings,
    /// `LABELSYNC_CORS_ORIGINS`: unset, no CORS headers at all (browsers then allow only
    /// same-origin scripts).
    pub cors_origins: Option<CorsOrigins>,
}

/// Reads variables; a closure in tests, the process environment otherwise.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl<F: Fn(&str) -> Option<String>> Env for F {
    fn var(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// Label Studio's lookup: `LABEL_STUDIO_<NAME>`, then `HEARTEX_<NAME>`, then `<NAME>`.
/// Returns the variable actually found with its value.
pub fn ls_var(env: &dyn Env, name: &str) -> Option<(String, String)> {
    [
        format!("LABEL_STUDIO_{name}"),
        format!("HEARTEX_{name}"),
        name.to_owned(),
    ]
    .into_iter()
    .find_map(|var| env.var(&var).map(|value| (var, value)))
}

pub fn parse_bool(variable: &str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError {
            variable: variable.to_owned(),
            value: value.to_owned(),
            problem: "expected true or false".into(),
        }),
    }
}

pub fn parse_number<T: std::str::FromStr>(variable: &str, value: &str) -> Result<T, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError {
        variable: variable.to_owned(),
        value: value.to_owned(),
        problem: "expected a whole number".into(),
    })
}

fn ls_bool(env: &dyn Env, name: &str, default: bool) -> Result<bool, ConfigError> {
    ls_var(env, name).map_or(Ok(default), |(var, value)| parse_bool(&var, &value))
}

fn ls_number<T: std::str::FromStr>(
    env: &dyn Env,
    name: &str,
    default: T,
) -> Result<T, ConfigError> {
    ls_var(env, name).map_or(Ok(default), |(var, value)| parse_number(&var, &value))
}

fn own_bool(env: &dyn Env, name: &str, default: bool) -> Result<bool, ConfigError> {
    env.var(name)
        .map_or(Ok(default), |value| parse_bool(name, &value))
}

fn own_number<T: std::str::FromStr>(
    env: &dyn Env,
    name: &str,
    default: T,
) -> Result<T, ConfigError> {
    env.var(name)
        .map_or(Ok(default), |value| parse_number(name, &value))
}

/// Every setting with its default, for `--help`.
pub const SETTINGS_HELP: &[(&str, &str)] = &[
    (
        "HOST",
        "public origin for URLs in task data (default: none, URLs stay relative)",
    ),
    (
        "LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED",
        "allow localfiles storages and /data/local-files/ (default false; true when ./mydata or ./label-studio-data is auto-detected)",
    ),
    (
        "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT",
        "directory every localfiles storage must lie below (default /, or the auto-detected ./mydata)",
    ),
    (
        "RESOLVER_PROXY_MAX_RANGE_SIZE",
        "most bytes per proxied media response (default 8388608)",
    ),
    (
        "RESOLVER_PROXY_CACHE_TIMEOUT",
        "max-age of proxied media, seconds (default 3600)",
    ),
    (
        "RESOLVER_PROXY_TIMEOUT",
        "seconds a proxied media read may take before the response is ended (default 20)",
    ),
    (
        "SYNC_ON_TARGET_STORAGE_CREATION",
        "export all annotations when a target storage is created (default true)",
    ),
    (
        "LABELSYNC_LIST_PAGE_SIZE",
        "keys per listing page (default 1000)",
    ),
    (
        "LABELSYNC_INGEST_BATCH_SIZE",
        "keys per ingest message (default 500)",
    ),
    (
        "LABELSYNC_VISIBILITY_TIMEOUT_SECS",
        "seconds a received queue message stays hidden (default 60)",
    ),
    (
        "LABELSYNC_QUEUE_MAX_RECEIVES",
        "deliveries of a message before it is given up and its job shows the error (default 5)",
    ),
    (
        "LABELSYNC_JOB_STALE_SECS",
        "a running sync that has not moved for this long is failed; a new one may start (default 900)",
    ),
    (
        "LABELSYNC_MAX_TASK_BYTES",
        "largest JSON value read in Tasks mode: a single-object file, a JSONL line, an array item (default 4194304)",
    ),
    (
        "LABELSYNC_MAX_PARQUET_BYTES",
        "largest Parquet file read in Tasks mode; it is read whole (default 67108864)",
    ),
    (
        "LABELSYNC_EVENTS_SECRET",
        "the secret (20 characters or more) that Event Grid and Pub/Sub push requests present as ?secret= at /api/object-events (default: unset, the endpoint is off)",
    ),
    (
        "LABELSYNC_MEDIA_SIGNING_KEYS",
        "comma-separated keys (32 characters or more each) that sign media URLs in task data; the first signs, all verify (default: the local process generates one in its data directory, Lambda derives one from LABELSYNC_API_TOKEN)",
    ),
    (
        "LABELSYNC_MEDIA_URL_TTL_SECONDS",
        "how long a signed media URL stays valid after the task was read (default 3600)",
    ),
    (
        "LABELSYNC_MEDIA_URL",
        "the origin of media URLs in task data when media is served apart from the API (on AWS: uri-resolve's streaming Function URL, set by the stack) (default: HOST)",
    ),
    (
        "LABELSYNC_CORS_ORIGINS",
        "browser origins allowed to call the API and load media: comma-separated exact origins, or * (default: unset, no CORS headers)",
    ),
    (
        "LABELSYNC_ALLOW_PRIVATE_ENDPOINTS",
        "let storages reach loopback/private/special addresses: true, or a comma-separated list of addresses and CIDR ranges (default false)",
    ),
    (
        "LABELSYNC_PROJECT_TOKENS_USE_SERVER_CREDENTIALS",
        "let project tokens set up storages that use the server's own cloud credentials (default false)",
    ),
];

impl Settings {
    /// Reads and validates every setting; `cwd` is where `mydata` is auto-detected.
    pub fn from_env(env: &dyn Env, cwd: &Path) -> Result<Self, ConfigError> {
        let hostname = match ls_var(env, "HOST") {
            None => String::new(),
            Some((var, value)) => parse_hostname(&var, &value)?,
        };
        Ok(Settings {
            hostname,
            local_files: local_files_from_env(env, cwd)?,
            resolver: ResolverSettings {
                max_range_size: ls_number(env, "RESOLVER_PROXY_MAX_RANGE_SIZE", 8 * 1024 * 1024)?,
                cache_timeout: ls_number(env, "RESOLVER_PROXY_CACHE_TIMEOUT", 3600)?,
                proxy_timeout: proxy_timeout(env)?,
            },
            sync_on_target_storage_creation: ls_bool(env, "SYNC_ON_TARGET_STORAGE_CREATION", true)?,
            list_page_size: positive(
                own_number(env, "LABELSYNC_LIST_PAGE_SIZE", 1000)?,
                "LABELSYNC_LIST_PAGE_SIZE",
            )?,
            list_parallelism: positive(
                own_number(env, "LABELSYNC_LIST_PARALLELISM", 8)?,
                "LABELSYNC_LIST_PARALLELISM",
            )?,
            ingest_batch_size: positive(
                own_number(env, "LABELSYNC_INGEST_BATCH_SIZE", 500)?,
                "LABELSYNC_INGEST_BATCH_SIZE",
            )?,
            visibility_timeout: Duration::from_secs(positive(
                own_number(env, "LABELSYNC_VISIBILITY_TIMEOUT_SECS", 60)?,
                "LABELSYNC_VISIBILITY_TIMEOUT_SECS",
            )? as u64),
            egress: egress_policy(env)?,
            project_tokens_use_server_credentials: own_bool(
                env,
                "LABELSYNC_PROJECT_TOKENS_USE_SERVER_CREDENTIALS",
                false,
            )?,
            cloud: OperatorCloud::from_env(env),
            max_receives: positive(
                own_number(env, "LABELSYNC_QUEUE_MAX_RECEIVES", 5)?,
                "LABELSYNC_QUEUE_MAX_RECEIVES",
            )? as u32,
            job_stale_after: Duration::from_secs(positive(
                own_number(env, "LABELSYNC_JOB_STALE_SECS", 900)?,
                "LABELSYNC_JOB_STALE_SECS",
            )? as u64),
            read_limits: ReadLimits {
                task_bytes: byte_limit(env, "LABELSYNC_MAX_TASK_BYTES", 4)?,
                parquet_bytes: byte_limit(env, "LABELSYNC_MAX_PARQUET_BYTES", 64)?,
            },
            events_secret: events_secret(env)?,
            media: MediaSettings {
                signing_keys: media_signing_keys(env)?,
                url_ttl: Duration::from_secs(positive(
                    own_number(env, "LABELSYNC_MEDIA_URL_TTL_SECONDS", 3600)?,
                    "LABELSYNC_MEDIA_URL_TTL_SECONDS",
                )? as u64),
                base_url: env
                    .var("LABELSYNC_MEDIA_URL")
                    .map(|url| parse_hostname("LABELSYNC_MEDIA_URL", &url))
                    .transpose()?,
            },
            cors_origins: cors_origins(env)?,
        })
    }
}

/// Label Studio's `RESOLVER_PROXY_TIMEOUT` (seconds, default 20), at least one second.
fn proxy_timeout(env: &dyn Env) -> Result<Duration, ConfigError> {
    let Some((variable, value)) = ls_var(env, "RESOLVER_PROXY_TIMEOUT") else {
        return Ok(Duration::from_secs(20));
    };
    let seconds: usize = parse_number(&variable, &value)?;
    positive(seconds, &variable).map(|s| Duration::from_secs(s as u64))
}

/// The shortest media signing key accepted: a key is a secret, not a password.
pub const MIN_MEDIA_KEY_CHARS: usize = 32;

/// `LABELSYNC_MEDIA_SIGNING_KEYS`: never echoed in an error.
fn media_signing_keys(env: &dyn Env) -> Result<Vec<Secret>, ConfigError> {
    const VARIABLE: &str = "LABELSYNC_MEDIA_SIGNING_KEYS";
    let Some(value) = env.var(VARIABLE) else {
        return Ok(Vec::new());
    };
    let keys: Vec<&str> = value.split(',').map(str::trim).collect();
    if let Some(position) = keys.iter().position(|k| k.len() < MIN_MEDIA_KEY_CHARS) {
        return Err(ConfigError {
            variable: VARIABLE.into(),
            value: "(hidden)".into(),
            problem: format!(
                "key {} of {} is shorter than {MIN_MEDIA_KEY_CHARS} characters",
                position + 1,
                keys.len()
            ),
        });
    }
    Ok(keys.into_iter().map(Secret::new).collect())
}

/// `LABELSYNC_CORS_ORIGINS`: `*`, or origins as a browser sends them in `Origin`.
fn cors_origins(env: &dyn Env) -> Result<Option<CorsOrigins>, ConfigError> {
    const VARIABLE: &str = "LABELSYNC_CORS_ORIGINS";
    let Some(value) = env.var(VARIABLE) else {
        return Ok(None);
    };
    if value.trim() == "*" {
        return Ok(Some(CorsOrigins::Any));
    }
    let mut origins = Vec::new();
    for origin in value.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let origin = origin.trim_end_matches('/');
        let rest = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        let valid = rest
            .is_some_and(|host| !host.is_empty() && !host.contains(['/', '?', '#', '@', '*', ' ']));
        if !valid {
            return Err(ConfigError {
                variable: VARIABLE.into(),
                value: value.clone(),
                problem: format!(
                    "{origin:?} is not an origin: expected * or scheme://host[:port] (for example https://app.example.com), comma-separated"
                ),
            });
        }
        origins.push(origin.to_owned());
    }
    if origins.is_empty() {
        return Err(ConfigError {
            variable: VARIABLE.into(),
            value,
            problem: "names no origin: expected * or comma-separated origins".into(),
        });
    }
    Ok(Some(CorsOrigins::List(origins)))
}

/// `LABELSYNC_EVENTS_SECRET`, long enough not to be guessed.
fn events_secret(env: &dyn Env) -> Result<Option<Secret>, ConfigError> {
    const VARIABLE: &str = "LABELSYNC_EVENTS_SECRET";
    match env.var(VARIABLE) {
        None => Ok(None),
        Some(value) if value.len() >= 20 => Ok(Some(Secret::new(value))),
        Some(_) => Err(ConfigError {
            variable: VARIABLE.into(),
            value: "(hidden)".into(),
            problem: "must be at least 20 characters".into(),
        }),
    }
}

/// A positive byte count, `default_mib` MiB when unset.
fn byte_limit(env: &dyn Env, name: &str, default_mib: usize) -> Result<usize, ConfigError> {
    positive(own_number(env, name, default_mib * 1024 * 1024)?, name)
}

fn egress_policy(env: &dyn Env) -> Result<EgressPolicy, ConfigError> {
    const NAME: &str = "LABELSYNC_ALLOW_PRIVATE_ENDPOINTS";
    let Some(value) = env.var(NAME) else {
        return Ok(EgressPolicy::deny_private());
    };
    EgressPolicy::parse(&value).map_err(|problem| ConfigError {
        variable: NAME.into(),
        value,
        problem,
    })
}

fn positive(value: usize, variable: &str) -> Result<usize, ConfigError> {
    if value == 0 {
        return Err(ConfigError {
            variable: variable.into(),
            value: "0".into(),
            problem: "must be at least 1".into(),
        });
    }
    Ok(value)
}

fn parse_hostname(variable: &str, value: &str) -> Result<String, ConfigError> {
    if !(value.starts_with("http://") || value.starts_with("https://")) {
        return Err(ConfigError {
            variable: variable.into(),
            value: value.into(),
            problem: "must start with http:// or https://".into(),
        });
    }
    Ok(value.trim_end_matches('/').to_owned())
}

/// Label Studio's rules, including its Community auto-detect of `./mydata` and
/// `./label-studio-data` when neither variable is set.
fn local_files_from_env(env: &dyn Env, cwd: &Path) -> Result<LocalFilesSettings, ConfigError> {
    let serving = ls_var(env, "LOCAL_FILES_SERVING_ENABLED");
    let root = ls_var(env, "LOCAL_FILES_DOCUMENT_ROOT");
    if serving.is_none() && root.is_none() {
        let detected = ["mydata", "label-studio-data"]
            .iter()
            .map(|d| cwd.join(d))
            .find(|d| d.is_dir());
        if let Some(dir) = detected {
            return Ok(LocalFilesSettings {
                serving_enabled: true,
                document_root: dir,
            });
        }
    }
    let serving_enabled = match serving {
        None => false,
        Some((var, value)) => parse_bool(&var, &value)?,
    };
    let document_root = match root {
        None => PathBuf::from("/"),
        Some((var, value)) => {
            let path = PathBuf::from(normalize_path(&value));
            if !path.is_absolute() {
                return Err(ConfigError {
                    variable: var,
                    value,
                    problem: "must be an absolute path".into(),
                });
            }
            path
        }
    };
    Ok(LocalFilesSettings {
        serving_enabled,
        document_root,
    })
}

/// Label Studio's `normalize_storage_path`: trim, `\` to `/`, collapse `//`, `.` and trailing
/// separators (lexically; `..` is kept so that validation can refuse it).
pub fn normalize_path(raw: &str) -> String {
    let trimmed = raw.trim().replace('\\', "/");
    if trimmed.is_empty() {
        return String::new();
    }
    let absolute = trimmed.starts_with('/');
    let parts: Vec<&str> = trimmed
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, true) => "/".into(),
        (true, false) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    #[test]
    fn normalizes_like_label_studio() {
        assert_eq!(normalize_path(""), "");
        assert_eq!(normalize_path("/tmp/dataset/"), "/tmp/dataset");
        assert_eq!(normalize_path("  /tmp/dataset/  "), "/tmp/dataset");
        assert_eq!(normalize_path("\\tmp\\dataset\\"), "/tmp/dataset");
        assert_eq!(normalize_path("C:\\data\\set\\"), "C:/data/set");
        assert_eq!(normalize_path("/a//b/./c"), "/a/b/c");
    }

    #[test]
    fn label_studio_prefix_wins_over_plain_name() {
        let e = env(&[
            ("LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED", "true"),
            ("LOCAL_FILES_SERVING_ENABLED", "false"),
        ]);
        let s = Settings::from_env(&e, Path::new("/nonexistent")).unwrap();
        assert!(s.local_files.serving_enabled);
        assert_eq!(s.local_files.document_root, PathBuf::from("/"));
    }

    #[test]
    fn errors_name_the_variable() {
        let e = env(&[("RESOLVER_PROXY_MAX_RANGE_SIZE", "lots")]);
        let err = Settings::from_env(&e, Path::new("/")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("RESOLVER_PROXY_MAX_RANGE_SIZE=\"lots\""),
            "{err}"
        );
        let e = env(&[("HOST", "example.com")]);
        assert!(
            Settings::from_env(&e, Path::new("/"))
                .unwrap_err()
                .to_string()
                .contains("http://")
        );
    }

    #[test]
    fn media_and_cors_settings() {
        let s = Settings::from_env(&env(&[]), Path::new("/")).unwrap();
        assert!(s.media.signing_keys.is_empty() && s.cors_origins.is_none());
        assert_eq!(
            (
                s.media.url_ttl.as_secs(),
                s.resolver.proxy_timeout.as_secs()
            ),
            (3600, 20)
        );
        let long = "k".repeat(32);
        let s = Settings::from_env(
            &env(&[
                ("LABELSYNC_MEDIA_SIGNING_KEYS", &format!("{long}1, {long}2")),
                ("LABELSYNC_MEDIA_URL_TTL_SECONDS", "5"),
                (
                    "LABELSYNC_CORS_ORIGINS",
                    "https://a.example, http://b.example:8080/",
                ),
                ("RESOLVER_PROXY_TIMEOUT", "3"),
            ]),
            Path::new("/"),
        )
        .unwrap();
        assert_eq!(s.media.signing_keys.len(), 2);
        assert_eq!(s.media.signing_keys[1].expose(), format!("{long}2"));
        assert_eq!(
            s.cors_origins,
            Some(CorsOrigins::List(vec![
                "https://a.example".into(),
                "http://b.example:8080".into()
            ]))
        );
        assert_eq!(s.resolver.proxy_timeout.as_secs(), 3);
        let any = Settings::from_env(&env(&[("LABELSYNC_CORS_ORIGINS", "*")]), Path::new("/"));
        assert_eq!(any.unwrap().cors_origins, Some(CorsOrigins::Any));
    }

    #[test]
    fn bad_media_and_cors_settings_name_the_variable_and_hide_keys() {
        let short = "short-secret-key";
        let err = Settings::from_env(
            &env(&[("LABELSYNC_MEDIA_SIGNING_KEYS", short)]),
            Path::new("/"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("LABELSYNC_MEDIA_SIGNING_KEYS="), "{err}");
        assert!(!err.contains(short), "{err}");
        for (variable, value) in [
            ("RESOLVER_PROXY_TIMEOUT", "soon"),
            ("LABEL_STUDIO_RESOLVER_PROXY_TIMEOUT", "0"),
            ("LABELSYNC_CORS_ORIGINS", "app.example.com"),
            ("LABELSYNC_CORS_ORIGINS", "https://a.example/path"),
            ("LABELSYNC_MEDIA_URL_TTL_SECONDS", "0"),
        ] {
            let err = Settings::from_env(&env(&[(variable, value)]), Path::new("/"))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(&format!("{variable}=")), "{err}");
        }
    }

    #[test]
    fn mydata_is_auto_detected() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("mydata")).unwrap();
        let s = Settings::from_env(&env(&[]), dir.path()).unwrap();
        assert!(s.local_files.serving_enabled);
        assert_eq!(s.local_files.document_root, dir.path().join("mydata"));
    }
}
