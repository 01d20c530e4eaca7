//! Page sizes and page tokens of ListFlaggedTransfers (AIP-158). A token is
//! base64url of `micros:uuid:filters`, where `filters` is a short hash of
//! the query it came from: not secret, but a token from another query is
//! refused instead of silently returning a wrong page.

use bank_server::FieldViolations;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::DateTime;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::store::Cursor;

/// Default page size of ListFlaggedTransfers.
pub const LIST_FLAGS_PAGE_SIZE_DEFAULT: i32 = 50;
/// Largest page size of ListFlaggedTransfers.
pub const LIST_FLAGS_PAGE_SIZE_MAX: i32 = 500;
/// Longest page token accepted, in bytes.
const PAGE_TOKEN_MAX_LEN: usize = 256;

/// A validated page request.
#[derive(Debug)]
pub struct Page {
    /// Rows to return.
    pub size: i64,
    /// Where the previous page ended.
    pub after: Option<Cursor>,
    filters: String,
}

fn filters_hash(filters: &str) -> String {
    let digest = Sha256::digest(filters.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

impl Page {
    /// Validates `page_size` (0 means `default`) and `page_token` against
    /// the query's `filters`, recording violations.
    pub fn parse(
        violations: &mut FieldViolations,
        page_size: i32,
        page_token: &str,
        (default, max): (i32, i32),
        filters: &str,
    ) -> Self {
        let size = match page_size {
            0 => default,
            n if (1..=max).contains(&n) => n,
            _ => {
                violations.add("page_size", format!("must be between 0 and {max}"));
                default
            }
        };
        let filters = filters_hash(filters);
        let after = if page_token.is_empty() {
            None
        } else {
            let cursor = decode(page_token, &filters);
            if cursor.is_none() {
                violations.add(
                    "page_token",
                    "is not a token from a previous call with the same filters",
                );
            }
            cursor
        };
        Self {
            size: i64::from(size),
            after,
            filters,
        }
    }

    /// Rows to fetch: one more than the page, to know whether more follow.
    pub fn fetch(&self) -> i64 {
        self.size + 1
    }

    /// Cuts `rows` to the page and returns the next page's token (empty when
    /// there is no next page).
    pub fn finish<T>(&self, rows: &mut Vec<T>, cursor: impl Fn(&T) -> Cursor) -> String {
        let size = usize::try_from(self.size).unwrap_or(0);
        let more = rows.len() > size;
        rows.truncate(size);
        match (more, rows.last()) {
            (true, Some(last)) => encode(cursor(last), &self.filters),
            _ => String::new(),
        }
    }
}

fn encode((at, id): Cursor, filters: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{id}:{filters}", at.timestamp_micros()))
}

fn decode(token: &str, filters: &str) -> Option<Cursor> {
    if token.len() > PAGE_TOKEN_MAX_LEN {
        return None;
    }
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let mut parts = raw.splitn(3, ':');
    let micros: i64 = parts.next()?.parse().ok()?;
    let id = Uuid::parse_str(parts.next()?).ok()?;
    (parts.next()? == filters).then_some(())?;
    Some((DateTime::from_timestamp_micros(micros)?, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_bind_to_filters() {
        let at = DateTime::from_timestamp_micros(1_700_000_000_123_456).expect("time");
        let id = Uuid::new_v4();
        let token = encode((at, id), &filters_hash("a"));
        assert_eq!(decode(&token, &filters_hash("a")), Some((at, id)));
        assert_eq!(decode(&token, &filters_hash("b")), None);
        assert_eq!(decode("garbage!", &filters_hash("a")), None);
        let mut violations = FieldViolations::new();
        let page = Page::parse(&mut violations, 0, &token, (50, 500), "a");
        assert!(violations.is_empty());
        assert_eq!((page.size, page.after), (50, Some((at, id))));
        Page::parse(&mut violations, 501, "x", (50, 500), "a");
        assert!(!violations.is_empty());
    }
}
