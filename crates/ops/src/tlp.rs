//! What leaves the hub: packages go to national agencies, notifications to
//! providers' abuse desks. Both ask the one visibility rule
//! ([`cordon_model::may_see`]) as that recipient class would.

use cordon_model::{may_see, OrgKind, SightingAccess, Viewer};
use cordon_store::ops::Evidence;

/// Who receives what leaves the hub.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recipient {
    /// The national agency of the target's country (packages).
    Agency,
    /// The abuse desk of the target's network (notifications).
    Provider,
}

/// Whether `evidence` may go to `recipient` about its own target: the
/// recipient needs to know (the package is its country's, the notification
/// its network's), but it is never the submitting organisation, so RED and
/// AMBER+STRICT never leave, and AMBER leaves only with the source's
/// consent for that recipient class.
pub fn may_pass_on(recipient: Recipient, evidence: &Evidence) -> bool {
    // An id no organisation has: what leaves the hub goes by file or mail,
    // beyond the reach of "the submitter may see its own".
    const OUTSIDE: i64 = i64::MIN;
    let kind = match recipient {
        Recipient::Agency => OrgKind::Agency,
        Recipient::Provider => OrgKind::Provider,
    };
    let access = SightingAccess {
        tlp: evidence.tlp,
        source_org: evidence.source_org,
        consent: evidence.consent,
        need_to_know: true,
    };
    may_see(&Viewer::org(OUTSIDE, kind), &access)
}

#[cfg(test)]
mod tests {
    use cordon_model::{Category, Consent, Kind, Tlp};

    use super::*;

    fn evidence(tlp: Tlp, consent: Consent) -> Evidence {
        Evidence {
            target_id: 1,
            value: "45.9.20.31".into(),
            kind: Kind::Ipv4,
            source: "a".into(),
            source_org: 2,
            consent,
            category: Category::C2,
            malware: None,
            tlp,
            port: None,
            first_seen: 0,
            last_seen: 0,
            confidence: 50,
        }
    }

    #[test]
    fn rule() {
        let agencies = Consent { agencies: true, providers: false };
        let mut passed = Vec::new();
        for tlp in Tlp::ALL {
            for consent in [Consent::default(), agencies] {
                for recipient in [Recipient::Agency, Recipient::Provider] {
                    if may_pass_on(recipient, &evidence(tlp, consent)) {
                        passed.push((tlp, consent.agencies, recipient));
                    }
                }
            }
        }
        use Recipient::*;
        assert_eq!(
            passed,
            [
                (Tlp::Clear, false, Agency),
                (Tlp::Clear, false, Provider),
                (Tlp::Clear, true, Agency),
                (Tlp::Clear, true, Provider),
                (Tlp::Green, false, Agency),
                (Tlp::Green, false, Provider),
                (Tlp::Green, true, Agency),
                (Tlp::Green, true, Provider),
                (Tlp::Amber, true, Agency),
            ]
        );
    }
}
