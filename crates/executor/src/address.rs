//! Which addresses the gateway may call: public ones only, for provider calls and file fetches
//! alike, unless the operator allows private ones (or, for provider calls, names hosts that are
//! allowed whatever they resolve to).
//!
//! Host names are checked in the clients' DNS resolver, so the addresses checked are the
//! addresses connected to (a name that resolves to a public address when checked and to a
//! private one when connected cannot pass). IP literals skip DNS and are checked before each
//! request. With a proxy, the proxy resolves names: the target's addresses are then looked up and
//! checked before sending, which leaves a gap (the proxy's own lookup may answer differently).

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// A URL whose host is, or resolves to, an address it may not use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the address `{0}` is not public")]
pub(crate) struct ForbiddenAddress(pub(crate) IpAddr);

/// Why a URL may not be called.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Its host is, or resolves to, a forbidden address.
    Forbidden(IpAddr),
    /// Its host could not be resolved to check its addresses.
    Unresolved(String),
}

/// Which addresses one kind of call may use.
#[derive(Debug, Clone, Default)]
pub(crate) struct AddressGuard {
    /// Every address is allowed: the guard is off.
    allow_all: bool,
    /// Hosts allowed whatever they resolve to, as [`normalize_host`] writes them.
    allowed_hosts: Arc<HashSet<String>>,
}

impl AddressGuard {
    /// A guard that allows every address when `allow_all`, else public addresses and the hosts
    /// in `allowed_hosts`.
    pub(crate) fn new(allow_all: bool, allowed_hosts: &[String]) -> AddressGuard {
        AddressGuard {
            allow_all,
            allowed_hosts: Arc::new(allowed_hosts.iter().map(|h| normalize_host(h)).collect()),
        }
    }

    /// Whether the guard is off.
    pub(crate) fn allows_all(&self) -> bool {
        self.allow_all
    }

    /// Whether `host` may be called whatever it resolves to.
    fn allows_host(&self, host: &str) -> bool {
        self.allow_all || self.allowed_hosts.contains(&normalize_host(host))
    }

    /// Refuses `url` when its host is a forbidden IP literal that is not allowed.
    pub(crate) fn check_literal(&self, url: &Url) -> Result<(), ForbiddenAddress> {
        match url.host_str() {
            Some(host) if self.allows_host(host) => Ok(()),
            _ => check_literal(url),
        }
    }

    /// Checks `url` as [`AddressGuard::check_literal`] does, and also looks its host name up and
    /// checks every address: for requests sent through a proxy, which resolves names itself.
    pub(crate) async fn check_resolved(&self, url: &Url) -> Result<(), Refusal> {
        self.check_literal(url)
            .map_err(|ForbiddenAddress(ip)| Refusal::Forbidden(ip))?;
        let Some(url::Host::Domain(host)) = url.host() else {
            return Ok(());
        };
        if self.allows_host(host) {
            return Ok(());
        }
        let port = url.port_or_known_default().unwrap_or(0);
        let addrs = tokio::net::lookup_host((host, port))
            .await
            .map_err(|error| Refusal::Unresolved(format!("cannot resolve `{host}`: {error}")))?;
        for addr in addrs {
            if is_forbidden(addr.ip()) {
                return Err(Refusal::Forbidden(addr.ip()));
            }
        }
        Ok(())
    }
}

/// A host as the allow-list keeps it: lower case, without a trailing dot or IPv6 brackets.
fn normalize_host(host: &str) -> String {
    host.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// Whether `ip` is loopback, private, link-local, unspecified or otherwise not a public
/// unicast address.
pub(crate) fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_forbidden_v4(ip),
        IpAddr::V6(ip) => is_forbidden_v6(ip),
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network", 0.0.0.0 included
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier-grade NAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_forbidden_v4(v4);
    }
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible, NAT64
/// (`64:ff9b::/96`) or 6to4 (`2002::/16`) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..6] == [0, 0, 0, 0, 0, 0] && !ip.is_loopback() && !ip.is_unspecified() {
        return Some(low);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(low);
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
}

/// The address of a URL whose host is an IP literal.
fn literal_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

