//! The fake's Lever account: users, postings, contacts, opportunities and uploaded files.

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::error::LeverError;
use super::model::{Contact, ContactDetails, Opportunity};
use super::records::Upload;

/// The state behind the fake's Lever routes.
#[derive(Debug)]
pub(crate) struct LeverAccount {
    users: BTreeSet<String>,
    postings: BTreeSet<String>,
    contacts: Vec<Contact>,
    opportunities: Vec<Opportunity>,
    uploads: Vec<Upload>,
    last_ms: i64,
}

impl LeverAccount {
    /// An account with one user and one published posting.
    pub(crate) fn new(user: &str, posting: &str) -> LeverAccount {
        LeverAccount {
            users: BTreeSet::from([user.to_owned()]),
            postings: BTreeSet::from([posting.to_owned()]),
            contacts: Vec::new(),
            opportunities: Vec::new(),
            uploads: Vec::new(),
            last_ms: 0,
        }
    }

    /// Adds a user that `perform_as`, `owner` and `followers` may name.
    pub(crate) fn add_user(&mut self, id: &str) {
        self.users.insert(id.to_owned());
    }

    /// Adds a published posting.
    pub(crate) fn add_posting(&mut self, id: &str) {
        self.postings.insert(id.to_owned());
    }

    /// Whether `id` is a known user.
    pub(crate) fn has_user(&self, id: &str) -> bool {
        self.users.contains(id)
    }

    /// Every posting id, in the order the list pages them.
    pub(crate) fn posting_ids(&self) -> Vec<String> {
        self.postings.iter().cloned().collect()
    }

    /// Whether `id` is a known posting.
    pub(crate) fn has_posting(&self, id: &str) -> bool {
        self.postings.contains(id)
    }

    /// The current time in epoch milliseconds, strictly later than any time returned before, so
    /// that "newest by `createdAt`" is always well defined.
    pub(crate) fn now(&mut self) -> i64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        self.last_ms = wall.max(self.last_ms + 1);
        self.last_ms
    }

    /// Finds the contact for a new opportunity and merges `details` into it: the `explicit`
    /// contact id if given (it must exist), else the contact holding one of the emails, else a new
    /// contact. Returns the contact id and whether an existing contact was used (`deduped`).
    pub(crate) fn resolve_contact(
        &mut self,
        explicit: Option<&str>,
        details: ContactDetails,
    ) -> Result<(String, bool), LeverError> {
        let existing = match explicit {
            Some(id) => Some(
                self.contacts
                    .iter()
                    .position(|contact| contact.id == id)
                    .ok_or_else(|| LeverError::bad_request(format!("contact `{id}` not found")))?,
            ),
            None => self
                .contacts
                .iter()
                .position(|contact| details.emails.iter().any(|email| contact.has_email(email))),
        };
        match existing {
            Some(index) => {
                let contact = &mut self.contacts[index];
                contact.merge(details);
                Ok((contact.id.clone(), true))
            }
            None => {
                let contact = Contact::new(new_id(), details);
                let id = contact.id.clone();
                self.contacts.push(contact);
                Ok((id, false))
            }
        }
    }

    /// Stores a new opportunity.
    pub(crate) fn insert(&mut self, opportunity: Opportunity) {
        self.opportunities.push(opportunity);
    }

    /// The opportunity `id`, for changing it.
    pub(crate) fn opportunity_mut(&mut self, id: &str) -> Option<&mut Opportunity> {
        self.opportunities
            .iter_mut()
            .find(|opportunity| opportunity.id == id)
    }

    /// Whether opportunity `id` exists.
    pub(crate) fn has_opportunity(&self, id: &str) -> bool {
        self.opportunities
            .iter()
            .any(|opportunity| opportunity.id == id)
    }

    /// The opportunity `id` as Lever returns it.
    pub(crate) fn render(&self, id: &str, expand_applications: bool) -> Option<Value> {
        self.opportunities
            .iter()
            .find(|opportunity| opportunity.id == id)
            .map(|opportunity| self.render_one(opportunity, expand_applications))
    }

    /// Every opportunity (oldest first) for which `keep` holds, as Lever returns it.
    pub(crate) fn render_where(
        &self,
        expand_applications: bool,
        mut keep: impl FnMut(&Opportunity, Option<&Contact>) -> bool,
    ) -> Vec<Value> {
        self.opportunities
            .iter()
            .filter(|opportunity| keep(opportunity, self.contact(&opportunity.contact)))
            .map(|opportunity| self.render_one(opportunity, expand_applications))
            .collect()
    }

    /// Keeps a received file.
    pub(crate) fn add_upload(&mut self, upload: Upload) {
        self.uploads.push(upload);
    }

    /// Every file received, in order.
    pub(crate) fn uploads(&self) -> &[Upload] {
        &self.uploads
    }

    fn contact(&self, id: &str) -> Option<&Contact> {
        self.contacts.iter().find(|contact| contact.id == id)
    }

    fn render_one(&self, opportunity: &Opportunity, expand_applications: bool) -> Value {
        opportunity.to_json(self.contact(&opportunity.contact), expand_applications)
    }
}

/// A fresh Lever-style UID.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
