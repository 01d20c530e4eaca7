//! The API docs page: one self-contained HTML file (no CDN, no external
//! script or style) that fetches `/openapi.json` and renders it.

const DOCS_HTML: &str = include_str!("docs.html");

/// A small self-contained HTML page that fetches `/openapi.json` (an
/// absolute path: serve the document there, the page anywhere) and renders
/// the operations by tag, their parameters, bodies and responses, and every
/// schema. It loads nothing else, so it works with no internet access and
/// under a strict `Content-Security-Policy` allowing inline script and style
/// (`default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'`).
pub fn docs_html() -> &'static str {
    DOCS_HTML
}
