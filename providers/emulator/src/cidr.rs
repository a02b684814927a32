//! IPv4/IPv6 prefixes (CIDR) arithmetic for the address rules.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub v6: bool,
    pub addr: u128,
    pub len: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CidrError {
    Malformed,
    HostBitsSet,
}

impl Cidr {
    fn bits(&self) -> u8 {
        if self.v6 { 128 } else { 32 }
    }

    fn mask(&self) -> u128 {
        let bits = self.bits();
        if self.len == 0 {
            0
        } else {
            let all: u128 = if bits == 128 {
                u128::MAX
            } else {
                (1u128 << bits) - 1
            };
            let host = if self.len >= bits {
                0
            } else {
                (1u128 << (bits - self.len)) - 1
            };
            all & !host
        }
    }

    /// Parse `a.b.c.d/n` or `x::y/n`; host bits must be zero.
    pub fn parse_strict(s: &str) -> Result<Cidr, CidrError> {
        let c = Cidr::parse_loose(s)?;
        if c.addr & !c.mask() & c.all_bits() != 0 {
            return Err(CidrError::HostBitsSet);
        }
        Ok(c)
    }

    fn all_bits(&self) -> u128 {
        if self.v6 {
            u128::MAX
        } else {
            (1u128 << 32) - 1
        }
    }

    /// Parse without checking host bits.
    pub fn parse_loose(s: &str) -> Result<Cidr, CidrError> {
        let (ip, len) = s.trim().split_once('/').ok_or(CidrError::Malformed)?;
        let len: u8 = len.parse().map_err(|_| CidrError::Malformed)?;
        let ip: IpAddr = ip.parse().map_err(|_| CidrError::Malformed)?;
        match ip {
            IpAddr::V4(a) => {
                if len > 32 {
                    return Err(CidrError::Malformed);
                }
                Ok(Cidr {
                    v6: false,
                    addr: u32::from(a) as u128,
                    len,
                })
            }
            IpAddr::V6(a) => {
                if len > 128 {
                    return Err(CidrError::Malformed);
                }
                Ok(Cidr {
                    v6: true,
                    addr: u128::from(a),
                    len,
                })
            }
        }
    }

    pub fn network(&self) -> u128 {
        self.addr & self.mask()
    }

    /// `other` lies entirely inside `self`.
    pub fn contains(&self, other: &Cidr) -> bool {
        self.v6 == other.v6 && other.len >= self.len && (other.addr & self.mask()) == self.network()
    }

    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.contains(other) || other.contains(self)
    }

    /// RFC 1918 / shared / loopback / link-local / reserved ranges (IPv4), ULA/link-local (IPv6).
    pub fn is_private(&self) -> bool {
        if self.v6 {
            let a = Ipv6Addr::from(self.addr);
            let seg = a.segments()[0];
            return (seg & 0xfe00) == 0xfc00 || (seg & 0xffc0) == 0xfe80 || a.is_loopback();
        }
        let a = Ipv4Addr::from(self.addr as u32);
        let o = a.octets();
        a.is_private()
            || a.is_loopback()
            || a.is_link_local()
            || (o[0] == 100 && (o[1] & 0xc0) == 64)
            || o[0] == 0
            || o[0] >= 224
    }
}

pub fn describe(e: &CidrError, s: &str) -> String {
    match e {
        CidrError::Malformed => {
            format!("'{s}' is not a valid CIDR notation (address/prefix length).")
        }
        CidrError::HostBitsSet => {
            format!("Address prefix {s} is not in valid CIDR notation: the host bits must be zero.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_contains() {
        let vnet = Cidr::parse_strict("10.0.0.0/16").expect("ok");
        let sub = Cidr::parse_strict("10.0.255.224/27").expect("ok");
        assert!(vnet.contains(&sub));
        assert!(!sub.contains(&vnet));
        assert!(vnet.overlaps(&sub));
        assert_eq!(
            Cidr::parse_strict("10.0.3.5/24"),
            Err(CidrError::HostBitsSet)
        );
        assert_eq!(Cidr::parse_strict("10.0.3/24"), Err(CidrError::Malformed));
        let other = Cidr::parse_strict("10.1.0.0/16").expect("ok");
        assert!(!vnet.overlaps(&other));
        assert!(Cidr::parse_strict("0.0.0.0/0").expect("ok").contains(&vnet));
        assert!(Cidr::parse_strict("fd00::/64").expect("ok").is_private());
        assert!(!Cidr::parse_strict("20.1.2.0/30").expect("ok").is_private());
        assert!(
            Cidr::parse_strict("192.168.1.0/30")
                .expect("ok")
                .is_private()
        );
    }
}
