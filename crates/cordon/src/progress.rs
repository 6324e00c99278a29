//! Progress on standard error for long work, when it is a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// Work of fewer items than this shows no progress.
const MIN_ITEMS: u64 = 100_000;

/// A bar counting items, shown once the work is large enough.
pub(crate) struct Counter {
    bar: Option<ProgressBar>,
    label: &'static str,
}

/// A counter labelled `label` (hidden unless stderr is a terminal).
pub(crate) fn counter(label: &'static str) -> Counter {
    Counter { bar: None, label }
}

impl Counter {
    /// `done` of `total` items are done.
    pub(crate) fn update(&mut self, done: u64, total: u64) {
        if self.bar.is_none() && total >= MIN_ITEMS && std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total);
            let template = format!("{} [{{bar:40}}] {{pos}}/{{len}} ({{eta}})", self.label);
            if let Ok(style) = ProgressStyle::with_template(&template) {
                bar.set_style(style.progress_chars("=> "));
            }
            self.bar = Some(bar);
        }
        if let Some(bar) = &self.bar {
            bar.set_position(done);
        }
    }

    /// The work is over.
    pub(crate) fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
