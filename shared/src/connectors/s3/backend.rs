//! Amazon S3 (and S3-compatible stores) as a backend, over `aws-sdk-s3`. Keys are object keys;
//! listing is ListObjectsV2 (byte order, continuation tokens, `/` delimiter when not recursive).

use std::ops::Range;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;

use crate::backends::{
    BackendError, ByteRange, GetResult, ListPage, ListRequest, ObjectMeta, ObjectStore, Presigner,
};

/// Server-side encryption of exported objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Encryption {
    Aes256,
    Kms { key_id: String },
}

/// One bucket.
#[derive(Clone, Debug)]
pub struct S3Backend {
    client: Client,
    bucket: String,
    encryption: Option<Encryption>,
}

impl S3Backend {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        S3Backend {
            client,
            bucket: bucket.into(),
            encryption: None,
        }
    }

    /// Objects written by `put` are encrypted this way.
    pub fn with_encryption(mut self, encryption: Option<Encryption>) -> Self {
        self.encryption = encryption;
        self
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

/// An SDK error as a backend error: 404 is `NotFound`, 403 `PermissionDenied`; the SDK error
/// stays the source otherwise.
pub fn sdk_error<E>(
    operation: &'static str,
    key: &str,
    error: SdkError<E, HttpResponse>,
) -> BackendError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if let Some(detail) = crate::egress::refusal_in(&error) {
        return BackendError::Refused { detail };
    }
    let status = error.raw_response().map(|r| r.status().as_u16());
    let code = error.code().map(str::to_owned);
    match (status, code.as_deref()) {
        (Some(404), _) | (_, Some("NoSuchKey" | "NotFound" | "NoSuchBucket")) => {
            BackendError::NotFound {
                key: key.to_owned(),
            }
        }
        (Some(403), _) | (_, Some("AccessDenied")) => BackendError::PermissionDenied {
            what: key.to_owned(),
            detail: code.unwrap_or_else(|| "403".into()),
        },
        _ => BackendError::Service {
            operation,
            source: Box::new(error),
        },
    }
}

fn timestamp(time: Option<&aws_sdk_s3::primitives::DateTime>) -> Option<DateTime<Utc>> {
    time.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

fn etag(raw: Option<&str>) -> Option<String> {
    raw.map(|e| e.trim_matches('"').to_owned())
}

/// `bytes 2-4/10` to the served range and the object size.
fn content_range(header: &str) -> Option<(Range<u64>, u64)> {
    let (span, total) = header.trim().strip_prefix("bytes ")?.split_once('/')?;
    let (start, end) = span.split_once('-')?;
    let (start, end, total): (u64, u64, u64) =
        (start.parse().ok()?, end.parse().ok()?, total.parse().ok()?);
    Some((start..end + 1, total))
}

#[async_trait]
impl ObjectStore for S3Backend {
    async fn list_page(&self, request: ListRequest<'_>) -> Result<ListPage, BackendError> {
        let delimiter = (!request.recursive).then_some("/");
        let listed = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(request.prefix)
            .max_keys(request.max_keys.min(1000) as i32)
            .set_delimiter(delimiter.map(str::to_owned))
            .set_continuation_token(request.continuation.map(str::to_owned))
            .set_start_after(request.start_after.map(str::to_owned))
            .send()
            .await
            .map_err(|e| sdk_error("list", &self.bucket, e))?;
        let objects = listed
            .contents()
            .iter()
            .filter_map(|o| {
                let key = o.key()?;
                (!key.ends_with('/')).then(|| ObjectMeta {
                    key: key.to_owned(),
                    size: o.size().unwrap_or(0).max(0) as u64,
                    last_modified: timestamp(o.last_modified()),
                    etag: etag(o.e_tag()),
                })
            })
            .collect();
        let next = if listed.is_truncated() == Some(true) {
            listed.next_continuation_token().map(str::to_owned)
        } else {
            None
        };
        Ok(ListPage {
            objects,
            next,
            skipped: Vec::new(),
        })
    }

    fn lists_after_key(&self) -> bool {
        true
    }

    async fn head(&self, key: &str) -> Result<ObjectMeta, BackendError> {
        let head = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| sdk_error("head", key, e))?;
        Ok(ObjectMeta {
            key: key.to_owned(),
            size: head.content_length().unwrap_or(0).max(0) as u64,
            last_modified: timestamp(head.last_modified()),
            etag: etag(head.e_tag()),
        })
    }

    async fn get(&self, key: &str, range: Option<ByteRange>) -> Result<GetResult, BackendError> {
        let header = range.map(|r| match r.end {
            Some(end) => format!("bytes={}-{end}", r.start),
            None => format!("bytes={}-", r.start),
        });
        let sent = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_range(header)
            .send()
            .await;
        let object = match sent {
            Ok(object) => object,
            Err(e) if e.code() == Some("InvalidRange") => {
                let size = self.head(key).await?.size;
                return Err(BackendError::InvalidRange {
                    key: key.to_owned(),
                    start: range.map_or(0, |r| r.start),
                    size,
                });
            }
            Err(e) => return Err(sdk_error("get", key, e)),
        };
        let length = object.content_length().unwrap_or(0).max(0) as u64;
        let (served, size) = object
            .content_range()
            .and_then(content_range)
            .unwrap_or((0..length, length));
        let meta = ObjectMeta {
            key: key.to_owned(),
            size,
            last_modified: timestamp(object.last_modified()),
            etag: etag(object.e_tag()),
        };
        let owned_key = key.to_owned();
        let body = futures::stream::unfold(object.body, |mut body| async move {
            body.try_next().await.transpose().map(|chunk| (chunk, body))
        })
        .map(move |chunk| {
            chunk.map_err(|e| BackendError::Service {
                operation: "read",
                source: format!("{owned_key}: {e}").into(),
            })
        })
        .boxed();
        Ok(GetResult {
            meta,
            range: served,
            body,
        })
    }

    async fn put(&self, key: &str, body: Bytes) -> Result<(), BackendError> {
        let mut request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(body));
        request = match &self.encryption {
            None => request,
            Some(Encryption::Aes256) => {
                request.server_side_encryption(ServerSideEncryption::Aes256)
            }
            Some(Encryption::Kms { key_id }) => request
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(key_id),
        };
        request
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("put", key, e))
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        let deleted = self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            Err(e) => match sdk_error("delete", key, e) {
                BackendError::NotFound { .. } => Ok(()),
                other => Err(other),
            },
        }
    }

    fn presigner(&self) -> Option<&dyn Presigner> {
        Some(self)
    }
}

#[async_trait]
impl Presigner for S3Backend {
    async fn presign_get(
        &self,
        key: &str,
        ttl: Duration,
        content_type: Option<&str>,
    ) -> Result<String, BackendError> {
        let config = PresigningConfig::expires_in(ttl).map_err(|e| BackendError::Service {
            operation: "presign",
            source: Box::new(e),
        })?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_response_content_type(content_type.map(str::to_owned))
            .presigned(config)
            .await
            .map_err(|e| sdk_error("presign", key, e))?;
        Ok(request.uri().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_content_range() {
        assert_eq!(content_range("bytes 2-4/10"), Some((2..5, 10)));
        assert_eq!(content_range("bytes */10"), None);
    }
}
