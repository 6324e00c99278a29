//! Who may see a sighting: TLP 2.0 as FIRST defines it, plus the submitting
//! organisation and its consents. [`may_see`] is the one rule; the store
//! translates it into SQL for the reads that filter there, and a property
//! test in the store checks that the translation agrees with it.
//!
//! The hub is the recipient of everything its partners submit. TLP 2.0 then
//! says what the hub may pass on:
//!
//! | TLP | who may see it |
//! | --- | --- |
//! | CLEAR | anyone, the public included |
//! | GREEN | any organisation of the hub's community, never the public |
//! | AMBER | the submitting organisation, the hub, and the recipient classes its source consented to, on need to know: a national agency for indicators in its country, a provider for indicators in its networks |
//! | AMBER+STRICT | the submitting organisation and the hub only |
//! | RED | the submitting organisation and the hub only; never in any output that leaves the hub |
//!
//! ```
//! use cordon_model::{may_see, Consent, OrgKind, SightingAccess, Tlp, Viewer};
//!
//! let agency = Viewer::org(7, OrgKind::Agency);
//! let amber = SightingAccess {
//!     tlp: Tlp::Amber,
//!     source_org: 3,
//!     consent: Consent { agencies: true, providers: false },
//!     need_to_know: true,
//! };
//! assert!(may_see(&agency, &amber));
//! assert!(!may_see(&agency, &SightingAccess { tlp: Tlp::Red, ..amber }));
//! assert!(!may_see(&Viewer::Public, &SightingAccess { tlp: Tlp::Green, ..amber }));
//! ```

use std::fmt;
use std::str::FromStr;

use crate::Tlp;

/// What an organisation is to the hub.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OrgKind {
    /// The hub itself: its analysts coordinate the operation and see
    /// everything submitted to it.
    Hub,
    /// A partner that submits intelligence (a vendor, a CERT).
    Partner,
    /// A national agency that acts on its country's targets.
    Agency,
    /// A network provider that is notified about its networks' targets.
    Provider,
    /// A defender that consumes blocklists and lookups.
    Defender,
}

impl OrgKind {
    /// Every kind.
    pub const ALL: [OrgKind; 5] =
        [OrgKind::Hub, OrgKind::Partner, OrgKind::Agency, OrgKind::Provider, OrgKind::Defender];

    /// The kind's name: `hub`, `partner`, `agency`, `provider`, `defender`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Hub => "hub",
            OrgKind::Partner => "partner",
            OrgKind::Agency => "agency",
            OrgKind::Provider => "provider",
            OrgKind::Defender => "defender",
        }
    }
}

impl fmt::Display for OrgKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no organisation kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown organisation kind '{0}' (expected hub, partner, agency, provider or defender)")]
pub struct UnknownOrgKind(pub String);

impl FromStr for OrgKind {
    type Err = UnknownOrgKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase();
        OrgKind::ALL.into_iter().find(|k| k.as_str() == name).ok_or_else(|| UnknownOrgKind(s.to_string()))
    }
}

/// Who is reading. There is no default: every read names its viewer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Viewer {
    /// Someone outside the hub's community (a public collection): CLEAR only.
    Public,
    /// A member of an organisation of the hub's community.
    Org {
        /// The organisation's id in the store.
        id: i64,
        /// What it is.
        kind: OrgKind,
    },
}

impl Viewer {
    /// A member of organisation `id`, of `kind`.
    pub fn org(id: i64, kind: OrgKind) -> Viewer {
        Viewer::Org { id, kind }
    }

    /// The organisation's id, `None` for the public.
    pub fn org_id(&self) -> Option<i64> {
        match self {
            Viewer::Public => None,
            Viewer::Org { id, .. } => Some(*id),
        }
    }

    /// The organisation's kind, `None` for the public.
    pub fn kind(&self) -> Option<OrgKind> {
        match self {
            Viewer::Public => None,
            Viewer::Org { kind, .. } => Some(*kind),
        }
    }

    /// Whether this is the hub, which sees everything submitted to it.
    pub fn is_hub(&self) -> bool {
        self.kind() == Some(OrgKind::Hub)
    }
}

/// A source's consent to pass its AMBER sightings on, per recipient class
/// (`cordon source consent NAME --amber-to agencies,providers`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Consent {
    /// National agencies, for indicators in their country.
    pub agencies: bool,
    /// Providers, for indicators in their networks.
    pub providers: bool,
}

/// What [`may_see`] needs to know of one sighting, for one viewer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SightingAccess {
    /// The sighting's TLP.
    pub tlp: Tlp,
    /// The organisation whose source submitted it.
    pub source_org: i64,
    /// That source's consents.
    pub consent: Consent,
    /// Whether the viewer needs to know about the indicator: for an agency,
    /// it lies in the agency's country; for a provider, in the provider's
    /// networks. Ignored for other viewers.
    pub need_to_know: bool,
}

