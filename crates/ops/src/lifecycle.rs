//! The target lifecycle as a pure state machine.
//!
//! ```text
//! identified → triaged → referred → notified → taken-down → verified
//!      └──────────┴──────────┴──────────┴→ rejected (false-positive | out-of-scope | duplicate)
//! taken-down | verified → reemerged → triaged
//! ```
//!
//! `referred → taken-down` is allowed too: an agency may seize a server
//! without the provider ever being notified. `rejected` is final.

use std::fmt;
use std::str::FromStr;

use cordon_store::ops::TargetState;

use TargetState::*;

/// Why a target was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// The indicator was not malicious.
    FalsePositive,
    /// Not within the operation's mandate.
    OutOfScope,
    /// Another target covers it.
    Duplicate,
}

impl RejectReason {
    /// Every reason.
    pub const ALL: [RejectReason; 3] = [RejectReason::FalsePositive, RejectReason::OutOfScope, RejectReason::Duplicate];

    /// The reason's name: `false-positive`, `out-of-scope`, `duplicate`.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::FalsePositive => "false-positive",
            RejectReason::OutOfScope => "out-of-scope",
            RejectReason::Duplicate => "duplicate",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RejectReason {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase().replace('_', "-");
        RejectReason::ALL
            .into_iter()
            .find(|r| r.as_str() == name)
            .ok_or_else(|| format!("unknown reason '{s}' (expected false-positive, out-of-scope or duplicate)"))
    }
}

/// A transition the lifecycle refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// `to` cannot follow `from`.
    #[error("cannot go from {from} to {to}; allowed from {from}: {}", names(allowed))]
    Illegal {
        /// The current state.
        from: TargetState,
        /// The state asked for.
        to: TargetState,
        /// What may follow `from`.
        allowed: &'static [TargetState],
    },
    /// `rejected` needs a reason, and only `rejected` takes one.
    #[error("{0}")]
    Reason(&'static str),
}

fn names(states: &[TargetState]) -> String {
    if states.is_empty() {
        return "nothing (final state)".to_string();
    }
    states.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

/// The states that may follow `from`.
pub fn allowed(from: TargetState) -> &'static [TargetState] {
    match from {
        Identified => &[Triaged, Rejected],
        Triaged => &[Referred, Rejected],
        Referred => &[Notified, TakenDown, Rejected],
        Notified => &[TakenDown, Rejected],
        TakenDown => &[Verified, Reemerged],
        Verified => &[Reemerged],
        Reemerged => &[Triaged, Rejected],
        Rejected => &[],
    }
}

/// Checks one transition: `to` must follow `from`, and a reason must be
/// given exactly when `to` is `rejected`.
pub fn check(from: TargetState, to: TargetState, reason: Option<RejectReason>) -> Result<(), TransitionError> {
    if !allowed(from).contains(&to) {
        return Err(TransitionError::Illegal { from, to, allowed: allowed(from) });
    }
    match (to, reason) {
        (Rejected, None) => Err(TransitionError::Reason(
            "rejecting needs a reason: false-positive, out-of-scope or duplicate (--reason)",
        )),
        (Rejected, Some(_)) | (_, None) => Ok(()),
        (_, Some(_)) => Err(TransitionError::Reason("only a rejection takes a reason")),
    }
}

/// Whether a target in `state` counts as taken down (for the headline).
pub fn is_down(state: TargetState) -> bool {
    matches!(state, TakenDown | Verified)
}

/// The shortest legal path from `from` to `to`, excluding `from` (empty
/// when they are equal, `None` when `to` cannot be reached). Used to
/// simulate a lifecycle and to move a target several steps at once.
pub fn path(from: TargetState, to: TargetState) -> Option<Vec<TargetState>> {
    let mut queue = std::collections::VecDeque::from([vec![from]]);
    let mut seen = vec![from];
    while let Some(route) = queue.pop_front() {
        let last = *route.last()?;
        if last == to {
            return Some(route[1..].to_vec());
        }
        for next in allowed(last) {
            if !seen.contains(next) {
                seen.push(*next);
                let mut longer = route.clone();
                longer.push(*next);
                queue.push_back(longer);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_names_the_allowed_states() {
        let err = check(Identified, TakenDown, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot go from identified to taken-down; allowed from identified: triaged, rejected"
        );
        assert!(check(TakenDown, Rejected, Some(RejectReason::Duplicate)).is_err());
        assert!(check(Triaged, Rejected, None).is_err());
        assert!(check(Triaged, Referred, Some(RejectReason::Duplicate)).is_err());
        assert!(check(Notified, Rejected, Some(RejectReason::FalsePositive)).is_ok());
    }

    #[test]
    fn paths() {
        assert_eq!(path(Identified, Notified), Some(vec![Triaged, Referred, Notified]));
        assert_eq!(path(Rejected, Triaged), None);
        assert_eq!(path(Verified, Triaged), Some(vec![Reemerged, Triaged]));
    }
}
