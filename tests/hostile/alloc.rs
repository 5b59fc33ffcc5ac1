//! A counting global allocator for the hostile-input tests: live bytes, their peak and the
//! number of allocations, per thread (tests run in parallel threads; the pipeline under
//! test is single-threaded, so each thread's figures are its own input's).
//!
//! Test code only: the crate itself forbids `unsafe`; implementing `GlobalAlloc` needs it.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The allocator; declare it with `#[global_allocator]` in the test binary.
pub struct Counting;

thread_local! {
    // `const` and `Copy`: no lazy initialisation and no destructor, so safe to touch
    // from inside the allocator.
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

fn grew(n: usize) {
    let _ = LIVE.try_with(|l| {
        let v = l.get().saturating_add(n);
        l.set(v);
        let _ = PEAK.try_with(|p| p.set(p.get().max(v)));
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
    });
}

fn shrank(n: usize) {
    let _ = LIVE.try_with(|l| l.set(l.get().saturating_sub(n)));
}

// SAFETY: every call is forwarded unchanged to `System`; only thread-local counters are
// updated around it, without allocating.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrank(layout.size());
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        shrank(layout.size());
        grew(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// What one closure allocated on this thread.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    /// Highest live bytes above the starting level.
    pub peak_bytes: usize,
    /// Number of allocations.
    pub allocations: u64,
}

/// Runs `f` and measures what it allocated on this thread.
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, Usage) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let count = COUNT.with(Cell::get);
    let r = f();
    let usage = Usage { peak_bytes: PEAK.with(Cell::get) - start, allocations: COUNT.with(Cell::get) - count };
    (r, usage)
}
