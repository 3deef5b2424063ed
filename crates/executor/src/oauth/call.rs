//! Provider calls of OAuth accounts: the current access token goes in the scheme's header; a
//! 401 renews it once and sends the call again when that cannot duplicate anything.

use reqwest::Url;
use serde_json::Value;
use switchboard_core::{Endpoint, HttpMethod, OAuthFlow, ProviderRequest};

use crate::address::Refusal;
use crate::client::Purpose;
use crate::error::{ExecError, ExecErrorKind};
use crate::exchange::Exchange;
use crate::executor::{Executor, Target};
use crate::redact;

use super::error::{OAuthError, OAuthErrorKind};
use super::manager::Renewal;

impl Executor {
    /// Sends `request` for the target with its credentials: as they are for static schemes; for
    /// an OAuth scheme with the current access token, renewed once and the call sent again when
    /// the provider answers 401 and sending again is safe ([`may_send_again`]).
    pub(crate) async fn exchange(
        &self,
        target: &Target<'_>,
        request: &ProviderRequest,
    ) -> Result<Exchange, ExecError> {
        if self.inner.options.refuse_provider_calls {
            return Err(ExecErrorKind::ProviderCallsRefused {
                step: request.step.clone(),
            }
            .into());
        }
        let Some(flow) = target.oauth else {
            let Some(endpoint) = &target.endpoint else {
                return Err(ExecError::internal(
                    "the account's endpoint was not resolved",
                ));
            };
            return self.exchange_with(target, request, endpoint).await;
        };
        let token = self.access_token(target, request, flow, None).await?;
        let endpoint = with_token(target, flow, &token)?;
        let first = self.exchange_with(target, request, &endpoint).await?;
        if first.status != 401 || !may_send_again(request.method, &first) {
            return Ok(first);
        }
        tracing::info!(
            step = %request.step,
            method = request.method.as_str(),
            "the provider refused the access token; renewing it and sending the call again"
        );
        let renewed = self
            .access_token(target, request, flow, Some(&token))
            .await?;
        let endpoint = with_token(target, flow, &renewed)?;
        let mut again = self.exchange_with(target, request, &endpoint).await?;
        again.attempts += first.attempts;
        Ok(again)
    }

    /// The account's access token for `flow`, `rejected` being one the provider just refused.
    async fn access_token(
        &self,
        target: &Target<'_>,
        request: &ProviderRequest,
        flow: &OAuthFlow,
        rejected: Option<&str>,
    ) -> Result<String, ExecError> {
        let fail = |kind: OAuthErrorKind, message: String| {
            ExecError::from(ExecErrorKind::OAuth(Box::new(OAuthError {
                integration: target.integration.name.clone(),
                account: target.account.id.clone(),
                kind,
                message,
            })))
        };
        let url = Url::parse(&flow.token_url).map_err(|error| {
            fail(
                OAuthErrorKind::TokenEndpoint { status: None },
                format!("the token url is not valid: {error}"),
            )
        })?;
        let network = self.inner.clients.network();
        match network.check_before_sending(Purpose::Provider, &url).await {
            Ok(()) => {}
            Err(Refusal::Forbidden(address)) => {
                return Err(ExecErrorKind::ForbiddenAddress {
                    step: request.step.clone(),
                    url: redact::origin_and_path(&url),
                    address,
                }
                .into());
            }
            Err(Refusal::Unresolved(message)) => {
                return Err(fail(
                    OAuthErrorKind::TokenEndpoint { status: None },
                    message,
                ));
            }
        }
        let http = self
            .inner
            .clients
            .get(Purpose::Provider, target.settings.connect_timeout)
            .map_err(|error| {
                ExecError::internal(format!(
                    "cannot build the http client: {}",
                    crate::error::describe(error)
                ))
            })?;
        // Token parameters read only the account's public context (checked at load as well).
        let public = target.integration.public_context(&target.account.context);
        let parameters = flow.token_parameters.render(&public).map_err(|message| {
            fail(
                OAuthErrorKind::NeedsReauth,
                format!("the account's context cannot build the token request: {message}"),
            )
        })?;
        let renewal = Renewal {
            integration: &target.integration.name,
            account: &target.account.id,
            context: &target.account.context,
            flow,
            parameters,
            http: &http,
            url,
            timeout: target.settings.request_timeout,
            deadline: target.deadline,
        };
        self.inner
            .tokens
            .token(&renewal, rejected)
            .await
            .map_err(|error| ExecErrorKind::OAuth(Box::new(error)).into())
    }
}

/// The account's endpoint with `token` in its context under the flow's token slot: core builds
/// the header from it, exactly as for any other scheme.
fn with_token(target: &Target<'_>, flow: &OAuthFlow, token: &str) -> Result<Endpoint, ExecError> {
    let mut context = target.account.context.clone();
    context.insert(
        flow.token_slot().to_owned(),
        Value::String(token.to_owned()),
    );
    crate::executor::endpoint(target.integration, target.account, &context)
}

/// Whether a call the provider answered 401 may be sent again with a renewed token: a read (or
/// another idempotent method) always; a POST or PATCH only when the answer proves the request
/// was refused at authentication, before anything was processed — RFC 6750 §3.1's
/// `WWW-Authenticate: Bearer error="invalid_token"`.
pub(crate) fn may_send_again(method: HttpMethod, answer: &Exchange) -> bool {
    match method {
        HttpMethod::Get | HttpMethod::Put | HttpMethod::Delete => true,
        HttpMethod::Post | HttpMethod::Patch => answer
            .header("www-authenticate")
            .is_some_and(proves_invalid_token),
    }
}

/// Whether a `WWW-Authenticate` value is a Bearer challenge with `error="invalid_token"`.
fn proves_invalid_token(challenge: &str) -> bool {
    let lower = challenge.to_ascii_lowercase();
    lower.trim_start().starts_with("bearer")
        && lower
            .split(',')
            .flat_map(|part| part.split_whitespace())
            .any(|part| {
                part.strip_prefix("error=")
                    .is_some_and(|value| value.trim_matches('"') == "invalid_token")
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_invalid_token_challenge_proves_a_create_was_not_processed() {
        assert!(proves_invalid_token(
            r#"Bearer realm="api", error="invalid_token", error_description="expired""#
        ));
        assert!(proves_invalid_token(r#"Bearer error=invalid_token"#));
        assert!(!proves_invalid_token(r#"Bearer realm="api""#));
        assert!(!proves_invalid_token(r#"Basic error="invalid_token""#));
        assert!(!proves_invalid_token(
            r#"Bearer error="insufficient_scope""#
        ));
    }
}
