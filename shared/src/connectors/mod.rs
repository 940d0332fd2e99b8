//! Every storage type, one folder each (`s3/`, `gcs/`, `azure/`, `redis/`, `localfiles/`,
//! `databricks/`): its typed settings and their checks (with Label Studio's messages), its
//! credentials, its backend, its URI scheme and key rules. This file is the registry: the
//! only list of types, their slugs and URI schemes. Nothing outside this folder names a type;
//! everything else reaches one through [`Connector`] and a bound [`Storage`].
//!
//! A new type is one folder and one line in [`all`] (see `docs/DEVELOPMENT.md`).

pub mod azure;
pub mod bucket;
mod connector;
pub mod databricks;
mod error;
mod fields;
pub mod gcs;
pub mod host;
pub mod localfiles;
mod reach;
pub mod redis;
pub mod s3;
pub mod settings;
mod source;

pub use connector::{BackendCell, Connector, Storage};
pub use error::SettingsError;
pub use fields::{Field, variant_field_lists, variant_index};
pub use source::{SourceSpec, compile_regex_filter};

/// Every supported type, in Label Studio's order.
pub fn all() -> &'static [&'static dyn Connector] {
    &[
        &s3::S3::KEYS,
        &s3::S3::ROLE,
        &gcs::Gcs::SERVICE_ACCOUNT,
        &gcs::Gcs::FEDERATED,
        &azure::Azure::KEY,
        &azure::Azure::SERVICE_PRINCIPAL,
        &redis::Redis,
        &localfiles::LocalFiles,
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
        assert!(uri_schemes().contains(&"s3") && uri_schemes().contains(&"dbx"));
    }
}
