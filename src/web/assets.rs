//! Scripts and style sheets kabar serves itself, from `src/web/assets/` compiled into the
//! binary. Pages never carry inline `<script>`, `<style>` or `style=`: the Content-Security-Policy
//! (see [`super::security_headers`]) allows only `'self'`, so an injected script cannot run.
//!
//! Pages link assets with [`url`], which adds a content hash (`/assets/ticket.js?v=1a2b3c4d`):
//! a new build changes the URL, so browsers may cache the file for a long time.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;

/// One file under `src/web/assets/`.
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

/// Every asset. Add a file here and it is served at `/assets/<name>`.
pub const ASSETS: &[Asset] = &[
    Asset {
        name: "style.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("assets/style.css"),
    },
    Asset {
        name: "queue.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/queue.js"),
    },
    Asset {
        name: "ticket.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/ticket.js"),
    },
    Asset {
        name: "simulator.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("assets/simulator.css"),
    },
    Asset {
        name: "simulator.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/simulator.js"),
    },
    Asset {
        name: "broadcast.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/broadcast.js"),
    },
    Asset {
        name: "contacts.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/contacts.js"),
    },
];

/// The content hash of each asset (CRC-32 is enough to tell builds apart; nothing is secret).
static VERSIONS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| format!("{:08x}", crc32fast::hash(a.body.as_bytes())))
        .collect()
});

fn find(name: &str) -> Option<(&'static Asset, &'static str)> {
    ASSETS
        .iter()
        .zip(VERSIONS.iter())
        .find(|(a, _)| a.name == name)
        .map(|(a, v)| (a, v.as_str()))
}

/// The URL a page links to, with the content hash so a new build is fetched at once.
/// An unknown name gives the bare path (it answers 404, which a test would notice).
pub fn url(name: &str) -> String {
    match find(name) {
        Some((_, version)) => format!("/assets/{name}?v={version}"),
        None => format!("/assets/{name}"),
    }
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/assets/{file}", get(serve))
}

async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some((asset, version)) = find(&file) else {
        return super::error::ApiError::not_found("no such asset").into_response();
    };
    let etag = format!("\"{version}\"");
    let cache = (
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if unchanged {
        return (StatusCode::NOT_MODIFIED, [cache], [(header::ETAG, etag)]).into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            cache,
        ],
        [(header::ETAG, etag)],
        asset.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_versioned_url_and_a_type() {
        for asset in ASSETS {
            let u = url(asset.name);
            assert!(u.starts_with(&format!("/assets/{}?v=", asset.name)), "{u}");
            assert!(!asset.body.is_empty(), "{}", asset.name);
            let ext_ok = (asset.name.ends_with(".js") && asset.content_type.contains("javascript"))
                || (asset.name.ends_with(".css") && asset.content_type.contains("css"));
            assert!(ext_ok, "{} served as {}", asset.name, asset.content_type);
        }
    }
}
