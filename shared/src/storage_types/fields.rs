//! Field declarations of storage types and typed reads of stored settings.

use serde_json::{Map, Value};

use crate::model::StorageRole;

/// A field's default when a create request leaves it out.
#[derive(Clone, Copy, Debug)]
pub enum FieldDefault {
    Null,
    Bool(bool),
    Int(i64),
}

impl FieldDefault {
    fn value(self) -> Value {
        match self {
            FieldDefault::Null => Value::Null,
            FieldDefault::Bool(b) => Value::Bool(b),
            FieldDefault::Int(n) => Value::from(n),
        }
    }
}

/// One type-specific field.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub default: FieldDefault,
    /// Write-only: accepted, stored, never returned.
    pub secret: bool,
    pub import: bool,
    pub export: bool,
}

impl Field {
    pub const fn both(name: &'static str, default: FieldDefault) -> Self {
        Field {
            name,
            default,
            secret: false,
            import: true,
            export: true,
        }
    }
    pub const fn import(name: &'static str, default: FieldDefault) -> Self {
        Field {
            name,
            default,
            secret: false,
            import: true,
            export: false,
        }
    }
    pub const fn export(name: &'static str, default: FieldDefault) -> Self {
        Field {
            name,
            default,
            secret: false,
            import: false,
            export: true,
        }
    }
    pub const fn secret(name: &'static str) -> Self {
        Field {
            name,
            default: FieldDefault::Null,
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

/// Fills every field the settings lack with its default.
pub fn apply_defaults(fields: &[Field], settings: &mut Map<String, Value>) {
    for field in fields {
        settings
            .entry(field.name)
            .or_insert_with(|| field.default.value());
    }
}

/// A string setting; `None` when absent, null or empty.
pub fn str_setting<'a>(settings: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    settings
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A boolean setting; also accepts `"true"`/`"false"` strings, as form posts send them.
pub fn bool_setting(settings: &Map<String, Value>, name: &str) -> bool {
    match settings.get(name) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.to_ascii_lowercase().as_str(), "true" | "1" | "on"),
        Some(Value::Number(n)) => n.as_i64().is_some_and(|n| n != 0),
        _ => false,
    }
}
