//! Suricata IP-only rules: for each category, rules that drop traffic from
//! and to its networks.
//!
//! Suricata refuses rules longer than 8192 bytes (`DETECT_MAX_RULE_SIZE`
//! in its `detect.h`), so a category's address list is cut into chunks of
//! at most [`LIST_BUDGET`] bytes, and each chunk gets an inbound rule
//! (`[list] any -> $HOME_NET any`) and an outbound one (`$HOME_NET any ->
//! [list] any`): two rules rather than one `<>` rule, as the Suricata
//! community style guide recommends. `drop` acts only in IPS mode; an IDS
//! treats it as `alert`.
//!
//! Sids come from the local-use range 1,000,000–1,999,999: category `i` (in
//! [`Category::ALL`] order) uses `1,900,000 + 10,000 × i` upwards, two per
//! chunk, so a sid names the same category and chunk in every export.

use std::io::Write;

use cordon_model::Category;

use crate::networks::{aggregate, Compact};
use crate::text::comment_header;
use crate::{Entry, Error, Format, Options};

/// The first sid.
const SID_BASE: u32 = 1_900_000;
/// Sids per category.
const SIDS_PER_CATEGORY: u32 = 10_000;
/// The most bytes of one rule's address list, leaving room for the rest of
/// the rule under Suricata's 8192-byte limit.
const LIST_BUDGET: usize = 7_900;

/// The rules file.
pub(crate) fn rules(entries: &[&Entry], options: &Options, out: &mut dyn Write) -> Result<(), Error> {
    comment_header(out, "#", options, "IP-only drop rules per category; sids 1900000-1999999.")?;
    for (index, category) in (0u32..).zip(Category::ALL) {
        let networks = aggregate(entries.iter().copied().filter(|entry| entry.in_category(category)));
        let first_sid = SID_BASE + index * SIDS_PER_CATEGORY;
        let mut rule_pair = RulePair { category, sid: first_sid, last_sid: first_sid + SIDS_PER_CATEGORY - 1 };
        let mut list = String::new();
        for net in networks.iter() {
            let item = Compact(net).to_string();
            if !list.is_empty() && list.len() + 1 + item.len() > LIST_BUDGET {
                rule_pair.write(out, &list)?;
                list.clear();
            }
            if !list.is_empty() {
                list.push(',');
            }
            list.push_str(&item);
        }
        if !list.is_empty() {
            rule_pair.write(out, &list)?;
        }
    }
    Ok(())
}

/// The inbound and outbound rules of the next chunk of a category.
struct RulePair {
    category: Category,
    /// The next free sid.
    sid: u32,
    /// The category's last sid.
    last_sid: u32,
}

impl RulePair {
    fn write(&mut self, out: &mut dyn Write, list: &str) -> Result<(), Error> {
        let (inbound, outbound) = (self.sid, self.sid + 1);
        if outbound > self.last_sid {
            return Err(Error::TooLarge { format: Format::Suricata, reason: "more than 10000 rules in one category" });
        }
        let category = self.category;
        writeln!(
            out,
            "drop ip [{list}] any -> $HOME_NET any (msg:\"cordon {category} inbound\"; sid:{inbound}; rev:1;)"
        )?;
        writeln!(
            out,
            "drop ip $HOME_NET any -> [{list}] any (msg:\"cordon {category} outbound\"; sid:{outbound}; rev:1;)"
        )?;
        self.sid += 2;
        Ok(())
    }
}
