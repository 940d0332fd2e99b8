//! An Azure Blob container through `object_store`'s Azure client: shared-key (account key)
//! requests and service SAS URLs, or Entra ID client-credential tokens and user-delegation SAS
//! URLs (service principal). The blob endpoint is Azure's, or an
//! operator-given one (`LABELSYNC_AZURE_BLOB_ENDPOINT`, path style, as Azurite serves).

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::azure::{MicrosoftAzure, MicrosoftAzureBuilder};
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{GetOptions, GetRange, ObjectStore as _, ObjectStoreExt as _, PutPayload};

use crate::backends::{
    BackendError, ByteRange, GetResult, ListPage, ListRequest, ObjectMeta, ObjectStore, Presigner,
    served_range,
};

/// How requests are authorized.
pub enum AzureAuth<'a> {
    /// The storage account's key: shared-key requests, service SAS URLs.
    AccountKey(&'a str),
    /// An Entra ID app (client credentials): bearer tokens, user-delegation SAS URLs.
    ServicePrincipal {
        tenant_id: &'a str,
        client_id: &'a str,
        client_secret: &'a str,
        /// Another token service than `https://login.microsoftonline.com`.
        authority_host: Option<&'a str>,
    },
}

/// How to reach a container.
pub struct ContainerTarget<'a> {
    pub account_name: &'a str,
    pub auth: AzureAuth<'a>,
    pub container: &'a str,
    /// `http(s)://host[:port]/<account>` for a path-style endpoint (Azurite); `None` for Azure.
    pub endpoint: Option<&'a str>,
}

pub struct AzureBackend {
    store: MicrosoftAzure,
}

impl std::fmt::Debug for AzureBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureBackend").finish_non_exhaustive()
    }
}

impl AzureBackend {
    pub fn new(target: &ContainerTarget<'_>) -> Result<Self, BackendError> {
        let mut builder = MicrosoftAzureBuilder::new()
            .with_account(target.account_name)
            .with_container_name(target.container);
        builder = match &target.auth {
            AzureAuth::AccountKey(key) => builder.with_access_key(*key),
            AzureAuth::ServicePrincipal {
                tenant_id,
                client_id,
                client_secret,
                authority_host,
            } => {
                let builder = builder.with_client_secret_authorization(
                    *client_id,
                    *client_secret,
                    *tenant_id,
                );
                match authority_host {
                    Some(host) => builder.with_authority_host(*host),
                    None => builder,
                }
            }
        };
        if let Some(endpoint) = target.endpoint {
            builder = builder
                .with_endpoint(endpoint.trim_end_matches('/').to_owned())
                .with_allow_http(endpoint.starts_with("http://"));
        }
        let store = builder.build().map_err(|e| classify("configure", "", e))?;
        Ok(AzureBackend { store })
    }
}

/// Azure error codes that `object_store` leaves inside a generic error (listing, for one).
fn azure_code(error: &object_store::Error) -> Option<&'static str> {
    let text = error.to_string();
    let codes = [
        "ContainerNotFound",
        "BlobNotFound",
        "AuthenticationFailed",
        "AuthorizationFailure",
        "AuthorizationPermissionMismatch",
    ];
    codes
        .into_iter()
        .find(|code| text.contains(&format!("<Code>{code}</Code>")))
}

fn classify(operation: &'static str, key: &str, error: object_store::Error) -> BackendError {
    let code = azure_code(&error);
    if matches!(code, Some("ContainerNotFound" | "BlobNotFound")) {
        return BackendError::NotFound {
            key: key.to_owned(),
        };
    }
    if code.is_some() {
        return BackendError::PermissionDenied {
            what: if key.is_empty() {
                "the container".into()
            } else {
                format!("blob {key:?}")
            },
            detail: code.unwrap_or_default().to_owned(),
        };
    }
    match error {
        object_store::Error::NotFound { .. } => BackendError::NotFound {
            key: key.to_owned(),
        },
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => BackendError::PermissionDenied {
            what: if key.is_empty() {
                "the container".into()
            } else {
                format!("blob {key:?}")
            },
            detail: error.to_string(),
        },
        other => BackendError::Service {
            operation,
            source: Box::new(other),
        },
    }
}

impl AzureBackend {
    /// After a ranged read failed: an empty range of an empty blob, the range error, or the
    /// read's own error.
    async fn unreadable_range(
        &self,
        key: &str,
        range: Option<ByteRange>,
        error: object_store::Error,
    ) -> Result<GetResult, BackendError> {
        let meta = self.head(key).await?;
        match served_range(key, meta.size, range) {
            Ok(served) if served.is_empty() => Ok(GetResult {
                meta,
                range: served,
                body: Box::pin(futures::stream::empty()),
            }),
            Ok(_) => Err(classify("get", key, error)),
            Err(invalid) => Err(invalid),
        }
    }
}

