//! Bounded concurrency for remote reads: shards and quants are fetched at once, so a model of
//! 40 shards costs the round trips of one, while at most [`MAX_IN_FLIGHT`] files are being
//! fetched at any moment in the whole process.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

/// Files fetched at once, process-wide.
pub const MAX_IN_FLIGHT: usize = 64;

/// `f` over `items` on up to [`MAX_IN_FLIGHT`] threads, results in order.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else { break };
            let r = f(item);
            if let Some(slot) = slots.get(i) {
                *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
            }
        }
    };
    std::thread::scope(|s| {
        let mut spawned = 0;
        for _ in 0..items.len().min(MAX_IN_FLIGHT) {
            // The OS may refuse a thread (limits): the threads there are share the work.
            if std::thread::Builder::new().spawn_scoped(s, work).is_err() {
                break;
            }
            spawned += 1;
        }
        if spawned == 0 {
            work();
        }
    });
    slots.into_iter().filter_map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner())).collect()
}

static IN_FLIGHT: Mutex<usize> = Mutex::new(0);
static FREED: Condvar = Condvar::new();

/// A place among the files being fetched; released when dropped.
pub struct Slot(());

/// Waits for a place among the [`MAX_IN_FLIGHT`] files fetched at once (nested maps, quants
/// times shards, share this bound).
pub fn slot() -> Slot {
    let mut n = IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner());
    while *n >= MAX_IN_FLIGHT {
        n = FREED.wait(n).unwrap_or_else(|p| p.into_inner());
    }
    *n += 1;
    Slot(())
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut n = IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner());
        *n = n.saturating_sub(1);
        FREED.notify_one();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn maps_in_order() {
        let v: Vec<u32> = (0..100).collect();
        assert_eq!(super::map(&v, |x| x * 2), v.iter().map(|x| x * 2).collect::<Vec<_>>());
    }
}
