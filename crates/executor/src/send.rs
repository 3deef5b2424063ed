//! One provider call: rate limit, auth, body (files fetched and streamed), timeout, and the
//! attempts the retry policy allows.

use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, RequestBuilder, Url};
use switchboard_core::{
    Endpoint, Header, HeaderPart, HttpMethod, MultipartPart, PrepareError, ProviderRequest,
    RateLimit, RequestBody,
};
use tokio::time::{Instant, timeout_at};

use crate::address::{self, Refusal};
use crate::client::Purpose;
use crate::error::{
    ExecError, ExecErrorKind, FileError, FileErrorKind, TransportError, TransportKind, describe,
};
use crate::exchange::Exchange;
use crate::executor::{Executor, Settings, Target};
use crate::files::{FetchLimits, FileFault, build_form, embed_files};
use crate::observer::{CallEvent, CallStatus, Observer, RetryReason};
use crate::redact;
use crate::retry::{Policy, Stop, Verdict};

/// The name of the bucket every call counts against.
const DEFAULT_BUCKET: &str = "default";

/// A provider answer, read whole.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    content_type: Option<String>,
    body: Bytes,
}

/// An attempt that got no usable answer.
enum AttemptError {
    /// Sending failed (nothing came back).
    Send(reqwest::Error),
    /// The answer's head came back, its body failed.
    Read(reqwest::Error),
    /// The answer was larger than allowed.
    TooLarge,
}

