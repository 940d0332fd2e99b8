//! A Google Cloud Storage bucket through the JSON API (`gcloud-storage`), with V4 signed URLs
//! made from the service account's private key. Listing pages are the API's own pages, in
//! name order, with its page token as the continuation.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use gcloud_storage::client::google_cloud_auth;
use gcloud_storage::client::google_cloud_auth::credentials::CredentialsFile;
use gcloud_storage::client::{Client, ClientConfig};
use gcloud_storage::http::Error as GcsError;
use gcloud_storage::http::objects::Object;
use gcloud_storage::http::objects::delete::DeleteObjectRequest;
use gcloud_storage::http::objects::download::Range;
use gcloud_storage::http::objects::get::GetObjectRequest;
use gcloud_storage::http::objects::list::ListObjectsRequest;
use gcloud_storage::http::objects::upload::{Media, UploadObjectRequest, UploadType};
use gcloud_storage::sign::{SignBy, SignedURLMethod, SignedURLOptions, URLStyle};
use tokio::sync::OnceCell;

use crate::backends::{
    BackendError, ByteRange, GetResult, ListPage, ListRequest, ObjectMeta, ObjectStore, Presigner,
    served_range,
};

/// What signs URLs: a service account's email and its PEM private key, or the IAM `signBlob`
/// call (for identities without a key, such as Workload Identity Federation).
#[derive(Clone)]
pub struct UrlSigner {
    pub client_email: String,
    /// `None`: sign through IAM.
    pub private_key_pem: Option<String>,
    /// `Some(host:port)` when signed URLs must point at an emulator over plain HTTP.
    pub emulator_host: Option<String>,
}

/// Where the client's credentials come from.
#[derive(Clone)]
pub enum ClientSource {
    /// An emulator at this base URL, without credentials (`STORAGE_EMULATOR_HOST`).
    Emulator(String),
    /// A service-account (or other credentials-file) JSON document.
    CredentialsJson(String),
    /// Application default credentials (`GOOGLE_APPLICATION_CREDENTIALS`, metadata server).
    ApplicationDefault,
    /// An `external_account` (Workload Identity Federation) document; its token and
    /// impersonation URLs are in it. `storage_endpoint` replaces Google's (an emulator),
    /// `iam_endpoint` is where `signBlob` goes.
    ExternalAccount {
        json: String,
        storage_endpoint: Option<String>,
        iam_endpoint: String,
    },
}

pub struct GcsBackend {
    source: ClientSource,
    client: OnceCell<Client>,
    bucket: String,
    signer: Option<UrlSigner>,
}

impl std::fmt::Debug for GcsBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcsBackend")
            .field("bucket", &self.bucket)
            .finish_non_exhaustive()
    }
}

impl GcsBackend {
    pub fn new(source: ClientSource, bucket: &str, signer: Option<UrlSigner>) -> Self {
        GcsBackend {
            source,
            client: OnceCell::new(),
            bucket: bucket.to_owned(),
            signer,
        }
    }

    /// The API client, built on first use (loading credentials is async).
    async fn client(&self) -> Result<&Client, BackendError> {
        let config = || async { Ok::<_, BackendError>(Client::new(config(&self.source).await?)) };
        self.client.get_or_try_init(config).await
    }

    fn object_request(&self, key: &str) -> GetObjectRequest {
        GetObjectRequest {
            bucket: self.bucket.clone(),
            object: key.to_owned(),
            ..Default::default()
        }
    }
}

/// The client configuration a source describes.
async fn config(source: &ClientSource) -> Result<ClientConfig, BackendError> {
    let config = match source {
        ClientSource::Emulator(endpoint) => ClientConfig {
            storage_endpoint: endpoint.clone(),
            ..ClientConfig::default()
        }
        .anonymous(),
        ClientSource::CredentialsJson(json) => {
            let file = CredentialsFile::new_from_str(json)
                .await
                .map_err(auth_error)?;
            let config = ClientConfig::default().with_credentials(file).await;
            config.map_err(auth_error)?
        }
        ClientSource::ApplicationDefault => ClientConfig::default()
            .with_auth()
            .await
            .map_err(auth_error)?,
        ClientSource::ExternalAccount {
            json,
            storage_endpoint,
            iam_endpoint,
        } => {
            let file = CredentialsFile::new_from_str(json)
                .await
                .map_err(auth_error)?;
            let defaults = ClientConfig::default();
            let config = ClientConfig {
                storage_endpoint: storage_endpoint
                    .clone()
                    .unwrap_or_else(|| defaults.storage_endpoint.clone()),
                service_account_endpoint: iam_endpoint.clone(),
                ..defaults
            };
            config.with_credentials(file).await.map_err(auth_error)?
        }
    };
    Ok(config)
}

fn auth_error(error: google_cloud_auth::error::Error) -> BackendError {
    BackendError::PermissionDenied {
        what: "Google credentials".into(),
        detail: error.to_string(),
    }
}

/// Maps the API's errors onto the backend's, keeping the service's own words.
fn classify(operation: &'static str, key: &str, error: GcsError) -> BackendError {
    let code = match &error {
        GcsError::Response(response) => Some(response.code),
        _ => None,
    };
    match code {
        Some(404) => BackendError::NotFound {
            key: key.to_owned(),
        },
        Some(401 | 403) => BackendError::PermissionDenied {
            what: format!("gs object {key:?}"),
            detail: error.to_string(),
        },
        _ => BackendError::Service {
            operation,
            source: Box::new(error),
        },
    }
}

