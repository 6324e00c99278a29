//! The MISP warninglists as the application uses them: loaded once per
//! [`App`] from [`crate::Config::warninglists`] when that directory exists,
//! handed to every flag check (enrichment, routing, target planning,
//! exports, lookups), and listed and checked for `cordon warninglists`.

use std::sync::{Arc, OnceLock};

use cordon_enrich::{offline_flags, Allowlist, Flag, FlagConfig, Scope, Warninglists, WarninglistsError};
use cordon_model::{normalize, Kind, Viewer};
use cordon_store::enrichment::{AllowEntry, EnrichmentStore};
use serde::Serialize;

use crate::enrichment::{allowlist_of, load_allowlist};
use crate::view::FlagView;
use crate::{App, AppError};

/// The flags of addresses that need no geo data (allowlist, bogons,
/// warninglists, the built-in resolvers), for answers such as `cordon
/// lookup`'s.
pub struct FlagChecker {
    allowlist: Allowlist,
    warninglists: Option<Arc<Warninglists>>,
}

impl FlagChecker {
    /// The flags of `value` (of `kind`, an address or a network: the
    /// checker holds only the lists that can match one).
    pub fn flags(&self, kind: Kind, value: &str) -> Vec<FlagView> {
        let config = FlagConfig { warninglists: self.warninglists.as_deref(), ..FlagConfig::new(&self.allowlist) };
        offline_flags(kind, value, &config)
            .into_iter()
            .map(|flag| FlagView { flag: flag.kind.key().to_string(), reason: flag.reason })
            .collect()
    }
}

/// The flags that need no geo data, for indicators of any kind, with the
/// lists each kind needs: addresses and networks against those that can
/// match an address (a few percent of the entries, loaded at once), names
/// and URLs against all of them, loaded when the first one comes (a second
/// or two for the published lists).
pub(crate) struct OfflineFlags<'a> {
    app: &'a App,
    allowlist: Allowlist,
    addresses: Option<Arc<Warninglists>>,
    everything: Option<Option<Arc<Warninglists>>>,
}

impl OfflineFlags<'_> {
    /// The flags of `value`, of `kind`.
    pub(crate) fn flags(&mut self, kind: Kind, value: &str) -> Result<Vec<Flag>, AppError> {
        let lists = match kind {
            Kind::Ipv4 | Kind::Ipv6 | Kind::Cidr => self.addresses.as_deref(),
            Kind::Domain | Kind::Url => {
                if self.everything.is_none() {
                    self.everything = Some(self.app.warninglists()?);
                }
                self.everything.as_ref().and_then(|lists| lists.as_deref())
            }
        };
        Ok(offline_flags(kind, value, &FlagConfig { warninglists: lists, ..FlagConfig::new(&self.allowlist) }))
    }
}

/// The lists of one [`App`], loaded on first use (about a second for the
/// 119 published lists, so a command that needs none pays nothing).
#[derive(Default)]
pub(crate) struct Cache {
    loaded: OnceLock<Result<Option<Loaded>, String>>,
    /// Those that can match an address ([`Scope::Addresses`]): a lookup
    /// loads these only, a few percent of the entries.
    addresses: OnceLock<Result<Option<Loaded>, String>>,
}

#[derive(Clone)]
struct Loaded {
    lists: Arc<Warninglists>,
    diagnostics: Vec<String>,
}

/// One list, as `cordon warninglists list` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListView {
    /// The list's name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// `cidr`, `hostname`, `string`, `substring` or `regex`.
    pub list_type: &'static str,
    /// Entries in the file.
    pub entries: usize,
    /// The list's version.
    pub version: u64,
    /// The class its name suggests (`resolver`, `file-hosting`, ...).
    pub class: &'static str,
    /// The flag its hits raise (none: the list is shown but not acted on).
    pub flag: Option<&'static str>,
    /// Whether addresses, domains or URLs can match it at all.
    pub applies: bool,
}

/// One list a value is in, as `cordon warninglists check` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HitView {
    /// The list's name.
    pub list: String,
    /// Its class.
    pub class: &'static str,
    /// The entry that matched.
    pub entry: String,
    /// What matched: the value or its URL's host.
    pub matched: String,
    /// The flag the hit raises, if any.
    pub flag: Option<&'static str>,
    /// The flag's reason.
    pub reason: Option<String>,
}

/// The answer for one value of `cordon warninglists check`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckView {
    /// The value, canonical.
    pub value: String,
    /// Its kind.
    pub kind: &'static str,
    /// The lists it is in.
    pub hits: Vec<HitView>,
}