impl AttemptError {
    /// The address the client's resolver refused, when that is why sending failed.
    fn forbidden_address(&self) -> Option<IpAddr> {
        match self {
            AttemptError::Send(error) => {
                address::find_forbidden(error as &(dyn std::error::Error + 'static))
            }
            AttemptError::Read(_) | AttemptError::TooLarge => None,
        }
    }

    /// What failed, whether the request may have reached the provider, and why.
    fn classify(self, max_response_bytes: u64) -> (TransportKind, bool, String) {
        match self {
            AttemptError::Send(error) => {
                let connect = error.is_connect();
                let kind = if connect && is_tls(&error) {
                    TransportKind::Tls
                } else if error.is_timeout() {
                    TransportKind::Timeout
                } else if connect {
                    TransportKind::Connect
                } else if error.is_request() || error.is_body() {
                    TransportKind::Closed
                } else {
                    TransportKind::Other
                };
                (kind, !connect, describe(error))
            }
            AttemptError::Read(error) => {
                let kind = if error.is_timeout() {
                    TransportKind::Timeout
                } else {
                    TransportKind::Closed
                };
                (kind, true, describe(error))
            }
            AttemptError::TooLarge => (
                TransportKind::ResponseTooLarge,
                true,
                format!("the answer is larger than {max_response_bytes} bytes"),
            ),
        }
    }
}

impl Executor {
    /// Sends `request` for the target, retrying as the policy allows, and returns the final
    /// answer's exchange. Nothing waits past the run's deadline: a retry whose wait would end
    /// after it is not made, and a call still running when it passes is abandoned.
    pub(crate) async fn exchange_with(
        &self,
        target: &Target<'_>,
        request: &ProviderRequest,
        endpoint: &Endpoint,
    ) -> Result<Exchange, ExecError> {
        let started = Instant::now();
        let result = self.send_with_retries(target, request, endpoint).await;
        let status = match &result {
            Ok(exchange) => CallStatus::Answered(exchange.status),
            Err(error) => CallStatus::of_error(error),
        };
        self.inner.observer.provider_call(&CallEvent {
            integration: &target.integration.name,
            step: &request.step,
            status,
            duration: started.elapsed(),
        });
        result
    }

    /// [`Executor::exchange_with`] without the report of its end.
    async fn send_with_retries(
        &self,
        target: &Target<'_>,
        request: &ProviderRequest,
        endpoint: &Endpoint,
    ) -> Result<Exchange, ExecError> {
        let prepared = endpoint
            .prepare(request)
            .map_err(|error| ExecError::from_run(error.into(), Vec::new()))?;
        let url = Url::parse(&prepared.url).map_err(|error| {
            ExecError::from_run(
                PrepareError::InvalidUrl {
                    step: request.step.clone(),
                    reason: error.to_string(),
                }
                .into(),
                Vec::new(),
            )
        })?;
        if request.delay_ms > 0 {
            let delay = Duration::from_millis(request.delay_ms);
            if Instant::now() + delay >= target.deadline {
                return Err(self.deadline_exceeded(request, false));
            }
            tokio::time::sleep(delay).await;
        }
        let call = Call {
            target,
            request,
            headers: header_map(request, &prepared.headers)?,
            client: {
                count_files(target, request, self.inner.options.max_files_per_run)?;
                self.client(Purpose::Provider, target.settings.connect_timeout)?
            },
            limits: rate_limits(target, request),
            policy: Policy::new(&target.settings.retry),
            url,
            observer: self.inner.observer.as_ref(),
        };
        let mut attempt = 0_u32;
        loop {
            attempt += 1;
            let wait = match self.attempt(&call, attempt).await? {
                Ok(exchange) => match call.after_answer(exchange, attempt) {
                    Ok(exchange) => return Ok(exchange),
                    Err(wait) => wait,
                },
                Err(failure) => call.after_failure(failure, attempt)?,
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt: the address check, the rate limit, the body, the answer read whole. The
    /// outer error stops the call; the inner one is a failure the retry policy judges.
    async fn attempt(
        &self,
        call: &Call<'_, '_>,
        attempt: u32,
    ) -> Result<Result<Exchange, AttemptError>, ExecError> {
        let (target, request, settings) = (call.target, call.request, &call.target.settings);
        self.check_address(request, &call.url, attempt).await?;
        self.wait_for_rate_limit(target, request, &call.limits)
            .await?;
        let fault = FileFault::default();
        let builder = call
            .client
            .request(reqwest_method(request.method), call.url.clone())
            .headers(call.headers.clone())
            .timeout(settings.request_timeout);
        let body = self.with_body(target, builder, &request.body, &fault);
        let builder = match timeout_at(target.deadline, body).await {
            Err(_) => return Err(self.deadline_exceeded(request, false)),
            Ok(Ok(builder)) => builder,
            Ok(Err(error)) => return Err(file_error(request, &fault).unwrap_or(error)),
        };
        let started_at = SystemTime::now();
        let clock = std::time::Instant::now();
        let answer = timeout_at(target.deadline, read(builder, settings.max_response_bytes));
        match answer.await {
            Err(_) => Err(self.deadline_exceeded(request, true)),
            Ok(Ok(answer)) => Ok(Ok(Exchange {
                step: request.step.clone(),
                method: request.method,
                url: redact::without_credentials(&call.url),
                status: answer.status,
                attempts: attempt,
                headers: answer.headers,
                content_type: answer.content_type,
                body: answer.body,
                started_at,
                duration_ms: u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX),
            })),
            Ok(Err(failure)) => {
                if let Some(error) = file_error(request, &fault) {
                    return Err(error);
                }
                if let Some(address) = failure.forbidden_address() {
                    return Err(forbidden(request, &call.url, address));
                }
                Ok(Err(failure))
            }
        }
    }

    /// Refuses a call to an address provider calls may not use: an IP literal here (names are
    /// checked by the client's resolver when they are connected to), or, through a proxy, any
    /// address the host resolves to now.
    async fn check_address(
        &self,
        request: &ProviderRequest,
        url: &Url,
        attempt: u32,
    ) -> Result<(), ExecError> {
        let checked = (self.inner.clients.network())
            .check_before_sending(Purpose::Provider, url)
            .await;
        match checked {
            Ok(()) => Ok(()),
            Err(Refusal::Forbidden(address)) => Err(forbidden(request, url, address)),
            Err(Refusal::Unresolved(message)) => Err(ExecErrorKind::Transport(TransportError {
                step: request.step.clone(),
                method: request.method,
                url: redact::origin_and_path(url),
                kind: TransportKind::Connect,
                may_have_reached_provider: false,
                attempts: attempt,
                message,
            })
            .into()),
        }
    }

    /// Takes the call's rate-limit tokens, waiting for them no longer than the integration
    /// allows and the run's deadline leaves.
    async fn wait_for_rate_limit(
        &self,
        target: &Target<'_>,
        request: &ProviderRequest,
        limits: &[(&str, &RateLimit)],
    ) -> Result<(), ExecError> {
        let settings = &target.settings;
        let left = target.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.deadline_exceeded(request, false));
        }
        let wait = settings.rate_limit_wait.min(left);
        let limits = crate::rate_limit::effective(limits);
        if limits.is_empty() {
            return Ok(());
        }
        let (observer, integration) = (self.inner.observer.as_ref(), &target.integration.name);
        match self
            .inner
            .limiter
            .reserve(&target.account.id, &limits, wait)
            .await
        {
            Ok(reserved) => {
                if !reserved.is_zero() {
                    observer.rate_limit_wait(integration, reserved);
                    tokio::time::sleep(reserved).await;
                }
                Ok(())
            }
            Err(_) if left < settings.rate_limit_wait => {
                observer.rate_limit_refused(integration);
                Err(self.deadline_exceeded(request, false))
            }
            Err(held) => {
                observer.rate_limit_refused(integration);
                Err(ExecErrorKind::RateLimited {
                    step: request.step.clone(),
                    account: target.account.id.clone(),
                    bucket: held.bucket,
                    deadline: settings.rate_limit_wait,
                }
                .into())
            }
        }
    }

    fn deadline_exceeded(&self, request: &ProviderRequest, reached: bool) -> ExecError {
        tracing::debug!(
            step = %request.step,
            may_have_reached_provider = reached,
            "the run passed its deadline"
        );
        ExecErrorKind::DeadlineExceeded {
            step: request.step.clone(),
            deadline: self.inner.options.deadline,
            may_have_reached_provider: reached,
        }
        .into()
    }

    fn client(
        &self,
        purpose: Purpose,
        connect_timeout: Duration,
    ) -> Result<reqwest::Client, ExecError> {
        self.inner
            .clients
            .get(purpose, connect_timeout)
            .map_err(|error| {
                ExecError::internal(format!("cannot build the http client: {}", describe(error)))
            })
    }

    /// Adds the body; file parts are fetched now (their bytes stream during the send).
    async fn with_body(
        &self,
        target: &Target<'_>,
        builder: RequestBuilder,
        body: &RequestBody,
        fault: &FileFault,
    ) -> Result<RequestBuilder, ExecError> {
        Ok(match body {
            RequestBody::Empty => builder,
            RequestBody::Json(value) => builder.json(value),
            RequestBody::Multipart(parts) => {
                let (client, limits) = self.file_client(target)?;
                let network = self.inner.clients.network();
                let form = build_form(&client, network, parts, limits, fault)
                    .await
                    .map_err(|()| ExecError::internal("a file part failed without a reason"))?;
                builder.multipart(form)
            }
            RequestBody::JsonWithFiles { body, files } => {
                let (client, limits) = self.file_client(target)?;
                let network = self.inner.clients.network();
                let body = embed_files(&client, network, body, files, limits, fault)
                    .await
                    .map_err(|()| ExecError::internal("a file failed without a reason"))?;
                builder.json(&body)
            }
        })
    }

    /// The client that fetches files, and the limits of one fetch.
    fn file_client(
        &self,
        target: &Target<'_>,
    ) -> Result<(reqwest::Client, FetchLimits), ExecError> {
        let settings = &target.settings;
        let client = self.client(Purpose::Files, settings.connect_timeout)?;
        let limits = FetchLimits {
            max_bytes: settings.max_file_bytes,
            timeout: settings.request_timeout,
        };
        Ok((client, limits))
    }
}

/// One provider call, as every attempt at it needs it.
struct Call<'t, 'r> {
    target: &'r Target<'t>,
    request: &'r ProviderRequest,
    url: Url,
    headers: HeaderMap,
    client: reqwest::Client,
    limits: Vec<(&'r str, &'r RateLimit)>,
    policy: Policy<'r>,
    /// Told of every retry.
    observer: &'r dyn Observer,
}

impl Call<'_, '_> {
    /// What the retry policy makes of an answer: the exchange to return, or how long to wait
    /// before the next attempt.
    fn after_answer(&self, exchange: Exchange, attempt: u32) -> Result<Exchange, Duration> {
        let (request, method) = (self.request, self.request.method);
        let verdict = self.policy.after_status(
            request.is_idempotent(),
            exchange.status,
            |name| exchange.header(name),
            attempt,
            SystemTime::now(),
        );
        match within_deadline(verdict, self.target) {
            Verdict::Retry(wait) => {
                tracing::warn!(
                    step = %request.step,
                    method = method.as_str(),
                    attempt,
                    status = exchange.status,
                    wait_ms = millis(wait),
                    "provider call answered with a retryable status; retrying"
                );
                self.observer.retry(
                    &self.target.integration.name,
                    &request.step,
                    RetryReason::Status(exchange.status),
                );
                Err(wait)
            }
            Verdict::Stop(stop) => {
                log_stop(stop, request, &exchange, &self.target.settings);
                Ok(exchange)
            }
        }
    }

    /// What the retry policy makes of a failed attempt: how long to wait before the next one,
    /// or the transport error that ends the call.
    fn after_failure(&self, failure: AttemptError, attempt: u32) -> Result<Duration, ExecError> {
        let (request, method) = (self.request, self.request.method);
        let settings = &self.target.settings;
        let (kind, reached, message) = failure.classify(settings.max_response_bytes);
        let verdict = self
            .policy
            .after_failure(request.is_idempotent(), kind, reached, attempt);
        match within_deadline(verdict, self.target) {
            Verdict::Retry(wait) => {
                tracing::warn!(
                    step = %request.step,
                    method = method.as_str(),
                    attempt,
                    error = kind.as_str(),
                    wait_ms = millis(wait),
                    "provider call failed before an answer; retrying"
                );
                self.observer.retry(
                    &self.target.integration.name,
                    &request.step,
                    RetryReason::Transport(kind.as_str()),
                );
                Ok(wait)
            }
            Verdict::Stop(stop) => {
                tracing::debug!(
                    step = %request.step,
                    method = method.as_str(),
                    attempt,
                    error = kind.as_str(),
                    may_have_reached_provider = reached,
                    past_deadline = stop == Stop::PastDeadline,
                    "provider call failed"
                );
                Err(ExecErrorKind::Transport(TransportError {
                    step: request.step.clone(),
                    method,
                    url: redact::origin_and_path(&self.url),
                    kind,
                    may_have_reached_provider: reached,
                    attempts: attempt,
                    message,
                })
                .into())
            }
        }
    }
}

/// A retry whose wait would end past the run's deadline is not made.
fn within_deadline(verdict: Verdict, target: &Target<'_>) -> Verdict {
    match verdict {
        Verdict::Retry(wait) if Instant::now() + wait >= target.deadline => {
            Verdict::Stop(Stop::PastDeadline)
        }
        other => other,
    }
}

/// Logs why an answered call is not sent again.
fn log_stop(stop: Stop, request: &ProviderRequest, exchange: &Exchange, settings: &Settings) {
    match stop {
        Stop::RetryAfterTooLong => tracing::info!(
            step = %request.step,
            attempt = exchange.attempts,
            status = exchange.status,
            max_retry_after_secs = settings.retry.max_retry_after_secs,
            "provider asked to wait longer than the retry policy allows; not retrying"
        ),
        Stop::PastDeadline => tracing::info!(
            step = %request.step,
            attempt = exchange.attempts,
            status = exchange.status,
            "the wait before a retry would pass the run's deadline; not retrying"
        ),
        Stop::NotRetryable | Stop::Exhausted => {}
    }
    tracing::debug!(
        step = %request.step,
        method = request.method.as_str(),
        status = exchange.status,
        attempts = exchange.attempts,
        duration_ms = exchange.duration_ms,
        "provider call"
    );
}

/// The error for a call refused because of its address.
fn forbidden(request: &ProviderRequest, url: &Url, address: IpAddr) -> ExecError {
    tracing::debug!(step = %request.step, %address, "provider call refused: the address is not public");
    ExecErrorKind::ForbiddenAddress {
        step: request.step.clone(),
        url: redact::origin_and_path(url),
        address,
    }
    .into()
}

/// Counts the request's files against the run's limit.
fn count_files(
    target: &Target<'_>,
    request: &ProviderRequest,
    max_files: usize,
) -> Result<(), ExecError> {
    let urls: Vec<&str> = match &request.body {
        RequestBody::Multipart(parts) => parts
            .iter()
            .filter_map(|part| match part {
                MultipartPart::Fetch { url, .. } => Some(url.as_str()),
                MultipartPart::Text { .. } => None,
            })
            .collect(),
        RequestBody::JsonWithFiles { files, .. } => {
            files.iter().map(|file| file.url.as_str()).collect()
        }
        RequestBody::Empty | RequestBody::Json(_) => return Ok(()),
    };
    let count = urls.len();
    let before = target.files_fetched.fetch_add(count, Ordering::Relaxed);
    if before + count <= max_files {
        return Ok(());
    }
    let first_refused = urls
        .get(max_files.saturating_sub(before))
        .copied()
        .unwrap_or_default();
    Err(ExecErrorKind::File(FileError {
        step: request.step.clone(),
        url: redact::origin_and_path_text(first_refused),
        kind: FileErrorKind::TooMany { max_files },
    })
    .into())
}

/// The file error recorded in `fault`, if the attempt failed because of a file.
fn file_error(request: &ProviderRequest, fault: &FileFault) -> Option<ExecError> {
    let (url, kind) = fault.get()?;
    tracing::debug!(step = %request.step, file = %url, "file refused or failed");
    Some(
        ExecErrorKind::File(FileError {
            step: request.step.clone(),
            url,
            kind,
        })
        .into(),
    )
}

/// The prepared headers in reqwest's form, the credential's marked sensitive (so `Debug` never
/// shows it). Core checked every name and value; one that reqwest still refuses is reported as
/// the mapping's fault.
fn header_map(request: &ProviderRequest, prepared: &[Header]) -> Result<HeaderMap, ExecError> {
    let mut headers = HeaderMap::with_capacity(prepared.len());
    for header in prepared {
        let invalid = |part| {
            let error = PrepareError::InvalidHeader {
                step: request.step.clone(),
                name: header.name().to_owned(),
                part,
            };
            ExecError::from_run(error.into(), Vec::new())
        };
        let name = HeaderName::from_bytes(header.name().as_bytes())
            .map_err(|_| invalid(HeaderPart::Name))?;
        let mut value =
            HeaderValue::from_str(header.value()).map_err(|_| invalid(HeaderPart::Value))?;
        value.set_sensitive(header.is_sensitive());
        headers.append(name, value);
    }
    Ok(headers)
}

/// The buckets a call counts against: `default`, plus the request's own when the integration
/// defines it.
fn rate_limits<'a>(
    target: &Target<'a>,
    request: &'a ProviderRequest,
) -> Vec<(&'a str, &'a RateLimit)> {
    let buckets = &target.integration.rate_limits;
    let mut limits: Vec<(&str, &RateLimit)> = buckets
        .get_key_value(DEFAULT_BUCKET)
        .map(|(name, spec)| (name.as_str(), spec))
        .into_iter()
        .collect();
    if let Some(name) = request
        .rate_limit
        .as_deref()
        .filter(|name| *name != DEFAULT_BUCKET)
    {
        match buckets.get_key_value(name) {
            Some((name, spec)) => limits.push((name.as_str(), spec)),
            None => {
                tracing::debug!(step = %request.step, bucket = name, "rate limit bucket not defined; ignored")
            }
        }
    }
    limits
}

/// Sends and reads the whole answer, up to `max_bytes`.
async fn read(builder: RequestBuilder, max_bytes: u64) -> Result<Answer, AttemptError> {
    let mut response = builder.send().await.map_err(AttemptError::Send)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    let announced = response.content_length();
    if announced.is_some_and(|length| length > max_bytes) {
        return Err(AttemptError::TooLarge);
    }
    // One buffer of the announced size when there is one; the bytes are copied into it once.
    let mut body = BytesMut::with_capacity(usize::try_from(announced.unwrap_or(0)).unwrap_or(0));
    while let Some(chunk) = response.chunk().await.map_err(AttemptError::Read)? {
        if (body.len() + chunk.len()) as u64 > max_bytes {
            return Err(AttemptError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status,
        headers,
        content_type,
        body: body.freeze(),
    })
}

/// Whether a connect error is a TLS failure: rustls reports handshake and certificate errors as
/// I/O errors of kind `InvalidData`, which the connector may wrap in another I/O error (whose
/// `source` skips the wrapped one, so it is looked into with `get_ref`).
fn is_tls(error: &reqwest::Error) -> bool {
    fn invalid_data(io: &std::io::Error) -> bool {
        io.kind() == std::io::ErrorKind::InvalidData
            || io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<std::io::Error>())
                .is_some_and(invalid_data)
    }
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = current {
        if cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(invalid_data)
        {
            return true;
        }
        current = cause.source();
    }
    false
}

fn reqwest_method(method: HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Delete => Method::DELETE,
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
