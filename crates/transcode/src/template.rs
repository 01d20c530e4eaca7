//! google.api.http path templates: parsing at start-up, matching per request.
//!
//! Grammar (google/api/http.proto):
//!
//! ```text
//! Template = "/" Segments [ Verb ] ;
//! Segments = Segment { "/" Segment } ;
//! Segment  = "*" | "**" | LITERAL | Variable ;
//! Variable = "{" FieldPath [ "=" Segments ] "}" ;
//! FieldPath = IDENT { "." IDENT } ;
//! Verb     = ":" LITERAL ;
//! ```
//!
//! A template is flattened into a list of segments (a variable's own
//! segments inline) plus, per variable, the range of segments it captures.
//! `**` may only be the last segment, so matching is a single left-to-right
//! pass with no backtracking.

use std::borrow::Cow;
use std::cmp::Ordering;

use percent_encoding::percent_decode_str;

use crate::limits::{FIELD_PATH_DEPTH_MAX, PATH_SEGMENTS_MAX};

/// One segment of a flattened template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Must equal the request's (percent-decoded) segment.
    Literal(String),
    /// `*`: exactly one non-empty segment.
    Single,
    /// `**`: zero or more segments up to the end of the path (or the verb).
    Multi,
}

/// A `{field.path=...}` variable: which segments it captures.
#[derive(Debug, Clone)]
pub(crate) struct Variable {
    /// The dotted field path, e.g. `["period", "year"]`.
    pub(crate) field_path: Vec<String>,
    /// Index of the first captured segment.
    pub(crate) start: usize,
    /// One past the last captured segment (for a trailing `**` this is the
    /// template's segment count; the actual end is the request's).
    pub(crate) end: usize,
}

impl Variable {
    /// The field path joined with dots, as written in the template.
    pub(crate) fn dotted(&self) -> String {
        self.field_path.join(".")
    }
}

/// A parsed path template.
#[derive(Debug, Clone)]
pub(crate) struct PathTemplate {
    pub(crate) source: String,
    pub(crate) segments: Vec<Segment>,
    pub(crate) variables: Vec<Variable>,
    pub(crate) verb: Option<String>,
}

impl PathTemplate {
    /// Parses a template such as `/v1/accounts/{account_id}:deposit`.
    pub(crate) fn parse(source: &str) -> Result<Self, String> {
        let rest = source
            .strip_prefix('/')
            .ok_or_else(|| "a path template must start with '/'".to_owned())?;
        let (body, verb) = split_verb(rest)?;
        let mut template = PathTemplate {
            source: source.to_owned(),
            segments: Vec::new(),
            variables: Vec::new(),
            verb,
        };
        for token in split_top_level(body)? {
            if let Some(inner) = token.strip_prefix('{') {
                let inner = inner
                    .strip_suffix('}')
                    .ok_or_else(|| format!("unterminated variable in segment '{token}'"))?;
                template.push_variable(inner)?;
            } else {
                template.push_segment(parse_plain_segment(token)?)?;
            }
        }
        if let Some(pos) = template.segments.iter().position(|s| *s == Segment::Multi)
            && pos + 1 != template.segments.len()
        {
            return Err("'**' must be the last segment of a template".to_owned());
        }
        let mut seen: Vec<&[String]> = Vec::new();
        for var in &template.variables {
            if seen.contains(&var.field_path.as_slice()) {
                return Err(format!("variable '{}' appears twice", var.dotted()));
            }
            seen.push(&var.field_path);
        }
        Ok(template)
    }

    fn push_segment(&mut self, segment: Segment) -> Result<(), String> {
        if self.segments.len() >= PATH_SEGMENTS_MAX {
            return Err(format!("more than {PATH_SEGMENTS_MAX} segments"));
        }
        self.segments.push(segment);
        Ok(())
    }

    fn push_variable(&mut self, inner: &str) -> Result<(), String> {
        let (path, pattern) = match inner.split_once('=') {
            Some((path, pattern)) => (path, Some(pattern)),
            None => (inner, None),
        };
        let field_path: Vec<String> = path.split('.').map(str::to_owned).collect();
        if field_path.len() > FIELD_PATH_DEPTH_MAX {
            return Err(format!(
                "variable '{path}' is nested deeper than {FIELD_PATH_DEPTH_MAX}"
            ));
        }
        if let Some(bad) = field_path.iter().find(|p| !is_ident(p)) {
            return Err(format!("'{bad}' in variable '{path}' is not a field name"));
        }
        let start = self.segments.len();
        match pattern {
            None => self.push_segment(Segment::Single)?,
            Some(pattern) => {
                if pattern.is_empty() {
                    return Err(format!("variable '{path}' has an empty pattern"));
                }
                for token in pattern.split('/') {
                    if token.contains(['{', '}']) {
                        return Err(format!("variables cannot nest (in '{path}')"));
                    }
                    self.push_segment(parse_plain_segment(token)?)?;
                }
            }
        }
        self.variables.push(Variable {
            field_path,
            start,
            end: self.segments.len(),
        });
        Ok(())
    }

