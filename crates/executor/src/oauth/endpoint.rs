//! One request to a token endpoint (RFC 6749 §4.4.2, §6): a form POST, the client
//! authenticated by HTTP Basic or in the body, the answer read as §5.1 (success) or §5.2 (error).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde_json::Value;
use switchboard_core::{ClientAuthentication, OAuthFlow};
use url::form_urlencoded;

use super::error::OAuthErrorKind;

/// The largest token answer read.
const MAX_TOKEN_ANSWER_BYTES: usize = 64 * 1024;
/// The most of the endpoint's `error_description` kept in a message.
const MAX_DESCRIPTION_CHARS: usize = 200;

/// The grant of one token request, with its credential.
pub(super) enum Grant<'a> {
    /// `grant_type=client_credentials`, with the flow's scopes.
    ClientCredentials,
    /// `grant_type=refresh_token`.
    Refresh { refresh_token: &'a str },
    /// `grant_type=authorization_code` with PKCE (RFC 7636): the connect flow's exchange.
    Code {
        code: &'a str,
        redirect_uri: &'a str,
        code_verifier: &'a str,
    },
}

/// The client the request authenticates as.
pub(super) struct Client<'a> {
    pub(super) id: &'a str,
    pub(super) secret: &'a str,
}

/// What a successful token answer carries.
pub(super) struct Issued {
    pub(super) access_token: String,
    pub(super) refresh_token: Option<String>,
    pub(super) expires_in: Option<i64>,
}

/// A failed token request: what kind, and why in words without secrets.
pub(super) struct Refused {
    pub(super) kind: OAuthErrorKind,
    pub(super) message: String,
}

/// The form body of a token request: the grant's parameters, then `parameters` (the flow's
/// extra ones, rendered for the account), then the client when it authenticates in the body.
pub(super) fn form(
    flow: &OAuthFlow,
    grant: &Grant<'_>,
    client: &Client<'_>,
    parameters: &[(String, String)],
) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    match grant {
        Grant::ClientCredentials => {
            form.append_pair("grant_type", "client_credentials");
            if let Some(scope) = flow.scope_parameter() {
                form.append_pair("scope", &scope);
            }
        }
        Grant::Refresh { refresh_token } => {
            form.append_pair("grant_type", "refresh_token");
            form.append_pair("refresh_token", refresh_token);
        }
        Grant::Code {
            code,
            redirect_uri,
            code_verifier,
        } => {
            form.append_pair("grant_type", "authorization_code");
            form.append_pair("code", code);
            form.append_pair("redirect_uri", redirect_uri);
            form.append_pair("code_verifier", code_verifier);
        }
    }
    for (name, value) in parameters {
        form.append_pair(name, value);
    }
    if flow.client_authentication == ClientAuthentication::Body {
        form.append_pair("client_id", client.id);
        form.append_pair("client_secret", client.secret);
    }
    form.finish()
}

/// The `Authorization` header of a token request with Basic client authentication: the client
/// id and secret are form-encoded before being joined (RFC 6749 §2.3.1).
pub(super) fn basic_header(flow: &OAuthFlow, client: &Client<'_>) -> Option<HeaderValue> {
    if flow.client_authentication != ClientAuthentication::Basic {
        return None;
    }
    let encode = |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", encode(client.id), encode(client.secret));
    let mut value = HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(pair))).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// Sends a token request (with `parameters`, the flow's extra ones rendered for the account)
/// and reads its answer.
pub(super) async fn request(
    http: &reqwest::Client,
    url: reqwest::Url,
    flow: &OAuthFlow,
    grant: &Grant<'_>,
    client: &Client<'_>,
    parameters: &[(String, String)],
    timeout: std::time::Duration,
) -> Result<Issued, Refused> {
    let mut builder = http
        .post(url)
        .timeout(timeout)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ACCEPT, "application/json")
        .body(form(flow, grant, client, parameters));
    if let Some(value) = basic_header(flow, client) {
        builder = builder.header(AUTHORIZATION, value);
    }
    let mut response = builder.send().await.map_err(|error| Refused {
        kind: OAuthErrorKind::TokenEndpoint { status: None },
        message: crate::error::describe(error),
    })?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() <= MAX_TOKEN_ANSWER_BYTES => {
                body.extend_from_slice(&chunk);
            }
            Ok(Some(_)) => {
                return Err(Refused {
                    kind: OAuthErrorKind::TokenEndpoint {
                        status: Some(status),
                    },
                    message: format!("the answer is larger than {MAX_TOKEN_ANSWER_BYTES} bytes"),
                });
            }
            Ok(None) => break,
            Err(error) => {
                return Err(Refused {
                    kind: OAuthErrorKind::TokenEndpoint {
                        status: Some(status),
                    },
                    message: crate::error::describe(error),
                });
            }
        }
    }
    read_answer(status, &body, grant)
}