fn meta(object: &object_store::ObjectMeta) -> ObjectMeta {
    ObjectMeta {
        key: object.location.to_string(),
        size: object.size,
        last_modified: Some(object.last_modified),
        etag: object
            .e_tag
            .as_ref()
            .map(|e| e.trim_matches('"').to_owned()),
    }
}

/// The folder to list and the name prefix within it: `a/b/im` is `a/b` and `im`.
fn split_prefix(prefix: &str) -> (Option<Path>, &str) {
    match prefix.rfind('/') {
        Some(slash) => (Some(Path::from(&prefix[..slash])), &prefix[slash + 1..]),
        None => (None, prefix),
    }
}

#[async_trait]
impl ObjectStore for AzureBackend {
    async fn list_page(&self, request: ListRequest<'_>) -> Result<ListPage, BackendError> {
        let (folder, _) = split_prefix(request.prefix);
        let after = request.resume_key().unwrap_or("").to_owned();
        let wanted = |key: &str| key.starts_with(request.prefix) && key > after.as_str();
        let mut objects: Vec<ObjectMeta> = if request.recursive {
            // Client-side `after` filter too: Azurite ignores `startFrom`.
            let offset = Path::from(after.as_str());
            let listed = match request.resume_key() {
                Some(_) => self.store.list_with_offset(folder.as_ref(), &offset),
                None => self.store.list(folder.as_ref()),
            };
            listed
                .map_err(|e| classify("list", request.prefix, e))
                .try_filter(|o| std::future::ready(wanted(o.location.as_ref())))
                .take(request.max_keys + 1)
                .map_ok(|o| meta(&o))
                .try_collect()
                .await?
        } else {
            let listed = self.store.list_with_delimiter(folder.as_ref()).await;
            let listed = listed.map_err(|e| classify("list", request.prefix, e))?;
            let mut direct: Vec<ObjectMeta> = listed
                .objects
                .iter()
                .filter(|o| wanted(o.location.as_ref()))
                .map(meta)
                .collect();
            direct.sort_by(|a, b| a.key.cmp(&b.key));
            direct.truncate(request.max_keys + 1);
            direct
        };
        objects.retain(|o| !o.key.ends_with('/'));
        let more = objects.len() > request.max_keys;
        objects.truncate(request.max_keys);
        let next = more
            .then(|| objects.last().map(|o| o.key.clone()))
            .flatten();
        Ok(ListPage {
            objects,
            next,
            skipped: Vec::new(),
        })
    }

    async fn head(&self, key: &str) -> Result<ObjectMeta, BackendError> {
        let found = self.store.head(&Path::from(key)).await;
        Ok(meta(&found.map_err(|e| classify("head", key, e))?))
    }

    /// One request: the blob service reports the object and clamps the range. Only a refused
    /// range costs a `head`, to tell an empty read from one past the end.
    async fn get(&self, key: &str, range: Option<ByteRange>) -> Result<GetResult, BackendError> {
        let wanted = range.map(|r| match r.end {
            Some(end) => GetRange::Bounded(r.start..end.saturating_add(1)),
            None => GetRange::Offset(r.start),
        });
        let options = GetOptions {
            range: wanted,
            ..GetOptions::default()
        };
        let got = match self.store.get_opts(&Path::from(key), options).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(BackendError::NotFound {
                    key: key.to_owned(),
                });
            }
            Err(error) => return self.unreadable_range(key, range, error).await,
        };
        let (meta, served) = (meta(&got.meta), got.range.clone());
        let owned = key.to_owned();
        let body = got
            .into_stream()
            .map_err(move |e| classify("read", &owned, e));
        Ok(GetResult {
            meta,
            range: served,
            body: Box::pin(body),
        })
    }

    async fn put(&self, key: &str, body: Bytes) -> Result<(), BackendError> {
        let stored = self
            .store
            .put(&Path::from(key), PutPayload::from(body))
            .await;
        stored.map(drop).map_err(|e| classify("put", key, e))
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(classify("delete", key, e)),
        }
    }

    fn presigner(&self) -> Option<&dyn Presigner> {
        Some(self)
    }
}

#[async_trait]
impl Presigner for AzureBackend {
    async fn presign_get(
        &self,
        key: &str,
        ttl: Duration,
        _content_type: Option<&str>,
    ) -> Result<String, BackendError> {
        let method = object_store::signer::Method::GET;
        let signed = self.store.signed_url(method, &Path::from(key), ttl).await;
        signed
            .map(String::from)
            .map_err(|e| classify("sign", key, e))
    }
}
