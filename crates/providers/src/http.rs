//! The one guarded outbound HTTP client: every call Patchbay makes to a provider goes through
//! [`GuardedClient`] (docs/security.md N-01, N-04).
//!
//! - **Address guard.** Names are resolved by a resolver that drops loopback, private, link-local,
//!   CGNAT, ULA, multicast, documentation and other special-purpose addresses (and IPv4-mapped,
//!   NAT64 and 6to4 forms of them), so the check happens at connect time for the address actually
//!   used, which defeats DNS rebinding. URLs with an IP-literal host never reach a resolver, so
//!   [`GuardedClient::check_url`] checks those before sending. `PATCHBAY_ALLOW_PRIVATE_NETWORKS`
//!   ([`GuardOptions::allow_private_networks`]) opens the private ranges for tests, the demo and
//!   on-premises providers; cloud metadata endpoints, unspecified, multicast, broadcast and
//!   documentation addresses stay closed even then, as no provider lives there.
//! - **No redirects.** A redirect would carry credentials (or a token exchange) to wherever the
//!   provider points; a 3xx is returned as [`HttpError::Redirect`] instead.
//! - **Bounded.** Connect and total timeouts, and a response body cap enforced while streaming
//!   ([`GuardedClient::read_body`] buffers within it, [`GuardedClient::stream_body`] passes chunks
//!   on within a cap of the caller's).
//! - **Pooled.** One client, so one keep-alive pool per host; HTTP/2 is negotiated by ALPN when a
//!   TLS upstream offers it. The address guard runs on every new connection (the resolver) and
//!   every request (`check_url`); a pooled connection was checked when it was made.
//! - **Quiet.** Errors never contain a URL query (where an API key may sit) or a header value.
//!
//! Schemes: `https`, and `http` only to loopback hosts (which the address guard then refuses
//! unless private networks are allowed). This mirrors the catalog's URL rule.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// The hint appended to errors about private addresses.
const PRIVATE_HINT: &str = "set PATCHBAY_ALLOW_PRIVATE_NETWORKS=true for on-premises or test providers";

/// Limits and policy of a [`GuardedClient`].
#[derive(Debug, Clone)]
pub struct GuardOptions {
    /// Allow loopback and private ranges (`PATCHBAY_ALLOW_PRIVATE_NETWORKS`).
    pub allow_private_networks: bool,
    /// Time allowed to establish a connection (TCP + TLS).
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, body included.
    pub request_timeout: Duration,
    /// Largest response body read into memory; larger is an error, not a truncation.
    pub max_response_bytes: usize,
}

impl Default for GuardOptions {
    fn default() -> Self {
        GuardOptions {
            allow_private_networks: false,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_response_bytes: 2 * 1024 * 1024,
        }
    }
}

/// A failed outbound call, classified so callers can tell the user what to do. No variant holds
/// a secret, a URL query or a header value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The destination is not allowed (address range, scheme, credentials in the URL...).
    #[error("refused to call {host}: {reason}")]
    Blocked {
        /// The host as written in the URL.
        host: String,
        /// Why, with what to do about it.
        reason: String,
    },
    /// The provider did not answer in time.
    #[error("{host} did not answer within {seconds} s; try again later")]
    Timeout {
        /// The host called.
        host: String,
        /// The limit that was hit.
        seconds: u64,
    },
    /// No connection could be made (refused, DNS failure, TLS failure...).
    #[error("could not connect to {host}: {message}; check the provider's URL and that Patchbay can reach it")]
    Connect {
        /// The host called.
        host: String,
        /// The underlying cause.
        message: String,
    },
    /// The response body was larger than allowed.
    #[error("the response from {host} is larger than {limit} bytes; Patchbay stopped reading it")]
    TooLarge {
        /// The host called.
        host: String,
        /// The cap in bytes.
        limit: usize,
    },
    /// The provider answered with a redirect, which is never followed.
    #[error(
        "the provider redirected (HTTP {status}) to {location}; Patchbay does not follow redirects \
         with credentials: fix the provider's URL to point at the final address"
    )]
    Redirect {
        /// The 3xx status.
        status: u16,
        /// The `Location` header, without its query string or fragment.
        location: String,
    },
    /// Anything else (invalid request, protocol error...).
    #[error("request to {host} failed: {message}")]
    Other {
        /// The host called (may be empty if the URL had none).
        host: String,
        /// The cause.
        message: String,
    },
}

