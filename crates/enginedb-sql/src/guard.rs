//! Guards: preconditions that abort a statement batch, and the error text that says which op
//! failed and why.

use enginedb::{Error, SumFailure};

/// The prefix of every guard error message: `enginedb-guard:<reason>:<op index>`.
pub const PREFIX: &str = "enginedb-guard:";

/// The reason a `Check`, `CheckRange` or `Insert` failed.
pub const CHECK: &str = "check";
/// The reason a `Sum` would overflow.
pub const OVERFLOW: &str = "overflow";
/// The reason a `Sum` met a bytes value.
pub const NOT_A_COUNTER: &str = "not-a-counter";

/// The port error a guard message stands for, if `message` is one (a driver may wrap it in
/// more text, so it is searched for, not matched whole).
pub fn parse(message: &str) -> Option<Error> {
    let (_, rest) = message.split_once(PREFIX)?;
    let (reason, index) = rest.split_once(':')?;
    let digits: String = index.chars().take_while(char::is_ascii_digit).collect();
    let index = digits.parse().ok()?;
    match reason {
        CHECK => Some(Error::check_failed(index)),
        OVERFLOW => Some(Error::sum_failed(index, SumFailure::Overflow)),
        NOT_A_COUNTER => Some(Error::sum_failed(index, SumFailure::NotACounter)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use enginedb::ErrorKind;

    use super::*;

    #[test]
    fn parses_wrapped_messages() {
        let e = parse("D1_ERROR: enginedb-guard:check:12: SQLITE_CONSTRAINT").unwrap();
        assert!(matches!(e, Error::CheckFailed { index: 12, .. }));
        let e = parse("enginedb-guard:overflow:0").unwrap();
        assert!(matches!(
            e,
            Error::SumFailed {
                index: 0,
                reason: SumFailure::Overflow,
                ..
            }
        ));
        assert_eq!(
            parse("enginedb-guard:not-a-counter:3").unwrap().kind(),
            ErrorKind::SumFailed
        );
        assert!(parse("UNIQUE constraint failed").is_none());
        assert!(parse("enginedb-guard:other:1").is_none());
        assert!(parse("enginedb-guard:check:x").is_none());
    }
}
