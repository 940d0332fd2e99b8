//! The one credentials document a `gcs` storage may carry: a service-account key.
//!
//! Google's credential files come in several types, and most of them tell the client to act:
//! `external_account` reads a file, calls a URL or runs a command named in the document and
//! posts the result to a token URL of its choosing; `authorized_user` and
//! `impersonated_service_account` post secrets to URLs from the document. A storage form is
//! attacker-controlled, so only `service_account` keys are accepted, and even those are rebuilt
//! from their identity fields with the token endpoint replaced by Google's (or the operator's
//! `LABELSYNC_GOOGLE_TOKEN_URL`): nothing in the document decides where the server connects.

use serde::{Deserialize, Serialize};

use crate::connectors::SettingsError;

const FIELD: &str = "google_application_credentials";

/// Google's OAuth token endpoint for service-account JWTs.
pub const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";

/// A parsed, rebuilt service-account key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAccountKey {
    pub client_email: String,
    pub private_key_pem: String,
    /// The rebuilt document handed to the client library.
    pub json: String,
}

/// What a service-account key file holds that labelsync uses; everything else is dropped.
#[derive(Deserialize, Serialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: String,
    client_email: Option<String>,
    private_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    private_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    project_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(default)]
    token_uri: Option<String>,
}

fn field_error(message: impl Into<String>) -> SettingsError {
    SettingsError::field(FIELD, message)
}

/// Parses the field's text: valid JSON (Label Studio's message otherwise), of type
/// `service_account`, with an email and a PEM private key; its tokens will come from
/// `token_url` (Google's, or the operator's).
pub fn parse(text: &str, token_url: &str) -> Result<ServiceAccountKey, SettingsError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        field_error(format!(
            "Google Application Credentials must be valid JSON string. {e}"
        ))
    })?;
    let kind = value.get("type").and_then(serde_json::Value::as_str);
    if kind != Some("service_account") {
        return Err(field_error(format!(
            "Only service-account key files are accepted (\"type\": \"service_account\"), not {}. \
             Other credential types make the server read files, run commands or call URLs named in \
             the document. Leave the field empty to use the server's application default credentials.",
            kind.map_or_else(
                || "a document without a type".to_owned(),
                |k| format!("{k:?}")
            )
        )));
    }
    let mut key: KeyFile = serde_json::from_value(value)
        .map_err(|e| field_error(format!("Not a service-account key file: {e}")))?;
    let client_email = key
        .client_email
        .clone()
        .filter(|e| is_email(e))
        .ok_or_else(|| {
            field_error("The key file's \"client_email\" is missing or not an email.")
        })?;
    let private_key_pem = key
        .private_key
        .clone()
        .filter(|k| k.contains("-----BEGIN") && k.contains("PRIVATE KEY-----"))
        .ok_or_else(|| {
            field_error("The key file's \"private_key\" is missing or not a PEM key.")
        })?;
    key.token_uri = Some(token_url.to_owned());
    let json = serde_json::to_string(&key)
        .map_err(|e| field_error(format!("Cannot rebuild the key file: {e}")))?;
    Ok(ServiceAccountKey {
        client_email,
        private_key_pem,
        json,
    })
}

/// `name@domain` with no whitespace or URL syntax.
pub fn is_email(text: &str) -> bool {
    let Some((name, domain)) = text.split_once('@') else {
        return false;
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._-+".contains(c);
    !name.is_empty()
        && !domain.is_empty()
        && domain.contains('.')
        && text.len() <= 254
        && name.chars().all(allowed)
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n";

    fn message(error: SettingsError) -> String {
        match error {
            SettingsError::Field { field, message } => {
                assert_eq!(field, FIELD);
                message
            }
            other => panic!("not a field error: {other}"),
        }
    }

    #[test]
    fn documents_that_make_the_server_act_are_refused() {
        for document in [
            json!({"type": "external_account", "audience": "a", "token_url": "http://127.0.0.1:1/t",
                   "credential_source": {"file": "/proc/self/environ"}}),
            json!({"type": "external_account", "credential_source": {"executable": {"command": "id"}}}),
            json!({"type": "authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r"}),
            json!({"type": "impersonated_service_account", "service_account_impersonation_url": "http://x"}),
            json!({"client_email": "a@b.c", "private_key": PEM}),
        ] {
            let text = message(parse(&document.to_string(), GOOGLE_TOKEN_URL).unwrap_err());
            assert!(text.starts_with("Only service-account key files"), "{text}");
        }
        assert!(
            message(parse("Test", GOOGLE_TOKEN_URL).unwrap_err())
                .starts_with("Google Application Credentials must be valid JSON string.")
        );
    }

    #[test]
    fn a_key_keeps_its_identity_and_loses_its_token_uri() {
        let document = json!({"type": "service_account", "client_email": "sa@p.iam.gserviceaccount.com",
            "private_key": PEM, "private_key_id": "k1", "project_id": "p",
            "token_uri": "http://127.0.0.1:9/steal", "credential_source": {"file": "/etc/passwd"}});
        let key = parse(&document.to_string(), GOOGLE_TOKEN_URL).unwrap();
        assert_eq!(key.client_email, "sa@p.iam.gserviceaccount.com");
        let rebuilt: serde_json::Value = serde_json::from_str(&key.json).unwrap();
        assert_eq!(rebuilt["token_uri"], GOOGLE_TOKEN_URL);
        assert_eq!(rebuilt["private_key_id"], "k1");
        assert!(rebuilt.get("credential_source").is_none(), "{rebuilt}");
        let no_key =
            json!({"type": "service_account", "client_email": "sa@p.iam.gserviceaccount.com"});
        assert!(
            message(parse(&no_key.to_string(), GOOGLE_TOKEN_URL).unwrap_err())
                .contains("private_key")
        );
        let bad_email =
            json!({"type": "service_account", "client_email": "x/y", "private_key": PEM});
        assert!(
            message(parse(&bad_email.to_string(), GOOGLE_TOKEN_URL).unwrap_err())
                .contains("client_email")
        );
    }
}
