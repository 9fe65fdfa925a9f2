#![doc = include_str!("../README.md")]

pub mod builders;
pub mod conformance;
pub mod delivery;
pub mod faults;
mod forwarding;
pub mod migrations;
pub mod model;

pub use forwarding::{ForwardingStore, HookFuture, StoreMethod};
