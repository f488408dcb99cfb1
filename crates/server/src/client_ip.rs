//! Which address a request comes from, for the sign-in rate limit: the TCP peer, unless the
//! peer is one of the operator's trusted proxies (`PATCHBAY_TRUSTED_PROXIES`).
//!
//! Behind a trusted proxy the client is the **rightmost** address of `X-Forwarded-For` that is
//! not itself a trusted proxy. Each proxy appends the peer it saw, so everything to the right of
//! that address was written by a trusted hop, and everything to its left by the client, who can
//! write anything there: a client cannot pick its own rate-limit bucket by sending the header.
//! An entry that does not parse stops the walk at the last trusted hop, so junk cannot open a
//! fresh bucket either. Without trusted proxies the header is never read.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

/// The header proxies append the client's address to.
const FORWARDED_FOR: &str = "x-forwarded-for";

/// One network of trusted proxies: an address and its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The configured trusted proxies (empty: none, the TCP peer always counts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    nets: Vec<Net>,
}

/// An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, as a dual-stack listener reports IPv4 peers)
/// is the IPv4 address, so `10.0.0.0/8` matches it.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// One `X-Forwarded-For` entry: an address, optionally with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`) as some proxies write it.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry.parse::<IpAddr>().ok().or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip())).map(canonical)
}

impl TrustedProxies {
    /// Parses a comma- or space-separated list of networks (`10.0.0.0/8`, `2001:db8::/32`) and
    /// single addresses (`192.0.2.7`, `::1`). An empty list trusts no proxy.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for item in list.split([',', ' ', '\t', '\n']).map(str::trim).filter(|s| !s.is_empty()) {
            nets.push(parse_net(item)?);
        }
        Ok(TrustedProxies { nets })
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(ip))
    }

    /// The client address of a request from TCP peer `peer` with `headers` (see the module
    /// header).
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.contains(client) {
            return client;
        }
        // Several header lines are one list, in order (RFC 9110 §5.3).
        let mut entries: Vec<&str> = Vec::new();
        for value in headers.get_all(FORWARDED_FOR) {
            let Ok(text) = value.to_str() else {
                return client;
            };
            entries.extend(text.split(','));
        }
        for entry in entries.iter().rev() {
            match parse_entry(entry) {
                Some(ip) if self.contains(ip) => client = ip,
                Some(ip) => return ip,
                None => return client,
            }
        }
        client
    }
}

/// One trusted network: `ADDR/PREFIX` or a single address, with no host bits set past the prefix.
fn parse_net(item: &str) -> Result<Net, String> {
    let (addr_text, prefix_text) = match item.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (item, None),
    };
    let addr: IpAddr = addr_text.parse().map_err(|_| {
        format!("PATCHBAY_TRUSTED_PROXIES: `{item}` is not an address or network: write e.g. 10.0.0.0/8, 192.0.2.7 or 2001:db8::/32")
    })?;
    let addr = canonical(addr);
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix =
        match prefix_text {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| {
                format!("PATCHBAY_TRUSTED_PROXIES: `{item}` has a prefix length that is not 0 to {max}")
            })?,
        };
    let net = Net { addr, prefix };
    let base = Net { addr: network_address(addr, prefix), prefix };
    if base.addr != addr {
        return Err(format!(
            "PATCHBAY_TRUSTED_PROXIES: `{item}` has bits set after the prefix: write {}/{prefix}",
            base.addr
        ));
    }
    Ok(net)
}

/// `addr` with every bit after `prefix` cleared.
fn network_address(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((u32::from(a) & mask).into())
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((u128::from(a) & mask).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(lines: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for line in lines {
            h.append(FORWARDED_FOR, HeaderValue::from_str(line).unwrap());
        }
        h
    }

    #[test]
    fn lists_parse_networks_and_addresses_and_explain_mistakes() {
        let t = TrustedProxies::parse("10.0.0.0/8, 192.0.2.7 2001:db8::/32,::1").unwrap();
        assert!(t.contains(ip("10.255.0.1")) && !t.contains(ip("11.0.0.1")));
        assert!(t.contains(ip("192.0.2.7")) && !t.contains(ip("192.0.2.8")));
        assert!(t.contains(ip("2001:db8:ffff::1")) && !t.contains(ip("2001:db9::1")));
        assert!(t.contains(ip("::1")));
        assert!(t.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped peers match IPv4 networks");
        assert!(TrustedProxies::parse("0.0.0.0/0").unwrap().contains(ip("203.0.113.1")));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        for (bad, says) in [
            ("10.0.0.0/33", "prefix length that is not 0 to 32"),
            ("2001:db8::/129", "not 0 to 128"),
            ("proxy.internal", "is not an address or network"),
            ("10.0.0.1/8", "write 10.0.0.0/8"),
            ("10.0.0.0/x", "prefix length"),
        ] {
            let err = TrustedProxies::parse(&format!("192.0.2.1, {bad}")).unwrap_err();
            assert!(err.contains(says) && err.contains(bad), "{bad}: {err}");
        }
    }

    #[test]
    fn the_peer_counts_unless_it_is_a_trusted_proxy() {
        let none = TrustedProxies::default();
        let forged = headers(&["198.51.100.1"]);
        assert_eq!(none.client_ip(ip("203.0.113.9"), &forged), ip("203.0.113.9"), "no trusted proxy: header ignored");
        let t = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(t.client_ip(ip("203.0.113.9"), &forged), ip("203.0.113.9"), "an untrusted peer's header is ignored");
        assert_eq!(t.client_ip(ip("10.0.0.2"), &HeaderMap::new()), ip("10.0.0.2"), "a proxy without the header");
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_address_counts() {
        let t = TrustedProxies::parse("10.0.0.0/8, 2001:db8::/32").unwrap();
        let peer = ip("10.0.0.2");
        // What the client wrote (left) cannot choose its bucket.
        assert_eq!(t.client_ip(peer, &headers(&["198.51.100.1, 203.0.113.5"])), ip("203.0.113.5"));
        // Trusted hops are skipped, across header lines too.
        assert_eq!(t.client_ip(peer, &headers(&["198.51.100.1, 203.0.113.5", "10.1.1.1"])), ip("203.0.113.5"));
        assert_eq!(t.client_ip(peer, &headers(&["203.0.113.5, 2001:db8::7, 10.9.9.9"])), ip("203.0.113.5"));
        // Ports and brackets as some proxies write them; IPv4-mapped entries are IPv4.
        assert_eq!(t.client_ip(peer, &headers(&["203.0.113.5:4711"])), ip("203.0.113.5"));
        assert_eq!(t.client_ip(peer, &headers(&["[2001:db9::5]:443"])), ip("2001:db9::5"));
        assert_eq!(t.client_ip(peer, &headers(&["::ffff:203.0.113.5"])), ip("203.0.113.5"));
        // Only trusted hops: the leftmost of them.
        assert_eq!(t.client_ip(peer, &headers(&["10.3.3.3, 10.1.1.1"])), ip("10.3.3.3"));
        // Junk stops the walk at the last trusted hop: no fresh bucket per junk value.
        assert_eq!(t.client_ip(peer, &headers(&["203.0.113.5, unknown"])), peer);
        assert_eq!(t.client_ip(peer, &headers(&["203.0.113.5, junk, 10.1.1.1"])), ip("10.1.1.1"));
        assert_eq!(t.client_ip(peer, &headers(&[""])), peer);
    }
}