/// Whether `viewer` may see the sighting: the one visibility rule (see the
/// module docs for the table).
pub fn may_see(viewer: &Viewer, sighting: &SightingAccess) -> bool {
    let Viewer::Org { id, kind } = *viewer else {
        return sighting.tlp == Tlp::Clear;
    };
    if kind == OrgKind::Hub || id == sighting.source_org {
        return true;
    }
    match sighting.tlp {
        Tlp::Clear | Tlp::Green => true,
        Tlp::Amber => {
            let consented = match kind {
                OrgKind::Agency => sighting.consent.agencies,
                OrgKind::Provider => sighting.consent.providers,
                OrgKind::Hub | OrgKind::Partner | OrgKind::Defender => false,
            };
            consented && sighting.need_to_know
        }
        Tlp::AmberStrict | Tlp::Red => false,
    }
}

/// The TLP of anything built from several sightings: the most restrictive
/// among them (`None` for none). Aggregates never downgrade.
pub fn most_restrictive(levels: impl IntoIterator<Item = Tlp>) -> Option<Tlp> {
    levels.into_iter().max()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn tlp() -> impl Strategy<Value = Tlp> {
        prop::sample::select(Tlp::ALL.to_vec())
    }

    fn viewer() -> impl Strategy<Value = Viewer> {
        prop_oneof![
            Just(Viewer::Public),
            (0i64..4, prop::sample::select(OrgKind::ALL.to_vec())).prop_map(|(id, kind)| Viewer::org(id, kind)),
        ]
    }

    fn access() -> impl Strategy<Value = SightingAccess> {
        (tlp(), 0i64..4, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
            |(tlp, source_org, agencies, providers, need_to_know)| SightingAccess {
                tlp,
                source_org,
                consent: Consent { agencies, providers },
                need_to_know,
            },
        )
    }

    proptest! {
        /// CLEAR is for everyone; the hub and the submitter see everything.
        #[test]
        fn clear_hub_and_submitter(viewer in viewer(), access in access()) {
            if access.tlp == Tlp::Clear || viewer.is_hub() || viewer.org_id() == Some(access.source_org) {
                prop_assert!(may_see(&viewer, &access));
            }
        }

        /// The public sees CLEAR only.
        #[test]
        fn public_sees_clear_only(access in access()) {
            prop_assert_eq!(may_see(&Viewer::Public, &access), access.tlp == Tlp::Clear);
        }

        /// RED and AMBER+STRICT never reach a third organisation.
        #[test]
        fn strict_levels_stay_with_submitter_and_hub(viewer in viewer(), access in access()) {
            if access.tlp >= Tlp::AmberStrict && may_see(&viewer, &access) {
                prop_assert!(viewer.is_hub() || viewer.org_id() == Some(access.source_org));
            }
        }

        /// A third organisation sees AMBER only with the consent for its
        /// class and a need to know.
        #[test]
        fn amber_needs_consent_and_need_to_know(viewer in viewer(), access in access()) {
            let third = !viewer.is_hub() && viewer.org_id() != Some(access.source_org);
            if access.tlp == Tlp::Amber && third && may_see(&viewer, &access) {
                prop_assert!(access.need_to_know);
                match viewer.kind() {
                    Some(OrgKind::Agency) => prop_assert!(access.consent.agencies),
                    Some(OrgKind::Provider) => prop_assert!(access.consent.providers),
                    _ => prop_assert!(false, "{viewer:?} saw another organisation's AMBER"),
                }
            }
        }

        /// Visibility is monotone in TLP: what a viewer may not see at one
        /// level it may not see at any more restrictive one.
        #[test]
        fn monotone_in_tlp(viewer in viewer(), access in access(), other in tlp()) {
            if other >= access.tlp && may_see(&viewer, &SightingAccess { tlp: other, ..access }) {
                prop_assert!(may_see(&viewer, &access));
            }
        }

        /// An aggregate's TLP is never less restrictive than any of its parts.
        #[test]
        fn aggregates_never_downgrade(levels in prop::collection::vec(tlp(), 1..8)) {
            let top = most_restrictive(levels.iter().copied());
            prop_assert!(levels.iter().all(|l| Some(*l) <= top));
        }
    }

    #[test]
    fn org_kinds_round_trip() {
        for kind in OrgKind::ALL {
            assert_eq!(kind.as_str().parse::<OrgKind>(), Ok(kind));
        }
        assert!("police".parse::<OrgKind>().is_err());
    }
}
