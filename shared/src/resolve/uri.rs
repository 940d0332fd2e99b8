//! The `fileuri` parameter: Label Studio's URL-safe base64 of the storage URI, with its
//! fall-back to percent-decoding.

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};

/// Python's `urlsafe_b64encode(uri)` (padded).
pub fn encode_fileuri(uri: &str) -> String {
    URL_SAFE.encode(uri.as_bytes())
}

/// Decodes `fileuri`: base64url (padded or not) to UTF-8, else percent-decoding; `None` when
/// neither gives a URI.
pub fn decode_fileuri(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let decoded = URL_SAFE
        .decode(trimmed)
        .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed.trim_end_matches('=')))
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|s| s.contains("://"));
    decoded.or_else(|| {
        let unquoted = percent_encoding::percent_decode_str(trimmed)
            .decode_utf8()
            .ok()?
            .into_owned();
        unquoted.contains("://").then_some(unquoted)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_label_studio_encoding() {
        assert_eq!(
            encode_fileuri("s3://pytest-s3-images/image1.jpg"),
            "czM6Ly9weXRlc3QtczMtaW1hZ2VzL2ltYWdlMS5qcGc="
        );
        assert_eq!(
            decode_fileuri("czM6Ly9weXRlc3QtczMtaW1hZ2VzL2ltYWdlMS5qcGc=").as_deref(),
            Some("s3://pytest-s3-images/image1.jpg")
        );
        assert_eq!(
            decode_fileuri("czM6Ly9weXRlc3QtczMtaW1hZ2VzL2ltYWdlMS5qcGc").as_deref(),
            Some("s3://pytest-s3-images/image1.jpg")
        );
    }

    #[test]
    fn falls_back_to_percent_decoding() {
        assert_eq!(
            decode_fileuri("s3%3A%2F%2Fb%2Fk%20x.jpg").as_deref(),
            Some("s3://b/k x.jpg")
        );
        assert_eq!(decode_fileuri("nonsense"), None);
    }
}
