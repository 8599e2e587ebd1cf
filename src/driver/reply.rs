//! The futures of the Rust API: one answer to come (an ack, a room join, a stored outbox
//! entry), carried from the callback that gets it to the task that awaits it. No runtime: the
//! browser's event loop wakes the task (`wasm-bindgen-futures`, or the app's framework).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::core::error::{Error, ErrorCode};

struct Slot<T> {
    value: Option<Result<T, Error>>,
    waker: Option<Waker>,
}

/// An answer to come: resolves once with the value or the error (`CLOSED` when no answer
/// will come: the client closed or went away, or the request was withdrawn, e.g. a room left
/// before the server acked the join). Dropping it does not cancel what was sent, only stops
/// listening. Polled again after it resolved, it never resolves again.
#[must_use = "a Reply does nothing unless awaited; what it answers was sent already"]
pub struct Reply<T> {
    slot: Rc<RefCell<Slot<T>>>,
}

impl<T> std::fmt::Debug for Reply<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let done = self.slot.try_borrow().map(|s| s.value.is_some());
        f.debug_struct("Reply").field("done", &done.ok()).finish()
    }
}

/// Completes a [`Reply`]; dropped unused, it answers `CLOSED`.
pub(crate) struct Answer<T> {
    slot: Option<Rc<RefCell<Slot<T>>>>,
}

/// A reply and what answers it.
pub(crate) fn reply<T>() -> (Reply<T>, Answer<T>) {
    let slot = Rc::new(RefCell::new(Slot {
        value: None,
        waker: None,
    }));
    (Reply { slot: slot.clone() }, Answer { slot: Some(slot) })
}

impl<T> Reply<T> {
    /// A reply that is already answered.
    pub(crate) fn ready(value: Result<T, Error>) -> Reply<T> {
        let (reply, answer) = reply();
        answer.send(value);
        reply
    }
}

impl<T> Answer<T> {
    /// Answers, and wakes the task awaiting the reply.
    pub(crate) fn send(mut self, value: Result<T, Error>) {
        if let Some(slot) = self.slot.take() {
            let waker = {
                let mut s = slot.borrow_mut();
                s.value = Some(value);
                s.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

impl<T> Drop for Answer<T> {
    fn drop(&mut self) {
        if self.slot.is_some() {
            let closed = Error::new(
                ErrorCode::Closed,
                "no answer will come: the client closed, or the request was withdrawn (a room \
                 left before the server acked the join)",
            );
            Answer {
                slot: self.slot.take(),
            }
            .send(Err(closed));
        }
    }
}

impl<T> Future for Reply<T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = self.slot.borrow_mut();
        match s.value.take() {
            Some(v) => Poll::Ready(v),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::Wake;

    struct Flag(std::sync::atomic::AtomicBool);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn poll<T>(r: &mut Reply<T>, flag: &Arc<Flag>) -> Poll<Result<T, Error>> {
        let waker = Waker::from(flag.clone());
        Pin::new(r).poll(&mut Context::from_waker(&waker))
    }

    #[test]
    fn answered_later_wakes_and_resolves() {
        let flag = Arc::new(Flag(false.into()));
        let (mut r, a) = reply::<u32>();
        assert!(poll(&mut r, &flag).is_pending());
        a.send(Ok(7));
        assert!(flag.0.load(std::sync::atomic::Ordering::SeqCst));
        assert!(matches!(poll(&mut r, &flag), Poll::Ready(Ok(7))));
    }

    #[test]
    fn an_answer_dropped_unsent_resolves_closed() {
        let flag = Arc::new(Flag(false.into()));
        let (mut r, a) = reply::<u32>();
        assert!(poll(&mut r, &flag).is_pending());
        drop(a);
        assert!(flag.0.load(std::sync::atomic::Ordering::SeqCst));
        match poll(&mut r, &flag) {
            Poll::Ready(Err(e)) => assert_eq!(e.code, ErrorCode::Closed),
            _ => panic!("expected CLOSED"),
        }
    }

    #[test]
    fn ready_resolves_at_once() {
        let flag = Arc::new(Flag(false.into()));
        let mut r = Reply::<()>::ready(Err(Error::new(ErrorCode::InvalidArgument, "bad")));
        match poll(&mut r, &flag) {
            Poll::Ready(Err(e)) => assert_eq!(e.code, ErrorCode::InvalidArgument),
            _ => panic!("expected the error"),
        }
    }
}