    /// Whether this template ends with `**` (matches any number of trailing segments).
    fn has_multi(&self) -> bool {
        self.segments.last() == Some(&Segment::Multi)
    }

    /// Orders templates from most to least specific: a custom verb first,
    /// then segment by segment literal before `*` before `**`, then longer
    /// first. Two templates that compare equal match exactly the same paths.
    pub(crate) fn specificity_cmp(&self, other: &Self) -> Ordering {
        let verb_rank = |t: &Self| if t.verb.is_some() { 0 } else { 1 };
        verb_rank(self).cmp(&verb_rank(other)).then_with(|| {
            for (a, b) in self.segments.iter().zip(&other.segments) {
                let ord = segment_rank(a).cmp(&segment_rank(b));
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            other.segments.len().cmp(&self.segments.len())
        })
    }

    /// Whether both templates match exactly the same set of paths (so two
    /// routes with the same HTTP method and these templates are ambiguous).
    pub(crate) fn same_shape(&self, other: &Self) -> bool {
        self.verb == other.verb && self.segments == other.segments
    }

    /// The template in OpenAPI form: `{name=...}` becomes `{name}`, wildcards
    /// outside variables are kept literally, the verb suffix stays.
    pub(crate) fn openapi_path(&self) -> String {
        let mut out = String::new();
        let mut i = 0;
        while i < self.segments.len() {
            out.push('/');
            if let Some(var) = self.variables.iter().find(|v| v.start == i) {
                out.push('{');
                out.push_str(&var.dotted());
                out.push('}');
                i = var.end.max(i + 1);
                continue;
            }
            match &self.segments[i] {
                Segment::Literal(lit) => out.push_str(lit),
                Segment::Single => out.push('*'),
                Segment::Multi => out.push_str("**"),
            }
            i += 1;
        }
        if self.segments.is_empty() {
            out.push('/');
        }
        if let Some(verb) = &self.verb {
            out.push(':');
            out.push_str(verb);
        }
        out
    }

    /// Matches a request path already split into raw segments. Returns the
    /// raw (still percent-encoded) text of each variable, in variable order.
    pub(crate) fn match_path<'p>(&self, path: &RequestPath<'p>) -> Option<Vec<Capture<'p>>> {
        let segments: &[Cow<'p, str>] = match &self.verb {
            Some(verb) => {
                let (stem, request_verb) = path.verb_view.as_ref()?;
                if request_verb != verb {
                    return None;
                }
                stem
            }
            None => &path.decoded,
        };
        if self.has_multi() {
            if segments.len() + 1 < self.segments.len() {
                return None;
            }
        } else if segments.len() != self.segments.len() {
            return None;
        }
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                Segment::Literal(lit) => {
                    if segments.get(i).map(Cow::as_ref) != Some(lit.as_str()) {
                        return None;
                    }
                }
                Segment::Single => {
                    if segments.get(i).is_none_or(|s| s.is_empty()) {
                        return None;
                    }
                }
                Segment::Multi => {}
            }
        }
        let raw: &[&'p str] = match &self.verb {
            Some(_) => &path.raw_stem,
            None => &path.raw,
        };
        let captures = self
            .variables
            .iter()
            .map(|var| {
                let end = if var.end == self.segments.len() && self.has_multi() {
                    raw.len()
                } else {
                    var.end
                };
                Capture {
                    raw: raw.get(var.start..end).unwrap_or_default().to_vec(),
                    multi: var.end - var.start != 1 || self.segments.get(var.start) == Some(&Segment::Multi),
                }
            })
            .collect();
        Some(captures)
    }
}

/// The raw segments one variable captured.
#[derive(Debug, Clone)]
pub(crate) struct Capture<'p> {
    raw: Vec<&'p str>,
    multi: bool,
}