fn meta(object: &Object) -> ObjectMeta {
    let updated = object.updated.map(|t| t.unix_timestamp());
    ObjectMeta {
        key: object.name.clone(),
        size: u64::try_from(object.size).unwrap_or(0),
        last_modified: updated.and_then(|s| DateTime::<Utc>::from_timestamp(s, 0)),
        etag: Some(object.etag.trim_matches('"').to_owned()).filter(|e| !e.is_empty()),
    }
}

#[async_trait]
impl ObjectStore for GcsBackend {
    async fn list_page(&self, request: ListRequest<'_>) -> Result<ListPage, BackendError> {
        let list = ListObjectsRequest {
            bucket: self.bucket.clone(),
            prefix: Some(request.prefix.to_owned()).filter(|p| !p.is_empty()),
            delimiter: (!request.recursive).then(|| "/".to_owned()),
            page_token: request.continuation.map(str::to_owned),
            // Inclusive where `start_after` is not: the key itself is dropped below.
            start_offset: request.start_after.map(str::to_owned),
            max_results: Some(i32::try_from(request.max_keys).unwrap_or(i32::MAX)),
            ..Default::default()
        };
        let page = self
            .client()
            .await?
            .list_objects(&list)
            .await
            .map_err(|e| classify("list", request.prefix, e))?;
        let objects = page.items.unwrap_or_default();
        let after = |o: &&Object| request.start_after.is_none_or(|a| o.name.as_str() > a);
        let objects = objects
            .iter()
            .filter(after)
            .filter(|o| !o.name.ends_with('/'));
        let objects = objects.map(meta);
        Ok(ListPage {
            objects: objects.collect(),
            next: page.next_page_token.filter(|t| !t.is_empty()),
            skipped: Vec::new(),
        })
    }

    fn lists_after_key(&self) -> bool {
        true
    }

    async fn head(&self, key: &str) -> Result<ObjectMeta, BackendError> {
        let object = self
            .client()
            .await?
            .get_object(&self.object_request(key))
            .await;
        Ok(meta(&object.map_err(|e| classify("head", key, e))?))
    }

    async fn get(&self, key: &str, range: Option<ByteRange>) -> Result<GetResult, BackendError> {
        let meta = self.head(key).await?;
        let size = meta.size;
        let served = served_range(key, size, range)?;
        let body: futures::stream::BoxStream<'static, Result<Bytes, BackendError>> =
            if served.is_empty() {
                Box::pin(futures::stream::empty())
            } else {
                let wanted = Range(Some(served.start), Some(served.end - 1));
                let stream = self
                    .client()
                    .await?
                    .download_streamed_object(&self.object_request(key), &wanted)
                    .await
                    .map_err(|e| classify("get", key, e))?;
                let owned = key.to_owned();
                Box::pin(stream.map_err(move |e| classify("read", &owned, e)))
            };
        Ok(GetResult {
            meta,
            range: served,
            body,
        })
    }

    async fn put(&self, key: &str, body: Bytes) -> Result<(), BackendError> {
        let request = UploadObjectRequest {
            bucket: self.bucket.clone(),
            ..Default::default()
        };
        let media = UploadType::Simple(Media::new(key.to_owned()));
        let uploaded = self
            .client()
            .await?
            .upload_object(&request, body.to_vec(), &media)
            .await;
        uploaded.map(drop).map_err(|e| classify("put", key, e))
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        let request = DeleteObjectRequest {
            bucket: self.bucket.clone(),
            object: key.to_owned(),
            ..Default::default()
        };
        match self.client().await?.delete_object(&request).await {
            Ok(()) => Ok(()),
            Err(e) => match classify("delete", key, e) {
                BackendError::NotFound { .. } => Ok(()),
                other => Err(other),
            },
        }
    }

    fn presigner(&self) -> Option<&dyn Presigner> {
        self.signer.as_ref().map(|_| self as &dyn Presigner)
    }
}

/// Path-style URLs on an emulator's host instead of `storage.googleapis.com`.
struct EmulatorStyle(String);

impl URLStyle for EmulatorStyle {
    fn host(&self, _bucket: &str) -> String {
        self.0.clone()
    }
    fn path(&self, bucket: &str, object: &str) -> String {
        format!("{bucket}/{object}")
    }
}

#[async_trait]
impl Presigner for GcsBackend {
    async fn presign_get(
        &self,
        key: &str,
        ttl: Duration,
        content_type: Option<&str>,
    ) -> Result<String, BackendError> {
        let Some(signer) = &self.signer else {
            return Err(BackendError::PermissionDenied {
                what: format!("signing gs://{}/{key}", self.bucket),
                detail: "no service-account key to sign with".into(),
            });
        };
        let mut options = SignedURLOptions {
            method: SignedURLMethod::GET,
            expires: ttl,
            ..Default::default()
        };
        if let Some(content_type) = content_type {
            let value = vec![content_type.to_owned()];
            options
                .query_parameters
                .insert("response-content-type".into(), value);
        }
        if let Some(host) = &signer.emulator_host {
            options.style = Box::new(EmulatorStyle(host.clone()));
            options.insecure = true;
        }
        let sign_by = match &signer.private_key_pem {
            Some(pem) => SignBy::PrivateKey(pem.clone().into_bytes()),
            None => SignBy::SignBytes,
        };
        let email = Some(signer.client_email.clone());
        let signed = self
            .client()
            .await?
            .signed_url(&self.bucket, key, email, Some(sign_by), options)
            .await;
        signed.map_err(|e| BackendError::Service {
            operation: "sign a URL",
            source: Box::new(e),
        })
    }
}
