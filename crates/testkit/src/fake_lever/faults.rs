//! Scripted faults: answers the fake gives instead of (or on top of) behaving like Lever.

use std::time::Duration;

use serde_json::{Value, json};

/// A fault for the next request(s) matching a method and a path prefix.
///
/// ```
/// use switchboard_testkit::fake_lever::Fault;
///
/// // The next two `POST /v1/opportunities` get a 429 with `Retry-After: 1`.
/// let fault = Fault::status("POST", "/v1/opportunities", 429).retry_after("1").times(2);
/// assert_eq!(fault.times, 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// The HTTP method to match (case-insensitive); `*` matches any method.
    pub method: String,
    /// The path prefix to match, e.g. `/v1/opportunities` (the query string is not part of it).
    pub path_prefix: String,
    /// How many matching requests get this fault before it is used up (default 1).
    pub times: usize,
    /// What happens to a matching request.
    pub kind: FaultKind,
}

/// What the fake does with a request that matches a [`Fault`].
#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    /// Answer `status` with `body` (and a `Retry-After` header and other headers when set)
    /// without processing the request.
    Status {
        /// The HTTP status, e.g. 429, 500 or 503.
        status: u16,
        /// The JSON body, usually Lever's `{"code", "message"}`.
        body: Value,
        /// The `Retry-After` header value, e.g. `"1"`.
        retry_after: Option<String>,
        /// Further headers, in order, e.g. `("X-Rate-Limit-Reset", "1700000000")`.
        headers: Vec<(String, String)>,
    },
    /// Process and answer normally, with these headers added (e.g. rate-limit headers).
    WithHeaders(Vec<(String, String)>),
    /// Wait this long, then process and answer normally. The request is processed even when the
    /// client gives up waiting, as a slow server would.
    Delay(Duration),
    /// Close the connection (with a TCP reset) after reading the request head, without reading
    /// the body, processing the request or answering. Nothing changes in the fake's state.
    ResetBeforeBody,
    /// Read the whole request, process it (an opportunity really is created), then close the
    /// connection without answering: "the request reached Lever but the answer was lost".
    DropAfterBody,
}

impl Fault {
    /// A fault of `kind` for the next request with `method` (or `*`) and a path starting with
    /// `path_prefix`.
    pub fn new(method: &str, path_prefix: &str, kind: FaultKind) -> Fault {
        Fault {
            method: method.to_owned(),
            path_prefix: path_prefix.to_owned(),
            times: 1,
            kind,
        }
    }

    /// Answer `status` with a Lever-style error body for that status.
    pub fn status(method: &str, path_prefix: &str, status: u16) -> Fault {
        Fault::new(
            method,
            path_prefix,
            FaultKind::Status {
                status,
                body: default_error_body(status),
                retry_after: None,
                headers: Vec::new(),
            },
        )
    }

    /// Answer normally, adding `headers` to the answer.
    pub fn with_headers(method: &str, path_prefix: &str, headers: &[(&str, &str)]) -> Fault {
        let headers = headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Fault::new(method, path_prefix, FaultKind::WithHeaders(headers))
    }

    /// Wait `delay`, then answer normally.
    pub fn delay(method: &str, path_prefix: &str, delay: Duration) -> Fault {
        Fault::new(method, path_prefix, FaultKind::Delay(delay))
    }

    /// Reset the connection before reading the body; see [`FaultKind::ResetBeforeBody`].
    pub fn reset_before_body(method: &str, path_prefix: &str) -> Fault {
        Fault::new(method, path_prefix, FaultKind::ResetBeforeBody)
    }

    /// Process the request, then drop the connection; see [`FaultKind::DropAfterBody`].
    pub fn drop_after_body(method: &str, path_prefix: &str) -> Fault {
        Fault::new(method, path_prefix, FaultKind::DropAfterBody)
    }

    /// Apply this fault to the next `times` matching requests instead of one.
    pub fn times(mut self, times: usize) -> Fault {
        self.times = times;
        self
    }

    /// Send `Retry-After: <value>` with a [`FaultKind::Status`] answer (no effect on other kinds).
    pub fn retry_after(mut self, value: &str) -> Fault {
        if let FaultKind::Status { retry_after, .. } = &mut self.kind {
            *retry_after = Some(value.to_owned());
        }
        self
    }

