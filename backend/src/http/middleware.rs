//! What wraps every route: the origin check, the request deadline, and the
//! JSON answers for no such endpoint or method.

use crate::config::{Config, REQUEST_DEADLINE};
use crate::error::AppError;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Which browser origins may call us.
#[derive(Clone, Debug)]
pub struct OriginPolicy {
    exact: Vec<String>,
    demo: bool,
}

impl OriginPolicy {
    pub fn new(config: &Config) -> Self {
        OriginPolicy {
            exact: config.allowed_origins.clone(),
            demo: config.demo,
        }
    }

    pub fn allows(&self, origin: &str) -> bool {
        if self.exact.iter().any(|o| o == origin) {
            return true;
        }
        self.demo
            && ["http://127.0.0.1", "http://localhost"].iter().any(|base| {
                origin.strip_prefix(base).is_some_and(|rest| {
                    rest.is_empty()
                        || rest.strip_prefix(':').is_some_and(|p| {
                            !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
                        })
                })
            })
    }
}

/// CORS headers alone do not stop a page elsewhere from posting a form here;
/// a request that says it comes from an origin we do not serve is refused.
pub async fn check_origin(
    State(policy): State<Arc<OriginPolicy>>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let ok = origin.to_str().map(|o| policy.allows(o)).unwrap_or(false);
        if !ok {
            return AppError::OriginNotAllowed.into_response();
        }
    }
    next.run(req).await
}

pub async fn deadline(req: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_DEADLINE, next.run(req)).await {
        Ok(r) => r,
        Err(_) => AppError::Unavailable(
            "the request took too long; if a recording was being started it will still be linked, and a retry returns it".into(),
        )
        .into_response(),
    }
}

pub async fn not_found() -> AppError {
    AppError::NotFound("no such endpoint".into())
}

pub async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}
