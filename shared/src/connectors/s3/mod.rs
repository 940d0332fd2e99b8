//! `s3`: an Amazon S3 bucket or an S3-compatible store (spec §2.4, §3.2, §4.4, §5, §8), and
//! `s3s`: the same through an IAM role assumed with an external id. Credentials come from the
//! storage, else from the operator's `AWS_*` variables, else from the default AWS credential
//! chain; `s3_endpoint` (or the operator's `S3_ENDPOINT`) selects an S3-compatible store with
//! path-style addressing.

pub mod backend;
mod credentials;
mod events;
mod settings;
mod storage;

use std::sync::{Arc, LazyLock};

use serde_json::{Map, Value, json};

use super::settings::{parse, to_map};
use super::{
    BackendCell, Connector, Field, SettingsError, Storage, bucket, variant_field_lists,
    variant_index,
};
use crate::config::Settings;
use crate::model::{ObjectEvent, StorageRole};
use settings::S3Settings;
use storage::S3Storage;

pub use backend::{Encryption, S3Backend};

/// `s3` (access keys) and `s3s` (an IAM role assumed with an external id): one type, two slugs.
pub struct S3 {
    assume_role: bool,
}

impl S3 {
    pub const KEYS: S3 = S3 { assume_role: false };
    pub const ROLE: S3 = S3 { assume_role: true };
}

/// Every field of both slugs and both roles; [`S3::fields`] picks the ones that apply.
const FIELDS: &[Field] = &[
    Field::both("bucket"),
    Field::both("prefix"),
    Field::both("regex_filter"),
    Field::both("use_blob_urls"),
    Field::secret("aws_access_key_id"),
    Field::secret("aws_secret_access_key"),
    Field::secret("aws_session_token"),
    Field::both("aws_sse_kms_key_id"),
    Field::both("region_name"),
    Field::both("s3_endpoint"),
    Field::import("presign"),
    Field::import("presign_ttl"),
    Field::import("recursive_scan"),
    Field::export("can_delete_objects"),
];
/// The fields `s3s` adds.
const ROLE_FIELDS: &[Field] = &[
    Field::both("role_arn"),
    Field::both("external_id"),
    Field::both("legacy_auth"),
];

/// `[s3 import, s3 export, s3s import, s3s export]`.
static FIELD_LISTS: LazyLock<[Vec<Field>; 4]> =
    LazyLock::new(|| variant_field_lists(FIELDS, ROLE_FIELDS, &[]));

