//! The sharing rule for everything that leaves the hub (packages for
//! national agencies, notifications to providers).

use cordon_model::Tlp;

/// Whether a sighting of `tlp` may go to a national agency (or a provider's
/// abuse desk): CLEAR and GREEN always; AMBER and AMBER+STRICT only when the
/// submitting partner consented (`share_amber` on its source); RED never.
pub fn may_share(tlp: Tlp, share_amber: bool) -> bool {
    match tlp {
        Tlp::Clear | Tlp::Green => true,
        Tlp::Amber | Tlp::AmberStrict => share_amber,
        Tlp::Red => false,
    }
}

/// The STIX 2.1 id of the TLP 2.0 marking definition of `tlp`.
pub fn marking_id(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule() {
        let shared: Vec<(Tlp, bool)> =
            Tlp::ALL.iter().flat_map(|t| [(*t, false), (*t, true)]).filter(|(t, c)| may_share(*t, *c)).collect();
        assert_eq!(
            shared,
            [
                (Tlp::Clear, false),
                (Tlp::Clear, true),
                (Tlp::Green, false),
                (Tlp::Green, true),
                (Tlp::Amber, true),
                (Tlp::AmberStrict, true)
            ]
        );
    }
}
