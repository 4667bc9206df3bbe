//! Twilio SIDs: two upper-case letters and 32 hex digits.
//!
//! Checked before a SID is put into a URL or trusted as an identity, on both
//! sides of the browser/backend boundary, so the rule lives here once.

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
    fn any_sid() {
        assert!(looks_like_sid("WQ00000000000000000000000000000001"));
        assert!(!looks_like_sid("Sales"));
        assert!(!looks_like_sid("wq00000000000000000000000000000001"));
    }
}
