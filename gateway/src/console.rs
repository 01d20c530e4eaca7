//! The browser console: the built bundle of `sdk/console` (committed in
//! `sdk/console/dist`, checked against its sources by `make test-ts`) is
//! embedded in the binary, so every gateway serves it with no extra files or
//! configuration. `GET /` is the page and `GET /console/<file>` its assets;
//! the page talks to the mesh only through grpc-web on this same origin.

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use http_body_util::Full;
use tonic::body::Body;

/// URL prefix of the console's assets.
pub const ASSET_PREFIX: &str = "/console/";

/// The console's Content-Security-Policy: its own scripts, styles and images
/// only (no inline code), calls to this origin only, never framed.
pub const CONSOLE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One embedded file.
struct Asset {
    /// File name under `sdk/console/dist`.
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

/// Every file of `sdk/console/dist` (a unit test keeps the list complete).
const ASSETS: [Asset; 4] = [
    Asset {
        name: "index.html",
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("../../sdk/console/dist/index.html"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../sdk/console/dist/app.js"),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../sdk/console/dist/app.css"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../sdk/console/dist/favicon.svg"),
    },
];

fn asset_response(method: &Method, asset: &Asset) -> http::Response<Body> {
    // HEAD gets the headers only.
    let body = if method == Method::HEAD {
        Bytes::new()
    } else {
        Bytes::from_static(asset.body)
    };
    let mut response = http::Response::new(Body::new(Full::new(body)));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONSOLE_CSP));
    // Revalidate on every load, so a new gateway's console is picked up at once.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(length) = HeaderValue::from_str(&asset.body.len().to_string()) {
        headers.insert(header::CONTENT_LENGTH, length);
    }
    response
}

/// The console's answer to a request for `/` or `/console/...`; `None` for
/// every other request (those are REST).
pub fn serve(method: &Method, path: &str) -> Option<http::Response<Body>> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let name = if path == "/" {
        "index.html"
    } else {
        path.strip_prefix(ASSET_PREFIX)?
    };
    match ASSETS.iter().find(|asset| asset.name == name) {
        Some(asset) => Some(asset_response(method, asset)),
        None => {
            let mut response = http::Response::new(Body::new(Full::new(Bytes::from_static(b"not found\n"))));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            Some(response)
        }
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt as _;

    use super::*;

    async fn body_of(response: http::Response<Body>) -> Vec<u8> {
        response
            .into_body()
            .collect()
            .await
            .map(|c| c.to_bytes().to_vec())
            .unwrap_or_default()
    }

    fn header(response: &http::Response<Body>, name: header::HeaderName) -> &str {
        response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    #[tokio::test]
    async fn root_is_the_page_with_its_policy() {
        let response = serve(&Method::GET, "/").expect("the page");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, header::CONTENT_TYPE), "text/html; charset=utf-8");
        assert_eq!(header(&response, header::CONTENT_SECURITY_POLICY), CONSOLE_CSP);
        let html = String::from_utf8(body_of(response).await).unwrap_or_default();
        assert!(
            html.contains("<script type=\"module\" src=\"/console/app.js\">"),
            "{html}"
        );
    }

    #[tokio::test]
    async fn every_asset_the_page_names_is_served() {
        let html = std::str::from_utf8(ASSETS[0].body).unwrap_or_default();
        let mut named = 0;
        for piece in html.split('"').filter(|p| p.starts_with(ASSET_PREFIX)) {
            named += 1;
            let response = serve(&Method::GET, piece).expect("an asset");
            assert_eq!(response.status(), StatusCode::OK, "{piece}");
            assert_eq!(header(&response, header::CONTENT_SECURITY_POLICY), CONSOLE_CSP);
            assert!(!body_of(response).await.is_empty(), "{piece} is empty");
        }
        assert_eq!(named, 3, "index.html names app.js, app.css and favicon.svg");
    }

    #[tokio::test]
    async fn head_has_no_body_and_other_paths_are_not_the_console() {
        let head = serve(&Method::HEAD, "/console/app.js").expect("an asset");
        assert_eq!(head.status(), StatusCode::OK);
        assert!(body_of(head).await.is_empty());
        let missing = serve(&Method::GET, "/console/secrets.txt").expect("a console path");
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert!(serve(&Method::GET, "/console/../Cargo.toml").is_some_and(|r| r.status() == StatusCode::NOT_FOUND));
        assert!(serve(&Method::POST, "/").is_none());
        assert!(serve(&Method::GET, "/v1/accounts").is_none());
        assert!(serve(&Method::GET, "/openapi.json").is_none());
    }

    /// A file added to the build output must be embedded too.
    #[test]
    fn every_built_file_is_embedded() {
        let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk/console/dist");
        let mut built: Vec<String> = std::fs::read_dir(&dist)
            .expect("sdk/console/dist")
            .filter_map(Result::ok)
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        built.sort();
        let mut embedded: Vec<String> = ASSETS.iter().map(|a| a.name.to_owned()).collect();
        embedded.sort();
        assert_eq!(built, embedded);
    }
}
