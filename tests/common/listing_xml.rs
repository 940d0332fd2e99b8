//! The XML bodies of the listing stand-in: `ListBucketResult` as S3 writes it for
//! ListObjectsV2, and S3's `Error`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::fmt::Write;

use crate::synthetic_bucket::{Entry, ListQuery, Listing, SyntheticBucket};

/// When every synthetic object was last modified, as a listing writes it.
pub const LAST_MODIFIED: &str = "2026-11-01T00:00:00.000Z";

/// `&`, `<`, `>`, `"` and `'` as entities.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// `<name>text</name>`, escaped.
fn element(out: &mut String, name: &str, text: &str) {
    let _ = write!(out, "<{name}>{}</{name}>", escape(text));
}

/// One page of ListObjectsV2; `raw` is the request's query, echoed where S3 echoes it.
pub fn list_result(
    bucket: &SyntheticBucket,
    raw: &HashMap<String, String>,
    query: &ListQuery,
    listing: &Listing,
    next: Option<&str>,
) -> String {
    let mut out = String::with_capacity(200 + listing.entries.len() * 220);
    out.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    out.push_str(r#"<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#);
    element(&mut out, "Name", &bucket.name);
    element(&mut out, "Prefix", &query.prefix);
    for echoed in ["delimiter", "continuation-token", "start-after"] {
        if let Some(value) = raw.get(echoed) {
            element(&mut out, xml_name(echoed), value);
        }
    }
    element(&mut out, "MaxKeys", &query.max_keys.to_string());
    element(&mut out, "KeyCount", &listing.entries.len().to_string());
    element(&mut out, "IsTruncated", &next.is_some().to_string());
    if let Some(next) = next {
        element(&mut out, "NextContinuationToken", next);
    }
    for entry in &listing.entries {
        match entry {
            Entry::Object(i) => contents(&mut out, bucket, *i),
            Entry::CommonPrefix(folded) => {
                out.push_str("<CommonPrefixes>");
                element(&mut out, "Prefix", folded);
                out.push_str("</CommonPrefixes>");
            }
        }
    }
    out.push_str("</ListBucketResult>");
    out
}

fn xml_name(parameter: &str) -> &'static str {
    match parameter {
        "delimiter" => "Delimiter",
        "continuation-token" => "ContinuationToken",
        _ => "StartAfter",
    }
}

fn contents(out: &mut String, bucket: &SyntheticBucket, i: usize) {
    out.push_str("<Contents>");
    element(out, "Key", &bucket.key(i));
    element(out, "LastModified", LAST_MODIFIED);
    element(out, "ETag", &bucket.etag(i));
    element(out, "Size", &bucket.size(i).to_string());
    element(out, "StorageClass", "STANDARD");
    out.push_str("</Contents>");
}

/// S3's error body.
pub fn error(code: &str, resource: &str) -> String {
    let mut out = String::from(r#"<?xml version="1.0" encoding="UTF-8"?><Error>"#);
    element(&mut out, "Code", code);
    element(&mut out, "Message", &format!("{code}: {resource}"));
    element(&mut out, "Resource", resource);
    element(&mut out, "RequestId", "listing-stand-in");
    out.push_str("</Error>");
    out
}
