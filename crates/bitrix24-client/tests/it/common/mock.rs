//! A tiny axum portal whose answers each test scripts, for the wire details and error mappings
//! the sandbox does not produce.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use bitrix24_client::{Auth, Client, RetryConfig};
use serde_json::json;

#[derive(Clone, Debug)]
/// A request the mock portal received.
pub struct Seen {
    pub method: Method,
    pub uri: String,
    pub content_type: Option<String>,
    pub body: String,
}

/// A scripted answer: status, extra headers, body.
pub type Answer = (u16, Vec<(&'static str, String)>, String);

#[derive(Default)]
struct Script {
    answers: Mutex<VecDeque<Answer>>,
    seen: Mutex<Vec<Seen>>,
}

async fn answer(
    State(script): State<Arc<Script>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    script.seen.lock().unwrap().push(Seen {
        method,
        uri: uri.to_string(),
        content_type: headers
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned()),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let next = script.answers.lock().unwrap().pop_front();
    let (status, extra, body) = next.unwrap_or((200, vec![], r#"{"result":true}"#.into()));
    let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
    for (k, v) in extra {
        response.headers_mut().insert(k, v.parse().unwrap());
    }
    response
}

/// A portal that answers what the test scripts, in order (then `{"result":true}`), and
/// records what it was asked.
pub struct Mock {
    pub base: String,
    script: Arc<Script>,
}

impl Mock {
    pub async fn start() -> Mock {
        let script = Arc::new(Script::default());
        let app = Router::new()
            .fallback(any(answer))
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Mock { base, script }
    }

    /// Queues an answer with no extra headers.
    pub fn reply(&self, status: u16, body: impl Into<String>) -> &Self {
        self.reply_with(status, vec![], body)
    }

    /// Queues an answer.
    pub fn reply_with(
        &self,
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: impl Into<String>,
    ) -> &Self {
        self.script
            .answers
            .lock()
            .unwrap()
            .push_back((status, headers, body.into()));
        self
    }

    /// Drops the answers not given yet.
    pub fn clear_answers(&self) {
        self.script.answers.lock().unwrap().clear();
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.script.seen.lock().unwrap().clone()
    }

    /// A webhook client of the mock with `retry` and no client-side rate limit.
    pub fn webhook_client(&self, retry: RetryConfig) -> Client {
        Client::builder(Auth::webhook(&format!("{}/rest/7/mockcode123456/", self.base)).unwrap())
            .rate_limit(None)
            .retry(retry)
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap()
    }
}

/// Retries fast enough for tests that retry a few times.
pub fn fast() -> RetryConfig {
    RetryConfig {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_total: Duration::from_secs(10),
    }
}

/// A portal error answer's body.
pub fn error_body(code: &str, description: &str) -> String {
    json!({"error": code, "error_description": description}).to_string()
}
