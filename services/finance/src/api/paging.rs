//! Page sizes and page tokens (AIP-158). A token is base64url of
//! `filters|cursor`, where `filters` is a short hash of the query the token
//! came from: not secret, but a token from another query is refused instead
//! of silently returning a wrong page.

use bank_server::FieldViolations;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::DateTime;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::store::{Cursor, OptionCursor};

/// Default page size of every list.
pub const PAGE_SIZE_DEFAULT: i32 = 50;
/// Largest page of ListFinancingOptions.
pub const LIST_OPTIONS_PAGE_SIZE_MAX: i32 = 100;
/// Largest page of ListMyApplications.
pub const LIST_MY_APPLICATIONS_PAGE_SIZE_MAX: i32 = 100;
/// Largest page of ListAllApplications.
pub const LIST_ALL_APPLICATIONS_PAGE_SIZE_MAX: i32 = 500;
/// Largest page of ListLoans.
pub const LIST_LOANS_PAGE_SIZE_MAX: i32 = 100;
/// Longest page token accepted, in bytes.
const PAGE_TOKEN_MAX_LEN: usize = 512;

/// A validated page request with a cursor of type `C`.
#[derive(Debug)]
pub struct Page<C> {
    /// Rows to return.
    pub size: i64,
    /// Where the previous page ended.
    pub after: Option<C>,
    filters: String,
}

/// How a cursor is written into a token.
pub trait TokenCursor: Sized {
    /// The cursor as text.
    fn encode(&self) -> String;
    /// The cursor from text.
    fn decode(text: &str) -> Option<Self>;
}

impl TokenCursor for Cursor {
    fn encode(&self) -> String {
        format!("{}:{}", self.0.timestamp_micros(), self.1)
    }

    fn decode(text: &str) -> Option<Self> {
        let (micros, id) = text.split_once(':')?;
        Some((
            DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            Uuid::parse_str(id).ok()?,
        ))
    }
}

impl TokenCursor for OptionCursor {
    fn encode(&self) -> String {
        format!("{}:{}:{}", self.0, self.2, URL_SAFE_NO_PAD.encode(self.1.as_bytes()))
    }

    fn decode(text: &str) -> Option<Self> {
        let mut parts = text.splitn(3, ':');
        let kind: i16 = parts.next()?.parse().ok()?;
        let id = Uuid::parse_str(parts.next()?).ok()?;
        let name = String::from_utf8(URL_SAFE_NO_PAD.decode(parts.next()?).ok()?).ok()?;
        Some((kind, name, id))
    }
}

fn filters_hash(filters: &str) -> String {
    let digest = Sha256::digest(filters.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

impl<C: TokenCursor> Page<C> {
    /// Validates `page_size` (0 means the default) and `page_token` against
    /// the query's `filters`, recording violations.
    pub fn parse(violations: &mut FieldViolations, page_size: i32, page_token: &str, max: i32, filters: &str) -> Self {
        let size = match page_size {
            0 => PAGE_SIZE_DEFAULT.min(max),
            n if (1..=max).contains(&n) => n,
            _ => {
                violations.add("page_size", format!("must be between 0 and {max}"));
                PAGE_SIZE_DEFAULT.min(max)
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

    /// Cuts `rows` to the page and returns the next page's token (empty
    /// when there is no next page).
    pub fn finish<T>(&self, rows: &mut Vec<T>, cursor: impl Fn(&T) -> C) -> String {
        let size = usize::try_from(self.size).unwrap_or(0);
        let more = rows.len() > size;
        rows.truncate(size);
        match (more, rows.last()) {
            (true, Some(last)) => URL_SAFE_NO_PAD.encode(format!("{}|{}", self.filters, cursor(last).encode())),
            _ => String::new(),
        }
    }
}

fn decode<C: TokenCursor>(token: &str, filters: &str) -> Option<C> {
    if token.len() > PAGE_TOKEN_MAX_LEN {
        return None;
    }
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let (hash, cursor) = raw.split_once('|')?;
    (hash == filters).then_some(())?;
    C::decode(cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_bind_to_filters() {
        let at = DateTime::from_timestamp_micros(1_700_000_000_123_456).expect("time");
        let id = Uuid::new_v4();
        let mut violations = FieldViolations::new();
        let page: Page<Cursor> = Page::parse(&mut violations, 1, "", 100, "a");
        let mut rows = vec![(at, id), (at, Uuid::new_v4())];
        let token = page.finish(&mut rows, |r| *r);
        assert_eq!(rows.len(), 1);
        let next: Page<Cursor> = Page::parse(&mut violations, 1, &token, 100, "a");
        assert!(violations.is_empty());
        assert_eq!(next.after, Some((at, id)));
        let _: Page<Cursor> = Page::parse(&mut violations, 1, &token, 100, "b");
        assert!(!violations.is_empty());
        let option: OptionCursor = (2, "Car loan: 36|84".to_owned(), id);
        assert_eq!(OptionCursor::decode(&option.encode()), Some(option));
        let mut violations = FieldViolations::new();
        let _: Page<Cursor> = Page::parse(&mut violations, 101, "", 100, "a");
        let _: Page<Cursor> = Page::parse(&mut violations, -1, "", 100, "a");
        assert!(!violations.is_empty());
    }
}
