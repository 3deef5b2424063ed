//! The OAuth connect flow's routes in the OpenAPI document.

use serde_json::{Map, Value, json};
use switchboard_core::{IntegrationPlan, OAuthGrant, Registry};

use super::component;

/// The integrations a client can connect through the OAuth authorization-code flow.
fn connectable(registry: &Registry) -> impl Iterator<Item = &IntegrationPlan> {
    registry
        .integrations()
        .filter(|plan| {
            plan.auth
                .iter()
                .filter_map(|scheme| scheme.oauth())
                .any(|flow| matches!(flow.grant, OAuthGrant::AuthorizationCode { .. }))
        })
        .map(|plan| plan.as_ref())
}

/// The OAuth connect flow: for each integration that has one, its start (a redirect to the
/// provider's authorisation page, taking the integration's public context fields), and the
/// callback the provider sends the user's browser to. All are a 404 `connect_not_configured`
/// until the server has a connect callback URL.
pub(super) fn connect_paths(registry: &Registry) -> Map<String, Value> {
    let error = json!({"description": "Error", "content": {"application/json": {"schema": component("Error")}}});
    let mut paths = Map::new();
    for plan in connectable(registry) {
        let fields: Map<String, Value> = plan
            .context_fields
            .keys()
            .map(|field| (field.clone(), json!({"type": "string"})))
            .collect();
        let start = json!({"get": {
            "operationId": format!("connect_{}", plan.name),
            "tags": ["connect"],
            "summary": format!("Start connecting a `{}` account: a redirect to its authorisation page", plan.name),
            "parameters": [
                {"name": "environment", "in": "query", "required": false, "schema": {"type": "string"},
                 "description": "The account's environment (checked when the account is created)"},
                {"name": "base_url", "in": "query", "required": false, "schema": {"type": "string"},
                 "description": "The account's base URL (checked when the account is created, as in `NewIntegratedAccount`)"},
                {"name": "context", "in": "query", "required": false, "style": "form", "explode": true,
                 "schema": {"type": "object", "properties": fields, "additionalProperties": false},
                 "description": "The integration's public context fields, each its own parameter (`subdomain=acme`); any other name is a 400 (credentials come from the flow)"}],
            "responses": {
                "303": {"description": "To the provider's authorisation page, with a sealed `state` valid 10 minutes",
                        "headers": {"Location": {"required": true, "schema": {"type": "string"}}}},
                "404": error.clone(),
                "422": {"description": "No OAuth app is configured for the integration (`oauth_app_not_configured`)",
                        "content": {"application/json": {"schema": component("Error")}}}}}});
        paths.insert(format!("/connect/{}", plan.name), start);
    }
    if paths.is_empty() {
        return paths;
    }
    let callback = json!({"get": {
        "operationId": "connect_callback", "tags": ["connect"], "security": [],
        "summary": "Where the provider sends the user back: the code is exchanged and the account created",
        "parameters": [
            {"name": "code", "in": "query", "required": false, "schema": {"type": "string"}},
            {"name": "state", "in": "query", "required": false, "schema": {"type": "string"},
             "description": "The sealed state of the start, as the provider hands it back; any other (missing, altered, expired) is a 400"},
            {"name": "error", "in": "query", "required": false, "schema": {"type": "string"},
             "description": "The provider's refusal (a 400 `authorization_denied`)"}],
        "responses": {
            "201": {"description": "The account, shown as `GET /integrated-account/{id}` shows it",
                    "content": {"application/json": {"schema": component("IntegratedAccount")}}},
            "400": error.clone(),
            "403": {"description": "This server calls no provider (`provider_calls_refused`)",
                    "content": {"application/json": {"schema": component("Error")}}},
            "404": error.clone(),
            "422": error,
            "502": {"description": "The provider's token endpoint failed (`oauth_token_error`)",
                    "content": {"application/json": {"schema": component("Error")}}}}}});
    paths.insert("/connect/callback".to_owned(), callback);
    paths
}
