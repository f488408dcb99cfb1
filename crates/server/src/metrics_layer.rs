//! Request metrics: a counter and a latency histogram per method, route and status. The route is
//! the matched template (`/v1/connections/{id}`), never the raw path, so ids do not explode the
//! label set.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

pub(crate) async fn record(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("patchbay_http_requests_total", &labels).increment(1);
    metrics::histogram!("patchbay_http_request_duration_seconds", &labels).record(start.elapsed().as_secs_f64());
    response
}
