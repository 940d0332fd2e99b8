//! A Databricks Unity Catalog volume through the Files API (`/api/2.0/fs/directories`,
//! `/api/2.0/fs/files`), authenticated with a bearer token. Keys are paths relative to
//! `/Volumes/<catalog>/<schema>/<volume>`.
//!
//! The directory listing is one directory at a time, in no promised order, so a listing walks
//! the tree depth-first with each directory's entries sorted (a directory sorts as `name/`,
//! which makes the walk's order the byte order of the keys) and skips every subtree that lies
//! wholly before the continuation key.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use reqwest::{Method, StatusCode, header};
use serde::Deserialize;

use crate::egress::{self, Guard};

use crate::backends::{
    BackendError, ByteRange, GetResult, ListPage, ListRequest, ObjectMeta, ObjectStore,
    served_range,
};

/// Bytes escaped in a path segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'?')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// Entries asked for per directory listing call (the API's maximum is 1000).
const DIRECTORY_PAGE: usize = 1000;
/// Limits on what a (possibly hostile) workspace host can make one listing call do.
const MAX_DEPTH: usize = 64;
const MAX_DIRECTORIES_PER_LISTING: usize = 10_000;
const MAX_ENTRIES_PER_DIRECTORY: usize = 200_000;
const MAX_PAGES_PER_DIRECTORY: usize = 2_000;
/// The most bytes read of one directory page, and of an error body.
const MAX_PAGE_BYTES: usize = 16 * 1024 * 1024;
const MAX_ERROR_BYTES: usize = 4 * 1024;

/// Where a volume lives and how to reach it.
pub struct VolumeTarget<'a> {
    /// The egress guard every connection to `host` goes through.
    pub guard: Guard,
    /// `https://<workspace host>`, without a trailing slash.
    pub host: &'a str,
    pub token: &'a str,
    pub catalog: &'a str,
    pub schema: &'a str,
    pub volume: &'a str,
    pub timeout: Duration,
    pub verify_tls: bool,
}

pub struct DatabricksBackend {
    http: reqwest::Client,
    host: String,
    token: String,
    /// `/Volumes/<catalog>/<schema>/<volume>`.
    root: String,
}

