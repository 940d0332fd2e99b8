//! Every storage type, one folder each (`s3/`, `gcs/`, `azure/`, `redis/`, `localfiles/`,
//! `databricks/`): its typed settings and their checks (with Label Studio's messages), its
//! credentials, its backend, its URI scheme and key rules. This file is the registry: the
//! only list of types, their slugs and URI schemes. Nothing outside this folder names a type;
//! everything else reaches one through [`Connector`] and a bound [`Storage`].
//!
//! A new type is one folder and one line in [`all`] (see `docs/DEVELOPMENT.md`).

#[cfg(feature = "azure")]
pub mod azure;
pub mod bucket;
mod connector;
#[cfg(feature = "databricks")]
pub mod databricks;
mod error;
mod fields;
#[cfg(feature = "gcs")]
pub mod gcs;
pub mod host;
#[cfg(feature = "localfiles")]
pub mod localfiles;
#[cfg(any(feature = "s3", feature = "redis", feature = "databricks"))]
mod reach;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(feature = "s3")]
pub mod s3;
pub mod settings;
mod source;

pub use connector::{BackendCell, Connector, Storage};
pub use error::SettingsError;
pub use fields::{Field, variant_field_lists, variant_index};
pub use source::{SourceSpec, compile_regex_filter};

/// Every type this build supports (one Cargo feature each), in Label Studio's order.
pub fn all() -> &'static [&'static dyn Connector] {
    &[
        #[cfg(feature = "s3")]
        &s3::S3::KEYS,
        #[cfg(feature = "s3")]
        &s3::S3::ROLE,
        #[cfg(feature = "gcs")]
        &gcs::Gcs::SERVICE_ACCOUNT,
        #[cfg(feature = "gcs")]
        &gcs::Gcs::FEDERATED,
        #[cfg(feature = "azure")]
        &azure::Azure::KEY,
        #[cfg(feature = "azure")]
        &azure::Azure::SERVICE_PRINCIPAL,
        #[cfg(feature = "redis")]
        &redis::Redis,
        #[cfg(feature = "localfiles")]
        &localfiles::LocalFiles,
        #[cfg(feature = "databricks")]
        &databricks::Databricks,
    ]
}

/// The type with this slug.
pub fn by_slug(slug: &str) -> Option<&'static dyn Connector> {
    all().iter().copied().find(|t| t.slug() == slug)
}

/// Every URI scheme a type's task data uses (`s3`, `gs`, `azure-blob`, ...), each once.
pub fn uri_schemes() -> Vec<&'static str> {
    let mut schemes: Vec<&'static str> = all()
        .iter()
        .flat_map(|t| t.uri_schemes())
        .copied()
        .collect();
    schemes.sort_unstable();
    schemes.dedup();
    schemes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StorageRole;

    /// Every field a type shows is a field of its typed settings: the two lists cannot drift.
    #[test]
    fn every_shown_field_is_a_typed_setting() {
        for connector in all() {
            let stored = connector.defaults();
            for role in [StorageRole::Import, StorageRole::Export] {
                for field in connector.fields(role) {
                    assert!(
                        stored.contains_key(field.name),
                        "{} {role:?}: {} is not a typed setting",
                        connector.slug(),
                        field.name
                    );
                }
            }
        }
    }

    #[test]
    fn slugs_and_schemes_are_unique() {
        let mut slugs: Vec<&str> = all().iter().map(|t| t.slug()).collect();
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), all().len());
        #[cfg(all(feature = "s3", feature = "databricks"))]
        assert!(uri_schemes().contains(&"s3") && uri_schemes().contains(&"dbx"));
    }
}
