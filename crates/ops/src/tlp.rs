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
