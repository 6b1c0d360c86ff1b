//! `SendWrapper<T>`: a `!Send` value that may be moved between threads but only used, and
//! dropped, on the thread that made it. The same API as crates.io's `send_wrapper` 0.6, which
//! Leptos wraps around every event handler, DOM node and local signal value.
//!
//! Why a copy of the API: the original asks `std::thread::current()` on every wrap, access and
//! drop, and on wasm32 that pulls std's whole thread registry into the widget (about 5 KB of
//! code, BENCHMARKS.md). A wasm32 module built without the `atomics` target feature cannot
//! start a second thread, so there the check can only ever succeed and [`Origin`] is empty.
//! Everywhere else (native builds and tests, wasm with threads) it is the thread's id, checked
//! as the original does.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};

#[cfg(feature = "futures")]
mod futures;

/// The thread a value belongs to.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[derive(Clone, Copy, PartialEq, Eq)]
struct Origin;

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
impl Origin {
    fn here() -> Origin {
        Origin
    }
}

#[cfg(not(all(target_arch = "wasm32", not(target_feature = "atomics"))))]
#[derive(Clone, Copy, PartialEq, Eq)]
struct Origin(std::thread::ThreadId);

#[cfg(not(all(target_arch = "wasm32", not(target_feature = "atomics"))))]
impl Origin {
    fn here() -> Origin {
        Origin(std::thread::current().id())
    }
}

/// A value usable only on the thread that wrapped it; see the crate's documentation.
pub struct SendWrapper<T> {
    value: ManuallyDrop<T>,
    origin: Origin,
}

// SAFETY: the value is reached only through `Deref`, `DerefMut`, `take`, `poll` and `Drop`,
// each of which first checks that it runs on the value's own thread (and panics otherwise), so
// the value is never used or dropped on another thread.
unsafe impl<T> Send for SendWrapper<T> {}
// SAFETY: as above: a shared reference reaches the value only on its own thread.
unsafe impl<T> Sync for SendWrapper<T> {}

impl<T> SendWrapper<T> {
    pub fn new(value: T) -> SendWrapper<T> {
        SendWrapper {
            value: ManuallyDrop::new(value),
            origin: Origin::here(),
        }
    }

    /// Whether the current thread may use the value.
    pub fn valid(&self) -> bool {
        self.origin == Origin::here()
    }

    /// The value itself.
    ///
    /// # Panics
    /// On another thread than the one that wrapped it.
    #[track_caller]
    pub fn take(self) -> T {
        self.check("take");
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so the value is moved out exactly once.
        unsafe { ManuallyDrop::take(&mut this.value) }
    }

    #[track_caller]
    fn check(&self, what: &str) {
        if !self.valid() {
            wrong_thread(what);
        }
    }
}

#[cold]
#[track_caller]
fn wrong_thread(what: &str) -> ! {
    panic!("SendWrapper: {what} on another thread than the one that made the value")
}

impl<T> Deref for SendWrapper<T> {
    type Target = T;

    #[track_caller]
    fn deref(&self) -> &T {
        self.check("access");
        &self.value
    }
}

impl<T> DerefMut for SendWrapper<T> {
    #[track_caller]
    fn deref_mut(&mut self) -> &mut T {
        self.check("access");
        &mut self.value
    }
}

impl<T> Drop for SendWrapper<T> {
    #[track_caller]
    fn drop(&mut self) {
        // A value with no drop code may be forgotten on any thread; one with drop code must be
        // dropped at home (while already panicking, leak it rather than abort).
        if !std::mem::needs_drop::<T>() {
            return;
        }
        if self.valid() {
            // SAFETY: dropped once, here; `self.value` is not used after.
            unsafe { ManuallyDrop::drop(&mut self.value) };
        } else if !std::thread::panicking() {
            wrong_thread("drop");
        }
    }
}

impl<T: Clone> Clone for SendWrapper<T> {
    #[track_caller]
    fn clone(&self) -> Self {
        SendWrapper::new(self.deref().clone())
    }
}

impl<T: fmt::Debug> fmt::Debug for SendWrapper<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("SendWrapper");
        if self.valid() {
            out.field("value", self.deref());
        }
        out.finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::SendWrapper;
    use std::rc::Rc;

    #[test]
    fn the_value_is_usable_and_dropped_at_home() {
        let shared = Rc::new(5);
        let wrapped = SendWrapper::new(Rc::clone(&shared));
        assert!(wrapped.valid());
        assert_eq!(**wrapped, 5);
        assert_eq!(Rc::strong_count(&shared), 2);
        drop(wrapped);
        assert_eq!(Rc::strong_count(&shared), 1);
        assert_eq!(*SendWrapper::new(Rc::clone(&shared)).take(), 5);
        assert_eq!(Rc::strong_count(&shared), 1);
    }

    #[test]
    fn another_thread_may_not_use_it() {
        let wrapped = SendWrapper::new(Rc::new(1));
        let outcome = std::thread::spawn(move || {
            assert!(!wrapped.valid());
            let used = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| **wrapped));
            // Dropped here as well, while not panicking: that must panic too, not free the Rc.
            std::mem::forget(wrapped);
            used.is_err()
        })
        .join()
        .expect("the thread itself ends");
        assert!(outcome);
    }

    #[test]
    fn dropping_on_another_thread_panics() {
        let wrapped = SendWrapper::new(Rc::new(1));
        assert!(std::thread::spawn(move || drop(wrapped)).join().is_err());
        // Values without drop code may go anywhere.
        let plain = SendWrapper::new(7_u8);
        assert!(std::thread::spawn(move || drop(plain)).join().is_ok());
    }
}
