//! cordon's operational taxonomy and the mapping from partners' labels.

use std::fmt;
use std::str::FromStr;

/// cordon's operational category of an indicator. The partner's own label is
/// kept beside it on the sighting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// Phishing pages and their servers.
    Phishing,
    /// Ransomware infrastructure.
    Ransomware,
    /// Information-stealer infrastructure.
    Infostealer,
    /// Command-and-control servers.
    C2,
    /// Servers that deliver malware.
    MalwareDistribution,
    /// Botnet members and botnet hosting.
    Botnet,
    /// Spam sources and spam-hosting networks.
    Spam,
    /// Scanners and brute-forcers.
    Scanner,
    /// Fraud (fake shops, scams).
    Fraud,
    /// Anything else.
    Other,
}

/// Family names that identify ransomware, lowercase.
const RANSOMWARE_FAMILIES: &[&str] = &[
    "lockbit",
    "blackcat",
    "alphv",
    "conti",
    "akira",
    "play",
    "royal",
    "blackbasta",
    "black basta",
    "clop",
    "cl0p",
    "revil",
    "sodinokibi",
    "ryuk",
    "hive",
    "medusa",
    "rhysida",
    "bianlian",
    "8base",
    "noescape",
    "ransomhub",
    "qilin",
    "agenda",
    "babuk",
    "maze",
    "egregor",
    "darkside",
    "blackmatter",
    "ragnarlocker",
    "avaddon",
    "cuba",
    "phobos",
    "stop",
    "djvu",
    "wannacry",
    "netwalker",
    "ransomware",
];

/// Family names that identify information stealers, lowercase.
const INFOSTEALER_FAMILIES: &[&str] = &[
    "redline",
    "vidar",
    "raccoon",
    "lumma",
    "lummac2",
    "lumma stealer",
    "stealc",
    "agenttesla",
    "agent tesla",
    "formbook",
    "xloader",
    "azorult",
    "risepro",
    "meta stealer",
    "metastealer",
    "mystic",
    "aurora",
    "rhadamanthys",
    "snake keylogger",
    "snakekeylogger",
    "lokibot",
    "loki",
    "arkei",
    "mars stealer",
    "ficker",
    "erbium",
    "atomic stealer",
    "amos",
    "stealer",
    "infostealer",
];

/// Family names that identify botnets (loaders and C2 frameworks map to `c2`
/// through their feed label instead).
const BOTNET_FAMILIES: &[&str] =
    &["mirai", "mozi", "gafgyt", "bashlite", "emotet", "qakbot", "qbot", "trickbot", "dridex", "icedid"];

impl Category {
    /// Every category, in display order.
    pub const ALL: [Category; 10] = [
        Category::Phishing,
        Category::Ransomware,
        Category::Infostealer,
        Category::C2,
        Category::MalwareDistribution,
        Category::Botnet,
        Category::Spam,
        Category::Scanner,
        Category::Fraud,
        Category::Other,
    ];

