//! How corroboration raises an indicator's confidence.

/// The confidence of a sighting whose source gave none.
pub const DEFAULT_CONFIDENCE: u8 = 50;

/// Combines the confidences (0–100) of *independent sources* into the
/// indicator's confidence: `100 × (1 − Π (1 − cᵢ/100))`, rounded, where `cᵢ`
/// is the highest confidence among source `i`'s sightings.
///
/// This is the chance that at least one source is right if each is right
/// with probability `cᵢ/100` independently. One source keeps its own value;
/// two sources at 50 give 75, three give 88; it never exceeds the certainty
/// of a source at 100 and never falls below the best single source. Pass one
/// value per source, not per sighting, so that a feed repeating itself does
/// not corroborate itself.
pub fn combined_confidence(per_source: impl IntoIterator<Item = u8>) -> u8 {
    let mut doubt = 1.0_f64;
    let mut any = false;
    for c in per_source {
        any = true;
        doubt *= 1.0 - f64::from(c.min(100)) / 100.0;
    }
    if !any {
        return 0;
    }
    ((1.0 - doubt) * 100.0).round().clamp(0.0, 100.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(combined_confidence([]), 0);
        assert_eq!(combined_confidence([50]), 50);
        assert_eq!(combined_confidence([50, 50]), 75);
        assert_eq!(combined_confidence([50, 50, 50]), 88);
        assert_eq!(combined_confidence([100, 10]), 100);
    }

    proptest! {
        #[test]
        fn never_below_best_source_and_monotone(cs in proptest::collection::vec(0u8..=100, 1..6), extra in 0u8..=100) {
            let base = combined_confidence(cs.clone());
            prop_assert!(base >= *cs.iter().max().unwrap_or(&0));
            let mut more = cs.clone();
            more.push(extra);
            prop_assert!(combined_confidence(more) >= base);
        }
    }
}
