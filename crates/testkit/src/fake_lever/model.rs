//! Lever's records as the fake keeps them, and their JSON shapes (epoch-millisecond timestamps).

use serde::Serialize;
use serde_json::{Value, json};

/// The phone types Lever accepts.
pub(crate) const PHONE_TYPES: [&str; 5] = ["mobile", "home", "work", "skype", "other"];

/// The opportunity origins Lever accepts.
pub(crate) const ORIGINS: [&str; 6] = [
    "agency",
    "applied",
    "internal",
    "referred",
    "sourced",
    "university",
];

/// A phone number on a contact or an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Phone {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) value: String,
}

/// A person. Opportunities show their contact's aggregated details.
#[derive(Debug, Clone)]
pub(crate) struct Contact {
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) headline: Option<String>,
    pub(crate) location: Option<String>,
    pub(crate) emails: Vec<String>,
    pub(crate) phones: Vec<Phone>,
    pub(crate) links: Vec<String>,
}

/// What a request says about a person; merged into a new or existing [`Contact`].
#[derive(Debug, Default)]
pub(crate) struct ContactDetails {
    pub(crate) name: Option<String>,
    pub(crate) headline: Option<String>,
    pub(crate) location: Option<String>,
    pub(crate) emails: Vec<String>,
    pub(crate) phones: Vec<Phone>,
    pub(crate) links: Vec<String>,
}

impl Contact {
    /// A contact made of `details` alone.
    pub(crate) fn new(id: String, details: ContactDetails) -> Contact {
        let mut contact = Contact {
            id,
            name: None,
            headline: None,
            location: None,
            emails: Vec::new(),
            phones: Vec::new(),
            links: Vec::new(),
        };
        contact.merge(details);
        contact
    }

    /// Adds `details` as Lever does on dedupe: existing single values win, new emails, phones and
    /// links are added.
    pub(crate) fn merge(&mut self, details: ContactDetails) {
        self.name = self.name.take().or(details.name);
        self.headline = self.headline.take().or(details.headline);
        self.location = self.location.take().or(details.location);
        for email in details.emails {
            if !self.has_email(&email) {
                self.emails.push(email);
            }
        }
        push_unique(&mut self.phones, details.phones);
        push_unique(&mut self.links, details.links);
    }

    /// Whether the contact has `email` (case-insensitive).
    pub(crate) fn has_email(&self, email: &str) -> bool {
        self.emails
            .iter()
            .any(|known| known.eq_ignore_ascii_case(email))
    }
}

/// An application: a person applied (or was added) to a posting.
#[derive(Debug, Clone)]
pub(crate) struct Application {
    pub(crate) id: String,
    pub(crate) opportunity_id: String,
    /// `posting` (applied through the jobs page) or `user` (added by a user).
    pub(crate) kind: &'static str,
    pub(crate) posting: String,
    pub(crate) user: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) phone: Option<Phone>,
    pub(crate) company: Option<String>,
    pub(crate) links: Vec<String>,
    pub(crate) comments: Option<String>,
    pub(crate) custom_questions: Vec<Value>,
    pub(crate) created_at: i64,
}

impl Application {
    /// The application object Lever returns with `expand=applications`.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "opportunityId": self.opportunity_id,
            "candidateId": self.opportunity_id,
            "createdAt": self.created_at,
            "type": self.kind,
            "posting": self.posting,
            "postingHiringManager": null,
            "postingOwner": null,
            "user": self.user,
            "name": self.name,
            "email": self.email,
            "phone": self.phone,
            "company": self.company,
            "links": self.links,
            "comments": self.comments,
            "customQuestions": self.custom_questions,
            "archived": null,
            "requisitionForHire": null,
        })
    }
}

/// An opportunity: one candidacy of a contact.
#[derive(Debug, Clone)]
pub(crate) struct Opportunity {
    pub(crate) id: String,
    pub(crate) contact: String,
    pub(crate) stage: String,
    pub(crate) origin: String,
    pub(crate) confidentiality: &'static str,
    pub(crate) tags: Vec<String>,
    pub(crate) sources: Vec<String>,
    pub(crate) owner: Option<String>,
    pub(crate) followers: Vec<String>,
    pub(crate) archived: Option<Value>,
    pub(crate) applications: Vec<Application>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) last_interaction_at: i64,
    pub(crate) last_advanced_at: i64,
    /// The user in the first stage change (the `perform_as` user), if any.
    pub(crate) stage_user: Option<String>,
}

impl Opportunity {
    /// The opportunity object Lever returns, with the contact's details aggregated onto it and
    /// applications as objects when `expand_applications`, else as ids.
    pub(crate) fn to_json(&self, contact: Option<&Contact>, expand_applications: bool) -> Value {
        let applications: Vec<Value> = self
            .applications
            .iter()
            .map(|application| {
                if expand_applications {
                    application.to_json()
                } else {
                    Value::String(application.id.clone())
                }
            })
            .collect();
        json!({
            "id": self.id,
            "name": contact.and_then(|c| c.name.clone()),
            "contact": self.contact,
            "headline": contact.and_then(|c| c.headline.clone()),
            "stage": self.stage,
            "confidentiality": self.confidentiality,
            "location": contact.and_then(|c| c.location.clone()),
            "phones": contact.map(|c| c.phones.clone()).unwrap_or_default(),
            "emails": contact.map(|c| c.emails.clone()).unwrap_or_default(),
            "links": contact.map(|c| c.links.clone()).unwrap_or_default(),
            "archived": self.archived,
            "tags": self.tags,
            "sources": self.sources,
            "stageChanges": [{
                "toStageId": self.stage,
                "toStageIndex": 0,
                "updatedAt": self.created_at,
                "userId": self.stage_user,
            }],
            "origin": self.origin,
            "sourcedBy": if self.origin == "sourced" { self.owner.clone() } else { None },
            "owner": self.owner,
            "followers": self.followers,
            "applications": applications,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "lastInteractionAt": self.last_interaction_at,
            "lastAdvancedAt": self.last_advanced_at,
            "snoozedUntil": null,
            "urls": {
                "list": "https://hire.lever.co/candidates",
                "show": format!("https://hire.lever.co/candidates/{}", self.id),
            },
            "isAnonymized": false,
            "dataProtection": null,
        })
    }
}

/// Appends each item of `new` that `list` does not hold yet.
pub(crate) fn push_unique<T: PartialEq>(list: &mut Vec<T>, new: Vec<T>) {
    for item in new {
        if !list.contains(&item) {
            list.push(item);
        }
    }
}
