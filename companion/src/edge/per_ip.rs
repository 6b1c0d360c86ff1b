//! The cap on open connections per client address. IPv6 clients are counted per /64, the
//! smallest block one subscriber is usually given: one host can pick any address in it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Open connections per client address, capped.
#[derive(Debug)]
pub struct PerIp {
    /// 0: no cap.
    cap: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted connection; its place is given back when dropped.
#[derive(Debug)]
pub struct Slot {
    counter: Option<(Arc<PerIp>, IpAddr)>,
}

impl PerIp {
    pub fn new(cap: usize) -> Arc<PerIp> {
        Arc::new(PerIp {
            cap,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A place for a connection from `ip`, unless that address already has `cap` open.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        if self.cap == 0 {
            return Some(Slot { counter: None });
        }
        let key = client_key(ip);
        let mut open = self.open.lock().expect("not poisoned");
        let n = open.entry(key).or_insert(0);
        if *n >= self.cap {
            return None;
        }
        *n += 1;
        Some(Slot {
            counter: Some((self.clone(), key)),
        })
    }

    /// Open connections from `ip`'s address (block).
    pub fn open_from(&self, ip: IpAddr) -> usize {
        let open = self.open.lock().expect("not poisoned");
        open.get(&client_key(ip)).copied().unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some((per_ip, key)) = self.counter.take() {
            let mut open = per_ip.open.lock().expect("not poisoned");
            if let Some(n) = open.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    open.remove(&key);
                }
            }
        }
    }
}

/// The address a client is counted by: IPv4 as is (also when mapped into IPv6), IPv6 by /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_each_address_and_gives_places_back() {
        let per_ip = PerIp::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let one = per_ip.admit(a).unwrap();
        let _two = per_ip.admit(a).unwrap();
        assert!(per_ip.admit(a).is_none());
        assert!(per_ip.admit(b).is_some(), "another client is not affected");
        drop(one);
        assert!(per_ip.admit(a).is_some());
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let per_ip = PerIp::new(1);
        let _x = per_ip.admit("2001:db8:1:2::1".parse().unwrap()).unwrap();
        assert!(per_ip
            .admit("2001:db8:1:2:ffff::9".parse().unwrap())
            .is_none());
        assert!(per_ip.admit("2001:db8:1:3::1".parse().unwrap()).is_some());
        let _y = per_ip.admit("192.0.2.7".parse().unwrap()).unwrap();
        assert!(per_ip.admit("::ffff:192.0.2.7".parse().unwrap()).is_none());
    }

    #[test]
    fn zero_means_no_cap() {
        let per_ip = PerIp::new(0);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let slots: Vec<_> = (0..1000).map(|_| per_ip.admit(ip).unwrap()).collect();
        assert_eq!(slots.len(), 1000);
    }
}
