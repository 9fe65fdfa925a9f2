//! The names of the domain's small enums (`direct`, `active`, `removed`, …):
//! one spelling, shared by the wire format (serde), the stores' columns and
//! the adapters.

use crate::message::MessageKind;
use crate::participant::{LeftReason, ParticipantStatus};
use crate::talk::{TalkKind, TalkStatus};

/// An enum with a fixed lower-case name for each value, the same as its
/// serde name.
pub trait Named: Copy + Sized + 'static {
    /// Every value, in declaration order.
    const ALL: &'static [Self];

    /// The value's name.
    fn as_str(self) -> &'static str;

    /// The value with this name, if any.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|value| value.as_str() == name)
    }
}

macro_rules! named {
    ($ty:ty { $($value:ident => $name:literal),+ $(,)? }) => {
        impl Named for $ty {
            const ALL: &'static [Self] = &[$(<$ty>::$value),+];

            fn as_str(self) -> &'static str {
                match self {
                    $(<$ty>::$value => $name),+
                }
            }
        }
    };
}

named!(TalkKind { Direct => "direct", Group => "group", Public => "public" });
named!(TalkStatus { Active => "active", Closed => "closed" });
named!(ParticipantStatus { Active => "active", Left => "left" });
named!(LeftReason { Left => "left", Removed => "removed" });
named!(MessageKind { Normal => "normal", System => "system" });

#[cfg(test)]
mod tests {
    use super::*;

    fn same_as_serde<T: Named + serde::Serialize>() {
        for value in T::ALL {
            let serde_name = serde_json::to_value(value).ok();
            assert_eq!(serde_name.as_ref().and_then(|v| v.as_str()), Some(value.as_str()));
            assert!(T::from_name(value.as_str()).is_some_and(|back| back.as_str() == value.as_str()));
        }
        assert!(T::from_name("nope").is_none());
    }

    #[test]
    fn names_are_the_serde_names_and_parse_back() {
        same_as_serde::<TalkKind>();
        same_as_serde::<TalkStatus>();
        same_as_serde::<ParticipantStatus>();
        same_as_serde::<LeftReason>();
        same_as_serde::<MessageKind>();
    }
}
