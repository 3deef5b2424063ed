//! `POST /v1/postings/{posting}/apply`: applying (dedupe by email). The form is in `postings`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::error::LeverError;
use super::super::model::{Application, ContactDetails, ORIGINS, Opportunity, Phone};
use super::super::state::Shared;
use super::super::store::new_id;
use super::{parse_body, query_pairs, query_value};

/// The body of `POST /v1/postings/{posting}/apply`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApplyBody {
    personal_information: Option<Vec<Answer>>,
    urls: Option<Vec<Answer>>,
    custom_questions: Option<Vec<Value>>,
    source: Option<String>,
    origin: Option<String>,
}

/// One `{name, value}` entry of `personalInformation` or `urls`.
#[derive(Debug, Deserialize)]
struct Answer {
    name: String,
    value: Option<Value>,
}

/// The answers of a form group by name: string values, trimmed, empty ones left out.
struct Answers(Vec<(String, String)>);

impl Answers {
    fn new(group: &str, answers: Option<Vec<Answer>>) -> Result<Answers, LeverError> {
        let mut values = Vec::new();
        for answer in answers.unwrap_or_default() {
            match answer.value {
                None | Some(Value::Null) => {}
                Some(Value::String(text)) if text.trim().is_empty() => {}
                Some(Value::String(text)) => values.push((answer.name, text.trim().to_owned())),
                Some(_) => {
                    return Err(LeverError::bad_request(format!(
                        "{group} `{}` must have a string value",
                        answer.name
                    )));
                }
            }
        }
        Ok(Answers(values))
    }

    fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    }

    fn values(self) -> Vec<String> {
        self.0.into_iter().map(|(_, value)| value).collect()
    }
}

/// `POST /v1/postings/{posting}/apply?send_confirmation_email=…`: creates an opportunity with one
/// application and answers `{"data": {"applicationId": "…"}}`.
pub(super) async fn apply(
    State(shared): State<Arc<Shared>>,
    Path(posting): Path<String>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Json<Value>, LeverError> {
    if !shared.store().has_posting(&posting) {
        return Err(posting_not_found(&posting));
    }
    let query = query_pairs(raw);
    if let Some(value) = query_value(&query, "send_confirmation_email")
        && value != "true"
        && value != "false"
    {
        return Err(LeverError::bad_request(format!(
            "invalid send_confirmation_email `{value}`; expected true or false"
        )));
    }
    let body: ApplyBody = parse_body(&body, true)?;
    let personal = Answers::new("personalInformation", body.personal_information)?;
    let urls = Answers::new("urls", body.urls)?;
    let full_name = personal
        .get("fullName")
        .ok_or_else(|| LeverError::bad_request("personalInformation `fullName` is required"))?;
    let email = personal
        .get("email")
        .ok_or_else(|| LeverError::bad_request("personalInformation `email` is required"))?;
    if !email.contains('@') {
        return Err(LeverError::bad_request(format!("invalid email `{email}`")));
    }
    let custom_questions = body.custom_questions.unwrap_or_default();
    if let Some(bad) = custom_questions.iter().position(|card| {
        !card.get("id").is_some_and(Value::is_string)
            || !card.get("fields").is_some_and(Value::is_array)
    }) {
        return Err(LeverError::bad_request(format!(
            "customQuestions[{bad}] must be an object with a string `id` and an array `fields`"
        )));
    }
    let origin = body.origin.unwrap_or_else(|| "applied".to_owned());
    if !ORIGINS.contains(&origin.as_str()) {
        return Err(LeverError::bad_request(format!(
            "invalid origin `{origin}`"
        )));
    }

    let phone = personal.get("phone").map(|value| Phone {
        kind: "other".to_owned(),
        value,
    });
    let company = personal.get("currentCompany");
    let comments = personal.get("additionalInformation");
    let links = urls.values();
    let details = ContactDetails {
        name: Some(full_name.clone()),
        headline: None,
        location: personal.get("currentLocation"),
        emails: vec![email.clone()],
        phones: phone.iter().cloned().collect(),
        links: links.clone(),
    };

    let mut store = shared.store();
    let now = store.now();
    let (contact, _deduped) = store.resolve_contact(None, details)?;
    let id = new_id();
    let application_id = new_id();
    store.insert(Opportunity {
        id: id.clone(),
        contact,
        stage: "applicant-new".to_owned(),
        origin,
        confidentiality: "non-confidential",
        tags: Vec::new(),
        sources: body.source.into_iter().collect(),
        owner: None,
        followers: Vec::new(),
        archived: None,
        applications: vec![Application {
            id: application_id.clone(),
            opportunity_id: id,
            kind: "posting",
            posting,
            user: None,
            name: Some(full_name),
            email: Some(email),
            phone,
            company,
            links,
            comments,
            custom_questions,
            created_at: now,
        }],
        created_at: now,
        updated_at: now,
        last_interaction_at: now,
        last_advanced_at: now,
        stage_user: None,
    });
    Ok(Json(json!({ "data": { "applicationId": application_id } })))
}

fn posting_not_found(posting: &str) -> LeverError {
    LeverError::not_found(format!("posting `{posting}` not found"))
}