impl Connector for S3 {
    fn slug(&self) -> &'static str {
        if self.assume_role { "s3s" } else { "s3" }
    }

    fn title(&self) -> &'static str {
        if self.assume_role {
            "AWS S3 (IAM role)"
        } else {
            "AWS S3"
        }
    }

    fn uri_schemes(&self) -> &'static [&'static str] {
        &["s3"]
    }

    fn fields(&self, role: StorageRole) -> &'static [Field] {
        &FIELD_LISTS[variant_index(self.assume_role, role)]
    }

    fn destination_fields(&self) -> &'static [&'static str] {
        &["s3_endpoint", "region_name"]
    }

    fn form_layout(&self, role: StorageRole) -> Value {
        let mut rows = vec![
            json!({"columnCount": 3, "fields": [
                {"type": "text", "name": "title", "label": "Storage Title"},
                {"type": "text", "name": "bucket", "label": "Bucket Name", "required": true},
                {"type": "text", "name": "prefix", "label": "Bucket Prefix"}]}),
            json!({"columnCount": 2, "fields": [
                {"type": "text", "name": "region_name", "label": "Region Name", "placeholder": "us-east-1"},
                {"type": "text", "name": "s3_endpoint", "label": "S3 Endpoint"}]}),
            json!({"columnCount": 2, "fields": [
                {"type": "password", "name": "aws_access_key_id", "label": "Access Key ID", "protectedValue": true},
                {"type": "password", "name": "aws_secret_access_key", "label": "Secret Access Key", "protectedValue": true},
                {"type": "password", "name": "aws_session_token", "label": "Session Token", "protectedValue": true}]}),
        ];
        if self.assume_role {
            rows.push(json!({"columnCount": 2, "fields": [
                {"type": "text", "name": "role_arn", "label": "Role ARN", "required": true,
                 "placeholder": "arn:aws:iam::123456789012:role/labelsync-access"},
                {"type": "text", "name": "external_id", "label": "External ID"}]}));
        }
        rows.push(match role {
            StorageRole::Import => bucket::options_row(role),
            StorageRole::Export => json!({"columnCount": 1, "fields": [
                {"type": "text", "name": "aws_sse_kms_key_id", "label": "SSE KMS Key ID"},
                {"type": "toggle", "name": "can_delete_objects", "label": "Can delete objects from storage"}]}),
        });
        Value::Array(rows)
    }

    fn defaults(&self) -> Map<String, Value> {
        parse::<S3Settings>(&Map::new()).map_or_else(|_| Map::new(), |s| to_map(&s))
    }

    fn bind(
        &self,
        _role: StorageRole,
        settings: &Map<String, Value>,
        env: &Arc<Settings>,
    ) -> Result<Arc<dyn Storage>, SettingsError> {
        let settings: S3Settings = parse(settings)?;
        settings.check(self.assume_role)?;
        Ok(Arc::new(S3Storage {
            source: settings.options.source()?,
            settings,
            assume_role: self.assume_role,
            env: env.clone(),
            backend: BackendCell::default(),
        }))
    }

    /// S3's notifications; read once, by `s3` (the events of a bucket concern `s3s` storages
    /// on it too, which share its locations).
    fn object_events(&self, body: &Value) -> Vec<ObjectEvent> {
        if self.assume_role {
            return Vec::new();
        }
        events::object_events(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn bound(connector: &S3, value: Value) -> Arc<dyn Storage> {
        let env = Arc::new(Settings::from_env(&|_: &str| None, std::path::Path::new("/")).unwrap());
        let settings = serde_json::from_value(value).unwrap();
        connector
            .bind(StorageRole::Import, &settings, &env)
            .unwrap()
    }

    #[test]
    fn keys_uris_and_export_keys() {
        let s = bound(&S3::KEYS, json!({"bucket": "bkt", "prefix": "out/"}));
        assert_eq!(
            s.export_key(5),
            "out//5",
            "the prefix is used verbatim, as Label Studio does"
        );
        assert_eq!(
            bound(&S3::KEYS, json!({"bucket": "bkt"})).export_key(5),
            "5"
        );
        assert_eq!(
            s.resolve_key("s3://bkt/dir/x.jpg").as_deref(),
            Some("dir/x.jpg")
        );
        assert_eq!(s.resolve_key("s3://other/x.jpg"), None);
        let sub = bound(&S3::KEYS, json!({"bucket": "bkt", "prefix": "subdir"}));
        assert_eq!(sub.source().prefix, "subdir/");
        let signed = bound(
            &S3::KEYS,
            json!({"bucket": "bkt", "presign": true, "presign_ttl": 15}),
        );
        assert_eq!(signed.presign(), Some(Duration::from_secs(900)));
        assert_eq!(
            bound(&S3::KEYS, json!({"bucket": "bkt", "presign": false})).presign(),
            None
        );
    }

    #[test]
    fn only_s3s_has_role_fields() {
        let names =
            |ty: &S3, role| -> Vec<&str> { ty.fields(role).iter().map(|f| f.name).collect() };
        assert!(!names(&S3::KEYS, StorageRole::Import).contains(&"role_arn"));
        assert!(names(&S3::ROLE, StorageRole::Export).contains(&"external_id"));
        assert!(names(&S3::ROLE, StorageRole::Import).contains(&"presign_ttl"));
        assert!(!names(&S3::ROLE, StorageRole::Export).contains(&"presign_ttl"));
        assert!(names(&S3::KEYS, StorageRole::Export).contains(&"can_delete_objects"));
        assert!(!names(&S3::KEYS, StorageRole::Import).contains(&"can_delete_objects"));
    }
}
