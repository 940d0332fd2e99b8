//! Signed media URLs: what lets `<img>`, `<video>` and `<audio>` load the media URLs in task
//! data, which cannot send an `Authorization` header.
//!
//! A URL is signed with HMAC-SHA256 over everything that decides what it opens: the route's
//! path (which names the task or project), the task or project it is scoped to, the object it
//! names (the decoded `fileuri`, or local files' `d`) and its expiry, so a signature opens that
//! one object of that one task until then, and nothing else. The query carries
//! `&exp=<unix seconds>&sig=<base64url>`. The first operator key signs and every key verifies,
//! so keys rotate without breaking live URLs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};
use sha2::Sha256;

use crate::config::MediaSettings;
use crate::model::Secret;

type HmacSha256 = hmac::Hmac<Sha256>;

/// What a signed URL is scoped to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Task(u64),
    Project(u64),
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Task(id) => write!(f, "task:{id}"),
            Scope::Project(id) => write!(f, "project:{id}"),
        }
    }
}

/// One signed request, as the route sees it: `path` without its trailing slash.
#[derive(Clone, Copy, Debug)]
pub struct Signed<'a> {
    pub path: &'a str,
    pub scope: Scope,
    pub object: &'a str,
    pub expires: u64,
}

/// Why a signature was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("The media URL has expired; read the task again for a fresh one.")]
    Expired,
    #[error("The media URL's signature is not valid.")]
    Invalid,
}

/// Signs and verifies media URLs with the operator's keys.
pub struct MediaSigner<'a> {
    keys: &'a [Secret],
    ttl: Duration,
}

impl<'a> MediaSigner<'a> {
    /// `None` when no key is configured: URLs then go out unsigned.
    pub fn new(settings: &'a MediaSettings) -> Option<Self> {
        (!settings.signing_keys.is_empty()).then_some(MediaSigner {
            keys: &settings.signing_keys,
            ttl: settings.url_ttl,
        })
    }

    /// The expiry of URLs handed out now: the TTL from now, rounded up to a tenth of the TTL
    /// so that reads close together hand out the same URLs (and browsers reuse their cache).
    pub fn expiry(&self) -> u64 {
        let step = (self.ttl.as_secs() / 10).max(1);
        let at = now() + self.ttl.as_secs();
        at.div_ceil(step) * step
    }

    /// The `sig` parameter for `signed` (base64url, no padding).
    pub fn sign(&self, signed: &Signed<'_>) -> String {
        URL_SAFE_NO_PAD.encode(mac(&self.keys[0], signed).finalize().into_bytes())
    }

    /// Checks `sig` against every key (in constant time each), then the expiry.
    pub fn verify(&self, signed: &Signed<'_>, sig: &str) -> Result<(), SignatureError> {
        let Ok(presented) = URL_SAFE_NO_PAD.decode(sig.trim_end_matches('=')) else {
            return Err(SignatureError::Invalid);
        };
        let valid = self
            .keys
            .iter()
            .any(|key| mac(key, signed).verify_slice(&presented).is_ok());
        if !valid {
            return Err(SignatureError::Invalid);
        }
        if now() > signed.expires {
            return Err(SignatureError::Expired);
        }
        Ok(())
    }

    /// `&exp=…&sig=…` for `signed`, to append to its URL.
    pub fn query_suffix(&self, signed: &Signed<'_>) -> String {
        format!("&exp={}&sig={}", signed.expires, self.sign(signed))
    }
}

/// A key derived from another secret (a Lambda's API token), so that the functions that share
/// that secret sign and verify alike without one more setting; the derivation is one-way, so a
/// leaked media key does not give the token away.
pub fn derived_key(secret: &str) -> Secret {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(b"labelsync media signing key v1");
    Secret::new(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

fn mac(key: &Secret, signed: &Signed<'_>) -> HmacSha256 {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key.expose().as_bytes())
        .expect("HMAC takes keys of any length");
    // Length-prefixed fields: no two requests share a message.
    for field in [
        "labelsync-media-v1",
        signed.path,
        &signed.scope.to_string(),
        signed.object,
        &signed.expires.to_string(),
    ] {
        mac.update(&(field.len() as u64).to_be_bytes());
        mac.update(field.as_bytes());
    }
    mac
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(keys: &[&str]) -> MediaSettings {
        MediaSettings {
            signing_keys: keys.iter().map(|k| Secret::new(*k)).collect(),
            url_ttl: Duration::from_secs(3600),
            base_url: None,
        }
    }

    fn request(expires: u64) -> Signed<'static> {
        Signed {
            path: "/tasks/5/resolve",
            scope: Scope::Task(5),
            object: "s3://b/a.jpg",
            expires,
        }
    }

    #[test]
    fn a_signature_opens_exactly_what_it_names_until_it_expires() {
        let settings = settings(&["key-one"]);
        let signer = MediaSigner::new(&settings).unwrap();
        let exp = signer.expiry();
        assert!(exp >= now() + 3600 && exp < now() + 3600 + 361);
        let good = request(exp);
        let sig = signer.sign(&good);
        assert_eq!(signer.verify(&good, &sig), Ok(()));
        let others = [
            Signed {
                path: "/tasks/6/resolve",
                scope: Scope::Task(6),
                ..good
            },
            Signed {
                scope: Scope::Project(5),
                ..good
            },
            Signed {
                object: "s3://b/b.jpg",
                ..good
            },
            Signed {
                expires: exp + 1,
                ..good
            },
        ];
        for other in others {
            assert_eq!(
                signer.verify(&other, &sig),
                Err(SignatureError::Invalid),
                "{other:?}"
            );
        }
        assert_eq!(
            signer.verify(&good, "garbage!"),
            Err(SignatureError::Invalid)
        );
        let past = request(now() - 1);
        assert_eq!(
            signer.verify(&past, &signer.sign(&past)),
            Err(SignatureError::Expired)
        );
    }

    #[test]
    fn the_first_key_signs_and_every_key_verifies() {
        let old = settings(&["old-key"]);
        let rotated = settings(&["new-key", "old-key"]);
        let new_only = settings(&["new-key"]);
        let (old, rotated, new_only) = (
            MediaSigner::new(&old).unwrap(),
            MediaSigner::new(&rotated).unwrap(),
            MediaSigner::new(&new_only).unwrap(),
        );
        let signed = request(now() + 60);
        let from_old = old.sign(&signed);
        assert_eq!(rotated.verify(&signed, &from_old), Ok(()));
        assert_eq!(
            new_only.verify(&signed, &from_old),
            Err(SignatureError::Invalid)
        );
        assert_eq!(rotated.sign(&signed), new_only.sign(&signed));
        assert!(MediaSigner::new(&settings(&[])).is_none());
    }

    #[test]
    fn derived_keys_are_stable_and_do_not_show_the_secret() {
        let key = derived_key("the-api-token");
        assert_eq!(key, derived_key("the-api-token"));
        assert_ne!(key, derived_key("another-token"));
        assert!(!key.expose().contains("the-api-token") && key.expose().len() >= 32);
    }
}
