//! The SQL form of the visibility rule agrees with `cordon_model::may_see`:
//! for random sightings (TLP, submitting organisation, consents, whether
//! the indicator lies in the agency's country and the provider's network)
//! and every viewer, the store returns exactly the sightings the rule
//! allows, and summaries carry the most restrictive TLP among them.

use std::collections::{BTreeMap, BTreeSet};

use cordon_model::{may_see, normalize, Attributes, Category, Consent, OrgKind, Record, SightingAccess, Tlp, Viewer};
use cordon_store::enrichment::Enrichment;
use cordon_store::orgs::NewOrganisation;
use cordon_store::{ImportCounts, ImportMeta, IndicatorFilter};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::{fresh, Backend};

const PARTNERS: [&str; 3] = ["p0", "p1", "p2"];

/// One generated sighting: partner, TLP, address index, in need.
#[derive(Clone, Debug)]
pub struct Case {
    partner: usize,
    tlp: Tlp,
    address: u8,
}

/// Sightings, each partner's consents (agencies, providers), and for each
/// address whether it lies in the agency's country and provider's network.
pub type Cases = (Vec<Case>, Vec<(bool, bool)>, Vec<bool>);

/// The generator of [`Cases`].
pub fn cases() -> impl Strategy<Value = Cases> {
    let case = (0..3usize, prop::sample::select(Tlp::ALL.to_vec()), 0..6u8).prop_map(|(partner, tlp, address)| Case {
        partner,
        tlp,
        address,
    });
    (
        prop::collection::vec(case, 1..14),
        prop::collection::vec((any::<bool>(), any::<bool>()), 3),
        prop::collection::vec(any::<bool>(), 6),
    )
}

fn address(i: u8) -> String {
    format!("45.9.20.{}", 10 + i)
}

/// Checks one case.
pub fn agrees_with_may_see<B: Backend>((sightings, consents, in_need): Cases) -> Result<(), TestCaseError> {
    let store = fresh::<B>();
    for (p, partner) in PARTNERS.iter().enumerate() {
        let meta = ImportMeta::new(partner, "f", "00", "plain");
        store
            .import(&meta, &mut |sink| {
                for s in sightings.iter().filter(|s| s.partner == p) {
                    let mut rec = Record::new(1, normalize(&address(s.address)).unwrap().observables.remove(0));
                    rec.attributes = Attributes {
                        category: Some(Category::C2),
                        tlp: Some(s.tlp),
                        malware: Some(format!("{:?}", s.tlp)),
                        ..Attributes::default()
                    };
                    for sighting in rec.sightings() {
                        sink.add(&sighting)?;
                    }
                }
                sink.flush()?;
                Ok(ImportCounts::default())
            })
            .unwrap();
        let (agencies, providers) = consents[p];
        store.set_consent(partner, Consent { agencies, providers }).unwrap();
    }
    let mut rows = Vec::new();
    store
        .indicator_refs(&mut |r| {
            let i = r.value.rsplit('.').next().and_then(|n| n.parse::<u8>().ok()).map_or(0, |n| n - 10);
            let (country, asn) = if in_need[i as usize] { ("RO", 64500) } else { ("DE", 64501) };
            let e = Enrichment {
                country: Some(country.into()),
                asn: Some(asn),
                hosting: "hosting".into(),
                ..Enrichment::default()
            };
            rows.push((r.id, e));
        })
        .unwrap();
    store.write_enrichment(&rows).unwrap();
    let org = |name: &str, kind, country: Option<&str>, asns| NewOrganisation {
        name: name.into(),
        kind,
        country: country.map(str::to_string),
        asns,
    };
    let mut viewers = vec![store.hub().unwrap().viewer(), Viewer::Public];
    viewers.push(store.add_org(&org("agency", OrgKind::Agency, Some("RO"), vec![])).unwrap().viewer());
    viewers.push(store.add_org(&org("provider", OrgKind::Provider, None, vec![64500])).unwrap().viewer());
    viewers.push(store.add_org(&org("defender", OrgKind::Defender, None, vec![])).unwrap().viewer());
    for partner in PARTNERS {
        viewers.push(store.org(partner).unwrap().unwrap().viewer());
    }
    let partner_ids: Vec<i64> = PARTNERS.iter().map(|p| store.org(p).unwrap().unwrap().id).collect();

    for viewer in &viewers {
        // What the rule says, sighting by sighting (duplicates of one
        // partner, address and TLP are one stored sighting).
        let mut want: BTreeMap<String, BTreeSet<(String, Tlp)>> = BTreeMap::new();
        for s in &sightings {
            let (agencies, providers) = consents[s.partner];
            let access = SightingAccess {
                tlp: s.tlp,
                source_org: partner_ids[s.partner],
                consent: Consent { agencies, providers },
                need_to_know: in_need[s.address as usize],
            };
            if may_see(viewer, &access) {
                want.entry(address(s.address)).or_default().insert((PARTNERS[s.partner].to_string(), s.tlp));
            }
        }
        let mut got: BTreeMap<String, BTreeSet<(String, Tlp)>> = BTreeMap::new();
        let filter = IndicatorFilter::new(*viewer);
        let mut summaries = Vec::new();
        store.indicators(&filter, &mut |i| summaries.push(i)).unwrap();
        for summary in &summaries {
            let detail = store.indicator(&summary.value, &filter).unwrap().unwrap();
            let rows: BTreeSet<(String, Tlp)> = detail.sightings.iter().map(|r| (r.source.clone(), r.tlp)).collect();
            let top = rows.iter().map(|(_, t)| *t).max();
            prop_assert_eq!(Some(summary.tlp), top, "{} as {:?}", summary.value, viewer);
            got.insert(summary.value.clone(), rows);
        }
        prop_assert_eq!(&got, &want, "as {:?}", viewer);
    }
    Ok(())
}