impl std::fmt::Debug for DatabricksBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabricksBackend")
            .field("host", &self.host)
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct DirectoryPage {
    #[serde(default)]
    contents: Vec<DirectoryEntry>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct DirectoryEntry {
    name: String,
    #[serde(default)]
    is_directory: bool,
    file_size: Option<u64>,
    /// Milliseconds since the epoch.
    last_modified: Option<i64>,
}

impl DirectoryEntry {
    /// The name as it sorts among the keys: directories end in `/`.
    fn sort_name(&self) -> String {
        if self.is_directory {
            format!("{}/", self.name)
        } else {
            self.name.clone()
        }
    }
}

/// A directory the walk is inside: its key prefix (`a/b/` or empty), its entries still to
/// visit, and the start that names must have (the prefix's last part, at the top only).
struct Frame {
    dir: String,
    entries: std::vec::IntoIter<DirectoryEntry>,
    name_prefix: String,
}

/// What one listing call found: objects (one more than the page holds means "more"), and
/// entries whose names cannot be keys.
#[derive(Default)]
struct Found {
    objects: Vec<ObjectMeta>,
    skipped: Vec<String>,
}

/// A name a key can be made of: not empty, `.` or `..`, and without `/`.
fn usable_name(name: &str) -> bool {
    !(name.is_empty() || name == "." || name == ".." || name.contains('/'))
}

fn over_limit(what: String, limit: usize) -> BackendError {
    BackendError::OverLimit {
        what,
        limit: limit.to_string(),
    }
}

impl DatabricksBackend {
    pub fn new(target: &VolumeTarget<'_>) -> Result<Self, BackendError> {
        target
            .guard
            .check_url(target.host)
            .map_err(|e| BackendError::Refused {
                detail: e.to_string(),
            })?;
        let http = egress::reqwest_builder(&target.guard)
            .timeout(target.timeout)
            .danger_accept_invalid_certs(!target.verify_tls)
            .build()
            .map_err(|e| service("build the HTTP client", e))?;
        Ok(DatabricksBackend {
            http,
            host: target.host.trim_end_matches('/').to_owned(),
            token: target.token.to_owned(),
            root: format!(
                "/Volumes/{}/{}/{}",
                target.catalog, target.schema, target.volume
            ),
        })
    }

    /// The volume's URI prefix, `dbx://Volumes/<catalog>/<schema>/<volume>/`.
    pub fn uri_prefix(&self) -> String {
        format!("dbx:/{}/", self.root)
    }

    fn url(&self, api: &str, key: &str) -> String {
        let mut url = format!("{}/api/2.0/fs/{api}{}", self.host, encode(&self.root));
        for segment in key.split('/').filter(|s| !s.is_empty()) {
            url.push('/');
            url.extend(utf8_percent_encode(segment, SEGMENT));
        }
        url
    }

    fn request(&self, method: Method, url: String) -> reqwest::RequestBuilder {
        self.http.request(method, url).bearer_auth(&self.token)
    }

    /// One directory's entries, every page of them, sorted as keys sort; a missing directory
    /// has none.
    async fn directory(&self, dir: &str) -> Result<Vec<DirectoryEntry>, BackendError> {
        let mut entries = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES_PER_DIRECTORY {
            let mut url = format!(
                "{}?page_size={DIRECTORY_PAGE}",
                self.url("directories", dir)
            );
            if let Some(token) = &token {
                url.push_str("&page_token=");
                url.extend(utf8_percent_encode(
                    token,
                    percent_encoding::NON_ALPHANUMERIC,
                ));
            }
            let response = self.send(self.request(Method::GET, url), "list", dir).await;
            let response = match response {
                Err(BackendError::NotFound { .. }) => return Ok(Vec::new()),
                other => other?,
            };
            let body = bounded_body(response, MAX_PAGE_BYTES, || {
                format!("a directory page of {}{}", self.root, display_key(dir))
            })
            .await?;
            let page: DirectoryPage =
                serde_json::from_slice(&body).map_err(|e| BackendError::Service {
                    operation: "read a directory listing",
                    source: Box::new(e),
                })?;
            entries.extend(page.contents);
            if entries.len() > MAX_ENTRIES_PER_DIRECTORY {
                let what = format!("the number of entries in {}{}", self.root, display_key(dir));
                return Err(over_limit(what, MAX_ENTRIES_PER_DIRECTORY));
            }
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(next) => token = Some(next),
                None => {
                    entries.sort_by_key(DirectoryEntry::sort_name);
                    return Ok(entries);
                }
            }
        }
        let what = format!(
            "the number of listing pages of {}{}",
            self.root,
            display_key(dir)
        );
        Err(over_limit(what, MAX_PAGES_PER_DIRECTORY))
    }

    /// Walks `dir` (a key prefix ending in `/` or empty) depth-first for entries whose names
    /// start with `name_prefix`, stopping once one more object than the page holds is found.
    /// Iterative, with depth and directory-count limits: the server decides how deep the tree
    /// is, so recursion would let it decide how deep our stack goes.
    async fn walk(
        &self,
        request: ListRequest<'_>,
        dir: String,
        name_prefix: String,
    ) -> Result<Found, BackendError> {
        let after = request.resume_key().unwrap_or("");
        let mut found = Found::default();
        let entries = self.directory(&dir).await?.into_iter();
        let mut stack = vec![Frame {
            dir,
            entries,
            name_prefix,
        }];
        let mut directories = 1;
        while found.objects.len() <= request.max_keys {
            let Some(frame) = stack.last_mut() else { break };
            let Some(entry) = frame.entries.next() else {
                stack.pop();
                continue;
            };
            if !entry.name.starts_with(&frame.name_prefix) {
                continue;
            }
            let key = format!("{}{}", frame.dir, entry.sort_name());
            if !usable_name(&entry.name) {
                if key.as_str() > after {
                    found.skipped.push(format!(
                        "an entry named {:?} in {}{} was skipped: not a usable file name",
                        entry.name,
                        self.root,
                        display_key(&frame.dir)
                    ));
                }
                continue;
            }
            if !entry.is_directory {
                if key.as_str() > after {
                    found.objects.push(entry_meta(key, &entry));
                }
                continue;
            }
            let subtree_is_before = key.as_str() < after && !after.starts_with(&key);
            if !request.recursive || subtree_is_before {
                continue;
            }
            if stack.len() >= MAX_DEPTH {
                let what = format!("the directory depth at {}/{key}", self.root);
                return Err(over_limit(what, MAX_DEPTH));
            }
            directories += 1;
            if directories > MAX_DIRECTORIES_PER_LISTING {
                let what = "the directories one listing page visits".to_owned();
                return Err(over_limit(what, MAX_DIRECTORIES_PER_LISTING));
            }
            let entries = self.directory(&key).await?.into_iter();
            stack.push(Frame {
                dir: key,
                entries,
                name_prefix: String::new(),
            });
        }
        Ok(found)
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        operation: &'static str,
        key: &str,
    ) -> Result<reqwest::Response, BackendError> {
        let response = request.send().await.map_err(|e| service(operation, e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let detail = bounded_body(response, MAX_ERROR_BYTES, String::new)
            .await
            .map_or_else(
                |_| String::new(),
                |b| String::from_utf8_lossy(&b).into_owned(),
            );
        Err(match status {
            StatusCode::NOT_FOUND => BackendError::NotFound {
                key: key.to_owned(),
            },
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => BackendError::PermissionDenied {
                what: format!("{}{}", self.root, display_key(key)),
                detail: format!("{status}: {}", detail.chars().take(300).collect::<String>()),
            },
            StatusCode::RANGE_NOT_SATISFIABLE => BackendError::InvalidRange {
                key: key.to_owned(),
                start: 0,
                size: 0,
            },
            _ => BackendError::Service {
                operation,
                source: format!("{status}: {}", detail.chars().take(300).collect::<String>())
                    .into(),
            },
        })
    }
}

/// The response body, or [`BackendError::OverLimit`] once it passes `limit` bytes (an error
/// body is cut at the limit instead when `what` names nothing).
async fn bounded_body(
    mut response: reqwest::Response,
    limit: usize,
    what: impl FnOnce() -> String,
) -> Result<Vec<u8>, BackendError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| service("read a response", e))?
    {
        if body.len() + chunk.len() > limit {
            let what = what();
            if what.is_empty() {
                body.extend_from_slice(&chunk[..limit - body.len()]);
                return Ok(body);
            }
            return Err(over_limit(what, limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn display_key(key: &str) -> String {
    if key.is_empty() {
        String::new()
    } else {
        format!("/{key}")
    }
}

fn encode(path: &str) -> String {
    path.split('/')
        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

fn service(operation: &'static str, error: reqwest::Error) -> BackendError {
    if let Some(detail) = egress::refusal_in(&error) {
        return BackendError::Refused { detail };
    }
    BackendError::Service {
        operation,
        source: Box::new(error.without_url()),
    }
}

fn entry_meta(key: String, entry: &DirectoryEntry) -> ObjectMeta {
    ObjectMeta {
        key,
        size: entry.file_size.unwrap_or(0),
        last_modified: entry
            .last_modified
            .and_then(DateTime::<Utc>::from_timestamp_millis),
        etag: None,
    }
}

/// The half-open range a 206's `Content-Range: bytes a-b/size` names.
fn served_by(headers: &header::HeaderMap) -> Option<std::ops::Range<u64>> {
    let value = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    let (span, _) = value.strip_prefix("bytes ")?.split_once('/')?;
    let (start, end) = span.split_once('-')?;
    Some(start.parse().ok()?..end.parse::<u64>().ok()? + 1)
}

impl DatabricksBackend {
    /// After a 416: an empty range of an empty file, else the range error with the real size.
    async fn unservable(
        &self,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<GetResult, BackendError> {
        let meta = self.head(key).await?;
        let served = served_range(key, meta.size, range)?;
        if !served.is_empty() {
            return Err(BackendError::Service {
                operation: "ranged read",
                source: format!("{key}: the server refused {range:?} of {} bytes", meta.size)
                    .into(),
            });
        }
        Ok(GetResult {
            meta,
            range: served,
            body: Box::pin(futures::stream::empty()),
        })
    }
}

fn header_meta(key: &str, headers: &header::HeaderMap) -> ObjectMeta {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let last_modified = text(header::LAST_MODIFIED)
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
        .map(|t| t.with_timezone(&Utc));
    let size = match text(header::CONTENT_RANGE).and_then(|v| v.rsplit('/').next()) {
        Some(total) => total.parse().unwrap_or(0),
        None => text(header::CONTENT_LENGTH)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    };
    ObjectMeta {
        key: key.to_owned(),
        size,
        last_modified,
        etag: text(header::ETAG).map(|e| e.trim_matches('"').to_owned()),
    }
}

#[async_trait]
impl ObjectStore for DatabricksBackend {
    async fn list_page(&self, request: ListRequest<'_>) -> Result<ListPage, BackendError> {
        let (dir, name_prefix) = match request.prefix.rfind('/') {
            Some(slash) => request.prefix.split_at(slash + 1),
            None => ("", request.prefix),
        };
        let found = self
            .walk(request, dir.to_owned(), name_prefix.to_owned())
            .await?;
        let mut objects = found.objects;
        let more = objects.len() > request.max_keys;
        objects.truncate(request.max_keys);
        let next = more
            .then(|| objects.last().map(|o| o.key.clone()))
            .flatten();
        Ok(ListPage {
            objects,
            next,
            skipped: found.skipped,
        })
    }

    async fn head(&self, key: &str) -> Result<ObjectMeta, BackendError> {
        let request = self.request(Method::HEAD, self.url("files", key));
        let response = self.send(request, "head", key).await?;
        Ok(header_meta(key, response.headers()))
    }

    /// One request: the response's headers say what the object is and which bytes came. Only a
    /// refused range (416) costs a `head`, to tell an empty read from one past the end.
    async fn get(&self, key: &str, range: Option<ByteRange>) -> Result<GetResult, BackendError> {
        let mut request = self.request(Method::GET, self.url("files", key));
        if let Some(r) = range {
            let end = r.end.map(|e| e.to_string()).unwrap_or_default();
            request = request.header(header::RANGE, format!("bytes={}-{end}", r.start));
        }
        let response = match self.send(request, "get", key).await {
            Err(BackendError::InvalidRange { .. }) => return self.unservable(key, range).await,
            other => other?,
        };
        let meta = header_meta(key, response.headers());
        let served = match served_by(response.headers()) {
            Some(served) => served,
            None => 0..meta.size,
        };
        if served != served_range(key, meta.size, range)? {
            return Err(BackendError::Service {
                operation: "ranged read",
                source: format!("{key}: the server sent bytes {served:?} for {range:?}").into(),
            });
        }
        let owned_key = key.to_owned();
        let body = response
            .bytes_stream()
            .map_err(move |e| BackendError::Service {
                operation: "read",
                source: format!("{owned_key}: {e}").into(),
            });
        Ok(GetResult {
            meta,
            range: served,
            body: Box::pin(body),
        })
    }

    async fn put(&self, key: &str, body: Bytes) -> Result<(), BackendError> {
        let url = format!("{}?overwrite=true", self.url("files", key));
        let request = self
            .request(Method::PUT, url)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(body);
        self.send(request, "put", key).await.map(drop)
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        let request = self.request(Method::DELETE, self.url("files", key));
        match self.send(request, "delete", key).await {
            Ok(_) | Err(BackendError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
