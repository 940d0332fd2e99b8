//! Task data as the UI receives it (spec §3.4, §4.1, §4.2): Files-mode `$undefined$` renamed to
//! the label config's first data key, and every storage URI that a storage of the project serves
//! replaced by this server's `/tasks/<id>/resolve/?fileuri=…` URL. Unlike Label Studio 1.23.2,
//! every URI in a string is rewritten, not only the first.
//!
//! With a signing key, every media URL of this server in the data (the resolve URLs made here
//! and the `/data/local-files/?d=…` URLs written at import) is signed for the task as it is
//! read ([`super::signing`]), so each read hands out URLs with a fresh expiry.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::signing::{MediaSigner, Scope, Signed};
use super::uri::encode_fileuri;
use crate::model::UNDEFINED_DATA_KEY;

/// The route of local files (without its trailing slash), as signatures name it.
pub const LOCAL_FILES_PATH: &str = "/data/local-files";

/// A `/data/local-files/?d=…` URL in text: the `d` value, and any `task`, `exp` and `sig`
/// parameters an earlier signing left behind (replaced, never doubled).
static LOCAL_FILES_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"/data/local-files/?\?d=([^"'\s&<>#]*)((?:&(?:task|exp|sig)=[^"'\s&<>#]*)*)"#)
        .expect("static regex")
});

/// URI schemes of the storage types, from the registry.
static STORAGE_SCHEMES: LazyLock<Vec<&'static str>> = LazyLock::new(crate::connectors::uri_schemes);

static QUOTED_URI: LazyLock<Regex> = LazyLock::new(|| {
    let schemes = STORAGE_SCHEMES
        .iter()
        .map(|s| regex::escape(s))
        .collect::<Vec<_>>()
        .join("|");
    Regex::new(&format!(
        r#""((?:{schemes})://[^"=]*)"|'((?:{schemes})://[^'=]*)'"#
    ))
    .expect("static regex")
});

static DATA_VARIABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"value\s*=\s*["']\$([A-Za-z_][A-Za-z0-9_]*)"#).expect("static regex")
});

/// The first `value="$name"` of a label config.
pub fn first_data_key(label_config: &str) -> Option<&str> {
    DATA_VARIABLE
        .captures(label_config)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str())
}

/// Renames `$undefined$` to the config's first data key (when it has one and it is free).
pub fn rename_undefined(data: &mut Value, label_config: &str) {
    let (Some(key), Value::Object(map)) = (first_data_key(label_config), data) else {
        return;
    };
    if map.contains_key(key) {
        return;
    }
    if let Some(value) = map.remove(UNDEFINED_DATA_KEY) {
        map.insert(key.to_owned(), value);
    }
}

/// How URLs to this server's media routes are written into one task's data.
pub struct MediaLinks<'a> {
    pub task: u64,
    /// `HOST`, prefixed to the URLs made here (empty: relative URLs).
    pub hostname: &'a str,
    /// The signer and the expiry of this read; `None` leaves URLs unsigned.
    pub signing: Option<(MediaSigner<'a>, u64)>,
}

impl MediaLinks<'_> {
    fn resolve_url(&self, uri: &str) -> String {
        let path = format!("/tasks/{}/resolve", self.task);
        let mut url = format!("{}{path}/?fileuri={}", self.hostname, encode_fileuri(uri));
        if let Some((signer, expires)) = &self.signing {
            url.push_str(&signer.query_suffix(&Signed {
                path: &path,
                scope: Scope::Task(self.task),
                object: uri,
                expires: *expires,
            }));
        }
        url
    }

    /// Signs every local-files URL in `text` for this task; `None` when there is none (or no
    /// key).
    fn sign_local_files(&self, text: &str) -> Option<String> {
        let (signer, expires) = self.signing.as_ref()?;
        if !text.contains(LOCAL_FILES_PATH) {
            return None;
        }
        let mut changed = false;
        let out = LOCAL_FILES_URL.replace_all(text, |caps: &regex::Captures<'_>| {
            changed = true;
            let raw = &caps[1];
            let whole = &caps[0];
            let base = &whole[..whole.len() - caps[2].len()];
            let d = query_value(raw);
            let suffix = signer.query_suffix(&Signed {
                path: LOCAL_FILES_PATH,
                scope: Scope::Task(self.task),
                object: &d,
                expires: *expires,
            });
            format!("{base}&task={}{suffix}", self.task)
        });
        changed.then(|| out.into_owned())
    }
}

