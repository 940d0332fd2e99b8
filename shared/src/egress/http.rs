//! The guard plugged into the clients that reach user-supplied hosts, at connect time: the
//! client asks the guard for addresses and connects to exactly those.

use std::net::SocketAddr;
use std::sync::Arc;

#[cfg(feature = "aws-http-client")]
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
#[cfg(feature = "aws-http-client")]
use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns, ResolveDnsError};
#[cfg(feature = "aws-http-client")]
use aws_smithy_runtime_api::client::http::SharedHttpClient;

use super::error::EgressError;
use super::resolver::Guard;

/// reqwest asks this for every name it connects to. The port is 0: reqwest puts in the URL's.
impl reqwest::dns::Resolve for Guard {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses = guard.addresses(&host, 0).await?;
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A reqwest client builder for user-supplied hosts: names resolved through `guard`, no
/// redirects (a redirect to an IP literal would skip the resolver), no proxy from the
/// environment (the proxy, not the guard, would pick the address).
///
/// reqwest connects to IP literals without resolving: check them with [`Guard::check_url`]
/// when the URL comes in.
pub fn reqwest_builder(guard: &Guard) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(guard.clone()))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
}

#[cfg(feature = "aws-http-client")]
impl ResolveDns for Guard {
    fn resolve_dns<'a>(&'a self, name: &'a str) -> DnsFuture<'a> {
        DnsFuture::new(async move {
            let addresses = self
                .addresses(name, 0)
                .await
                .map_err(ResolveDnsError::new)?;
            Ok(addresses.into_iter().map(|a| a.ip()).collect())
        })
    }
}

/// An HTTP client for the AWS SDK (`aws_sdk_s3::config::Builder::http_client`) that resolves
/// through `guard`; rustls with aws-lc-rs, as the SDK's default client. The SDK follows no
/// redirects and this client uses no proxy.
///
/// Like reqwest, it connects to an IP-literal endpoint without resolving: check the endpoint
/// with [`Guard::check_url`] first.
#[cfg(feature = "aws-http-client")]
pub fn aws_http_client(guard: &Guard) -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .build_with_resolver(guard.clone())
}

/// The first address of `host` that passed the guard, for clients that take an address
/// rather than a resolver (Redis): connect them to this address, not to `host`.
pub async fn connect_tcp(guard: &Guard, host: &str, port: u16) -> Result<SocketAddr, EgressError> {
    guard
        .addresses(host, port)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| EgressError::NoAddresses {
            host: host.to_owned(),
        })
}
