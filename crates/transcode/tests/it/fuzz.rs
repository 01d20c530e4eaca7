//! Fuzz-style: thousands of random and mutated requests and responses from
//! a small deterministic PRNG. Nothing may panic; every request-side error
//! is a 4xx.

use bank_transcode::Route;

use crate::support::{example_path, transcoder};

const ITERATIONS: usize = 4_000;

/// xorshift64*: small, deterministic, good enough to shake inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        (0..self.below(max + 1)).map(|_| self.next() as u8).collect()
    }
}

const JSON_PIECES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1e999",
    "\"9223372036854775808\"",
    "\"requestId\"",
    "\"amount\"",
    "\"amountMinor\"",
    "\"currency\"",
    "\"transfers\"",
    "\"statuses\"",
    "\"TRANSFER_STATUS_POSTED\"",
    "\"2024-01-01T00:00:00Z\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\u{1F4B8}",
    " ",
    "\"profile\"",
    "\"updateMask\"",
    "\"a,b\"",
    "\"fullName\"",
    "1.5",
    "\"@type\"",
];

const QUERY_PIECES: &[&str] = &[
    "pageSize",
    "page_size",
    "statuses",
    "startTime",
    "startMonth.year",
    "start_month.month",
    "role",
    "types",
    "accountId",
    "x",
    "a.b.c",
    "=",
    "&",
    "%",
    "%2",
    "%FF",
    "%E2%82%AC",
    "+",
    "1",
    "-1",
    "TRANSFER_STATUS_POSTED",
    "2024-01-01T00:00:00Z",
    "ROLE_ADMIN",
    "true",
    "",
    ".",
    "..",
    "99999999999999999999",
    "updateMask",
];

const PATH_PIECES: &[&str] = &[
    "/",
    "v1",
    "accounts",
    "transfers",
    "admin",
    "statements",
    "2024",
    "3",
    ":",
    ":post",
    ":deposit",
    "%",
    "%2F",
    "%FF",
    "%00",
    "..",
    ".",
    "{",
    "}",
    "*",
    "**",
    "cards",
    "a",
    "\u{00e9}",
    "//",
    ":lookup",
    "profile",
];

fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut out = base.to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(5) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = rng.next() as u8;
            }
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out.truncate(i);
            }
            2 => {
                let i = rng.below(out.len() + 1);
                let piece = rng.pick(JSON_PIECES).as_bytes().to_vec();
                out.splice(i..i, piece);
            }
            3 if !out.is_empty() => {
                let i = rng.below(out.len());
                out.remove(i);
            }
            _ => out.extend(rng.bytes(8)),
        }
    }
    out
}

fn joined(rng: &mut Rng, pieces: &[&str], max: usize) -> String {
    (0..rng.below(max + 1)).map(|_| *rng.pick(pieces)).collect()
}

fn sample_body(route: &Route) -> &'static [u8] {
    match route.body() {
        None => b"",
        Some("*") => {
            br#"{"requestId":"r","amount":{"amountMinor":"5","currency":"EUR"},"transfers":[{"requestId":"a"}]}"#
        }
        Some(_) => br#"{"fullName":"A","phone":"+1","name":"n","annualRateBps":1}"#,
    }
}

#[test]
fn random_requests_never_panic_and_fail_with_4xx() {
    let t = transcoder();
    let routes: Vec<&Route> = t.routes().collect();
    let mut rng = Rng(0x0000_ddc0_ffee_5eed);
    let mut ok = 0;
    for i in 0..ITERATIONS {
        let route = *rng.pick(&routes);
        let (example, _) = example_path(route);
        if i % 5 == 0 {
            // A valid request now and then, so the happy path is shaken too.
            let m = t.match_route(route.http_method(), &example).unwrap();
            let body: &[u8] = if route.body().is_some() { b"{}" } else { b"" };
            t.build_request(&m, None, body, Some("k")).unwrap();
            ok += 1;
            continue;
        }
        let path = match i % 4 {
            0 => example,
            1 => format!("{example}{}", joined(&mut rng, PATH_PIECES, 3)),
            2 => String::from_utf8_lossy(&mutate(&mut rng, example.as_bytes())).into_owned(),
            _ => joined(&mut rng, PATH_PIECES, 12),
        };
        let method = *rng.pick(&["GET", "POST", "PATCH", "DELETE", "PUT", "SEARCH", ""]);
        let method = if rng.below(2) == 0 { route.http_method() } else { method };
        let body = match rng.below(4) {
            0 => sample_body(route).to_vec(),
            1 => rng.bytes(64),
            _ => mutate(&mut rng, sample_body(route)),
        };
        let query = match rng.below(3) {
            0 => None,
            _ => Some(joined(&mut rng, QUERY_PIECES, 10)),
        };
        let key = ["k-1", "", "\u{0}"].get(rng.below(5)).copied();
        match t.match_route(method, &path) {
            Ok(m) => match t.build_request(&m, query.as_deref(), &body, key) {
                Ok(_) => ok += 1,
                Err(e) => {
                    assert_eq!(e.http_status(), 400, "{method} {path}: {e}");
                    serde_json::from_slice::<serde_json::Value>(&e.to_json()).unwrap();
                }
            },
            Err(e) => {
                assert!(matches!(e.http_status(), 400 | 404 | 405), "{method} {path}: {e}");
                serde_json::from_slice::<serde_json::Value>(&e.to_json()).unwrap();
            }
        }
    }
    assert!(
        ok > ITERATIONS / 20,
        "the generator should also produce valid requests ({ok})"
    );
}

#[test]
fn random_responses_and_status_details_never_panic() {
    let t = transcoder();
    let routes: Vec<&Route> = t.routes().collect();
    let mut rng = Rng(0x0bad_5eed_1234_5678);
    for _ in 0..ITERATIONS {
        let route = *rng.pick(&routes);
        let (path, _) = example_path(route);
        let m = t.match_route(route.http_method(), &path).unwrap();
        let bytes = rng.bytes(96);
        if let Err(e) = t.render_response_bytes(&m, &bytes) {
            assert_eq!(e.http_status(), 500);
        }
        let _ = t.render_stream_message(&m, &bytes);
        let details = rng.bytes(96);
        let body = t.error_body(rng.below(20) as i32 - 2, "m", &details);
        serde_json::from_slice::<serde_json::Value>(&body).unwrap();
        let _ = bank_transcode::retry_after_secs(&details);
    }
}
