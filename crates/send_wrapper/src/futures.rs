//! A wrapped future or stream is polled on its own thread only.

use crate::SendWrapper;
use futures_core::Stream;
use std::future::Future;
use std::ops::DerefMut;
use std::pin::Pin;
use std::task::{Context, Poll};

impl<F: Future> Future for SendWrapper<F> {
    type Output = F::Output;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: the future lives inside the pinned wrapper and is never moved out of it while
        // pinned (`take` consumes an unpinned wrapper), so it is pinned too. `deref_mut` checks
        // the thread.
        unsafe { self.map_unchecked_mut(SendWrapper::deref_mut) }.poll(cx)
    }
}

impl<S: Stream> Stream for SendWrapper<S> {
    type Item = S::Item;

    #[track_caller]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        // SAFETY: as for `Future::poll` above.
        unsafe { self.map_unchecked_mut(SendWrapper::deref_mut) }.poll_next(cx)
    }
}
