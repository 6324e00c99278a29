//! Issue 10, defect 7: `normalize` is idempotent. For every observable a raw
//! value yields, normalizing its canonical text yields exactly that
//! observable again, and a URL's host is itself a canonical observable.

use cordon_model::{normalize, Observable};
use proptest::prelude::*;

/// Checks the two properties for `raw`, or says which one fails.
fn check(raw: &str) -> Result<(), String> {
    let Ok(first) = normalize(raw) else {
        return Ok(());
    };
    for observable in &first.observables {
        let text = observable.to_string();
        match normalize(&text) {
            Ok(again) if again.observables == [observable.clone()] => {}
            Ok(again) => return Err(format!("{raw:?} → {text:?} → {:?}", again.observables)),
            Err(rejection) => return Err(format!("{raw:?} → {text:?}, which is rejected: {rejection}")),
        }
        if let Observable::Url(_) = observable {
            let Some(host) = observable.url_host() else {
                return Err(format!("{raw:?} → URL {text:?} without a host"));
            };
            let host_text = host.to_string();
            match normalize(&host_text) {
                Ok(again) if again.observables == [host.clone()] => {}
                other => return Err(format!("{raw:?} → {text:?} has host {host:?}, which normalizes to {other:?}")),
            }
        }
    }
    Ok(())
}

/// Values built from the pieces that trip normalizers: schemes (defanged
/// and not), mapped and bracketed addresses, defanging notations, control
/// characters, IDN, ports, paths.
fn tricky() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("http://".to_string()),
        Just("hxxp://".to_string()),
        Just("xttp://".to_string()),
        Just("hXXps[://]".to_string()),
        Just("ftp://".to_string()),
        Just("tcp://".to_string()),
        Just("[::ffff:45.9.20.7]".to_string()),
        Just("45.9.20.7".to_string()),
        Just("2a01:4f8::1".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("[.]".to_string()),
        Just("(.)".to_string()),
        Just("[dot]".to_string()),
        Just(" dot ".to_string()),
        Just(".".to_string()),
        Just(":".to_string()),
        Just(":8080".to_string()),
        Just("/".to_string()),
        Just("-".to_string()),
        Just("@".to_string()),
        Just("%2e".to_string()),
        Just("\\".to_string()),
        Just("evil-c2".to_string()),
        Just("xyz".to_string()),
        Just("bücher".to_string()),
        Just("xn--".to_string()),
        Just("\u{1}".to_string()),
        Just("\t".to_string()),
        Just("\u{feff}".to_string()),
        Just("\u{200b}".to_string()),
        Just(" ".to_string()),
        "[a-z0-9]{1,6}",
        "\\PC{1,3}",
        any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(piece, 1..10).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn idempotent_over_arbitrary_strings(raw in any::<String>()) {
        prop_assert_eq!(check(&raw), Ok(()));
    }

    #[test]
    fn idempotent_over_tricky_values(raw in tricky()) {
        prop_assert_eq!(check(&raw), Ok(()));
    }
}

#[test]
fn issue10_control_character_does_not_hide_a_defanged_scheme() {
    for raw in [
        "\u{1}hxxp://evil-c2.xyz/gate.php",
        "\u{7f}hxxp://evil-c2.xyz/gate.php\u{0}",
        "\u{85}hxxp://evil-c2.xyz/gate.php",
    ] {
        let normalized = normalize(raw).map(|n| n.observables);
        assert_eq!(normalized, Ok(vec![Observable::Url("http://evil-c2.xyz/gate.php".into())]), "{raw:?}");
    }
    assert!(normalize("http://evil-c2.xyz/\u{1}gate.php").is_err());
    assert!(normalize("evil\u{0}c2.xyz").is_err());
    // Tabs and line breaks inside are dropped, as a URL parser drops them.
    assert_eq!(
        normalize("hx\txp://evil-c2.xyz/a\r\nBcc: x@y.z").map(|n| n.observables),
        Ok(vec![Observable::Url("http://evil-c2.xyz/aBcc:%20x@y.z".into())])
    );
}

#[test]
fn issue10_mapped_address_in_other_schemes_is_not_a_domain() {
    let raw = "xttp://[::ffff:45.9.20.7]:8080/";
    assert_eq!(check(raw), Ok(()));
    let url = normalize(raw).map(|n| n.observables).unwrap_or_default();
    assert_eq!(url.len(), 1);
    assert_eq!(url[0].url_host(), Some(Observable::Ip("45.9.20.7".parse().unwrap_or(std::net::IpAddr::from([0; 4])))));
    // In http the mapped address is written as IPv4, as before.
    assert_eq!(
        normalize("http://[::ffff:45.9.20.7]:8080/").map(|n| n.observables),
        Ok(vec![Observable::Url("http://45.9.20.7:8080/".into())])
    );
}

#[test]
fn issue10_nested_defanging_refangs_once_and_for_all() {
    for raw in
        ["http://a.example/x[[.]]y", "evil[[.]]example[.]com", "evil[(.)]example.com", "hxxp://a[.]b.example/[[dot]]"]
    {
        assert_eq!(check(raw), Ok(()), "{raw}");
    }
    assert_eq!(cordon_model::refang("a[[.]]b"), "a.b");
}