/// Reads a token answer: §5.1 on a 2xx, §5.2 otherwise.
pub(super) fn read_answer(status: u16, body: &[u8], grant: &Grant<'_>) -> Result<Issued, Refused> {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    if (200..300).contains(&status) {
        return issued(parsed.as_ref()).ok_or_else(|| Refused {
            kind: OAuthErrorKind::TokenEndpoint {
                status: Some(status),
            },
            message: "the answer holds no `access_token` string".to_owned(),
        });
    }
    let code = parsed
        .as_ref()
        .and_then(|value| value.get("error"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let description = parsed
        .as_ref()
        .and_then(|value| value.get("error_description"))
        .and_then(Value::as_str)
        .map(|text| text.chars().take(MAX_DESCRIPTION_CHARS).collect::<String>());
    let refused_grant = code == "invalid_grant"
        || (matches!(grant, Grant::ClientCredentials) && code == "invalid_client");
    let kind = if refused_grant {
        OAuthErrorKind::NeedsReauth
    } else {
        OAuthErrorKind::TokenEndpoint {
            status: Some(status),
        }
    };
    let message = match (code, description) {
        ("", _) => format!("http {status}"),
        (code, Some(description)) => format!("http {status} `{code}`: {description}"),
        (code, None) => format!("http {status} `{code}`"),
    };
    Err(Refused { kind, message })
}

fn issued(answer: Option<&Value>) -> Option<Issued> {
    let answer = answer?;
    let access_token = answer.get("access_token")?.as_str()?.to_owned();
    if access_token.is_empty() {
        return None;
    }
    let expires_in = answer.get("expires_in").and_then(|value| {
        value
            .as_i64()
            .or_else(|| value.as_str().and_then(|text| text.parse().ok()))
    });
    let refresh_token = answer
        .get("refresh_token")
        .and_then(Value::as_str)
        .filter(|token| !token.is_empty())
        .map(str::to_owned);
    Some(Issued {
        access_token,
        refresh_token,
        expires_in,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use switchboard_core::{OAuthGrant, TokenParameters};

    use super::*;

    fn flow(authentication: ClientAuthentication) -> OAuthFlow {
        OAuthFlow {
            grant: OAuthGrant::ClientCredentials {
                client_id_key: "client_id".to_owned(),
                client_secret_key: "client_secret".to_owned(),
            },
            token_url: "https://auth.example.com/token".to_owned(),
            scopes: vec!["jobs:read".to_owned(), "candidates:write".to_owned()],
            client_authentication: authentication,
            token_parameters: TokenParameters::compile(&BTreeMap::from([(
                "audience".to_owned(),
                "api".to_owned(),
            )])),
            header_name: "authorization".to_owned(),
            header_prefix: "Bearer ".to_owned(),
        }
    }

    const CLIENT: Client<'static> = Client {
        id: "id:1",
        secret: "s&cret",
    };

    fn extra(flow: &OAuthFlow) -> Vec<(String, String)> {
        flow.token_parameters
            .render(&serde_json::Map::new())
            .unwrap()
    }

    #[test]
    fn client_credentials_form_carries_scopes_and_extra_parameters() {
        let basic = flow(ClientAuthentication::Basic);
        let body = form(&basic, &Grant::ClientCredentials, &CLIENT, &extra(&basic));
        assert_eq!(
            body,
            "grant_type=client_credentials&scope=jobs%3Aread+candidates%3Awrite&audience=api"
        );
        let in_body = flow(ClientAuthentication::Body);
        let body = form(
            &in_body,
            &Grant::Refresh {
                refresh_token: "r t",
            },
            &CLIENT,
            &extra(&in_body),
        );
        assert_eq!(
            body,
            "grant_type=refresh_token&refresh_token=r+t&audience=api&client_id=id%3A1&client_secret=s%26cret"
        );
    }

    #[test]
    fn basic_client_authentication_form_encodes_before_joining() {
        let header = basic_header(&flow(ClientAuthentication::Basic), &CLIENT).unwrap();
        let expected = format!("Basic {}", STANDARD.encode("id%3A1:s%26cret"));
        assert_eq!(header.to_str().unwrap(), expected);
        assert!(header.is_sensitive());
        assert!(basic_header(&flow(ClientAuthentication::Body), &CLIENT).is_none());
    }

    #[test]
    fn invalid_grant_needs_reauth_and_messages_hold_no_token() {
        let refresh = Grant::Refresh {
            refresh_token: "secret-refresh",
        };
        let refused = read_answer(
            400,
            br#"{"error":"invalid_grant","error_description":"revoked"}"#,
            &refresh,
        )
        .err()
        .unwrap();
        assert_eq!(refused.kind, OAuthErrorKind::NeedsReauth);
        assert_eq!(refused.message, "http 400 `invalid_grant`: revoked");
        let refused = read_answer(401, br#"{"error":"invalid_client"}"#, &refresh)
            .err()
            .unwrap();
        assert_eq!(
            refused.kind,
            OAuthErrorKind::TokenEndpoint { status: Some(401) },
            "a refused app is the operator's problem, not the account's"
        );
        let refused = read_answer(
            401,
            br#"{"error":"invalid_client"}"#,
            &Grant::ClientCredentials,
        )
        .err()
        .unwrap();
        assert_eq!(refused.kind, OAuthErrorKind::NeedsReauth);
    }

    #[test]
    fn a_success_needs_an_access_token_and_reads_expiry_and_rotation() {
        let issued = read_answer(
            200,
            br#"{"access_token":"a","expires_in":"3600","refresh_token":"r2","token_type":"Bearer"}"#,
            &Grant::ClientCredentials,
        )
        .ok()
        .unwrap();
        assert_eq!(issued.access_token, "a");
        assert_eq!(issued.expires_in, Some(3600));
        assert_eq!(issued.refresh_token.as_deref(), Some("r2"));
        assert!(
            read_answer(
                200,
                br#"{"token_type":"Bearer"}"#,
                &Grant::ClientCredentials
            )
            .is_err()
        );
        assert!(read_answer(200, b"not json", &Grant::ClientCredentials).is_err());
    }
}
