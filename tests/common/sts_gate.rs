//! A recording HTTP proxy in front of moto that plays the part moto skips: an IAM role's trust
//! policy. moto answers every AssumeRole, whatever the ExternalId; this proxy refuses an
//! AssumeRole whose ExternalId is not the one the role trusts (403 AccessDenied, the body real
//! STS sends), forwards everything else to moto unchanged, and records what it saw.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// One request the proxy forwarded or refused.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The access key id in the SigV4 `Authorization` header (or `X-Amz-Credential`).
    pub access_key: String,
    /// Form fields of STS calls (`Action`, `RoleArn`, `ExternalId`, ...), else empty.
    pub sts_form: Vec<(String, String)>,
    /// The access key id STS handed out, when this was a successful AssumeRole.
    pub issued_key: Option<String>,
}

impl Seen {
    pub fn form(&self, name: &str) -> Option<&str> {
        let value = self.sts_form.iter().find(|(k, _)| k == name);
        value.map(|(_, v)| v.as_str())
    }
}

#[derive(Clone)]
struct Gate {
    upstream: String,
    trusted_external_id: String,
    client: reqwest::Client,
    seen: Arc<Mutex<Vec<Seen>>>,
}

pub struct StsGate {
    pub endpoint: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl StsGate {
    pub async fn start(upstream: &str, trusted_external_id: &str) -> StsGate {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let gate = Gate {
            upstream: upstream.to_owned(),
            trusted_external_id: trusted_external_id.to_owned(),
            client: reqwest::Client::new(),
            seen: seen.clone(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(forward).with_state(gate);
        tokio::spawn(async move { axum::serve(listener, app).await });
        StsGate { endpoint, seen }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn access_key(headers: &HeaderMap, uri: &Uri) -> String {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let from_header = authorization.split("Credential=").nth(1);
    let query = uri.query().unwrap_or_default();
    let from_query = query.split("X-Amz-Credential=").nth(1);
    let credential = from_header.or(from_query).unwrap_or_default();
    credential
        .split(['/', '%', ','])
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(&text[start..end])
}

async fn forward(
    State(gate): State<Gate>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_sts = body.starts_with(b"Action=");
    let sts_form: Vec<(String, String)> = if is_sts { url_form(&body) } else { Vec::new() };
    let mut seen = Seen {
        access_key: access_key(&headers, &uri),
        sts_form,
        issued_key: None,
    };
    if seen.form("Action") == Some("AssumeRole")
        && seen.form("ExternalId") != Some(gate.trusted_external_id.as_str())
    {
        let role = seen.form("RoleArn").unwrap_or_default().to_owned();
        gate.seen.lock().unwrap().push(seen);
        let denial = format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/operator is not authorized to perform: sts:AssumeRole on resource: {role}</Message></Error><RequestId>gate</RequestId></ErrorResponse>"
        );
        return (
            StatusCode::FORBIDDEN,
            [("content-type", "text/xml")],
            denial,
        )
            .into_response();
    }
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut request = gate
        .client
        .request(method, format!("{}{path}", gate.upstream))
        .body(body);
    for (name, value) in headers.iter().filter(|(n, _)| *n != "host") {
        request = request.header(name, value);
    }
    let upstream = request.send().await.expect("moto answers");
    let status = upstream.status();
    let response_headers = upstream.headers().clone();
    let bytes = upstream.bytes().await.unwrap_or_default();
    if is_sts {
        let text = String::from_utf8_lossy(&bytes);
        seen.issued_key = between(&text, "<AccessKeyId>", "</AccessKeyId>").map(str::to_owned);
    }
    gate.seen.lock().unwrap().push(seen);
    let mut response = (status, bytes).into_response();
    for (name, value) in response_headers.iter() {
        if name != "content-length" && name != "transfer-encoding" {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}

fn url_form(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}
