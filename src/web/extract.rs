//! Who is calling, as axum extractors (atuin's `UserAuth` pattern): a handler names what it
//! needs in its arguments and never repeats the sign-in, role and CSRF preamble.
//!
//! - [`Caller`]: an API read — a bearer token or a browser session, else 401 JSON.
//! - [`CsrfCaller`]: an API change — as [`Caller`], and a browser session must also send its
//!   CSRF token in `X-CSRF-Token` (a bearer token is never sent by a browser on its own).
//! - [`SignedIn`]: a page — a browser session, else the login page.
//! - [`CsrfForm`]: a page's form — [`SignedIn`] plus the form, whose `csrf` field must match.
//!
//! The role a route needs is checked right after, with `require` on the extracted caller, so
//! the refusal can say what was refused.

use std::ops::Deref;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};

use super::AppState;
use super::auth::{self, Principal};
use super::error::{ApiError, PageError};
use crate::domain::{Role, User};

/// The header browser scripts send the session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

fn csrf_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok())
}

fn not_signed_in() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "log in, or send Authorization: Bearer <token> (kabar token create NAME)",
    )
}

fn stale_form() -> ApiError {
    ApiError::csrf("this form is stale or came from another site; reload the page and try again")
}

/// "staff or admin".
fn roles_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| format!("{r:?}").to_lowercase())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Refuses users whose role is not in `roles` (API wording).
pub fn require_role(user: &User, roles: &[Role]) -> Result<(), ApiError> {
    if roles.contains(&user.role) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "this needs the role {}",
            roles_text(roles)
        )))
    }
}

/// The caller of an API request: a bearer token or a browser session. With `CSRF`, a change:
/// a browser session must also send its token in `X-CSRF-Token`.
#[derive(Debug, Clone)]
pub struct ApiCaller<const CSRF: bool>(pub Principal);

/// The caller of an API read.
pub type Caller = ApiCaller<false>;
/// The caller of an API change (the CSRF token checked for a browser session).
pub type CsrfCaller = ApiCaller<true>;

impl<const CSRF: bool> ApiCaller<CSRF> {
    /// The caller, if their role is one of `roles` (403 otherwise).
    pub fn require(self, roles: &[Role]) -> Result<Self, ApiError> {
        require_role(&self.0.user, roles)?;
        Ok(self)
    }

    /// The caller, if `allowed` says yes for them; else 403 with `detail`.
    pub fn require_that(self, allowed: fn(&User) -> bool, detail: &str) -> Result<Self, ApiError> {
        if allowed(&self.0.user) {
            Ok(self)
        } else {
            Err(ApiError::forbidden(detail))
        }
    }
}

impl<const CSRF: bool> Deref for ApiCaller<CSRF> {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl<const CSRF: bool> FromRequestParts<AppState> for ApiCaller<CSRF> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = auth::principal(&state.store, &parts.headers, state.clock.now())
            .await?
            .ok_or_else(not_signed_in)?;
        if CSRF && !principal.csrf_ok(csrf_header(&parts.headers)) {
            return Err(stale_form());
        }
        Ok(ApiCaller(principal))
    }
}

/// The person signed in to a page with a browser session (an API token does not open pages).
#[derive(Debug, Clone)]
pub struct SignedIn(pub Principal);

impl SignedIn {
    /// The person, if their role is one of `roles`; else 403 saying they cannot `what`.
    pub fn require(self, roles: &[Role], what: &str) -> Result<SignedIn, PageError> {
        let allowed = roles.contains(&self.0.user.role);
        self.allowed_to(allowed, what)
    }

    /// The person, if `allowed` says yes for them; else 403 saying they cannot `what`.
    pub fn require_that(
        self,
        allowed: fn(&User) -> bool,
        what: &str,
    ) -> Result<SignedIn, PageError> {
        let allowed = allowed(&self.0.user);
        self.allowed_to(allowed, what)
    }

    fn allowed_to(self, allowed: bool, what: &str) -> Result<SignedIn, PageError> {
        if allowed {
            Ok(self)
        } else {
            Err(forbidden(&self.0, what))
        }
    }

    /// Checks a CSRF token sent some other way than a urlencoded form (an upload).
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), PageError> {
        if self.0.csrf_ok(sent) {
            Ok(())
        } else {
            Err(stale_form().into())
        }
    }

    /// The token a page's forms carry.
    pub fn csrf_token(&self) -> &str {
        self.0.csrf.as_deref().unwrap_or_default()
    }
}

/// 403 for a page: "Your role (interpreter) cannot see the figures."
pub fn forbidden(principal: &Principal, what: &str) -> PageError {
    PageError::Refused(ApiError::forbidden(format!(
        "Your role ({}) cannot {what}.",
        format!("{:?}", principal.user.role).to_lowercase()
    )))
}

impl Deref for SignedIn {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<SignedIn, PageError> {
        match auth::principal(&state.store, &parts.headers, state.clock.now()).await? {
            Some(p) if p.csrf.is_some() => Ok(SignedIn(p)),
            _ => Err(PageError::Login),
        }
    }
}

/// A page's form from the signed-in person, with its `csrf` field checked: a stale form or
/// one posted from another site is refused before the handler sees it.
pub struct CsrfForm<T> {
    pub signed_in: SignedIn,
    pub form: T,
}

impl<T> FromRequest<AppState> for CsrfForm<T>
where
    T: serde::de::DeserializeOwned + Send,
{
    type Rejection = axum::response::Response;

    async fn from_request(
        request: Request,
        state: &AppState,
    ) -> Result<CsrfForm<T>, Self::Rejection> {
        use axum::response::IntoResponse;
        let (mut parts, body) = request.into_parts();
        // Who it is first: nothing of the body is read for a stranger.
        let signed_in = SignedIn::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let bytes =
            axum::body::Bytes::from_request(Request::from_parts(parts.clone(), body), state)
                .await
                .map_err(IntoResponse::into_response)?;
        let sent = form_urlencoded::parse(&bytes)
            .find(|(name, _)| name == "csrf")
            .map(|(_, value)| value.into_owned());
        signed_in
            .check_csrf(sent.as_deref())
            .map_err(IntoResponse::into_response)?;
        let request = Request::from_parts(parts, axum::body::Body::from(bytes));
        let axum::Form(form) = axum::Form::<T>::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(CsrfForm { signed_in, form })
    }
}