/// How an address is treated by the guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// A public unicast address: always allowed.
    Public,
    /// Loopback, private, link-local, CGNAT or ULA: allowed only with `allow_private_networks`.
    Private(&'static str),
    /// Never allowed (metadata endpoints, unspecified, multicast, documentation...).
    Forbidden(&'static str),
}

/// Classifies an IP address for the outbound guard.
pub fn classify_ip(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    use AddressClass::{Forbidden, Private, Public};
    // Metadata services are the prize of SSRF; no on-premises provider lives there.
    const METADATA: [[u8; 4]; 4] =
        [[169, 254, 169, 254], [169, 254, 170, 2], [169, 254, 170, 23], [100, 100, 100, 200]];
    if METADATA.iter().any(|m| ip.octets() == *m) {
        return Forbidden("a cloud metadata address");
    }
    let table: &[([u8; 4], u32, AddressClass)] = &[
        ([0, 0, 0, 0], 8, Forbidden("an unspecified (\"this network\") address")),
        ([10, 0, 0, 0], 8, Private("a private (RFC 1918) address")),
        ([100, 64, 0, 0], 10, Private("a carrier-grade NAT (RFC 6598) address")),
        ([127, 0, 0, 0], 8, Private("a loopback address")),
        ([169, 254, 0, 0], 16, Private("a link-local address")),
        ([172, 16, 0, 0], 12, Private("a private (RFC 1918) address")),
        ([192, 0, 0, 0], 24, Forbidden("an IETF protocol assignment address")),
        ([192, 0, 2, 0], 24, Forbidden("a documentation address")),
        ([192, 88, 99, 0], 24, Forbidden("a 6to4 relay anycast address")),
        ([192, 168, 0, 0], 16, Private("a private (RFC 1918) address")),
        ([198, 18, 0, 0], 15, Forbidden("a benchmarking address")),
        ([198, 51, 100, 0], 24, Forbidden("a documentation address")),
        ([203, 0, 113, 0], 24, Forbidden("a documentation address")),
        ([224, 0, 0, 0], 4, Forbidden("a multicast address")),
        ([240, 0, 0, 0], 4, Forbidden("a reserved or broadcast address")),
    ];
    table.iter().find(|(net, prefix, _)| in_v4(ip, *net, *prefix)).map_or(Public, |(_, _, class)| *class)
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    use AddressClass::{Forbidden, Private, Public};
    let seg = ip.segments();
    if ip.is_unspecified() {
        return Forbidden("an unspecified address");
    }
    if ip.is_loopback() {
        return Private("a loopback address");
    }
    // Forms that embed an IPv4 address take that address's class: ::ffff:a.b.c.d (mapped),
    // ::ffff:0:a.b.c.d (IPv4-translated, RFC 2765), 64:ff9b::a.b.c.d (NAT64),
    // 2002:AABB:CCDD::/48 (6to4).
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    if seg[..6] == [0, 0, 0, 0, 0xffff, 0] {
        return classify_v4(Ipv4Addr::from((u32::from(seg[6]) << 16) | u32::from(seg[7])));
    }
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return classify_v4(Ipv4Addr::from((u32::from(seg[6]) << 16) | u32::from(seg[7])));
    }
    if seg[0] == 0x2002 {
        return classify_v4(Ipv4Addr::from((u32::from(seg[1]) << 16) | u32::from(seg[2])));
    }
    if seg[..6] == [0, 0, 0, 0, 0, 0] {
        return Forbidden("an IPv4-compatible IPv6 address (deprecated)");
    }
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return Forbidden("a cloud metadata address");
    }
    let in6 = |net: u128, prefix: u32| {
        let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - prefix) };
        (u128::from(ip) & mask) == (net & mask)
    };
    let table: &[(u128, u32, AddressClass)] = &[
        (0x0064_ff9b_0001 << 80, 48, Private("a local-use NAT64 address")),
        (0x0100 << 112, 64, Forbidden("a discard-only address")),
        (0x2001 << 112, 32, Forbidden("a Teredo tunnel address")),
        (0x2001_0002 << 96, 48, Forbidden("a benchmarking address")),
        (0x2001_0db8 << 96, 32, Forbidden("a documentation address")),
        (0x3fff << 112, 20, Forbidden("a documentation address")),
        (0xfc00 << 112, 7, Private("a unique local (ULA) address")),
        (0xfe80 << 112, 10, Private("a link-local address")),
        (0xfec0 << 112, 10, Private("a site-local address")),
        (0xff00 << 112, 8, Forbidden("a multicast address")),
    ];
    table.iter().find(|(net, prefix, _)| in6(*net, *prefix)).map_or(Public, |(_, _, class)| *class)
}

