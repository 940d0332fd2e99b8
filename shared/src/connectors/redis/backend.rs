//! A Redis database as a flat keyspace: each key holds one object (a string value).
//!
//! Listing uses `SCAN … MATCH <prefix>*` (never `KEYS`, which blocks the server) and sorts what
//! it finds, because SCAN has no order and the trait promises byte order with a key as the
//! continuation. A page therefore walks every key under the prefix: fine for task stores of
//! tens of thousands of keys, which is what Label Studio's Redis storage is used for.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream;
use redis::aio::ConnectionManager;
use tokio::sync::OnceCell;

use crate::egress::{self, Guard};

use crate::backends::{
    BackendError, ByteRange, GetResult, ListPage, ListRequest, ObjectMeta, ObjectStore,
    served_range,
};

/// Keys fetched per SCAN call.
const SCAN_COUNT: usize = 1000;
/// What one listing may cost, whatever the server answers: a server that never ends its
/// cursor, or holds more keys under the prefix than a task store has, is an error.
const MAX_SCAN_CALLS: usize = 200_000;
const MAX_LISTED_KEYS: usize = 1_000_000;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);

pub struct RedisBackend {
    guard: Guard,
    host: String,
    port: u16,
    password: Option<String>,
    db: u16,
    connection: OnceCell<ConnectionManager>,
}

impl fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the password.
        f.debug_struct("RedisBackend")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

/// Where a Redis storage connects.
pub struct RedisTarget<'a> {
    /// The egress guard the host is resolved through.
    pub guard: Guard,
    pub host: &'a str,
    pub port: u16,
    pub password: Option<&'a str>,
    pub db: u16,
}

impl RedisBackend {
    pub fn new(target: &RedisTarget<'_>) -> Result<Self, BackendError> {
        Ok(RedisBackend {
            guard: target.guard.clone(),
            host: target.host.to_owned(),
            port: target.port,
            password: target.password.map(str::to_owned),
            db: target.db,
            connection: OnceCell::new(),
        })
    }

    /// A client for the address the guard resolved `host` to, once: the Redis client then
    /// connects (and reconnects) to that address, never resolving the name again.
    async fn client(&self) -> Result<redis::Client, BackendError> {
        let address = egress::connect_tcp(&self.guard, &self.host, self.port)
            .await
            .map_err(|e| BackendError::Refused {
                detail: e.to_string(),
            })?;
        let password = self.password.as_deref().map(|p| {
            let encoded =
                percent_encoding::utf8_percent_encode(p, percent_encoding::NON_ALPHANUMERIC);
            format!(":{encoded}@")
        });
        let host = match address.ip() {
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            std::net::IpAddr::V4(ip) => ip.to_string(),
        };
        let url = format!(
            "redis://{}{host}:{}/{}",
            password.unwrap_or_default(),
            address.port(),
            self.db
        );
        redis::Client::open(url).map_err(|e| service("open", e))
    }

    async fn connection(&self) -> Result<ConnectionManager, BackendError> {
        let manager = self
            .connection
            .get_or_try_init(|| async {
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_number_of_retries(2)
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(Some(RESPONSE_TIMEOUT));
                let client = self.client().await?;
                client
                    .get_connection_manager_with_config(config)
                    .await
                    .map_err(|e| classify("connect", "", e))
            })
            .await?;
        Ok(manager.clone())
    }

    /// `PING` on a connection of its own (no reconnect loop): the server, the password and
    /// the db all work.
    pub async fn ping(&self) -> Result<(), BackendError> {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        let mut connection = self
            .client()
            .await?
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| classify("connect", "", e))?;
        let pong: redis::RedisResult<String> =
            redis::cmd("PING").query_async(&mut connection).await;
        pong.map(drop).map_err(|e| classify("PING", "", e))
    }

    /// Every key under `prefix`, sorted.
    async fn scan(&self, prefix: &str) -> Result<Vec<String>, BackendError> {
        let mut connection = self.connection().await?;
        let pattern = format!("{}*", glob_escape(prefix));
        let mut keys = Vec::new();
        let mut cursor: u64 = 0;
        for _ in 0..MAX_SCAN_CALLS {
            let (next, batch): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT)
                .query_async(&mut connection)
                .await
                .map_err(|e| classify("SCAN", prefix, e))?;
            keys.extend(batch.into_iter().filter_map(|k| String::from_utf8(k).ok()));
            if keys.len() > MAX_LISTED_KEYS {
                return Err(BackendError::OverLimit {
                    what: format!("the number of keys under {prefix:?}"),
                    limit: MAX_LISTED_KEYS.to_string(),
                });
            }
            if next == 0 {
                keys.sort_unstable();
                keys.dedup();
                return Ok(keys);
            }
            cursor = next;
        }
        Err(BackendError::OverLimit {
            what: format!("the SCAN calls to list {prefix:?}"),
            limit: MAX_SCAN_CALLS.to_string(),
        })
    }

    async fn size(&self, key: &str) -> Result<u64, BackendError> {
        let mut connection = self.connection().await?;
        let (exists, length): (bool, u64) = redis::pipe()
            .cmd("EXISTS")
            .arg(key)
            .cmd("STRLEN")
            .arg(key)
            .query_async(&mut connection)
            .await
            .map_err(|e| classify("STRLEN", key, e))?;
        if !exists {
            return Err(BackendError::NotFound {
                key: key.to_owned(),
            });
        }
        Ok(length)
    }
}

