//! Typed settings: each connector's fields are a serde struct, parsed once from the stored JSON
//! with one rule per field. Label Studio's forms post booleans and numbers as strings too, so
//! the field helpers here are lenient about how a value is spelled and strict about what it
//! is; a value that is not what its field holds is a field error naming the field.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::SettingsError;
use crate::model::Secret;

/// A storage's stored settings as the connector's typed struct.
pub fn parse<T: DeserializeOwned>(settings: &Map<String, Value>) -> Result<T, SettingsError> {
    let value = Value::Object(settings.clone());
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." {
            "non_field_errors".to_owned()
        } else {
            field
        };
        SettingsError::field(&field, e.into_inner().to_string())
    })
}

/// The typed settings back as the JSON map that is stored and shown.
pub fn to_map<T: Serialize>(settings: &T) -> Map<String, Value> {
    match serde_json::to_value(settings) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// Field helpers for `#[serde(deserialize_with = …)]`.
pub mod field {
    use super::*;

    fn scalar_text(value: Value) -> Result<Option<String>, String> {
        match value {
            Value::Null => Ok(None),
            Value::String(s) if s.is_empty() => Ok(None),
            Value::String(s) => Ok(Some(s)),
            Value::Number(n) => Ok(Some(n.to_string())),
            other => Err(format!("Not a valid string: {other}")),
        }
    }

    /// Text; `null` and `""` are none. Numbers are taken as their digits (a port typed as
    /// a number).
    pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        scalar_text(Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }

    /// A write-only text; `null` and `""` are none.
    pub fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
        Ok(text(d)?.map(Secret::new))
    }

    fn flag_of(value: &Value) -> Result<Option<bool>, String> {
        match value {
            Value::Null => Ok(None),
            Value::Bool(b) => Ok(Some(*b)),
            Value::Number(n) => Ok(Some(n.as_f64().is_some_and(|n| n != 0.0))),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "" => Ok(None),
                "true" | "1" | "on" | "yes" => Ok(Some(true)),
                "false" | "0" | "off" | "no" => Ok(Some(false)),
                _ => Err(format!("Must be a valid boolean, not {s:?}.")),
            },
            other => Err(format!("Must be a valid boolean, not {other}.")),
        }
    }

    /// A boolean, as JSON or as a form posts it (`"true"`, `"on"`, `1`); `null` is false.
    pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        let value = Value::deserialize(d)?;
        Ok(flag_of(&value)
            .map_err(serde::de::Error::custom)?
            .unwrap_or(false))
    }

    /// A boolean that may be unset (`null` stays `None`).
    pub fn maybe_flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        flag_of(&Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }

    /// A whole number, as JSON or as digits; `null` and `""` are none.
    pub fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            Value::Number(n) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("A valid integer is required.")),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| serde::de::Error::custom("A valid integer is required.")),
            _ => Err(serde::de::Error::custom("A valid integer is required.")),
        }
    }
}

/// `true`, for `#[serde(default = …)]`.
pub fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize, Serialize, Debug, PartialEq)]
    struct Example {
        #[serde(default, deserialize_with = "field::text")]
        name: Option<String>,
        #[serde(default, deserialize_with = "field::flag")]
        on: bool,
        #[serde(default, deserialize_with = "field::number")]
        minutes: Option<u64>,
        #[serde(default, deserialize_with = "field::secret")]
        key: Option<Secret>,
    }

    fn map(value: Value) -> Map<String, Value> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn lenient_in_spelling_strict_in_kind() {
        let parsed: Example = parse(&map(
            json!({"name": "", "on": "true", "minutes": "15", "key": "k"}),
        ))
        .unwrap();
        assert_eq!(parsed.name, None);
        assert!(parsed.on);
        assert_eq!(parsed.minutes, Some(15));
        assert_eq!(parsed.key.as_ref().map(Secret::expose), Some("k"));
        assert!(!format!("{parsed:?}").contains("\"k\""));
        match parse::<Example>(&map(json!({"on": "perhaps"}))) {
            Err(SettingsError::Field { field, message }) => {
                assert_eq!(field, "on");
                assert!(message.contains("boolean"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse::<Example>(&map(json!({"minutes": -3}))),
            Err(SettingsError::Field { field, .. }) if field == "minutes"
        ));
        let stored = to_map(&parsed);
        assert_eq!(stored["key"], "k");
        assert_eq!(stored["name"], Value::Null);
    }
}
