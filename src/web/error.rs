//! One error type for every handler. [`ApiError`] is `{error, detail}` JSON with its status;
//! the API answers with it as it is, and for browser pages [`super::pages::finish`] turns the
//! same value into an error page with the menu (so a page handler returns the same errors and
//! uses `?` like an API handler). [`PageError`] adds what only pages do: send a stranger to
//! the login.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;

use crate::store::{BroadcastError, StoreError, TicketError};

/// The `error` code of a store failure; pages show it as "the data store is unavailable".
pub const UNAVAILABLE: &str = "unavailable";
/// The `error` code of a change without its CSRF token; pages show it as "this form expired".
pub const CSRF: &str = "csrf";

/// An error as a value (small, unlike a `Response`), rendered as `{error, detail}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// A short code a client can match on (`not found`, `csrf`, `unavailable`…).
    pub error: &'static str,
    /// What went wrong, in words a person can act on.
    pub detail: String,
    /// One more field of the body, for errors a client can act on item by item (the invalid
    /// rows of an import, the invalid fields of a broadcast).
    pub extra: Option<(&'static str, serde_json::Value)>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    detail: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, error: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error,
            detail: detail.into(),
            extra: None,
        }
    }

    /// The same error with one more field in its body.
    pub fn with(mut self, field: &'static str, value: impl Serialize) -> ApiError {
        self.extra = serde_json::to_value(value).ok().map(|v| (field, v));
        self
    }

    pub fn bad_request(error: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, error, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not found", detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 422: the request is readable but a field is missing or wrong.
    pub fn invalid(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", detail)
    }

    /// A change from a browser session without its CSRF token.
    pub fn csrf(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, CSRF, detail)
    }

    /// The store (or a blocking task around it) failed: 503, logged, and said honestly.
    pub fn unavailable(e: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %e, "store error");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            UNAVAILABLE,
            format!("the data store failed ({e}); nothing was changed, try again"),
        )
    }
}

/// For `map_err` where the failure is a store (or a task) error.
pub fn unavailable(e: impl std::fmt::Display) -> ApiError {
    ApiError::unavailable(e)
}

/// Shorthand for [`ApiError::new`].
pub fn err(status: StatusCode, error: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::new(status, error, detail)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.error,
            detail: &self.detail,
        };
        match self.extra {
            None => (self.status, Json(body)).into_response(),
            Some((field, value)) => {
                let mut body = serde_json::to_value(body).unwrap_or_default();
                body[field] = value;
                (self.status, Json(body)).into_response()
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::unavailable(e)
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> ApiError {
        ApiError::unavailable(e)
    }
}

impl From<TicketError> for ApiError {
    fn from(e: TicketError) -> ApiError {
        match e {
            TicketError::NotFound(_) => err(StatusCode::NOT_FOUND, "not found", e.to_string()),
            TicketError::Closed(_) => err(StatusCode::CONFLICT, "closed", e.to_string()),
            TicketError::ClaimedBy(_) => err(StatusCode::CONFLICT, "claimed", e.to_string()),
            TicketError::Invalid(_) => err(StatusCode::BAD_REQUEST, "invalid", e.to_string()),
            TicketError::CannotSee(_) => err(StatusCode::CONFLICT, "cannot see", e.to_string()),
            TicketError::Store(e) => ApiError::unavailable(e),
        }
    }
}

impl From<BroadcastError> for ApiError {
    fn from(e: BroadcastError) -> ApiError {
        match e {
            BroadcastError::NotFound(_) => err(StatusCode::NOT_FOUND, "not found", e.to_string()),
            BroadcastError::Conflict(_) => err(StatusCode::CONFLICT, "conflict", e.to_string()),
            BroadcastError::Forbidden(_) => err(StatusCode::FORBIDDEN, "forbidden", e.to_string()),
            BroadcastError::Unprocessable(_) => {
                err(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
            }
            BroadcastError::Store(e) => ApiError::unavailable(e),
        }
    }
}

impl From<crate::import::ImportError> for ApiError {
    fn from(e: crate::import::ImportError) -> ApiError {
        ApiError::bad_request("bad csv", e.to_string())
    }
}

/// Why a browser page is not shown. Everything but [`PageError::Login`] is an [`ApiError`],
/// which the page middleware renders as a page (a store error as "the data store is
/// unavailable", 503 — never as an empty list).
#[derive(Debug)]
pub enum PageError {
    /// Nobody is signed in: the login page (which brings them back here).
    Login,
    Refused(ApiError),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Login => Redirect::to("/login").into_response(),
            PageError::Refused(e) => e.into_response(),
        }
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> PageError {
        PageError::Refused(e)
    }
}

macro_rules! page_error_from {
    ($($source:ty),*) => {$(
        impl From<$source> for PageError {
            fn from(e: $source) -> PageError {
                PageError::Refused(ApiError::from(e))
            }
        }
    )*};
}

page_error_from!(
    StoreError,
    TicketError,
    BroadcastError,
    tokio::task::JoinError
);

/// What API handlers return.
pub type ApiResult<T> = Result<T, ApiError>;
/// What page handlers return.
pub type PageResult<T = Response> = Result<T, PageError>;
