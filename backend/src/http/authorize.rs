//! The authorize-ahead endpoint (`domain::grant`): the checks a
//! create-recording request would make, made when the task is accepted,
//! and kept as a grant for its legs.

use crate::domain::grant::{self, GrantKey};
use crate::error::AppError;
use crate::http::body::FormOrJson;
use crate::http::detached;
use crate::http::input::AuthorizeInput;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use dual_channel_recording::api::{AuthorizeRequest, AuthorizeResponse};

pub async fn authorize(
    State(state): State<AppState>,
    FormOrJson(request): FormOrJson<AuthorizeRequest>,
) -> Result<Json<AuthorizeResponse>, AppError> {
    let input = AuthorizeInput::try_from(request)?;
    detached(authorize_ahead(state, input)).await.map(Json)
}

async fn authorize_ahead(
    state: AppState,
    input: AuthorizeInput,
) -> Result<AuthorizeResponse, AppError> {
    let s = &*state.0;
    let identity = s.tokens.check(&s.twilio, &input.token).await?;
    let key = GrantKey::of(
        &identity,
        Some(&input.task_sid),
        Some(&input.reservation_sid),
    )
    .ok_or_else(|| {
        AppError::Forbidden(
            "the Flex token belongs to no TaskRouter worker, so it cannot record calls of a task"
                .into(),
        )
    })?;
    tracing::info!(task = %input.task_sid, worker = %key.worker_sid, "authorize ahead");
    let check = grant::check(
        &s.twilio,
        &s.policy,
        &identity,
        &input.task_sid,
        Some(&input.reservation_sid),
    );
    s.grants.use_or_check(&key, check).await?;
    Ok(AuthorizeResponse {
        success: true,
        valid_for_ms: u64::try_from(s.grants.valid_for().as_millis()).unwrap_or(u64::MAX),
    })
}
