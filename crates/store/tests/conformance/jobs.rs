//! The job queue: queued once per key, claimed by one worker at a time
//! under a lease that its worker renews, re-claimable once the lease ran
//! out (a worker that died), finished only by the worker holding it; two
//! threads claiming at once never get the same job.

use std::collections::HashSet;
use std::sync::{Arc, Barrier};

use cordon_store::jobs::JobState;

use super::{fresh, Backend};

pub fn jobs_are_queued_once_and_claimed_under_a_lease<B: Backend>() {
    let store = fresh::<B>();
    assert!(store.enqueue_job("feed-run", "feed:1:100", 1, 100).unwrap());
    assert!(!store.enqueue_job("feed-run", "feed:1:100", 1, 101).unwrap(), "one job per key");
    assert!(store.enqueue_job("feed-run", "feed:2:100", 2, 100).unwrap());

    let first = store.claim_job("a", 100, 130).unwrap().unwrap();
    assert_eq!((first.kind.as_str(), first.subject, first.attempts, first.lease_until), ("feed-run", 1, 1, 130));
    let second = store.claim_job("b", 100, 130).unwrap().unwrap();
    assert_eq!(second.subject, 2, "the oldest job that is not claimed");
    assert_eq!(store.claim_job("c", 120, 150).unwrap(), None, "both leases hold");

    assert!(store.renew_job(first.id, "a", 160).unwrap());
    assert!(!store.renew_job(first.id, "b", 999).unwrap(), "only its owner renews it");
    assert_eq!(store.claim_job("c", 131, 161).unwrap().map(|j| j.id), Some(second.id), "b's lease ran out");
    assert!(!store.finish_job(second.id, "b", None, 132).unwrap(), "b lost it");
    assert!(!store.renew_job(second.id, "b", 999).unwrap());
    assert_eq!(store.claim_job("d", 140, 170).unwrap(), None, "a renewed, c holds the other");

    assert!(store.finish_job(first.id, "a", None, 150).unwrap());
    assert!(!store.finish_job(first.id, "a", None, 151).unwrap(), "finished once");
    assert!(store.finish_job(second.id, "c", Some("HTTP 503"), 150).unwrap());
    assert_eq!(store.claim_job("d", 10_000, 10_030).unwrap(), None, "finished jobs are never claimed again");
    assert!(!store.enqueue_job("feed-run", "feed:1:100", 1, 10_000).unwrap(), "nor queued again");

    let done = store.job(first.id).unwrap().unwrap();
    assert_eq!(
        (done.key.as_str(), done.state, done.owner.as_deref(), done.attempts, done.error),
        ("feed:1:100", JobState::Done, Some("a"), 1, None)
    );
    let failed = store.job(second.id).unwrap().unwrap();
    assert_eq!(
        (failed.state, failed.owner.as_deref(), failed.attempts, failed.error.as_deref()),
        (JobState::Failed, Some("c"), 2, Some("HTTP 503"))
    );
    assert_eq!(store.job(second.id + 100).unwrap(), None);
}

/// A job whose claims all ran out of their lease is failed after
/// `MAX_ATTEMPTS` of them, not handed out forever; finished jobs are
/// pruned by when they finished, open ones never.
pub fn a_job_every_worker_dies_on_fails_and_finished_jobs_are_pruned<B: Backend>() {
    use cordon_store::jobs::{ABANDONED, MAX_ATTEMPTS};
    let store = fresh::<B>();
    assert!(store.enqueue_job("feed-run", "feed:1:100", 1, 100).unwrap());
    let mut now = 100;
    for attempt in 1..=MAX_ATTEMPTS {
        let job = store.claim_job(&format!("w{attempt}"), now, now + 30).unwrap().unwrap();
        assert_eq!(job.attempts, attempt);
        now += 31; // the worker died: its lease runs out
    }
    assert_eq!(store.claim_job("last", now, now + 30).unwrap(), None, "out of attempts");
    let job = store.job(1).unwrap().unwrap();
    assert_eq!((job.state, job.attempts, job.error.as_deref()), (JobState::Failed, MAX_ATTEMPTS, Some(ABANDONED)));

    // A job that finishes on its last attempt is done, not abandoned.
    assert!(store.enqueue_job("feed-run", "feed:2:100", 2, now).unwrap());
    for attempt in 1..=MAX_ATTEMPTS {
        let job = store.claim_job("w", now, now + 30).unwrap().unwrap();
        if attempt == MAX_ATTEMPTS {
            assert!(store.finish_job(job.id, "w", None, now + 1).unwrap());
        }
        now += 31;
    }
    assert!(store.enqueue_job("feed-run", "feed:3:100", 3, now).unwrap());
    let open = store.claim_job("w", now, now + 30).unwrap().unwrap();
    assert!(store.enqueue_job("feed-run", "feed:4:100", 4, now).unwrap());

    // Job 1 failed at 193 (when the last claim found it out of time), job
    // 2 finished at 256; job 3 runs and job 4 waits.
    assert_eq!(store.prune_jobs(193).unwrap(), 0, "nothing finished before 193");
    assert_eq!(store.prune_jobs(194).unwrap(), 1);
    assert_eq!(store.job(1).unwrap(), None);
    assert_eq!(store.prune_jobs(now + 10_000).unwrap(), 1, "job 2; the open ones stay");
    assert_eq!(store.job(open.id).unwrap().map(|j| j.state), Some(JobState::Running));
    assert_eq!(store.claim_job("w", now, now + 30).unwrap().map(|j| j.subject), Some(4));
    assert!(store.enqueue_job("feed-run", "feed:1:100", 1, now).unwrap(), "a pruned key is free again");
}

pub fn threads_claiming_at_once_never_get_one_job_twice<B: Backend + Send + Sync>() {
    const JOBS: usize = 60;
    const THREADS: usize = 4;
    let store = fresh::<B>();
    for n in 0..JOBS {
        store.enqueue_job("feed-run", &format!("feed:{n}:0"), n as i64, 0).unwrap();
    }
    // A handle per thread, as replicas have theirs.
    let handles: Vec<B> = (0..THREADS).map(|_| store.reopen()).collect();
    let start = Arc::new(Barrier::new(THREADS));
    let claimed: Vec<Vec<i64>> = std::thread::scope(|scope| {
        let workers: Vec<_> = handles
            .iter()
            .enumerate()
            .map(|(t, handle)| {
                let start = start.clone();
                scope.spawn(move || {
                    let owner = format!("worker-{t}");
                    start.wait();
                    let mut mine = Vec::new();
                    while let Some(job) = handle.claim_job(&owner, 10, 40).unwrap() {
                        assert!(handle.finish_job(job.id, &owner, None, 10).unwrap());
                        mine.push(job.subject);
                    }
                    mine
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let all: Vec<i64> = claimed.iter().flatten().copied().collect();
    let distinct: HashSet<i64> = all.iter().copied().collect();
    assert_eq!((all.len(), distinct.len()), (JOBS, JOBS), "each job claimed exactly once: {claimed:?}");
}
