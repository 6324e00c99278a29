//! Property tests of the normalizers: canonical forms are fixed points, and
//! spelling variants of one value meet in one canonical form.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use cordon_model::{normalize, Observable};
use proptest::prelude::*;

fn canonical(raw: &str) -> Option<Vec<String>> {
    normalize(raw).ok().map(|n| n.observables.iter().map(ToString::to_string).collect())
}

fn label() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?"
}

fn domain() -> impl Strategy<Value = String> {
    (proptest::collection::vec(label(), 1..4), "[a-z]{2,6}")
        .prop_map(|(labels, tld)| format!("{}.{tld}", labels.join(".")))
}

proptest! {
    #[test]
    fn never_panics(raw in "\\PC{0,80}") {
        let _ = normalize(&raw);
    }

    #[test]
    fn canonical_forms_are_fixed_points(raw in "\\PC{0,60}") {
        if let Some(values) = canonical(&raw) {
            for value in values {
                prop_assert_eq!(canonical(&value), Some(vec![value.clone()]), "{} from {:?}", value, raw);
            }
        }
    }

    #[test]
    fn ipv4_spellings_meet(a: u32, port in 1u16..) {
        let ip = Ipv4Addr::from(a);
        let plain = ip.to_string();
        prop_assert_eq!(canonical(&plain), Some(vec![plain.clone()]));
        prop_assert_eq!(canonical(&plain.replace('.', "[.]")), Some(vec![plain.clone()]));
        prop_assert_eq!(canonical(&format!(" {plain}\t")), Some(vec![plain.clone()]));
        prop_assert_eq!(canonical(&format!("::ffff:{plain}")), Some(vec![plain.clone()]));
        prop_assert_eq!(canonical(&format!("{plain}/32")), Some(vec![plain.clone()]));
        let with_port = normalize(&format!("{plain}:{port}")).unwrap();
        prop_assert_eq!(with_port.port, Some(port));
    }

    #[test]
    fn ipv6_is_rfc5952(a: u128) {
        let ip = Ipv6Addr::from(a);
        prop_assume!(ip.to_ipv4_mapped().is_none());
        let expanded = ip.segments().iter().map(|s| format!("{s:04X}")).collect::<Vec<_>>().join(":");
        prop_assert_eq!(canonical(&expanded), Some(vec![ip.to_string()]));
    }

    #[test]
    fn cidrs_clear_host_bits(a: u32, len in 0u8..=31) {
        let raw = format!("{}/{len}", Ipv4Addr::from(a));
        let n = normalize(&raw).unwrap();
        let Observable::Net(net) = &n.observables[0] else { panic!("{raw} is a network") };
        prop_assert_eq!(net.prefix_len(), len);
        prop_assert_eq!(net.network(), net.trunc().network());
        prop_assert_eq!(n.warnings.is_empty(), net.network() == IpAddr::V4(Ipv4Addr::from(a)));
    }

    #[test]
    fn ranges_cover_exactly(a: u32, span in 0u32..5000) {
        let b = a.saturating_add(span);
        let n = normalize(&format!("{}-{}", Ipv4Addr::from(a), Ipv4Addr::from(b))).unwrap();
        let mut next = u64::from(a);
        for obs in &n.observables {
            let (first, last) = obs.ip_range().unwrap();
            let (IpAddr::V4(first), IpAddr::V4(last)) = (first, last) else { panic!("v4") };
            prop_assert_eq!(u64::from(u32::from(first)), next);
            next = u64::from(u32::from(last)) + 1;
        }
        prop_assert_eq!(next, u64::from(b) + 1);
    }

    #[test]
    fn domains_and_urls_meet(d in domain(), path in "[a-z0-9/]{0,12}") {
        prop_assert_eq!(canonical(&d.to_uppercase()), Some(vec![d.clone()]));
        prop_assert_eq!(canonical(&format!("{}.", d.replace('.', "[.]"))), Some(vec![d.clone()]));
        let url = format!("http://{d}/{path}");
        let fanged = format!("hxxp://{}:80/{path}#frag", d.to_uppercase().replace('.', "[.]"));
        prop_assert_eq!(canonical(&fanged), canonical(&url));
        let n = normalize(&url).unwrap();
        prop_assert_eq!(n.observables[0].url_host(), Some(Observable::Domain(d)));
    }
}
