//! Points in the write path where a test can pause the code (and then write, crash or cut the
//! network at exactly that moment) or make a step fail as if its answer was lost. Inert unless a
//! test arms them: an unarmed point costs one atomic load.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// Replay has taken a batch from the outbox (marked as sent) and not yet sent it.
pub const REPLAY_TAKEN: &str = "replay.taken";
/// The server committed a replayed batch; the outbox has not removed it yet.
pub const REPLAY_COMMITTED: &str = "replay.committed";
/// An online write committed on the server; its answer has not reached the caller yet.
pub const ONLINE_COMMITTED: &str = "online.committed";
/// The sync worker's loop, after its reachability check.
pub const WORKER_TICK: &str = "worker.tick";

/// What an armed point does.
#[derive(Clone)]
pub enum Hook {
    /// Waits until released; `reached` is notified on arrival.
    Pause(Pause),
    /// Makes the step fail as if the connection broke (the answer is lost).
    LoseAnswer,
    /// Makes the code panic there (to test that background tasks are restarted).
    Panic,
}

/// A pause a test holds: it learns when the code arrived and lets it go on.
#[derive(Clone, Default)]
pub struct Pause {
    reached: Arc<Notify>,
    release: Arc<Notify>,
}

impl Pause {
    /// Waits until the code is paused at the point.
    pub async fn reached(&self) {
        self.reached.notified().await;
    }

    /// Lets the paused code go on.
    pub fn release(&self) {
        self.release.notify_one();
    }
}

#[derive(Default)]
pub struct Hooks {
    armed: AtomicBool,
    points: Mutex<HashMap<&'static str, Hook>>,
}

/// What the code at a point must do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Passage {
    Go,
    LoseAnswer,
    Panic,
}

impl Hooks {
    /// Arms `point` to pause once; returns the handle to wait for it and release it.
    pub fn pause_at(&self, point: &'static str) -> Pause {
        let pause = Pause::default();
        self.arm(point, Hook::Pause(pause.clone()));
        pause
    }

    pub fn arm(&self, point: &'static str, hook: Hook) {
        if let Ok(mut points) = self.points.lock() {
            points.insert(point, hook);
            self.armed.store(true, Ordering::Release);
        }
    }

    /// Called by the code at `point`. An armed point acts once, then is disarmed.
    pub(crate) async fn at(&self, point: &'static str) -> Passage {
        if !self.armed.load(Ordering::Acquire) {
            return Passage::Go;
        }
        let hook = self.points.lock().ok().and_then(|mut p| p.remove(point));
        match hook {
            None => Passage::Go,
            Some(Hook::LoseAnswer) => Passage::LoseAnswer,
            Some(Hook::Panic) => Passage::Panic,
            Some(Hook::Pause(pause)) => {
                tracing::info!(point, "paused by a test hook");
                pause.reached.notify_one();
                pause.release.notified().await;
                Passage::Go
            }
        }
    }
}