/// Whether the guard lets `ip` through, and if not, why (with what to do).
fn address_verdict(ip: IpAddr, allow_private: bool) -> Result<(), String> {
    match classify_ip(ip) {
        AddressClass::Public => Ok(()),
        AddressClass::Private(_) if allow_private => Ok(()),
        AddressClass::Private(what) => Err(format!("{ip} is {what}; {PRIVATE_HINT}")),
        AddressClass::Forbidden(what) => Err(format!("{ip} is {what}, which Patchbay never calls")),
    }
}

/// The resolver error that carries a guard refusal through reqwest's error chain.
#[derive(Debug)]
struct BlockedAddress {
    host: String,
    reason: String,
}

impl fmt::Display for BlockedAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} resolves only to refused addresses: {}", self.host, self.reason)
    }
}

impl std::error::Error for BlockedAddress {}

/// The system resolver (getaddrinfo on a blocking thread, through tokio).
#[derive(Debug, Default, Clone, Copy)]
struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Wraps a resolver and drops every address the guard refuses; no address left is an error.
struct GuardedResolver {
    inner: Arc<dyn Resolve>,
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let allow_private = self.allow_private;
        let lookup = self.inner.resolve(name);
        Box::pin(async move {
            let mut kept = Vec::new();
            let mut refused = None;
            for addr in lookup.await? {
                match address_verdict(addr.ip(), allow_private) {
                    Ok(()) => kept.push(addr),
                    Err(reason) => {
                        refused.get_or_insert(reason);
                    }
                }
            }
            if kept.is_empty() {
                let reason = refused.unwrap_or_else(|| "the name has no address".to_owned());
                return Err(Box::new(BlockedAddress { host, reason }) as _);
            }
            if refused.is_some() {
                // A name answering both public and internal addresses smells of rebinding; only
                // the public ones are used.
                tracing::warn!(host = %host, "dropped refused addresses from a DNS answer");
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// A response body passed on chunk by chunk ([`GuardedClient::stream_body`]).
pub type BodyStream = std::pin::Pin<Box<dyn futures::Stream<Item = Result<Bytes, HttpError>> + Send>>;

/// A response read in full (within the size cap).
#[derive(Debug, Clone)]
pub struct FetchedResponse {
    /// HTTP status.
    pub status: http::StatusCode,
    /// Response headers.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: Bytes,
}

/// The outbound HTTP client every provider call goes through. Cheap to clone.
#[derive(Clone)]
pub struct GuardedClient {
    client: reqwest::Client,
    options: GuardOptions,
}

impl fmt::Debug for GuardedClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardedClient").field("options", &self.options).finish_non_exhaustive()
    }
}

impl GuardedClient {
    /// A client using the system resolver.
    pub fn new(options: GuardOptions) -> Result<Self, HttpError> {
        Self::with_resolver(options, Arc::new(SystemResolver))
    }

    /// A client whose name lookups go to `resolver`, with the guard applied to every answer
    /// (tests use this to simulate DNS rebinding and names pointing at loopback).
    pub fn with_resolver(options: GuardOptions, resolver: Arc<dyn Resolve>) -> Result<Self, HttpError> {
        Self::build(options, resolver, Vec::new())
    }

    /// **Test-only** (feature `conformance`, which only dev-dependencies enable, so the release
    /// binary has no such function): a client whose lookups go to `resolver` and which trusts
    /// *only* the CA certificates in `roots_pem`, never the system's. The conformance kit uses
    /// it to reach loopback emulations of real services under their real host names; the
    /// address guard still applies (loopback needs `allow_private_networks`). docs/security.md
    /// ("The conformance seam") says why this cannot be reached from a deployment.
    #[cfg(feature = "conformance")]
    pub fn with_test_roots(
        options: GuardOptions,
        resolver: Arc<dyn Resolve>,
        roots_pem: &str,
    ) -> Result<Self, HttpError> {
        let roots = reqwest::Certificate::from_pem_bundle(roots_pem.as_bytes()).map_err(|e| HttpError::Other {
            host: String::new(),
            message: format!("invalid test CA: {}", describe(&e)),
        })?;
        if roots.is_empty() {
            return Err(HttpError::Other { host: String::new(), message: "no test CA certificate given".into() });
        }
        Self::build(options, resolver, roots)
    }

    fn build(
        options: GuardOptions,
        resolver: Arc<dyn Resolve>,
        roots: Vec<reqwest::Certificate>,
    ) -> Result<Self, HttpError> {
        let guarded = GuardedResolver { inner: resolver, allow_private: options.allow_private_networks };
        let mut builder = reqwest::Client::builder();
        if !roots.is_empty() {
            // Only these roots: a client of the kit must never also trust the real ones.
            builder = builder.tls_certs_only(roots);
        }
        let client = builder
            .user_agent(concat!("patchbay/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve names itself, out of the guard's sight.
            .no_proxy()
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .dns_resolver(Arc::new(guarded))
            .build()
            .map_err(|e| HttpError::Other {
                host: String::new(),
                message: format!("cannot build the HTTP client: {}", describe(&e)),
            })?;
        Ok(GuardedClient { client, options })
    }

    /// The options this client was built with.
    pub fn options(&self) -> &GuardOptions {
        &self.options
    }

    /// Checks what can be checked before any lookup: the scheme, credentials in the URL, and
    /// an IP-literal host (which bypasses the resolver and so its guard).
    pub fn check_url(&self, url: &Url) -> Result<(), HttpError> {
        let host_text = url.host_str().unwrap_or_default().to_owned();
        let blocked = |reason: String| HttpError::Blocked {
            host: if host_text.is_empty() { url.scheme().to_owned() } else { host_text.clone() },
            reason,
        };
        let Some(host) = url.host() else {
            return Err(blocked("the URL has no host".into()));
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(blocked("the URL carries a username or password; credentials are never sent in URLs".into()));
        }
        let loopback_name = match &host {
            Host::Domain(d) => {
                let d = d.trim_end_matches('.');
                d == "localhost" || d.ends_with(".localhost")
            }
            Host::Ipv4(ip) => ip.is_loopback(),
            Host::Ipv6(ip) => ip.is_loopback(),
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback_name => {}
            "http" => {
                return Err(blocked("plain http:// is only used for loopback test providers; use https://".into()));
            }
            other => {
                return Err(blocked(format!("the {other}: scheme is not allowed; use https://")));
            }
        }
        let ip = match host {
            Host::Ipv4(ip) => IpAddr::V4(ip),
            Host::Ipv6(ip) => IpAddr::V6(ip),
            Host::Domain(_) => return Ok(()),
        };
        address_verdict(ip, self.options.allow_private_networks).map_err(blocked)
    }

    /// A request builder for `url`, after [`check_url`](Self::check_url).
    pub fn request(&self, method: http::Method, url: Url) -> Result<reqwest::RequestBuilder, HttpError> {
        self.check_url(&url)?;
        Ok(self.client.request(method, url))
    }

    /// Sends a request and returns the response head, the body unread. The URL is checked again
    /// (the builder may have changed it), errors are classified, and a redirect is an error.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, HttpError> {
        let (_, request) = request.build_split();
        let request = request.map_err(|e| HttpError::Other {
            host: e.url().and_then(Url::host_str).unwrap_or_default().to_owned(),
            message: describe(&e),
        })?;
        self.check_url(request.url())?;
        let host = request.url().host_str().unwrap_or_default().to_owned();
        let response = self.client.execute(request).await.map_err(|e| self.classify(&host, &e))?;
        let status = response.status();
        if status.is_redirection() && status != http::StatusCode::NOT_MODIFIED {
            let location = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map_or_else(|| "(no Location header)".to_owned(), strip_query);
            return Err(HttpError::Redirect { status: status.as_u16(), location });
        }
        Ok(response)
    }

    /// Reads a response body, failing with [`HttpError::TooLarge`] past the cap.
    pub async fn read_body(&self, response: reqwest::Response) -> Result<Bytes, HttpError> {
        self.read_body_within(response, self.options.max_response_bytes).await
    }

    /// As [`read_body`](Self::read_body) with a smaller cap of the caller's (metadata documents
    /// are small; the cap of the client stays the ceiling).
    pub async fn read_body_within(&self, mut response: reqwest::Response, limit: usize) -> Result<Bytes, HttpError> {
        let host = response.url().host_str().unwrap_or_default().to_owned();
        let limit = limit.min(self.options.max_response_bytes);
        let too_large = || HttpError::TooLarge { host: host.clone(), limit };
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(&host, &e))? {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    /// A response body as a stream of chunks, failing with [`HttpError::TooLarge`] past `limit`
    /// bytes: at once when the `Content-Length` says so, else at the chunk that crosses it (the
    /// receiver then sees an aborted body, never a silently truncated one).
    pub fn stream_body(&self, response: reqwest::Response, limit: usize) -> Result<BodyStream, HttpError> {
        use futures::StreamExt;
        let host = response.url().host_str().unwrap_or_default().to_owned();
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(HttpError::TooLarge { host, limit });
        }
        let client = self.clone();
        let mut seen = 0usize;
        Ok(Box::pin(response.bytes_stream().map(move |chunk| {
            let chunk = chunk.map_err(|e| client.classify(&host, &e))?;
            seen = seen.saturating_add(chunk.len());
            if seen > limit {
                return Err(HttpError::TooLarge { host: host.clone(), limit });
            }
            Ok(chunk)
        })))
    }

    /// [`send`](Self::send) then [`read_body`](Self::read_body).
    pub async fn fetch(&self, request: reqwest::RequestBuilder) -> Result<FetchedResponse, HttpError> {
        let response = self.send(request).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = self.read_body(response).await?;
        Ok(FetchedResponse { status, headers, body })
    }

    fn classify(&self, host: &str, e: &reqwest::Error) -> HttpError {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(err) = source {
            if let Some(blocked) = err.downcast_ref::<BlockedAddress>() {
                return HttpError::Blocked { host: blocked.host.clone(), reason: blocked.reason.clone() };
            }
            source = err.source();
        }
        if e.is_timeout() {
            let limit = if e.is_connect() { self.options.connect_timeout } else { self.options.request_timeout };
            return HttpError::Timeout { host: host.to_owned(), seconds: limit.as_secs().max(1) };
        }
        let message = describe(e);
        if e.is_connect() {
            HttpError::Connect { host: host.to_owned(), message }
        } else {
            HttpError::Other { host: host.to_owned(), message }
        }
    }
}

/// A reqwest error's kind and sources, without the URL that reqwest's own `Display` includes (its
/// query may hold an API key).
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let mut out = String::from(if e.is_builder() {
        "invalid request"
    } else if e.is_body() {
        "error reading the response body"
    } else if e.is_decode() {
        "error decoding the response"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_request() {
        "error sending the request"
    } else {
        "request failed"
    });
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        // hyper-util wraps every cause in "client error (Kind)", which says nothing more.
        if !text.starts_with("client error (") && !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// A Location header without query or fragment: a provider redirecting a URL that carried an API
/// key in its query would echo the key there.
fn strip_query(location: &str) -> String {
    let end = location.find(['?', '#']).unwrap_or(location.len());
    let mut out: String = location[..end].chars().filter(|c| !c.is_control()).take(200).collect();
    if end < location.len() {
        out.push_str("?…");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        let cases: &[(&str, bool)] = &[
            ("8.8.8.8", true),
            ("1.1.1.1", true),
            ("2606:4700::1111", true),
            ("127.0.0.1", false),
            ("10.1.2.3", false),
            ("172.31.255.255", false),
            ("172.32.0.1", true),
            ("192.168.0.1", false),
            ("100.64.0.1", false),
            ("100.128.0.1", true),
            ("169.254.169.254", false),
            ("0.0.0.0", false),
            ("255.255.255.255", false),
            ("224.0.0.1", false),
            ("::1", false),
            ("::", false),
            ("::ffff:127.0.0.1", false),
            ("::ffff:8.8.8.8", true),
            ("64:ff9b::a9fe:a9fe", false),
            ("64:ff9b::808:808", true),
            ("2002:7f00:1::", false),
            ("fd00::1", false),
            ("fe80::1", false),
            ("ff02::1", false),
            ("2001:db8::1", false),
            ("::127.0.0.1", false),
            // IPv4-translated (RFC 2765), NAT64 and 6to4 take the embedded address's class.
            ("::ffff:0:127.0.0.1", false),
            ("::ffff:0:a9fe:a9fe", false),
            ("::ffff:0:10.0.0.1", false),
            ("::ffff:0:8.8.8.8", true),
            ("64:ff9b::10.0.0.1", false),
            ("64:ff9b::7f00:1", false),
            ("2002:a9fe:a9fe::1", false),
            ("2002:0a00:0001::", false),
            ("2002:0808:0808::1", true),
        ];
        for (ip, public) in cases {
            let class = classify_ip(ip.parse().unwrap());
            assert_eq!(class == AddressClass::Public, *public, "{ip}: {class:?}");
        }
        assert!(matches!(classify_ip("169.254.169.254".parse().unwrap()), AddressClass::Forbidden(_)));
        assert!(matches!(classify_ip("fd00:ec2::254".parse().unwrap()), AddressClass::Forbidden(_)));
        for metadata in ["::ffff:0:169.254.169.254", "64:ff9b::169.254.169.254", "2002:a9fe:a9fe::"] {
            assert!(matches!(classify_ip(metadata.parse().unwrap()), AddressClass::Forbidden(_)), "{metadata}");
        }
        assert!(matches!(classify_ip("127.0.0.1".parse().unwrap()), AddressClass::Private(_)));
    }

    #[test]
    fn redirect_locations_lose_their_query() {
        assert_eq!(strip_query("https://a.example/x?api_token=SECRET#f"), "https://a.example/x?…");
        assert_eq!(strip_query("/relative"), "/relative");
    }
}
