//! `/api/broadcasts` and `/api/segments` (staff and admins). The rules are in
//! [`crate::web::broadcasts`], shared with the broadcast pages.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::broadcast::{Preview, Route};
use crate::domain::ContactId;
use crate::web::AppState;
use crate::web::broadcasts::{
    self as service, Action, BroadcastView, TestRequest, TestSent, may_broadcast, validated,
};
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{Caller, CsrfCaller};

const STAFF_ONLY: &str = "broadcasts are for staff and admins";

/// `POST /api/broadcasts`: a new draft.
pub async fn create(
    State(state): State<AppState>,
    caller: CsrfCaller,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<BroadcastView>)> {
    let caller = caller.require_that(may_broadcast, STAFF_ONLY)?;
    let valid = validated(&state, &body)?;
    let created = service::create_draft(&state, &caller.user, valid).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `POST /api/broadcasts/preview`: what a draft would do, without saving it (the composer).
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> ApiResult<Json<Preview>> {
    caller.require_that(may_broadcast, STAFF_ONLY)?;
    let valid = validated(&state, &body)?;
    Ok(Json(service::draft_preview(&state, valid).await?))
}

#[derive(Deserialize)]
pub struct SegmentsRequest {
    text: String,
}

/// `POST /api/segments {"text"}`: how the server counts a text (the composer's counter is
/// checked against it).
pub async fn segments(
    caller: Caller,
    body: axum::body::Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require_that(may_broadcast, STAFF_ONLY)?;
    let req: SegmentsRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("bad json", e.to_string()))?;
    let s = crate::i18n::segments::count(&req.text);
    Ok(Json(serde_json::json!({
        "encoding": match s.encoding {
            crate::i18n::segments::Encoding::Gsm7 => "GSM-7",
            crate::i18n::segments::Encoding::Ucs2 => "UCS-2",
        },
        "units": s.units,
        "parts": s.segments,
    })))
}

/// `GET /api/broadcasts`: newest first.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<BroadcastView>>> {
    caller.require_that(may_broadcast, STAFF_ONLY)?;
    Ok(Json(service::list_views(&state).await?))
}

/// `GET /api/broadcasts/{id}`
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<u64>,
) -> ApiResult<Json<BroadcastView>> {
    caller.require_that(may_broadcast, STAFF_ONLY)?;
    let found = service::found(&state, id).await?;
    Ok(Json(service::view(&state, found).await?))
}

/// What an action answers: the broadcast, or (test) the message sent.
pub enum Acted {
    Changed(Box<BroadcastView>),
    Tested(TestSent),
}

impl IntoResponse for Acted {
    fn into_response(self) -> Response {
        match self {
            Acted::Changed(view) => Json(*view).into_response(),
            Acted::Tested(sent) => (StatusCode::ACCEPTED, Json(sent)).into_response(),
        }
    }
}

/// `POST /api/broadcasts/{id}/{action}`: send, approve, pause, resume, cancel, test.
pub async fn act(
    State(state): State<AppState>,
    caller: CsrfCaller,
    Path((id, action)): Path<(u64, String)>,
    body: axum::body::Bytes,
) -> ApiResult<Acted> {
    let caller = caller.require_that(may_broadcast, STAFF_ONLY)?;
    if action == "test" {
        let req: TestRequest = serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request("bad json", e.to_string()))?;
        let sent = service::test_send(&state, &caller.user, id, &req.phone).await?;
        return Ok(Acted::Tested(sent));
    }
    let Some(action) = Action::parse(&action) else {
        return Err(ApiError::not_found(format!(
            "no action {action:?}: use send, approve, pause, resume, cancel or test"
        )));
    };
    let changed = service::act(&state, &caller.user, id, action).await?;
    Ok(Acted::Changed(Box::new(changed)))
}

/// `GET /api/broadcasts/{id}/report.csv`: one row per recipient.
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<u64>,
) -> ApiResult<Response> {
    caller.require_that(may_broadcast, STAFF_ONLY)?;
    service::found(&state, id).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut failed = out
        .write_record(["phone", "language", "channel", "status", "error"])
        .err();
    for (phone, r) in state.store.recipients(id).await? {
        // Someone known only by a WhatsApp user id shows as `@username` (or their name).
        let shown = match &phone {
            ContactId::Phone(_) => None,
            ContactId::Whatsapp(_) => {
                Some(crate::web::contacts::shown(&state.store, &phone).await?)
            }
        };
        if failed.is_none() {
            failed = out
                .write_record([
                    shown.as_ref().map_or(phone.as_str(), |s| s.label.as_str()),
                    r.language.tag(),
                    Route::of(r.channel).name(),
                    r.status.name(),
                    r.error.as_deref().unwrap_or(""),
                ])
                .err();
        }
    }
    if let Some(e) = failed {
        return Err(ApiError::unavailable(e));
    }
    let bytes = out.into_inner().map_err(ApiError::unavailable)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"broadcast-{id}.csv\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