/// Refuses `url` when its host is a forbidden IP literal.
fn check_literal(url: &Url) -> Result<(), ForbiddenAddress> {
    match literal_ip(url) {
        Some(ip) if is_forbidden(ip) => Err(ForbiddenAddress(ip)),
        _ => Ok(()),
    }
}

/// A resolver that fails when any address of a name is forbidden, unless the guard allows the
/// name.
#[derive(Debug, Clone)]
pub(crate) struct GuardedResolver(pub(crate) AddressGuard);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allowed = self.0.allows_host(name.as_str());
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !allowed && let Some(bad) = addrs.iter().find(|addr| is_forbidden(addr.ip())) {
                return Err(Box::new(ForbiddenAddress(bad.ip())) as _);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The forbidden address somewhere in an error's source chain, if that is why it failed.
pub(crate) fn find_forbidden(error: &(dyn std::error::Error + 'static)) -> Option<IpAddr> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(ForbiddenAddress(ip)) = error.downcast_ref::<ForbiddenAddress>() {
            return Some(*ip);
        }
        current = error.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_addresses_are_forbidden() {
        for text in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:c0a8:0101::1",
        ] {
            let ip: IpAddr = text.parse().unwrap_or_else(|_| panic!("{text}"));
            assert!(is_forbidden(ip), "{text} should be forbidden");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for text in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "2002:0808:0808::1",
        ] {
            let ip: IpAddr = text.parse().unwrap_or_else(|_| panic!("{text}"));
            assert!(!is_forbidden(ip), "{text} should be allowed");
        }
    }

    #[test]
    fn ip_literals_are_checked_in_urls() {
        let url = |text: &str| Url::parse(text).unwrap_or_else(|_| panic!("{text}"));
        assert!(check_literal(&url("http://127.0.0.1:8080/x")).is_err());
        assert!(check_literal(&url("http://[::1]/x")).is_err());
        assert!(
            check_literal(&url("http://0x7f.1/x")).is_err(),
            "hex IPv4 normalises to 127.0.0.1"
        );
        assert!(
            check_literal(&url("http://2130706433/x")).is_err(),
            "decimal IPv4"
        );
        assert!(check_literal(&url("https://8.8.8.8/x")).is_ok());
        assert!(check_literal(&url("https://files.example.com/x")).is_ok());
    }

    #[test]
    fn allowed_hosts_pass_the_literal_check_and_others_do_not() {
        let url = |text: &str| Url::parse(text).unwrap_or_else(|_| panic!("{text}"));
        let guard = AddressGuard::new(false, &["10.0.0.5".to_owned(), "[::1]".to_owned()]);
        assert!(guard.check_literal(&url("http://10.0.0.5:8080/x")).is_ok());
        assert!(guard.check_literal(&url("http://[::1]/x")).is_ok());
        assert!(guard.check_literal(&url("http://10.0.0.6/x")).is_err());
        assert!(guard.check_literal(&url("http://0.0.0.0/x")).is_err());
        assert!(guard.check_literal(&url("http://2130706433/x")).is_err());
        let open = AddressGuard::new(true, &[]);
        assert!(open.check_literal(&url("http://127.0.0.1/x")).is_ok());
    }

    #[tokio::test]
    async fn names_are_resolved_and_checked_unless_allowed() {
        let url = |text: &str| Url::parse(text).unwrap_or_else(|_| panic!("{text}"));
        let guard = AddressGuard::new(false, &["Internal.Example.".to_owned()]);
        assert!(matches!(
            guard.check_resolved(&url("http://localhost:9/x")).await,
            Err(Refusal::Forbidden(ip)) if ip.is_loopback()
        ));
        assert!(matches!(
            guard
                .check_resolved(&url("http://[::ffff:127.0.0.1]/x"))
                .await,
            Err(Refusal::Forbidden(_))
        ));
        assert!(
            guard
                .check_resolved(&url("http://internal.example/x"))
                .await
                .is_ok(),
            "an allowed host is not looked up"
        );
        assert!(
            AddressGuard::new(false, &["localhost".to_owned()])
                .check_resolved(&url("http://localhost:9/x"))
                .await
                .is_ok()
        );
    }
}
