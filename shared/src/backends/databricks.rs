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
use futures::future::BoxFuture;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use reqwest::{Method, StatusCode, header};
use serde::Deserialize;

use super::{
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

/// Where a volume lives and how to reach it.
pub struct VolumeTarget<'a> {
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

/// What one listing walk is collecting.
struct Walk<'a> {
    request: ListRequest<'a>,
    after: &'a str,
    found: Vec<ObjectMeta>,
}

impl DatabricksBackend {
    pub fn new(target: &VolumeTarget<'_>) -> Result<Self, BackendError> {
        let http = reqwest::Client::builder()
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
        loop {
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
            let page: DirectoryPage = response
                .json()
                .await
                .map_err(|e| service("read a directory listing", e))?;
            entries.extend(page.contents);
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        entries.sort_by_key(DirectoryEntry::sort_name);
        Ok(entries)
    }

    /// Walks `dir` (a key prefix ending in `/` or empty) for entries whose names start with
    /// `name_prefix`, stopping once one more object than the page holds is found.
    fn walk<'w>(
        &'w self,
        dir: String,
        name_prefix: String,
        walk: &'w mut Walk<'_>,
    ) -> BoxFuture<'w, Result<(), BackendError>> {
        Box::pin(async move {
            for entry in self.directory(&dir).await? {
                if walk.found.len() > walk.request.max_keys {
                    return Ok(());
                }
                if !entry.name.starts_with(&name_prefix) {
                    continue;
                }
                let key = format!("{dir}{}", entry.sort_name());
                if !entry.is_directory {
                    if key.as_str() > walk.after {
                        walk.found.push(entry_meta(key, &entry));
                    }
                    continue;
                }
                let subtree_is_before = key.as_str() < walk.after && !walk.after.starts_with(&key);
                if walk.request.recursive && !subtree_is_before {
                    self.walk(key, String::new(), walk).await?;
                }
            }
            Ok(())
        })
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
        let detail = response.text().await.unwrap_or_default();
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
        let mut walk = Walk {
            request,
            after: request.continuation.unwrap_or(""),
            found: Vec::new(),
        };
        self.walk(dir.to_owned(), name_prefix.to_owned(), &mut walk)
            .await?;
        let mut objects = walk.found;
        let more = objects.len() > request.max_keys;
        objects.truncate(request.max_keys);
        let next = more
            .then(|| objects.last().map(|o| o.key.clone()))
            .flatten();
        Ok(ListPage { objects, next })
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
