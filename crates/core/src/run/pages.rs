//! Pages: reading a step's next position from the provider's answer, putting a position into a
//! request, and the cursor a list hands its caller.
//!
//! A position is what the provider needs for the next page: a token or cursor (`cursor`), a
//! count of items read (`offset`), a page number (`page`) or a URL (`link_header`, `next_url`).
//! A list's `next_cursor` is `{"step": <id>, "position": <position>}`; the server seals it, so a
//! caller only ever hands back what was issued.

use serde_json::{Map, Value, json};

use crate::compile::pagination::{PageParamIn, PagePlan, PageStyle};
use crate::error::{InputLocation, InputProblem, ProblemKind, RunError};
use crate::expr::{Binding, Expr, Root, is_truthy};
use crate::http::{ProviderRequest, RequestBody};
use crate::plan::{MethodPlan, StepPlan};

use super::answer::Answer;

/// The cursor member naming the step it belongs to.
const CURSOR_STEP: &str = "step";
/// The cursor member holding the position.
const CURSOR_POSITION: &str = "position";

/// Where a paginating step is in its walk.
#[derive(Debug, Clone, Default)]
pub(crate) struct Walk {
    /// The position of the page last asked for (`None`: the first page).
    pub(crate) position: Option<Value>,
    /// Pages read in this pass.
    pub(crate) pages: u32,
    /// Rereads done.
    pub(crate) rereads: u32,
}

/// The cursor a list answers with for the page after `position`.
pub(crate) fn cursor(step: &StepPlan, position: Value) -> Value {
    json!({CURSOR_STEP: step.id, CURSOR_POSITION: position})
}

/// The position a caller's cursor resumes at, or the input problem that it is not a cursor this
/// list issued (`/next_cursor`).
pub(crate) fn resume_position(plan: &MethodPlan, cursor: &Value) -> Result<Value, InputProblem> {
    let refuse = |why: &str| InputProblem {
        location: InputLocation::Query,
        pointer: "/next_cursor".to_owned(),
        kind: ProblemKind::Invalid,
        message: format!("`next_cursor` is not a cursor this list issued: {why}"),
    };
    let step = plan
        .cursor_step
        .map(|i| &plan.steps[i])
        .ok_or_else(|| refuse("this list has a single page"))?;
    let pages = step
        .pages
        .as_ref()
        .ok_or_else(|| refuse("this list has a single page"))?;
    let Some(object) = cursor.as_object() else {
        return Err(refuse("it is not an object"));
    };
    if object.get(CURSOR_STEP).and_then(Value::as_str) != Some(step.id.as_str()) {
        return Err(refuse("it belongs to another list"));
    }
    let position = object.get(CURSOR_POSITION).cloned().unwrap_or(Value::Null);
    let fits = match pages.style {
        PageStyle::Cursor => position.is_string() || position.is_number(),
        PageStyle::Offset | PageStyle::Page => position.is_u64(),
        PageStyle::LinkHeader | PageStyle::NextUrl => position
            .as_str()
            .and_then(|s| url::Url::parse(s).ok())
            .is_some_and(|u| crate::is_http_url(&u)),
    };
    if fits {
        Ok(position)
    } else {
        Err(refuse("its position has the wrong type"))
    }
}

/// The position of the page after `response`, or `None` at the last page.
pub(crate) fn next_position(
    step: &StepPlan,
    pages: &PagePlan,
    response: &Answer,
    current: Option<&Value>,
) -> Result<Option<Value>, RunError> {
    let scope = response.scope();
    let root = Root::Scope(&scope);
    let eval = |expr: &Expr, part: &str| {
        expr.eval(&root).map_err(|message| RunError::Mapping {
            field: format!("steps.{}.paginate.{part}", step.id),
            message,
        })
    };
    let item_count = || -> Result<u64, RunError> {
        let Some(items) = &pages.items else {
            return Ok(0);
        };
        Ok(match eval(items, "items")? {
            Value::Array(items) => items.len() as u64,
            _ => 0,
        })
    };
    let (next, found) = match pages.style {
        PageStyle::Cursor | PageStyle::NextUrl => {
            let next = match &pages.next {
                Some(expr) => eval(expr, "next")?,
                None => Value::Null,
            };
            let usable = match &next {
                Value::String(s) => !s.is_empty(),
                Value::Number(_) => true,
                _ => false,
            };
            (next, usable)
        }
        PageStyle::LinkHeader => {
            let next = response
                .header("link")
                .and_then(next_link)
                .map_or(Value::Null, Value::String);
            let found = !next.is_null();
            (next, found)
        }
        PageStyle::Offset => {
            let read = item_count()?;
            let start = current.and_then(Value::as_u64).unwrap_or(0);
            (Value::from(start.saturating_add(read)), read > 0)
        }
        PageStyle::Page => {
            let read = item_count()?;
            let page = current.and_then(Value::as_u64).unwrap_or(pages.first_page);
            (Value::from(page.saturating_add(1)), read > 0)
        }
    };
    let more = match &pages.more {
        Some(expr) => is_truthy(&eval(expr, "more")?) && found,
        None => found,
    };
    Ok(more.then_some(next))
}

