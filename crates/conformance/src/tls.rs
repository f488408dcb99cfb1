//! The throwaway certificate authority of one kit run, and the TLS listener the emulators serve
//! on. The CA's key lives only in this process's memory and dies with it; Patchbay's client in
//! the harness trusts this CA *only* (`GuardedClient::with_test_roots`), never alongside the
//! system roots, so no certificate made here could ever be taken for a real service's.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A CA made for one run; it signs one leaf certificate per emulated service.
pub struct Authority {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority").finish_non_exhaustive()
    }
}

impl Authority {
    /// A fresh CA with a new key.
    pub fn new() -> Authority {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.distinguished_name.push(DnType::CommonName, "Patchbay conformance kit throwaway CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("CA key");
        Authority { issuer: CertifiedIssuer::self_signed(params, key).expect("CA certificate") }
    }

    /// The CA certificate, PEM: what a test client trusts.
    pub fn ca_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server configuration presenting a new leaf certificate for `hosts`.
    pub fn server_config(&self, hosts: &[&str]) -> Arc<rustls::ServerConfig> {
        let names: Vec<String> = hosts.iter().map(|h| (*h).to_owned()).collect();
        let params = CertificateParams::new(names).expect("leaf parameters");
        let key = KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("leaf certificate");
        let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server certificate");
        // HTTP/1.1 only: hyper-util's auto builder would take h2 too, but one is enough here
        // and keeps the Host header (which the emulators route on) in every request.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

impl Default for Authority {
    fn default() -> Self {
        Self::new()
    }
}

/// A TCP listener that completes the TLS handshake before handing a stream to axum.
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl TlsListener {
    /// Binds `127.0.0.1:0`.
    pub async fn bind(config: Arc<rustls::ServerConfig>) -> io::Result<TlsListener> {
        let tcp = TcpListener::bind("127.0.0.1:0").await?;
        Ok(TlsListener { tcp, acceptor: TlsAcceptor::from(config) })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, peer)) = self.tcp.accept().await else {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            // A client that does not trust the CA aborts its handshake; that is its business,
            // not a reason to stop accepting. The timeout keeps a silent peer from blocking us.
            match tokio::time::timeout(Duration::from_secs(5), self.acceptor.accept(stream)).await {
                Ok(Ok(tls)) => return (tls, peer),
                _ => continue,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}
