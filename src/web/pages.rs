//! What every answer to a browser or API client gets, whatever produced it: errors as pages
//! (HTML for a browser, `{error, detail}` JSON for `/api`) instead of axum's plain text or an
//! empty body, `Cache-Control: no-store` (Back after logging out on a shared office laptop must
//! not show a person's messages from the cache), and a login that returns to the page asked for.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::AppState;
use super::auth;
use super::error::{self, ApiError};

/// Error bodies larger than this are passed on as they are.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Paths whose answers belong to someone else's format: providers (TwiML, JSON they parse),
/// monitoring, files, event streams.
fn passes_through(path: &str) -> bool {
    path.starts_with("/webhooks/")
        || path.starts_with("/assets/")
        || matches!(path, "/healthz" | "/metrics" | "/csp-report" | "/events")
        || path.ends_with("/events")
}

pub async fn finish(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let query = request.uri().query().map(str::to_string);
    let method = request.method().clone();
    let had_session = auth::session_token(request.headers()).is_some();
    let wants_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    let headers = request.headers().clone();
    let mut response = next.run(request).await;
    if passes_through(&path) {
        return response;
    }
    if !path.starts_with("/assets/") {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store, private"),
        );
    }
    if let Some(location) = login_redirect(&response) {
        if location == "/login" && path != "/login" && path != "/logout" {
            let target = return_to(&method, &path, query.as_deref());
            let mut to = format!("/login?next={}", encode(&target));
            if had_session {
                to.push_str("&expired=1");
            }
            if let Ok(v) = HeaderValue::from_str(&to) {
                response.headers_mut().insert(header::LOCATION, v);
            }
        }
        return response;
    }
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let api = path.starts_with("/api/") || (!wants_html && path.starts_with("/simulator/"));
    if api && content_type.starts_with("application/json") {
        return response;
    }
    if !api && content_type.starts_with("text/html") {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_ERROR_BODY).await {
        Ok(b) => b,
        Err(_) => return Response::from_parts(parts, Body::empty()),
    };
    let detail = detail_of(&bytes, &content_type, status);
    let mut answer = if api {
        ApiError::new(status, reason(status), detail).into_response()
    } else {
        let principal = auth::principal(&state.store, &headers, state.clock.now())
            .await
            .ok()
            .flatten();
        let code = error_code(&bytes, &content_type);
        error_page(status, code.as_deref(), &detail, principal.as_ref())
    };
    // Keep what the handler said about the answer (Allow on a 405, Retry-After, cookies).
    for name in [header::ALLOW, header::RETRY_AFTER, header::SET_COOKIE] {
        for value in parts.headers.get_all(&name) {
            answer.headers_mut().append(name.clone(), value.clone());
        }
    }
    answer.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, private"),
    );
    answer
}

/// The `Location` of a redirect, if this is one.
fn login_redirect(response: &Response) -> Option<String> {
    if !response.status().is_redirection() {
        return None;
    }
    response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Where to come back after logging in: the page itself for a GET, the page a form was on for
/// a POST (a reply form posts to /tickets/5/reply and lives on /tickets/5).
fn return_to(method: &Method, path: &str, query: Option<&str>) -> String {
    if method == Method::GET {
        return match query {
            Some(q) => format!("{path}?{q}"),
            None => path.to_string(),
        };
    }
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["tickets", id, ..] => format!("/tickets/{id}"),
        [first, ..] => format!("/{first}"),
        [] => "/".to_string(),
    }
}

/// A path to come back to after login, if it is one of ours (never another site).
pub fn safe_next(next: Option<&str>) -> Option<&str> {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.starts_with("/\\")
            && !n.starts_with("/login")
            && !n.starts_with("/logout")
            && n.len() <= 512
            && !n.chars().any(char::is_control)
    })
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn reason(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("error")
}

/// What went wrong, in words: a JSON error's detail, axum's own text ("Failed to deserialize
/// …"), or the status when the body said nothing.
fn detail_of(bytes: &[u8], content_type: &str, status: StatusCode) -> String {
    if content_type.starts_with("application/json") {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
            if let Some(d) = v["detail"].as_str() {
                return d.to_string();
            }
        }
    }
    let text = String::from_utf8_lossy(bytes).trim().to_string();
    // axum's words for a path that does not parse: "Invalid URL: Cannot parse `abc` to a `u64`".
    if let Some(value) = text
        .split("Cannot parse `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
    {
        return format!("«{value}» is not a number, and this address needs one.");
    }
    if !text.is_empty() && !content_type.starts_with("text/html") {
        return text.chars().take(300).collect();
    }
    match status {
        StatusCode::NOT_FOUND => "There is no such page.".into(),
        StatusCode::METHOD_NOT_ALLOWED => {
            "This address does not take that kind of request (a link to a form's address?).".into()
        }
        StatusCode::FORBIDDEN => "Your role may not see this.".into(),
        _ => reason(status).to_string(),
    }
}

/// The `error` code of a JSON error body ([`ApiError`]), if it is one.
fn error_code(bytes: &[u8], content_type: &str) -> Option<String> {
    if !content_type.starts_with("application/json") {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    v["error"].as_str().map(str::to_string)
}

fn title(status: StatusCode, code: Option<&str>) -> &'static str {
    match (status, code) {
        (_, Some(error::UNAVAILABLE)) => "The data store is unavailable",
        (_, Some(error::CSRF)) => "This form expired",
        (status, _) => title_of(status),
    }
}

fn title_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "That address or form is not right",
        StatusCode::UNAUTHORIZED => "Please log in",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::METHOD_NOT_ALLOWED => "Not here",
        StatusCode::CONFLICT => "Someone else changed this first",
        StatusCode::PAYLOAD_TOO_LARGE => "Too large",
        StatusCode::TOO_MANY_REQUESTS => "Too many tries",
        s if s.is_server_error() => "Something went wrong on our side",
        _ => "Could not do that",
    }
}

/// An error as a page, with the menu of whoever is signed in. `code` is the [`ApiError`]'s
/// `error` when there was one: a store failure and a stale form get their own heading and a
/// word on what to do.
pub fn error_page(
    status: StatusCode,
    code: Option<&str>,
    detail: &str,
    principal: Option<&auth::Principal>,
) -> Response {
    let title = title(status, code);
    let body = html! {
        h1 { (title) }
        p.error role="alert" { (detail) }
        @match code {
            Some(error::UNAVAILABLE) => p { "Nothing was changed. Try again in a moment; if it keeps failing, tell the administrator." },
            Some(error::CSRF) => p { "Reload the page and try again." },
            _ => {},
        }
        p { "(" (status.as_u16()) ") " a href="/" { "Home" } " · " a href="/queue" { "Queue" } }
    };
    (status, super::ui::page(title, principal, body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_returns_only_to_our_own_pages() {
        assert_eq!(safe_next(Some("/tickets/5")), Some("/tickets/5"));
        assert_eq!(safe_next(Some("/queue?x=1")), Some("/queue?x=1"));
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "/login?next=/x",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad}");
        }
    }

    #[test]
    fn a_form_returns_to_the_page_it_was_on() {
        assert_eq!(
            return_to(&Method::POST, "/tickets/5/reply", None),
            "/tickets/5"
        );
        assert_eq!(
            return_to(&Method::POST, "/canned/3/delete", None),
            "/canned"
        );
        assert_eq!(
            return_to(&Method::GET, "/tickets/5", Some("a=1")),
            "/tickets/5?a=1"
        );
    }
}
