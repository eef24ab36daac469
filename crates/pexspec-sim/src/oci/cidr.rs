//! IPv4 CIDR blocks as the simulated VCNs and subnets need them: parse, contain, overlap,
//! and pick host addresses.

use std::net::Ipv4Addr;

/// An IPv4 network `addr/prefix` (host bits cleared).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    pub net: u32,
    pub prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n`; host bits must be zero, as OCI requires.
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (a, p) = s
            .split_once('/')
            .ok_or_else(|| format!("{s} is not a CIDR block"))?;
        let addr: Ipv4Addr = a.parse().map_err(|_| format!("{s} is not a CIDR block"))?;
        let prefix: u8 = p
            .parse()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| format!("{s} is not a CIDR block"))?;
        let c = Cidr {
            net: u32::from(addr),
            prefix,
        };
        if c.net & !c.mask() != 0 {
            return Err(format!(
                "{s} has host bits set; use {}",
                Cidr {
                    net: c.net & c.mask(),
                    prefix
                }
            ));
        }
        Ok(c)
    }

    pub fn mask(&self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - self.prefix)
        }
    }

    pub fn size(&self) -> u64 {
        1u64 << (32 - self.prefix)
    }

    pub fn contains_ip(&self, ip: u32) -> bool {
        ip & self.mask() == self.net
    }

    pub fn contains(&self, other: &Cidr) -> bool {
        other.prefix >= self.prefix && self.contains_ip(other.net)
    }

    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.contains(other) || other.contains(self)
    }

    /// The `i`-th address of the block.
    pub fn host(&self, i: u32) -> Ipv4Addr {
        Ipv4Addr::from(self.net.wrapping_add(i))
    }

    /// Whether `ip` may be given to a VNIC: OCI reserves the network address, the first two
    /// hosts (the virtual router and one more) and the broadcast address.
    pub fn assignable(&self, ip: u32) -> bool {
        self.contains_ip(ip) && ip >= self.net + 2 && u64::from(ip - self.net) < self.size() - 1
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.net), self.prefix)
    }
}

/// Parses a dotted IPv4 address.
pub(crate) fn parse_ip(s: &str) -> Option<u32> {
    s.parse::<Ipv4Addr>().ok().map(u32::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_basics() {
        let vcn = Cidr::parse("10.0.0.0/16").unwrap();
        let sub = Cidr::parse("10.0.1.0/24").unwrap();
        assert!(vcn.contains(&sub));
        assert!(!sub.contains(&vcn));
        assert!(vcn.overlaps(&sub));
        assert!(!sub.overlaps(&Cidr::parse("10.0.2.0/24").unwrap()));
        assert!(Cidr::parse("10.0.0.1/16").is_err());
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("nope").is_err());
        assert_eq!(sub.host(1).to_string(), "10.0.1.1");
        assert!(!sub.assignable(parse_ip("10.0.1.1").unwrap()));
        assert!(sub.assignable(parse_ip("10.0.1.2").unwrap()));
        assert!(!sub.assignable(parse_ip("10.0.1.255").unwrap()));
        assert_eq!(sub.to_string(), "10.0.1.0/24");
    }
}