/// A query value as the server's query parser reads it (`+` is a space, then percent-decoding).
pub fn query_value(raw: &str) -> String {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// Replaces every URI for which `serves` is true, at any depth of `value`, and signs this
/// server's media URLs when `links` has a signer.
pub fn rewrite_uris(value: &mut Value, links: &MediaLinks<'_>, serves: &dyn Fn(&str) -> bool) {
    match value {
        Value::String(text) => {
            let rewritten = rewrite_string(text, links, serves);
            let current = rewritten.as_deref().unwrap_or(text);
            let signed = links.sign_local_files(current);
            if let Some(new) = signed.or(rewritten) {
                *text = new;
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| rewrite_uris(v, links, serves)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| rewrite_uris(v, links, serves)),
        _ => {}
    }
}

fn rewrite_string(
    text: &str,
    links: &MediaLinks<'_>,
    serves: &dyn Fn(&str) -> bool,
) -> Option<String> {
    let trimmed = text.trim();
    let whole = STORAGE_SCHEMES
        .iter()
        .any(|s| trimmed.starts_with(&format!("{s}://")));
    if whole {
        return serves(trimmed).then(|| links.resolve_url(trimmed));
    }
    if !text.contains("://") {
        return None;
    }
    let mut changed = false;
    let out = QUOTED_URI.replace_all(text, |caps: &regex::Captures<'_>| {
        let whole_match = &caps[0];
        let quote = &whole_match[..1];
        let uri = caps
            .get(1)
            .or_else(|| caps.get(2))
            .map_or("", |m| m.as_str());
        if serves(uri) {
            changed = true;
            format!("{quote}{}{quote}", links.resolve_url(uri))
        } else {
            whole_match.to_owned()
        }
    });
    changed.then(|| out.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn unsigned(task: u64) -> MediaLinks<'static> {
        MediaLinks {
            task,
            hostname: "",
            signing: None,
        }
    }

    fn only_bucket_b(uri: &str) -> bool {
        uri.starts_with("s3://b/")
    }

    #[test]
    fn renames_undefined_to_the_first_data_key() {
        let mut data = json!({"$undefined$": "s3://b/x.jpg"});
        rename_undefined(
            &mut data,
            r#"<View><Image name="img" value="$image_url"/><Text value="$t"/></View>"#,
        );
        assert_eq!(data, json!({"image_url": "s3://b/x.jpg"}));
        let mut untouched = json!({"$undefined$": 1});
        rename_undefined(&mut untouched, "<View/>");
        assert_eq!(untouched, json!({"$undefined$": 1}));
    }

    #[test]
    fn rewrites_whole_values_nested_values_and_every_quoted_uri() {
        let mut data = json!({
            "image": "s3://b/image1.jpg",
            "other": "s3://elsewhere/x.jpg",
            "list": [{"deep": "s3://b/d.png"}],
            "html": "<img src=\"s3://b/a.jpg\"><img src='s3://b/b c.jpg'> and \"gs://x/y\"",
            "plain": "http://ggg.com/image.jpg",
        });
        rewrite_uris(&mut data, &unsigned(5), &only_bucket_b);
        assert_eq!(
            data["image"],
            "/tasks/5/resolve/?fileuri=czM6Ly9iL2ltYWdlMS5qcGc="
        );
        assert_eq!(data["other"], "s3://elsewhere/x.jpg");
        assert_eq!(
            data["list"][0]["deep"],
            format!(
                "/tasks/5/resolve/?fileuri={}",
                encode_fileuri("s3://b/d.png")
            )
        );
        let html = data["html"].as_str().unwrap();
        assert!(
            html.contains(&encode_fileuri("s3://b/a.jpg"))
                && html.contains(&encode_fileuri("s3://b/b c.jpg")),
            "{html}"
        );
        assert!(html.contains("\"gs://x/y\""));
        assert_eq!(data["plain"], "http://ggg.com/image.jpg");
    }

    #[test]
    fn malformed_uris_stay() {
        let mut data = json!({"u": "s3:/b/x"});
        rewrite_uris(&mut data, &unsigned(1), &|_| true);
        assert_eq!(data["u"], "s3:/b/x");
    }

    #[test]
    fn signs_resolve_and_local_files_urls_for_the_task() {
        use crate::config::MediaSettings;
        use crate::model::Secret;
        let settings = MediaSettings {
            signing_keys: vec![Secret::new("k")],
            url_ttl: std::time::Duration::from_secs(60),
            base_url: None,
        };
        let signer = MediaSigner::new(&settings).unwrap();
        let links = MediaLinks {
            task: 7,
            hostname: "http://h",
            signing: Some((MediaSigner::new(&settings).unwrap(), 1234)),
        };
        let mut data = json!({
            "image": "s3://b/x.jpg",
            "file": "http://h/data/local-files/?d=dir/a%20b%2Bc.png",
            "old": "/data/local-files/?d=dir/a.png&task=3&exp=1&sig=abc",
            "html": "<img src=\"/data/local-files/?d=x.png\"> <img src='/data/local-files?d=y.png'>",
            "plain": "nothing here",
        });
        rewrite_uris(&mut data, &links, &only_bucket_b);
        let sig = |path: &str, object: &str| {
            signer.sign(&Signed {
                path,
                scope: Scope::Task(7),
                object,
                expires: 1234,
            })
        };
        assert_eq!(
            data["image"],
            format!(
                "http://h/tasks/7/resolve/?fileuri={}&exp=1234&sig={}",
                encode_fileuri("s3://b/x.jpg"),
                sig("/tasks/7/resolve", "s3://b/x.jpg")
            )
        );
        assert_eq!(
            data["file"],
            format!(
                "http://h/data/local-files/?d=dir/a%20b%2Bc.png&task=7&exp=1234&sig={}",
                sig(LOCAL_FILES_PATH, "dir/a b+c.png")
            )
        );
        assert_eq!(
            data["old"],
            format!(
                "/data/local-files/?d=dir/a.png&task=7&exp=1234&sig={}",
                sig(LOCAL_FILES_PATH, "dir/a.png")
            )
        );
        let html = data["html"].as_str().unwrap();
        assert!(
            html.contains(&format!(
                "?d=x.png&task=7&exp=1234&sig={}\"",
                sig(LOCAL_FILES_PATH, "x.png")
            )),
            "{html}"
        );
        assert!(
            html.contains(&format!(
                "?d=y.png&task=7&exp=1234&sig={}'",
                sig(LOCAL_FILES_PATH, "y.png")
            )),
            "{html}"
        );
        assert_eq!(data["plain"], "nothing here");
        let mut unsigned_data = json!({"file": "/data/local-files/?d=a.png"});
        rewrite_uris(&mut unsigned_data, &unsigned(7), &only_bucket_b);
        assert_eq!(unsigned_data["file"], "/data/local-files/?d=a.png");
    }
}
