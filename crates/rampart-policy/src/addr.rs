//! Addresses and CIDR prefixes, parsed and checked before anything reaches
//! nft. Written on `std::net` so the crate needs no address dependency.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An IPv4 or IPv6 network prefix with no host bits set (`10.0.0.0/8`,
/// `2001:db8::/32`, or a single address, which is a full-length prefix).
///
/// Host bits are refused rather than silently masked: `10.0.0.1/8` is
/// usually a typo, and a firewall should not guess which network was meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    addr: IpAddr,
    len: u8,
}

/// Why a string is not a valid address or prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// The address part does not parse as IPv4 or IPv6.
    #[error("invalid address {0:?}")]
    Address(String),
    /// The prefix length is not a number or is longer than the address.
    #[error("invalid prefix length in {0:?}")]
    Length(String),
    /// Bits beyond the prefix length are set.
    #[error("{given:?} has host bits set (the network is {network})")]
    HostBits {
        /// The text as written.
        given: String,
        /// The network the text probably meant.
        network: Cidr,
    },
}

impl Cidr {
    /// The prefix of `len` bits containing `addr` (host bits cleared);
    /// `len` is clamped to the address width.
    pub fn network(addr: IpAddr, len: u8) -> Cidr {
        match addr {
            IpAddr::V4(a) => {
                let len = len.min(32);
                let mask = if len == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(len))
                };
                Cidr {
                    addr: IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask)),
                    len,
                }
            }
            IpAddr::V6(a) => {
                let len = len.min(128);
                let mask = if len == 0 {
                    0
                } else {
                    u128::MAX << (128 - u32::from(len))
                };
                Cidr {
                    addr: IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask)),
                    len,
                }
            }
        }
    }

    /// A single address as a full-length prefix.
    pub fn host(addr: IpAddr) -> Cidr {
        Cidr::network(addr, 128)
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// True for IPv4 prefixes.
    pub fn is_v4(&self) -> bool {
        self.addr.is_ipv4()
    }

    /// True when the prefix is one address (/32 or /128).
    pub fn is_host(&self) -> bool {
        self.len == if self.is_v4() { 32 } else { 128 }
    }

    /// True when `other` lies inside `self` (same family).
    pub fn contains(&self, other: &Cidr) -> bool {
        self.is_v4() == other.is_v4()
            && other.len >= self.len
            && Cidr::network(other.addr, self.len).addr == self.addr
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Cidr, CidrError> {
        let t = s.trim();
        let (a, l) = match t.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (t, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| CidrError::Address(s.to_string()))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match l {
            None => max,
            Some(l) => match l.parse::<u8>() {
                Ok(n) if n <= max && !l.starts_with('+') => n,
                _ => return Err(CidrError::Length(s.to_string())),
            },
        };
        let network = Cidr::network(addr, len);
        if network.addr != addr {
            return Err(CidrError::HostBits {
                given: s.to_string(),
                network,
            });
        }
        Ok(network)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_host() {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.len)
        }
    }
}

/// The prefix a ban on `addr` should cover: IPv4 addresses are banned
/// alone, IPv6 addresses widened to `v6_prefix` bits (64 by default in the
/// policy), because an IPv6 attacker usually controls a whole /64 and can
/// hop addresses inside it at will.
pub fn widen(addr: IpAddr, v6_prefix: u8) -> Cidr {
    match addr {
        IpAddr::V4(_) => Cidr::host(addr),
        IpAddr::V6(_) => Cidr::network(addr, v6_prefix),
    }
}

/// Drops duplicates and prefixes contained in another prefix of the list,
/// and sorts it: nft refuses overlapping intervals in one set, and the
/// smaller prefix adds nothing to a match.
pub fn normalise(list: &mut Vec<Cidr>) {
    list.sort();
    list.dedup();
    let all = list.clone();
    list.retain(|c| !all.iter().any(|o| o != c && o.contains(c)));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks() {
        assert_eq!(
            "10.0.0.0/8".parse::<Cidr>().unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!("192.0.2.7".parse::<Cidr>().unwrap().prefix_len(), 32);
        assert_eq!(
            "2001:db8::/32".parse::<Cidr>().unwrap().to_string(),
            "2001:db8::/32"
        );
        assert!(matches!(
            "10.0.0.1/8".parse::<Cidr>(),
            Err(CidrError::HostBits { .. })
        ));
        assert!(matches!(
            "10.0.0.0/33".parse::<Cidr>(),
            Err(CidrError::Length(_))
        ));
        assert!(matches!(
            "10.0.0.0/+8".parse::<Cidr>(),
            Err(CidrError::Length(_))
        ));
        assert!(matches!(
            "10.0.0.256".parse::<Cidr>(),
            Err(CidrError::Address(_))
        ));
        assert!(matches!("eth0".parse::<Cidr>(), Err(CidrError::Address(_))));
    }

    #[test]
    fn widening() {
        let a: IpAddr = "2001:db8:1:2:3:4:5:6".parse().unwrap();
        assert_eq!(widen(a, 64).to_string(), "2001:db8:1:2::/64");
        assert_eq!(widen(a, 128).to_string(), "2001:db8:1:2:3:4:5:6");
        let b: IpAddr = "198.51.100.9".parse().unwrap();
        assert_eq!(widen(b, 64).to_string(), "198.51.100.9");
    }

    #[test]
    fn normalising_drops_contained() {
        let mut l: Vec<Cidr> = ["10.1.0.0/16", "10.0.0.0/8", "10.0.0.0/8", "192.0.2.1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        normalise(&mut l);
        let s: Vec<String> = l.iter().map(|c| c.to_string()).collect();
        assert_eq!(s, ["10.0.0.0/8", "192.0.2.1"]);
    }
}