/// The `rel="next"` target of a `Link` header (RFC 8288), if any.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|link| {
        let (target, params) = link.trim().split_once('>')?;
        let target = target.trim().strip_prefix('<')?;
        let is_next = params.split(';').any(|param| {
            param
                .trim()
                .strip_prefix("rel=")
                .is_some_and(|rel| rel.trim_matches('"').split(' ').any(|r| r == "next"))
        });
        is_next.then(|| target.to_owned())
    })
}

/// Puts `position` into `request`: as its parameter (query or body member), or as the URL
/// to call.
pub(crate) fn apply(pages: &PagePlan, position: &Value, request: &mut ProviderRequest) {
    match pages.style {
        PageStyle::LinkHeader | PageStyle::NextUrl => {
            request.page_url = position.as_str().map(str::to_owned);
        }
        PageStyle::Cursor | PageStyle::Offset | PageStyle::Page => {
            let Some(param) = &pages.param else { return };
            match pages.param_in {
                PageParamIn::Query => {
                    request.query.retain(|(key, _)| key != param);
                    request
                        .query
                        .push((param.clone(), crate::expr::template_text(position)));
                }
                PageParamIn::Body => {
                    if !matches!(request.body, RequestBody::Json(Value::Object(_))) {
                        request.body = RequestBody::Json(Value::Object(Map::new()));
                    }
                    if let RequestBody::Json(Value::Object(body)) = &mut request.body {
                        body.insert(param.clone(), position.clone());
                    }
                }
            }
        }
    }
}

impl super::Run {
    /// The first request of a non-`for_each` step, and its walk when it pages or rereads: a
    /// list's cursor step resumes at the caller's cursor.
    pub(super) fn first_page(
        &self,
        step: &StepPlan,
    ) -> Result<(ProviderRequest, Option<Walk>), RunError> {
        let mut request = self.render_step(step)?;
        if step.pages.is_none() && step.reread.is_none() {
            return Ok((request, None));
        }
        let mut walk = Walk::default();
        let is_cursor_step = self
            .plan
            .cursor_step
            .is_some_and(|i| self.plan.steps[i].id == step.id);
        if let (true, Some(position), Some(pages)) =
            (is_cursor_step, &self.start_position, &step.pages)
        {
            apply(pages, position, &mut request);
            walk.position = Some(position.clone());
        }
        Ok((request, Some(walk)))
    }

    /// After a successful answer to a paginating or rereading step: the request for the next
    /// page (a lookup that has not found its record yet) or for a reread, or `None` when the
    /// step is done. A list's cursor step records the next page as the run's `next_cursor`.
    pub(super) fn turn_page(
        &mut self,
        step: &StepPlan,
        response: &Answer,
        pending: &mut super::Pending,
    ) -> Result<Option<ProviderRequest>, RunError> {
        let Some(walk) = pending.walk.as_mut() else {
            return Ok(None);
        };
        walk.pages += 1;
        let next = match &step.pages {
            Some(pages) => next_position(step, pages, response, walk.position.as_ref())?,
            None => None,
        };
        if step.select.is_none() {
            self.next_cursor = next.map(|position| cursor(step, position));
            return Ok(None);
        }
        if self.selects(step, response)? {
            return Ok(None);
        }
        if let (Some(position), Some(pages)) = (next, &step.pages)
            && walk.pages < pages.max_pages
        {
            let mut request = self.render_step(step)?;
            apply(pages, &position, &mut request);
            walk.position = Some(position);
            return Ok(Some(request));
        }
        if let Some(reread) = &step.reread
            && walk.rereads < reread.times
        {
            walk.rereads += 1;
            walk.pages = 0;
            walk.position = None;
            let mut request = self.render_step(step)?;
            request.delay_ms = reread_delay(reread.delay_ms, walk.rereads);
            return Ok(Some(request));
        }
        Ok(None)
    }

    /// Whether the step's `select` finds something in `response`.
    fn selects(&self, step: &StepPlan, response: &Answer) -> Result<bool, RunError> {
        let Some(select) = &step.select else {
            return Ok(true);
        };
        let mut scope = self.scope.clone();
        scope.bind("response", Binding::Value(response.body.clone()));
        let selected = select
            .eval(&Root::Scope(&scope))
            .map_err(|message| RunError::Mapping {
                field: format!("steps.{}.select", step.id),
                message,
            })?;
        Ok(!selected.is_null())
    }
}

/// The wait before reread number `reread` (1-based): the first delay, doubled each time.
pub(crate) fn reread_delay(first_ms: u64, reread: u32) -> u64 {
    first_ms.saturating_mul(1_u64 << reread.saturating_sub(1).min(16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_give_their_next_target() {
        let header = r#"<https://h.test/v1/c?page=1>; rel="prev", <https://h.test/v1/c?page=3>; rel="next", <https://h.test/v1/c?page=9>; rel="last""#;
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://h.test/v1/c?page=3")
        );
        assert_eq!(next_link(r#"<https://h.test/x>; rel="last""#), None);
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn rereads_wait_longer_each_time() {
        assert_eq!(reread_delay(500, 1), 500);
        assert_eq!(reread_delay(500, 2), 1000);
        assert_eq!(reread_delay(500, 3), 2000);
    }
}
