//! The fields a storage type shows in the API: names, roles and which are write-only. Values,
//! defaults and rules live in each connector's typed settings.

use crate::model::StorageRole;

/// One type-specific field.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    /// Write-only: accepted, stored, never returned.
    pub secret: bool,
    pub import: bool,
    pub export: bool,
}

impl Field {
    pub const fn both(name: &'static str) -> Self {
        Field {
            name,
            secret: false,
            import: true,
            export: true,
        }
    }
    pub const fn import(name: &'static str) -> Self {
        Field {
            name,
            secret: false,
            import: true,
            export: false,
        }
    }
    pub const fn export(name: &'static str) -> Self {
        Field {
            name,
            secret: false,
            import: false,
            export: true,
        }
    }
    pub const fn secret(name: &'static str) -> Self {
        Field {
            name,
            secret: true,
            import: true,
            export: true,
        }
    }
    pub fn applies_to(&self, role: StorageRole) -> bool {
        match role {
            StorageRole::Import => self.import,
            StorageRole::Export => self.export,
        }
    }
}

/// The field lists of a type with two variants (`s3`/`s3s`, `gcs`/`gcswif`, `azure`/`azure_spi`),
/// indexed by [`variant_index`]: the base type's fields, and the variant's, which adds `extra`
/// and drops the fields named in `dropped`; each filtered to the role.
pub fn variant_field_lists(base: &[Field], extra: &[Field], dropped: &[&str]) -> [Vec<Field>; 4] {
    let pick = |variant: bool, role: StorageRole| -> Vec<Field> {
        let own = if variant { extra } else { &[] };
        let kept = base
            .iter()
            .filter(|f| !(variant && dropped.contains(&f.name)));
        kept.chain(own)
            .filter(|f| f.applies_to(role))
            .copied()
            .collect()
    };
    [
        pick(false, StorageRole::Import),
        pick(false, StorageRole::Export),
        pick(true, StorageRole::Import),
        pick(true, StorageRole::Export),
    ]
}

/// Where [`variant_field_lists`] keeps the list of a variant and role.
pub fn variant_index(variant: bool, role: StorageRole) -> usize {
    usize::from(variant) * 2 + usize::from(role == StorageRole::Export)
}
