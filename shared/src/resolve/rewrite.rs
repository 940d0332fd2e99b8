//! Task data as the UI receives it (spec §3.4, §4.1, §4.2): Files-mode `$undefined$` renamed to
//! the label config's first data key, and every storage URI that a storage of the project serves
//! replaced by this server's `/tasks/<id>/resolve/?fileuri=…` URL. Unlike Label Studio 1.23.2,
//! every URI in a string is rewritten, not only the first.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::uri::encode_fileuri;
use crate::model::UNDEFINED_DATA_KEY;

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

/// Replaces every URI for which `serves` is true, at any depth of `value`.
pub fn rewrite_uris(value: &mut Value, task: u64, hostname: &str, serves: &dyn Fn(&str) -> bool) {
    match value {
        Value::String(text) => {
            if let Some(rewritten) = rewrite_string(text, task, hostname, serves) {
                *text = rewritten;
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| rewrite_uris(v, task, hostname, serves)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| rewrite_uris(v, task, hostname, serves)),
        _ => {}
    }
}

fn resolve_url(uri: &str, task: u64, hostname: &str) -> String {
    format!(
        "{hostname}/tasks/{task}/resolve/?fileuri={}",
        encode_fileuri(uri)
    )
}

fn rewrite_string(
    text: &str,
    task: u64,
    hostname: &str,
    serves: &dyn Fn(&str) -> bool,
) -> Option<String> {
    let trimmed = text.trim();
    let whole = STORAGE_SCHEMES
        .iter()
        .any(|s| trimmed.starts_with(&format!("{s}://")));
    if whole {
        return serves(trimmed).then(|| resolve_url(trimmed, task, hostname));
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
            format!("{quote}{}{quote}", resolve_url(uri, task, hostname))
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
        rewrite_uris(&mut data, 5, "", &only_bucket_b);
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
        rewrite_uris(&mut data, 1, "", &|_| true);
        assert_eq!(data["u"], "s3:/b/x");
    }
}