impl Capture<'_> {
    /// The captured text, percent-decoded. A single-segment capture is fully
    /// decoded; a multi-segment capture keeps its `/` separators and leaves
    /// an encoded `%2F` encoded (RFC 6570 reserved expansion, as http.proto
    /// specifies), so a decoded value can never gain a segment.
    pub(crate) fn decode(&self) -> Result<String, String> {
        if !self.multi {
            let seg = self.raw.first().copied().unwrap_or_default();
            return decode_segment(seg);
        }
        let mut out = String::new();
        for (i, seg) in self.raw.iter().enumerate() {
            if i > 0 {
                out.push('/');
            }
            let mut rest: &str = seg;
            loop {
                let found = rest.find("%2F").or_else(|| rest.find("%2f"));
                match found {
                    Some(pos) => {
                        out.push_str(&decode_segment(&rest[..pos])?);
                        out.push_str("%2F");
                        rest = &rest[pos + 3..];
                    }
                    None => {
                        out.push_str(&decode_segment(rest)?);
                        break;
                    }
                }
            }
        }
        Ok(out)
    }
}

fn decode_segment(seg: &str) -> Result<String, String> {
    percent_decode_str(seg)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| "is not valid UTF-8 once percent-decoded".to_owned())
}

/// A request path split once, shared by every template tried against it.
#[derive(Debug)]
pub(crate) struct RequestPath<'p> {
    raw: Vec<&'p str>,
    decoded: Vec<Cow<'p, str>>,
    /// The segments with the last one's `:verb` suffix removed, and the verb.
    verb_view: Option<(Vec<Cow<'p, str>>, String)>,
    raw_stem: Vec<&'p str>,
}

impl<'p> RequestPath<'p> {
    /// Splits `path` (no query string). `None` when it cannot match any
    /// template: no leading `/`, or more segments than any template has.
    pub(crate) fn parse(path: &'p str) -> Option<Self> {
        let rest = path.strip_prefix('/')?;
        let raw: Vec<&str> = rest.split('/').take(PATH_SEGMENTS_MAX + 1).collect();
        if raw.len() > PATH_SEGMENTS_MAX {
            return None;
        }
        // Literal comparison is on decoded text; a segment that is not UTF-8
        // once decoded is compared lossily (it cannot equal an ASCII literal,
        // and a variable capturing it reports the error).
        let decoded: Vec<Cow<'p, str>> = raw.iter().map(|s| percent_decode_str(s).decode_utf8_lossy()).collect();
        let mut raw_stem = raw.clone();
        let verb_view = raw.last().and_then(|last| {
            let (stem, verb) = last.rsplit_once(':')?;
            let verb = percent_decode_str(verb).decode_utf8().ok()?.into_owned();
            let mut stem_decoded = decoded.clone();
            stem_decoded.pop();
            stem_decoded.push(percent_decode_str(stem).decode_utf8_lossy());
            raw_stem.pop();
            raw_stem.push(stem);
            Some((stem_decoded, verb))
        });
        Some(RequestPath {
            raw,
            decoded,
            verb_view,
            raw_stem,
        })
    }
}

fn segment_rank(s: &Segment) -> u8 {
    match s {
        Segment::Literal(_) => 0,
        Segment::Single => 1,
        Segment::Multi => 2,
    }
}

fn parse_plain_segment(token: &str) -> Result<Segment, String> {
    match token {
        "" => Err("empty segment (a '//' or a trailing '/')".to_owned()),
        "*" => Ok(Segment::Single),
        "**" => Ok(Segment::Multi),
        lit if lit.contains(['{', '}', '*']) => Err(format!("malformed segment '{lit}'")),
        lit => Ok(Segment::Literal(lit.to_owned())),
    }
}

/// Splits off a trailing `:verb` (a `:` after the last top-level `/`,
/// outside braces).
fn split_verb(rest: &str) -> Result<(&str, Option<String>), String> {
    let mut depth = 0usize;
    let mut last_slash = 0usize;
    let mut colon = None;
    for (i, c) in rest.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.checked_sub(1).ok_or_else(|| "unbalanced '}'".to_owned())?,
            '/' if depth == 0 => {
                last_slash = i;
                colon = None;
            }
            ':' if depth == 0 && i >= last_slash => colon = Some(i),
            _ => {}
        }
    }
    if depth != 0 {
        return Err("unbalanced '{'".to_owned());
    }
    match colon {
        Some(i) => {
            let verb = &rest[i + 1..];
            if verb.is_empty() || verb.contains(['/', '{', '}', '*', ':']) {
                return Err(format!("malformed verb '{verb}'"));
            }
            Ok((&rest[..i], Some(verb.to_owned())))
        }
        None => Ok((rest, None)),
    }
}