    /// The category's name as used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Phishing => "phishing",
            Category::Ransomware => "ransomware",
            Category::Infostealer => "infostealer",
            Category::C2 => "c2",
            Category::MalwareDistribution => "malware-distribution",
            Category::Botnet => "botnet",
            Category::Spam => "spam",
            Category::Scanner => "scanner",
            Category::Fraud => "fraud",
            Category::Other => "other",
        }
    }

    /// Maps a malware family name to a category, when the family is known to
    /// be ransomware or an infostealer. Case and punctuation are ignored.
    pub fn from_family(family: &str) -> Option<Category> {
        let key = family.trim().to_ascii_lowercase().replace(['_', '-'], " ");
        let compact = key.replace(' ', "");
        let known =
            |list: &[&str]| list.iter().any(|f| *f == key || f.bytes().filter(|b| *b != b' ').eq(compact.bytes()));
        // Feeds print `RedLine Stealer`, `Raccoon Stealer v2`, `Medusa Locker`:
        // a word that is a known family, or the words stealer / ransomware /
        // locker, say what the family is.
        let words: Vec<&str> = key.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
        let has_word = |list: &[&str]| words.iter().any(|w| list.contains(w));
        if known(RANSOMWARE_FAMILIES) || has_word(&["ransomware", "locker"]) {
            Some(Category::Ransomware)
        } else if known(INFOSTEALER_FAMILIES) || has_word(&["stealer"]) || has_word(INFOSTEALER_FAMILIES) {
            Some(Category::Infostealer)
        } else if has_word(RANSOMWARE_FAMILIES) {
            Some(Category::Ransomware)
        } else {
            None
        }
    }

    /// Maps a partner's label (a feed's threat type, an IntelMQ
    /// classification type, a MISP/STIX tag, …) to a category. A ransomware or
    /// infostealer family given as `malware` wins over a generic label such as
    /// `c2` or `payload_delivery`, because the family says what the
    /// infrastructure serves; unknown labels map to `None`, letting the caller
    /// fall back to the feed's default.
    pub fn from_label(label: Option<&str>, malware: Option<&str>) -> Option<Category> {
        if let Some(cat) = malware.and_then(Category::from_family) {
            return Some(cat);
        }
        let label = label?;
        if let Ok(cat) = label.parse::<Category>() {
            return Some(cat);
        }
        if let Some(cat) = Category::from_family(label) {
            return Some(cat);
        }
        let key = label.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        let cat = match key.as_str() {
            "c2-server" | "botnet-cc" | "c&c" | "cc" | "command-and-control" | "c2c" | "cnc" => Category::C2,
            "malware-download"
            | "payload-delivery"
            | "malware-distribution"
            | "hosting-malware"
            | "exploit-kit"
            | "malware-delivery" => Category::MalwareDistribution,
            "phish" | "phishing-url" | "phishing-site" => Category::Phishing,
            "infected-system" | "botnet-drone" | "bot" | "drone" => Category::Botnet,
            "spam" | "spammer" | "snowshoe" | "drop" | "edrop" => Category::Spam,
            "scanner" | "brute-force" | "bruteforce" | "scanning" | "ssh-bruteforce" => Category::Scanner,
            "fraud" | "scam" | "fake-shop" => Category::Fraud,
            "ransomware" => Category::Ransomware,
            "infostealer" | "stealer" => Category::Infostealer,
            _ => {
                if malware.map(|m| BOTNET_FAMILIES.contains(&m.trim().to_ascii_lowercase().as_str())) == Some(true) {
                    Category::Botnet
                } else {
                    return None;
                }
            }
        };
        Some(cat)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no category of cordon's taxonomy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown category '{0}' (expected one of phishing, ransomware, infostealer, c2, malware-distribution, botnet, spam, scanner, fraud, other)")]
pub struct UnknownCategory(pub String);

impl FromStr for Category {
    type Err = UnknownCategory;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownCategory(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_feed_labels() {
        assert_eq!(Category::from_label(Some("botnet_cc"), None), Some(Category::C2));
        assert_eq!(Category::from_label(Some("payload_delivery"), None), Some(Category::MalwareDistribution));
        assert_eq!(Category::from_label(Some("malware_download"), None), Some(Category::MalwareDistribution));
        assert_eq!(Category::from_label(Some("c2-server"), None), Some(Category::C2));
        assert_eq!(Category::from_label(Some("phishing"), None), Some(Category::Phishing));
        assert_eq!(Category::from_label(Some("whatever"), None), None);
    }

    #[test]
    fn families_win_over_generic_labels() {
        assert_eq!(Category::from_label(Some("botnet_cc"), Some("LockBit")), Some(Category::Ransomware));
        assert_eq!(Category::from_label(Some("payload_delivery"), Some("Lumma Stealer")), Some(Category::Infostealer));
        assert_eq!(Category::from_label(Some("c2"), Some("AgentTesla")), Some(Category::Infostealer));
        assert_eq!(Category::from_label(Some("BlackCat"), None), Some(Category::Ransomware));
        assert_eq!(Category::from_label(Some("c2"), Some("QakBot")), Some(Category::C2));
        assert_eq!(Category::from_label(Some("botnet_cc"), Some("RedLine Stealer")), Some(Category::Infostealer));
        assert_eq!(Category::from_family("Raccoon Stealer v2"), Some(Category::Infostealer));
        assert_eq!(Category::from_family("Medusa Locker"), Some(Category::Ransomware));
        assert_eq!(Category::from_family("Cobalt Strike"), None);
    }

    #[test]
    fn names_round_trip() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse(), Ok(c));
        }
    }
}
