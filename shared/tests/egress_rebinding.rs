//! The egress guard against DNS rebinding and redirects, through the real HTTP clients and
//! real sockets: a name that answers a public address when checked and 127.0.0.1 when
//! connected to must not reach a listener on 127.0.0.1.

use std::error::Error;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
#[cfg(feature = "s3")]
use labelsync::egress::aws_http_client;
use labelsync::egress::{EgressError, EgressPolicy, Guard, Resolve, reqwest_builder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const PUBLIC: IpAddr = IpAddr::V4(Ipv4Addr::new(93, 184, 215, 14));
const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// The attacker's DNS: a public address on the first question, loopback afterwards.
#[derive(Debug, Default)]
struct Rebinding {
    calls: AtomicUsize,
}

#[async_trait]
impl Resolve for Rebinding {
    async fn resolve(&self, _host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        let first = self.calls.fetch_add(1, Ordering::SeqCst) == 0;
        let ip = if first { PUBLIC } else { LOOPBACK };
        Ok(vec![SocketAddr::new(ip, port)])
    }
}

/// A TCP listener that counts the connections it accepts and answers each with `response`.
struct Listener {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

impl Listener {
    async fn start(ip: &str, response: String) -> Self {
        let listener = TcpListener::bind((ip, 0))
            .await
            .expect("bind a test listener");
        let port = listener.local_addr().expect("bound address").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let response = response.clone();
                tokio::spawn(async move {
                    let mut request = [0u8; 4096];
                    let _ = socket.read(&mut request).await;
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Self { port, accepted }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

fn ok_response() -> String {
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".to_owned()
}

/// The guard's error somewhere in a client error's source chain.
fn egress_error<'a>(error: &'a (dyn Error + 'static)) -> Option<&'a EgressError> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(found) = error.downcast_ref::<EgressError>() {
            return Some(found);
        }
        next = error.source();
    }
    None
}

/// Checks the name (first answer, public), then returns the guard for the connect.
async fn checked_guard(policy: EgressPolicy, port: u16) -> (Guard, Arc<Rebinding>) {
    let resolver = Arc::new(Rebinding::default());
    let guard = Guard::with_resolver(policy, resolver.clone());
    let checked = guard
        .addresses("rebind.test", port)
        .await
        .expect("the check sees the public answer");
    assert_eq!(checked, vec![SocketAddr::new(PUBLIC, port)]);
    (guard, resolver)
}

#[tokio::test]
async fn egress_reqwest_refuses_the_rebound_address_at_connect() {
    let listener = Listener::start("127.0.0.1", ok_response()).await;
    let (guard, resolver) = checked_guard(EgressPolicy::deny_private(), listener.port).await;

    let client = reqwest_builder(&guard).build().expect("client");
    let error = client
        .get(format!("http://rebind.test:{}/", listener.port))
        .send()
        .await
        .expect_err("the connect-time answer is loopback");

    match egress_error(&error) {
        Some(EgressError::Refused { host, ip, .. }) => {
            assert_eq!((host.as_str(), *ip), ("rebind.test", LOOPBACK));
        }
        other => panic!("expected the guard's refusal, got {other:?} in {error:?}"),
    }
    assert_eq!(resolver.calls.load(Ordering::SeqCst), 2);
    assert_eq!(
        listener.accepted(),
        0,
        "nothing may reach the loopback listener"
    );
}

#[tokio::test]
async fn egress_reqwest_reaches_the_listener_when_the_operator_allows_it() {
    let listener = Listener::start("127.0.0.1", ok_response()).await;
    let policy = EgressPolicy::parse("127.0.0.1/32").expect("valid");
    let (guard, _) = checked_guard(policy, listener.port).await;

    let client = reqwest_builder(&guard).build().expect("client");
    let response = client
        .get(format!("http://rebind.test:{}/", listener.port))
        .send()
        .await
        .expect("127.0.0.1 is allowed");
    assert_eq!(response.status(), 200);
    assert_eq!(listener.accepted(), 1);
}

#[tokio::test]
async fn egress_redirects_are_returned_not_followed() {
    let target = Listener::start("127.0.0.1", ok_response()).await;
    let location = format!("http://127.0.0.1:{}/", target.port);
    let redirect = format!(
        "HTTP/1.1 302 Found\r\nLocation: {location}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let redirector = Listener::start("127.0.0.2", redirect).await;
    let guard = Guard::new(EgressPolicy::parse("127.0.0.2/32").expect("valid"));
    let url = format!("http://127.0.0.2:{}/", redirector.port);
    guard.check_url(&url).expect("127.0.0.2 is allowed");
    assert!(guard.check_url(&location).is_err());

    let client = reqwest_builder(&guard).build().expect("client");
    let response = client.get(&url).send().await.expect("the 302 itself");
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], location.as_str());
    assert_eq!(redirector.accepted(), 1);
    assert_eq!(target.accepted(), 0, "the redirect must not be followed");

    // The control: a client that follows redirects does reach the target.
    let following = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let response = following.get(&url).send().await.expect("followed");
    assert_eq!(response.status(), 200);
    assert_eq!(target.accepted(), 1);
}

#[cfg(feature = "s3")]
fn s3_client(guard: &Guard, port: u16) -> aws_sdk_s3::Client {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDEGRESSTEST",
            "secret",
            None,
            None,
            "test",
        ))
        .endpoint_url(format!("http://rebind.test:{port}"))
        .force_path_style(true)
        .retry_config(RetryConfig::disabled())
        .http_client(aws_http_client(guard))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

#[cfg(feature = "s3")]
#[tokio::test]
async fn egress_aws_client_refuses_the_rebound_address_at_connect() {
    let listener = Listener::start("127.0.0.1", ok_response()).await;
    let (guard, resolver) = checked_guard(EgressPolicy::deny_private(), listener.port).await;

    let error = s3_client(&guard, listener.port)
        .list_objects_v2()
        .bucket("bucket")
        .send()
        .await
        .expect_err("the connect-time answer is loopback");

    match egress_error(&error) {
        Some(EgressError::Refused { host, ip, .. }) => {
            assert_eq!((host.as_str(), *ip), ("rebind.test", LOOPBACK));
        }
        other => panic!("expected the guard's refusal, got {other:?} in {error:?}"),
    }
    assert_eq!(resolver.calls.load(Ordering::SeqCst), 2);
    assert_eq!(
        listener.accepted(),
        0,
        "nothing may reach the loopback listener"
    );
}

#[cfg(feature = "s3")]
#[tokio::test]
async fn egress_aws_client_reaches_the_listener_when_the_operator_allows_it() {
    let listener = Listener::start("127.0.0.1", ok_response()).await;
    let policy = EgressPolicy::parse("127.0.0.1/32").expect("valid");
    let (guard, _) = checked_guard(policy, listener.port).await;

    // The stand-in is no S3, so the call fails after connecting; the connection is the point.
    let _ = s3_client(&guard, listener.port)
        .list_objects_v2()
        .bucket("bucket")
        .send()
        .await;
    assert_eq!(listener.accepted(), 1);
}