/// The lists of `cordon warninglists list`, with the problems met loading
/// them (`file: reason`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListsView {
    /// Where they were read from.
    pub dir: String,
    /// Every list, in load order.
    pub lists: Vec<ListView>,
    /// Files or entries that could not be read.
    pub problems: Vec<String>,
}

impl App {
    /// The warninglists, loaded on first use; `None` when the configured
    /// directory does not exist. A directory that exists but holds no
    /// readable list is an error.
    pub(crate) fn warninglists(&self) -> Result<Option<Arc<Warninglists>>, AppError> {
        Ok(self.loaded_warninglists()?.map(|loaded| loaded.lists))
    }

    fn loaded_warninglists(&self) -> Result<Option<Loaded>, AppError> {
        self.scoped_warninglists(Scope::Everything)
    }

    fn scoped_warninglists(&self, scope: Scope) -> Result<Option<Loaded>, AppError> {
        let dir = &self.config.warninglists;
        let cache = match scope {
            Scope::Everything => &self.warninglists.loaded,
            Scope::Addresses => &self.warninglists.addresses,
        };
        let loaded = cache.get_or_init(|| {
            if !dir.is_dir() {
                return Ok(None);
            }
            match Warninglists::load_dir_for(dir, scope) {
                Ok((lists, diagnostics)) => Ok(Some(Loaded {
                    lists: Arc::new(lists),
                    diagnostics: diagnostics.iter().map(ToString::to_string).collect(),
                })),
                Err(error) => Err(error.to_string()),
            }
        });
        loaded.clone().map_err(AppError::Invalid)
    }

    /// The flags that need no geo data, as the hub records them (the
    /// stored allowlist, the warninglists).
    pub(crate) fn offline_flags(&self) -> Result<OfflineFlags<'_>, AppError> {
        self.offline_flags_over(&self.store.allowlist()?)
    }

    /// [`App::offline_flags`] with the allowlist of stored `entries`.
    pub(crate) fn offline_flags_over(&self, entries: &[AllowEntry]) -> Result<OfflineFlags<'_>, AppError> {
        let addresses = self.scoped_warninglists(Scope::Addresses)?.map(|loaded| loaded.lists);
        Ok(OfflineFlags { app: self, allowlist: allowlist_of(entries)?, addresses, everything: None })
    }

    /// The offline flag checker for `viewer`: the warninglists (public
    /// data), and for the hub the stored allowlist too (its entries and
    /// reasons are the hub's own).
    pub fn flag_checker(&self, viewer: &Viewer) -> Result<FlagChecker, AppError> {
        let allowlist = if viewer.is_hub() { load_allowlist(&self.store)? } else { Allowlist::default() };
        let warninglists = self.scoped_warninglists(Scope::Addresses)?.map(|loaded| loaded.lists);
        Ok(FlagChecker { allowlist, warninglists })
    }

    /// The lists, or an error naming the script that fetches them.
    fn required_warninglists(&self) -> Result<Loaded, AppError> {
        self.loaded_warninglists()?.ok_or_else(|| {
            let path = self.config.warninglists.display().to_string();
            AppError::NotFound(WarninglistsError::Empty { path }.to_string())
        })
    }

    /// Every loaded list (`cordon warninglists list`).
    pub fn warninglist_lists(&self) -> Result<ListsView, AppError> {
        let loaded = self.required_warninglists()?;
        let lists = loaded
            .lists
            .lists()
            .map(|list| ListView {
                name: list.name.to_string(),
                description: list.description.to_string(),
                list_type: list.list_type.as_str(),
                entries: list.entries,
                version: list.version,
                class: list.class.key(),
                flag: list.class.flag_kind().map(|kind| kind.key()),
                applies: list.applies,
            })
            .collect();
        Ok(ListsView { dir: self.config.warninglists.display().to_string(), lists, problems: loaded.diagnostics })
    }

    /// The lists each of the values `raw` stands for is in (`cordon
    /// warninglists check`); a range stands for its networks.
    pub fn warninglist_check(&self, raw: &str) -> Result<Vec<CheckView>, AppError> {
        let loaded = self.required_warninglists()?;
        let normalized = normalize(raw).map_err(|e| AppError::Invalid(format!("'{raw}': {e}")))?;
        Ok(normalized
            .observables
            .iter()
            .map(|observable| CheckView {
                value: observable.to_string(),
                kind: observable.kind().as_str(),
                hits: loaded
                    .lists
                    .check(observable)
                    .into_iter()
                    .map(|hit| {
                        let flag = hit.flag();
                        HitView {
                            class: hit.class().key(),
                            flag: flag.as_ref().map(|f| f.kind.key()),
                            reason: flag.map(|f| f.reason),
                            list: hit.list,
                            entry: hit.entry,
                            matched: hit.matched,
                        }
                    })
                    .collect(),
            })
            .collect())
    }
}
