//! Client addresses: which one a request is from when it comes through reverse proxies
//! (`TrustedProxies`: the rightmost hop that is not a trusted proxy, since every hop left of it
//! was written by someone we do not trust), and how addresses are grouped wherever one client
//! is limited (connection caps, login throttling): an IPv4 address, or an IPv6 /64, the block
//! one subscriber usually gets, so an attacker cannot escape a limit by walking through the
//! addresses of their own prefix.

use std::net::IpAddr;

use ipnet::IpNet;

/// The reverse proxies whose forwarding headers are believed (`server.trusted_proxies`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parse addresses (`10.0.0.1`, `::1`) and networks (`10.0.0.0/8`, `fd00::/8`).
    pub fn parse(entries: &[String]) -> Result<TrustedProxies, String> {
        entries
            .iter()
            .map(|e| {
                let e = e.trim();
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{e:?} is neither an IP address nor a network (CIDR)"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a connection from `peer` whose proxies recorded `hops` (as their
    /// forwarding header lists them, the client's side first; `None` for a hop that is not an
    /// address). Walking from the peer leftwards, the first address that is not a trusted
    /// proxy is the client: a client can write anything left of it, nothing right. A hop that
    /// cannot be read stops the walk at the proxy that recorded it.
    pub fn client(&self, peer: IpAddr, hops: &[Option<IpAddr>]) -> IpAddr {
        let mut client = canonical(peer);
        for hop in hops.iter().rev() {
            if !self.contains(client) {
                break;
            }
            match hop {
                Some(ip) => client = canonical(*ip),
                None => break,
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, what a dual-stack socket reports) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Grouping of client addresses: one IPv4 address, or one IPv6 /64 (what one subscriber gets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressKey {
    V4(u32),
    V6Prefix(u64),
}

impl AddressKey {
    pub fn of(ip: IpAddr) -> AddressKey {
        match ip {
            IpAddr::V4(v4) => AddressKey::V4(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => AddressKey::V4(u32::from(v4)),
                None => AddressKey::V6Prefix((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_client_is_the_rightmost_hop_that_is_no_trusted_proxy() {
        let t = TrustedProxies::parse(&["10.0.0.0/8".into(), "::1".into()]).unwrap();
        let hops = |l: &[&str]| l.iter().map(|s| s.parse().ok()).collect::<Vec<_>>();
        // Not through a proxy: the headers are the client's own words.
        assert_eq!(
            t.client(ip("203.0.113.9"), &hops(&["1.2.3.4"])),
            ip("203.0.113.9")
        );
        // Through one proxy: what it saw.
        assert_eq!(
            t.client(ip("10.0.0.2"), &hops(&["198.51.100.7"])),
            ip("198.51.100.7")
        );
        // A client's forged hop, left of the real one, is ignored.
        assert_eq!(
            t.client(ip("10.0.0.2"), &hops(&["1.1.1.1", "198.51.100.7"])),
            ip("198.51.100.7")
        );
        // Two proxies of ours in a row.
        assert_eq!(
            t.client(ip("::1"), &hops(&["1.1.1.1", "198.51.100.7", "10.9.9.9"])),
            ip("198.51.100.7")
        );
        // Everything trusted: the leftmost.
        assert_eq!(
            t.client(ip("10.0.0.2"), &hops(&["10.1.1.1"])),
            ip("10.1.1.1")
        );
        // An unreadable hop stops at the proxy that wrote it.
        assert_eq!(
            t.client(ip("10.0.0.2"), &hops(&["1.1.1.1", "unknown"])),
            ip("10.0.0.2")
        );
        // A proxy with no header: the proxy.
        assert_eq!(t.client(ip("10.0.0.2"), &[]), ip("10.0.0.2"));
        // Dual-stack sockets report IPv4 peers mapped.
        assert_eq!(
            t.client(ip("::ffff:10.0.0.2"), &hops(&["198.51.100.7"])),
            ip("198.51.100.7")
        );
        // Nobody trusted: the peer.
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("10.0.0.2"), &hops(&["1.2.3.4"])),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn proxies_are_addresses_or_networks() {
        assert!(TrustedProxies::parse(&["10.0.0.1".into(), "fd00::/8".into()]).is_ok());
        let e = TrustedProxies::parse(&["10.0.0.0/33".into()]).unwrap_err();
        assert!(e.contains("10.0.0.0/33"), "{e}");
        assert!(TrustedProxies::parse(&["proxy.example".into()]).is_err());
    }

    #[test]
    fn addresses_are_grouped_as_attackers_hold_them() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(AddressKey::of(a), AddressKey::of(b));
        assert_ne!(AddressKey::of(a), AddressKey::of(c));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(
            AddressKey::of(mapped),
            AddressKey::of(IpAddr::from([10, 0, 0, 1]))
        );
        assert_ne!(
            AddressKey::of(IpAddr::from([10, 0, 0, 1])),
            AddressKey::of(IpAddr::from([10, 0, 0, 2]))
        );
    }
}
