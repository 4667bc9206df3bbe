//! Twilio SIDs: two upper-case letters and 32 hex digits.
//!
//! Checked before a SID is put into a URL or trusted as an identity, on both
//! sides of the browser/backend boundary, so the rule lives here once.
//! [`Sid`] is a SID of one kind parsed once where it enters (the backend's
//! requests, configuration and the claim store): code that holds one needs
//! no second check, and a call SID cannot be passed where a task SID goes.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::str::FromStr;

/// The SID kinds this project handles. The prefix is Twilio's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SidKind {
    Account,
    Call,
    Conference,
    Queue,
    Recording,
    Reservation,
    Task,
    Worker,
    Workspace,
}

impl SidKind {
    pub const fn prefix(self) -> &'static str {
        match self {
            SidKind::Account => "AC",
            SidKind::Call => "CA",
            SidKind::Conference => "CF",
            SidKind::Queue => "WQ",
            SidKind::Recording => "RE",
            SidKind::Reservation => "WR",
            SidKind::Task => "WT",
            SidKind::Worker => "WK",
            SidKind::Workspace => "WS",
        }
    }

    /// What an administrator reads in an error: "call SID (CA...)".
    pub const fn label(self) -> &'static str {
        match self {
            SidKind::Account => "account SID (AC...)",
            SidKind::Call => "call SID (CA...)",
            SidKind::Conference => "conference SID (CF...)",
            SidKind::Queue => "queue SID (WQ...)",
            SidKind::Recording => "recording SID (RE...)",
            SidKind::Reservation => "reservation SID (WR...)",
            SidKind::Task => "task SID (WT...)",
            SidKind::Worker => "worker SID (WK...)",
            SidKind::Workspace => "workspace SID (WS...)",
        }
    }
}

/// `^XX[0-9a-fA-F]{32}$` for the kind's prefix.
pub fn is_sid(kind: SidKind, s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 34 && s.starts_with(kind.prefix()) && b[2..].iter().all(|c| c.is_ascii_hexdigit())
}

/// The kinds as types, for [`Sid`].
pub mod kind {
    use super::SidKind;

    /// A SID kind known at compile time.
    pub trait Kind {
        const KIND: SidKind;
    }

    macro_rules! kinds {
        ($($name:ident),*) => {$(
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
            pub enum $name {}
            impl Kind for $name {
                const KIND: SidKind = SidKind::$name;
            }
        )*};
    }
    kinds!(
        Account,
        Call,
        Conference,
        Queue,
        Recording,
        Reservation,
        Task,
        Worker,
        Workspace
    );
}

use kind::Kind;

/// A SID of kind `K`, checked when it was made ([`Sid::parse`], `FromStr`,
/// serde), so it is safe in a URL.
pub struct Sid<K> {
    text: String,
    kind: PhantomData<fn() -> K>,
}

pub type AccountSid = Sid<kind::Account>;
pub type CallSid = Sid<kind::Call>;
pub type ConferenceSid = Sid<kind::Conference>;
pub type QueueSid = Sid<kind::Queue>;
pub type RecordingSid = Sid<kind::Recording>;
pub type ReservationSid = Sid<kind::Reservation>;
pub type TaskSid = Sid<kind::Task>;
pub type WorkerSid = Sid<kind::Worker>;
pub type WorkspaceSid = Sid<kind::Workspace>;

/// Text that is not a SID of the kind asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotASid(pub SidKind);

impl fmt::Display for NotASid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a {} followed by 32 hex digits", self.0.label())
    }
}

impl std::error::Error for NotASid {}

impl<K: Kind> Sid<K> {
    pub fn parse(s: &str) -> Result<Self, NotASid> {
        if is_sid(K::KIND, s) {
            Ok(Sid {
                text: s.to_string(),
                kind: PhantomData,
            })
        } else {
            Err(NotASid(K::KIND))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl<K: Kind> FromStr for Sid<K> {
    type Err = NotASid;
    fn from_str(s: &str) -> Result<Self, NotASid> {
        Sid::parse(s)
    }
}

impl<K> Clone for Sid<K> {
    fn clone(&self) -> Self {
        Sid {
            text: self.text.clone(),
            kind: PhantomData,
        }
    }
}

impl<K> PartialEq for Sid<K> {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl<K> Eq for Sid<K> {}

impl<K> Hash for Sid<K> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.text.hash(state)
    }
}

/// As the text alone: logs read `"CA..."`, not a struct.
impl<K> fmt::Debug for Sid<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl<K> fmt::Display for Sid<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<K> AsRef<str> for Sid<K> {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl<K> PartialEq<str> for Sid<K> {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl<K> serde::Serialize for Sid<K> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de, K: Kind> serde::Deserialize<'de> for Sid<K> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Sid::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Any Twilio-shaped SID, whatever its prefix.
pub fn looks_like_sid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 34
        && b[..2].iter().all(|c| c.is_ascii_uppercase())
        && b[2..].iter().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sid_shapes() {
        let cases: &[(SidKind, &str, bool)] = &[
            (SidKind::Call, "CA000000000000000000000000000000c1", true),
            (SidKind::Call, "CA000000000000000000000000000000C1", true),
            (SidKind::Call, "CA000000000000000000000000000000g1", false),
            (SidKind::Call, "CA00000000000000000000000000000001x", false),
            (SidKind::Call, "CA0000000000000000000000000000001", false),
            (SidKind::Call, "WT000000000000000000000000000000c1", false),
            (SidKind::Task, "WT000000000000000000000000000000c1", true),
            (SidKind::Call, "", false),
            (SidKind::Call, "CA/../../000000000000000000000000c1", false),
            (SidKind::Call, "CAéééééééééééééééééééééééééééé", false),
        ];
        for (kind, s, ok) in cases {
            assert_eq!(is_sid(*kind, s), *ok, "{kind:?} {s}");
        }
    }

    #[test]
    fn typed_sids_take_only_their_kind() {
        let ca = "CA000000000000000000000000000000c1";
        let call: CallSid = ca.parse().unwrap();
        assert_eq!(call.as_str(), ca);
        assert_eq!(call.to_string(), ca);
        assert_eq!(format!("{call:?}"), format!("{ca:?}"));
        assert_eq!(
            TaskSid::parse(ca),
            Err(NotASid(SidKind::Task)),
            "a call SID is no task SID"
        );
        assert_eq!(
            NotASid(SidKind::Call).to_string(),
            "not a call SID (CA...) followed by 32 hex digits"
        );
        let back: CallSid = serde_json::from_value(serde_json::json!(ca)).unwrap();
        assert_eq!(back, call);
        assert_eq!(serde_json::to_value(&call).unwrap(), serde_json::json!(ca));
        assert!(serde_json::from_value::<CallSid>(serde_json::json!("CA1")).is_err());
    }

    #[test]
    fn any_sid() {
        assert!(looks_like_sid("WQ00000000000000000000000000000001"));
        assert!(!looks_like_sid("Sales"));
        assert!(!looks_like_sid("wq00000000000000000000000000000001"));
    }
}
