//! The subscriptions a socket's writer serves, polled together.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::SelectAll;
use futures::{Stream, StreamExt};
use talk_core::{Delivery, Scope, Subscription};

/// Up to this many subscriptions are polled in turn at each wake-up, each
/// with the writer's own waker; beyond it, through a [`SelectAll`], which
/// polls only those that woke but keeps books for it. Most sockets hold one
/// subscription (`"*"`).
const POLLED_IN_TURN: usize = 4;

/// A subscription the writer serves, with what names it to the client.
pub(super) struct Served {
    pub(super) scope: Scope,
    /// Tells this subscription from an earlier one to the same scope.
    pub(super) generation: u64,
    pub(super) subscription: Subscription,
}

/// What a served subscription gives: its scope, its generation and the item.
pub(super) type Item = (Scope, u64, Delivery);

impl Stream for Served {
    type Item = Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        let (scope, generation) = (self.scope, self.generation);
        self.subscription.poll_next_unpin(cx).map(|item| item.map(|delivery| (scope, generation, delivery)))
    }
}

/// The subscriptions of one socket. A subscription that ends (its stream
/// gives `None`) is dropped; the stream gives `None` while there is none.
pub(super) enum Live {
    /// Polled in turn, starting after the one that gave the last item.
    Few {
        served: Vec<Served>,
        next: usize,
    },
    Many(SelectAll<Served>),
}

impl Live {
    pub(super) fn new() -> Self {
        Self::Few { served: Vec::new(), next: 0 }
    }

    pub(super) fn is_empty(&self) -> bool {
        match self {
            Self::Few { served, .. } => served.is_empty(),
            Self::Many(all) => all.is_empty(),
        }
    }

    pub(super) fn push(&mut self, one: Served) {
        match self {
            Self::Few { served, .. } if served.len() < POLLED_IN_TURN => served.push(one),
            Self::Few { served, .. } => {
                let mut all: SelectAll<Served> = served.drain(..).collect();
                all.push(one);
                *self = Self::Many(all);
            }
            Self::Many(all) => all.push(one),
        }
    }

    /// Drops the subscription to `scope`, if served.
    pub(super) fn remove(&mut self, scope: Scope) {
        match self {
            Self::Few { served, .. } => served.retain(|one| one.scope != scope),
            Self::Many(all) => {
                if all.iter().any(|one| one.scope == scope) {
                    *all = std::mem::take(all).into_iter().filter(|one| one.scope != scope).collect();
                }
            }
        }
    }
}

impl Stream for Live {
    type Item = Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        match self.get_mut() {
            // `SelectAll` gives `None` only when it holds nothing.
            Self::Many(all) => all.poll_next_unpin(cx),
            Self::Few { served, next } => {
                // Every subscription is polled before `Pending` is answered,
                // so that each holds the waker.
                let mut polled = 0;
                while polled < served.len() {
                    let i = (*next + polled) % served.len();
                    match served[i].poll_next_unpin(cx) {
                        Poll::Ready(Some(item)) => {
                            *next = i + 1;
                            return Poll::Ready(Some(item));
                        }
                        Poll::Ready(None) => {
                            served.remove(i);
                            polled = 0;
                        }
                        Poll::Pending => polled += 1,
                    }
                }
                if served.is_empty() { Poll::Ready(None) } else { Poll::Pending }
            }
        }
    }
}