    /// Send `<name>: <value>` with a [`FaultKind::Status`] answer (no effect on other kinds).
    pub fn header(mut self, name: &str, value: &str) -> Fault {
        if let FaultKind::Status { headers, .. } = &mut self.kind {
            headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }

    /// Use `value` as the body of a [`FaultKind::Status`] answer (no effect on other kinds).
    pub fn body(mut self, value: Value) -> Fault {
        if let FaultKind::Status { body, .. } = &mut self.kind {
            *body = value;
        }
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        (self.method == "*" || self.method.eq_ignore_ascii_case(method))
            && path.starts_with(&self.path_prefix)
    }
}

/// Lever's `{"code", "message"}` body for an error status.
fn default_error_body(status: u16) -> Value {
    let (code, message) = match status {
        400 => ("BadRequestError", "bad request"),
        401 => ("UnauthorizedError", "invalid credentials"),
        403 => ("ForbiddenError", "forbidden"),
        404 => ("NotFoundError", "not found"),
        429 => ("TooManyRequestsError", "rate limit exceeded"),
        500 => ("InternalServerError", "internal server error"),
        502 => ("BadGatewayError", "bad gateway"),
        503 => ("ServiceUnavailableError", "service unavailable"),
        504 => ("GatewayTimeoutError", "gateway timeout"),
        _ => ("Error", "scripted fault"),
    };
    json!({ "code": code, "message": message })
}

/// The scripted faults still waiting for matching requests, first scripted first used.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    faults: Vec<Fault>,
}

impl FaultQueue {
    /// Adds a fault at the end of the queue (a fault with `times == 0` is ignored).
    pub(crate) fn push(&mut self, fault: Fault) {
        if fault.times > 0 {
            self.faults.push(fault);
        }
    }

    /// Takes one use of the first fault matching `method` and `path`.
    pub(crate) fn take(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        let index = self
            .faults
            .iter()
            .position(|fault| fault.matches(method, path))?;
        let fault = &mut self.faults[index];
        fault.times -= 1;
        if fault.times == 0 {
            Some(self.faults.remove(index).kind)
        } else {
            Some(fault.kind.clone())
        }
    }

    /// Drops every fault not used yet.
    pub(crate) fn clear(&mut self) {
        self.faults.clear();
    }

    /// The faults not used up yet.
    pub(crate) fn pending(&self) -> Vec<Fault> {
        self.faults.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_uses_the_first_matching_fault_times_times() {
        let mut queue = FaultQueue::default();
        queue.push(Fault::status("POST", "/v1/opportunities", 429).times(2));
        queue.push(Fault::reset_before_body("*", "/v1/"));
        assert_eq!(
            queue.take("GET", "/v1/uploads"),
            Some(FaultKind::ResetBeforeBody)
        );
        assert!(matches!(
            queue.take("post", "/v1/opportunities/x/addTags"),
            Some(FaultKind::Status { status: 429, .. })
        ));
        assert!(queue.take("POST", "/v1/opportunities").is_some());
        assert_eq!(queue.take("POST", "/v1/opportunities"), None);
        assert!(queue.pending().is_empty());
    }

    #[test]
    fn builders_set_retry_after_headers_and_body_on_status_only() {
        let fault = Fault::status("POST", "/v1/x", 503)
            .retry_after("2")
            .header("X-Rate-Limit-Reset", "1700000000")
            .body(json!({"code": "X", "message": "y"}));
        assert_eq!(
            fault.kind,
            FaultKind::Status {
                status: 503,
                body: json!({"code": "X", "message": "y"}),
                retry_after: Some("2".to_owned()),
                headers: vec![("X-Rate-Limit-Reset".to_owned(), "1700000000".to_owned())],
            }
        );
        let delay = Fault::delay("GET", "/", Duration::from_millis(5))
            .retry_after("2")
            .header("X-Rate-Limit-Reset", "1700000000");
        assert_eq!(delay.kind, FaultKind::Delay(Duration::from_millis(5)));
    }
}