/// Escapes Redis glob metacharacters so a prefix matches literally.
fn glob_escape(prefix: &str) -> String {
    let mut escaped = String::with_capacity(prefix.len());
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

fn service(operation: &'static str, error: redis::RedisError) -> BackendError {
    BackendError::Service {
        operation,
        source: Box::new(error),
    }
}

fn classify(operation: &'static str, key: &str, error: redis::RedisError) -> BackendError {
    let denied = matches!(error.kind(), redis::ErrorKind::AuthenticationFailed)
        || matches!(error.code(), Some("WRONGPASS" | "NOAUTH" | "NOPERM"));
    if denied {
        return BackendError::PermissionDenied {
            what: if key.is_empty() {
                "the Redis server".into()
            } else {
                format!("key {key:?}")
            },
            detail: error.to_string(),
        };
    }
    service(operation, error)
}

fn meta(key: &str, size: u64) -> ObjectMeta {
    ObjectMeta {
        key: key.to_owned(),
        size,
        last_modified: None,
        etag: None,
    }
}

#[async_trait]
impl ObjectStore for RedisBackend {
    async fn list_page(&self, request: ListRequest<'_>) -> Result<ListPage, BackendError> {
        let keys = self.scan(request.prefix).await?;
        let after = request.resume_key().unwrap_or("");
        let start = keys.partition_point(|k| k.as_str() <= after);
        let wanted = keys[start..].iter().filter(|k| {
            let rest = &k[request.prefix.len()..];
            !k.ends_with('/') && (request.recursive || !rest.contains('/'))
        });
        let page: Vec<&String> = wanted.take(request.max_keys + 1).collect();
        let more = page.len() > request.max_keys;
        let page = &page[..page.len().min(request.max_keys)];
        let mut objects = Vec::with_capacity(page.len());
        for key in page {
            match self.size(key).await {
                Ok(size) => objects.push(meta(key, size)),
                // Deleted between SCAN and STRLEN: it is simply not listed.
                Err(BackendError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let next = more.then(|| page.last().map(|k| k.to_string())).flatten();
        Ok(ListPage {
            objects,
            next,
            skipped: Vec::new(),
        })
    }

    async fn head(&self, key: &str) -> Result<ObjectMeta, BackendError> {
        Ok(meta(key, self.size(key).await?))
    }

    async fn get(&self, key: &str, range: Option<ByteRange>) -> Result<GetResult, BackendError> {
        let size = self.size(key).await?;
        let std::ops::Range { start, end } = served_range(key, size, range)?;
        let mut connection = self.connection().await?;
        let bytes: Vec<u8> = if start < end {
            redis::cmd("GETRANGE")
                .arg(key)
                .arg(start)
                .arg(end - 1)
                .query_async(&mut connection)
                .await
                .map_err(|e| classify("GETRANGE", key, e))?
        } else {
            Vec::new()
        };
        let body = stream::once(async move { Ok(Bytes::from(bytes)) });
        Ok(GetResult {
            meta: meta(key, size),
            range: start..end,
            body: Box::pin(body),
        })
    }

    async fn put(&self, key: &str, body: Bytes) -> Result<(), BackendError> {
        let mut connection = self.connection().await?;
        let stored: redis::RedisResult<()> = redis::cmd("SET")
            .arg(key)
            .arg(body.as_ref())
            .query_async(&mut connection)
            .await;
        stored.map_err(|e| classify("SET", key, e))
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        let mut connection = self.connection().await?;
        let deleted: redis::RedisResult<u64> = redis::cmd("DEL")
            .arg(key)
            .query_async(&mut connection)
            .await;
        deleted.map(drop).map_err(|e| classify("DEL", key, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_literally() {
        assert_eq!(glob_escape("tasks:*[a]?"), r"tasks:\*\[a\]\?");
        assert_eq!(glob_escape(r"a\b"), r"a\\b");
    }
}