/// Splits on `/` outside braces.
fn split_top_level(body: &str) -> Result<Vec<&str>, String> {
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    for (i, c) in body.char_indices() {
        match c {
            '{' => {
                if depth > 0 {
                    return Err("variables cannot nest".to_owned());
                }
                depth += 1;
            }
            '}' => depth = depth.saturating_sub(1),
            '/' if depth == 0 => {
                out.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&body[start..]);
    Ok(out)
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    fn caps(t: &str, p: &str) -> Option<Vec<String>> {
        let t = PathTemplate::parse(t).unwrap();
        let p = RequestPath::parse(p)?;
        t.match_path(&p)
            .map(|c| c.iter().map(|c| c.decode().unwrap()).collect())
    }

    #[test]
    fn parses_the_forms_http_proto_allows() {
        let t = PathTemplate::parse("/v1/{name=shelves/*/books/*}:publish").unwrap();
        assert_eq!(t.verb.as_deref(), Some("publish"));
        assert_eq!(t.segments.len(), 5);
        assert_eq!(t.variables[0].start, 1);
        assert_eq!(t.variables[0].end, 5);
        assert_eq!(t.openapi_path(), "/v1/{name}:publish");
        let t = PathTemplate::parse("/v1/accounts:lookup").unwrap();
        assert_eq!(
            t.segments,
            vec![Segment::Literal("v1".into()), Segment::Literal("accounts".into())]
        );
        let t = PathTemplate::parse("/v1/{period.year}/{rest=**}").unwrap();
        assert_eq!(t.variables[0].field_path, vec!["period", "year"]);
        assert_eq!(t.segments.last(), Some(&Segment::Multi));
        let t = PathTemplate::parse("/.well-known/jwks.json").unwrap();
        assert_eq!(t.segments.len(), 2);
    }

    #[test]
    fn rejects_malformed_templates() {
        for bad in [
            "v1/x",
            "/v1//x",
            "/v1/x/",
            "/v1/{x",
            "/v1/x}",
            "/v1/{a={b}}",
            "/v1/{a-b}",
            "/v1/{}",
            "/v1/**/x",
            "/v1/x:",
            "/v1/{a}/{a}",
            "/v1/{a=}",
            "/v1/x*y",
        ] {
            assert!(PathTemplate::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn matches_and_captures() {
        assert_eq!(
            caps("/v1/accounts/{id}", "/v1/accounts/a%20b"),
            Some(vec!["a b".into()])
        );
        assert_eq!(caps("/v1/accounts/{id}", "/v1/accounts/"), None);
        assert_eq!(caps("/v1/accounts/{id}", "/v1/accounts/a/b"), None);
        assert_eq!(caps("/v1/accounts:lookup", "/v1/accounts:lookup"), Some(vec![]));
        assert_eq!(caps("/v1/accounts:lookup", "/v1/accounts"), None);
        assert_eq!(caps("/v1/t/{id}:post", "/v1/t/a:b:post"), Some(vec!["a:b".into()]));
        assert_eq!(caps("/v1/t/{id}", "/v1/t/a:post"), Some(vec!["a:post".into()]));
        assert_eq!(
            caps("/v1/{p=**}", "/v1/a/b%2Fc/d%20e"),
            Some(vec!["a/b%2Fc/d e".into()])
        );
        assert_eq!(caps("/v1/{p=**}", "/v1"), Some(vec!["".into()]));
        assert_eq!(
            caps("/v1/{name=shelves/*/books/*}", "/v1/shelves/1/books/2"),
            Some(vec!["shelves/1/books/2".into()])
        );
        assert_eq!(caps("/v1/{name=shelves/*/books/*}", "/v1/shelves/1/novels/2"), None);
        assert_eq!(caps("/v1/x", "v1/x"), None);
    }

    #[test]
    fn orders_by_specificity() {
        let a = PathTemplate::parse("/v1/accounts/{id}").unwrap();
        let b = PathTemplate::parse("/v1/accounts/mine").unwrap();
        let c = PathTemplate::parse("/v1/accounts/{id}:deposit").unwrap();
        let d = PathTemplate::parse("/v1/{p=**}").unwrap();
        assert_eq!(b.specificity_cmp(&a), Ordering::Less);
        assert_eq!(c.specificity_cmp(&b), Ordering::Less);
        assert_eq!(a.specificity_cmp(&d), Ordering::Less);
        assert!(a.same_shape(&PathTemplate::parse("/v1/accounts/{other}").unwrap()));
    }
}
