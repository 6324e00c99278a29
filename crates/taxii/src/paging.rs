//! Cutting one page out of objects in (date added, id) order.

use crate::Micros;

/// One page of `items` (sorted by `key`, (date added, id), ascending, no
/// two keys equal): the items strictly after the key `after`, added
/// strictly after `added_after`,
/// that `wanted` lets through, at most `limit` of them; and whether more
/// such items follow.
///
/// The start is found by binary search, so a page costs what its items
/// cost wherever it is in the list.
pub fn page<T, K: Ord>(
    items: &[T],
    key: impl Fn(&T) -> (Micros, K),
    after: Option<(Micros, K)>,
    added_after: Option<Micros>,
    limit: usize,
    wanted: impl Fn(&T) -> bool,
) -> (Vec<&T>, bool) {
    let start = items.partition_point(|item| {
        let here = key(item);
        let date = here.0;
        after.as_ref().is_some_and(|a| here <= *a) || added_after.is_some_and(|at| date <= at)
    });
    let mut out = Vec::new();
    for item in &items[start..] {
        if !wanted(item) {
            continue;
        }
        if out.len() == limit {
            return (out, true);
        }
        out.push(item);
    }
    (out, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::Position;
    use proptest::prelude::*;

    fn key(item: &(Micros, String)) -> (Micros, String) {
        item.clone()
    }

    proptest! {
        /// Following `next` from the first page visits every wanted item
        /// once, in order, however many share a timestamp.
        #[test]
        fn pages_cover_everything_once(
            dates in proptest::collection::vec(0i64..5, 0..60),
            limit in 1usize..7,
            added_after in proptest::option::of(0i64..5),
            modulus in 1usize..4,
        ) {
            let mut items: Vec<(Micros, String)> =
                dates.iter().enumerate().map(|(i, d)| (Micros(*d), format!("indicator--{i:03}"))).collect();
            items.sort();
            // Filters (match[type], match[id]) let some items through.
            let wanted = |item: &(Micros, String)| {
                item.1.trim_start_matches("indicator--").parse::<usize>().is_ok_and(|n| n.is_multiple_of(modulus))
            };
            let expected: Vec<&(Micros, String)> =
                items.iter().filter(|i| wanted(i) && added_after.is_none_or(|a| i.0 > Micros(a))).collect();
            let mut seen = Vec::new();
            let mut after: Option<Position> = None;
            loop {
                let (items_page, more) =
                    page(&items, key, after.as_ref().map(|a| (a.date_added, a.id.clone())), added_after.map(Micros), limit, wanted);
                prop_assert!(items_page.len() <= limit);
                seen.extend(items_page.iter().copied());
                if !more {
                    break;
                }
                let last = items_page.last().unwrap();
                after = Some(Position { date_added: last.0, id: last.1.clone() });
            }
            prop_assert_eq!(seen, expected);
        }
    }

    #[test]
    fn added_after_is_strictly_after() {
        let items = vec![(Micros(1), "a".to_string()), (Micros(2), "b".to_string()), (Micros(2), "c".to_string())];
        let (got, more) = page(&items, key, None, Some(Micros(1)), 10, |_| true);
        assert_eq!(got.iter().map(|i| i.1.as_str()).collect::<Vec<_>>(), ["b", "c"]);
        assert!(!more);
        let (got, more) = page(&items, key, None, None, 2, |_| true);
        assert_eq!((got.len(), more), (2, true));
    }
}
