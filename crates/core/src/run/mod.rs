//! Running a plan: a sans-IO state machine. The caller sends each request and hands back the
//! answer; the run decides what comes next.
//!
//! ```text
//! let (mut run, mut next) = plan.start(input)?;
//! while let Next::Send(request) = next {
//!     let response = send(request);        // executor, recorded golden responses, …
//!     next = run.resume(response)?;
//! }
//! ```

mod answer;
mod carried;
mod input;
mod merge;
mod pages;
mod paths;
mod render;

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{InputProblem, ProblemKind, ProviderError, RunError, Warning};
use crate::expr::{Binding, Cached, Root, Scope, is_truthy, template_text};
use crate::http::{HttpMethod, ProviderRequest, ProviderResponse};
use crate::plan::{MethodPlan, StepPlan};
use answer::Answer;

pub(crate) use carried::StepReads;
pub use input::RunInput;

/// What the driver does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Send this request and pass its response to [`Run::resume`].
    Send(ProviderRequest),
    /// The run is finished.
    Done(UnifiedOutput),
}

/// The unified result of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct UnifiedOutput {
    /// The unified record, `remote_data` included.
    pub record: Value,
    /// Fields that were not carried, and why.
    pub warnings: Vec<Warning>,
    /// For a list with more pages: where the next page starts, to hand back as
    /// [`RunInput::cursor`]. The server seals it before a caller sees it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<Value>,
}

/// One run of a method plan.
pub struct Run {
    plan: Arc<MethodPlan>,
    scope: Scope,
    remote_query: Value,
    remote_data: Value,
    cursor: usize,
    pending: Option<Pending>,
    warnings: Vec<Warning>,
    /// Where the list resumes (the position of the caller's cursor).
    start_position: Option<Value>,
    /// Where the page after this one starts.
    next_cursor: Option<Value>,
    /// The provider calls the run accepted.
    completed: Vec<CompletedStep>,
}

/// A provider call the run accepted: its step, status and answer. After an error, these are
/// the calls that had succeeded (the failed call is not among them).
#[derive(Clone)]
pub struct CompletedStep {
    step: String,
    method: HttpMethod,
    status: u16,
    response: Arc<Cached>,
}

impl CompletedStep {
    /// The step's id (a `for_each` step has one entry per call).
    pub fn step(&self) -> &str {
        &self.step
    }

    /// The call's HTTP method: a `POST` or `PATCH` answered with a 2xx may have created or
    /// changed something at the provider.
    pub fn method(&self) -> HttpMethod {
        self.method
    }

    /// The provider's status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The provider's answer, as handed to [`Run::resume`].
    pub fn response(&self) -> &Value {
        self.response.json()
    }
}

impl std::fmt::Debug for CompletedStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompletedStep")
            .field("step", &self.step)
            .field("method", &self.method)
            .field("status", &self.status)
            .field("response", self.response())
            .finish()
    }
}

/// The step waiting for its response.
struct Pending {
    step: usize,
    each: Option<Each>,
    /// Progress through the pages of a paginating or rereading step.
    walk: Option<pages::Walk>,
}

/// Progress through a `for_each` step.
struct Each {
    items: Vec<Value>,
    index: usize,
    results: Vec<Value>,
}

impl MethodPlan {
    /// Validates `input` and starts a run: every input problem is reported at once, before any
    /// request exists.
    pub fn start(self: &Arc<Self>, mut input: RunInput) -> Result<(Run, Next), RunError> {
        let cursor = input.cursor.take();
        let (validated, scope) = input::validate(self, input).map_err(|found| RunError::Input {
            problems: found.problems,
            warnings: found.warnings,
        })?;
        let start_position =
            match cursor {
                Some(cursor) => Some(pages::resume_position(self, &cursor).map_err(|problem| {
                    RunError::Input {
                        problems: vec![problem],
                        warnings: validated.warnings.clone(),
                    }
                })?),
                None => None,
            };
        let mut run = Run {
            plan: self.clone(),
            scope,
            remote_query: validated.remote_query,
            remote_data: validated.remote_data,
            cursor: 0,
            pending: None,
            warnings: validated.warnings,
            start_position,
            next_cursor: None,
            completed: Vec::new(),
        };
        paths::check_at_start(self, &run.scope).map_err(|e| run.with_warnings(e))?;
        run.scope.set("steps", Value::Object(Map::new()));
        let lost = merge::check_at_start(self, &run.scope, &run.remote_data);
        if !lost.is_empty() {
            return Err(run.with_warnings(RunError::Input {
                problems: lost,
                warnings: Vec::new(),
            }));
        }
        run.check_drops(validated.strict)?;
        let next = run.advance().map_err(|e| run.with_warnings(e))?;
        Ok((run, next))
    }
}

impl Run {
    /// Warnings found so far.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The provider calls accepted so far, in order: after an error, what had already happened
    /// at the provider.
    pub fn completed_steps(&self) -> &[CompletedStep] {
        &self.completed
    }

    /// The plan this run executes.
    pub fn plan(&self) -> &Arc<MethodPlan> {
        &self.plan
    }

    /// Hands back the provider's final answer (after any retries) to the last request, whatever
    /// its status: the run decides whether it is an error. After an error the run is over, and a
    /// further call is [`RunError::Misuse`].
    pub fn resume(&mut self, response: ProviderResponse) -> Result<Next, RunError> {
        self.step_forward(response)
            .map_err(|e| self.with_warnings(e))
    }

    /// Warns about (or, when strict, refuses) every input value no request would carry.
    fn check_drops(&mut self, strict: bool) -> Result<(), RunError> {
        let dropped = carried::dropped(&self.plan, &self.scope, &self.remote_data, &self.warnings);
        if !strict || dropped.is_empty() {
            self.warnings.extend(dropped);
            return Ok(());
        }
        Err(RunError::Input {
            problems: dropped
                .into_iter()
                .map(|w| InputProblem {
                    location: w.location,
                    pointer: w.pointer,
                    kind: ProblemKind::Unsupported,
                    message: w.message,
                })
                .collect(),
            warnings: self.warnings.clone(),
        })
    }

    /// An input error found while running (a path value from the input) carries the warnings
    /// found so far, like one found at start.
    fn with_warnings(&self, error: RunError) -> RunError {
        match error {
            RunError::Input { problems, .. } => RunError::Input {
                problems,
                warnings: self.warnings.clone(),
            },
            other => other,
        }
    }

    fn step_forward(&mut self, response: ProviderResponse) -> Result<Next, RunError> {
        let Some(mut pending) = self.pending.take() else {
            return Err(RunError::Misuse(
                "resume called with no request pending".to_owned(),
            ));
        };
        let plan = self.plan.clone();
        let step = &plan.steps[pending.step];
        let response = Answer::new(response);
        self.check_error(step, &response)?;
        let item = pending
            .each
            .as_ref()
            .map(|e| (e.items[e.index].clone(), e.index));
        if let Some(request) = self.turn_page(step, &response, &mut pending)? {
            self.pending = Some(pending);
            return Ok(Next::Send(request));
        }
        let result = self.step_result(step, response, item.as_ref())?;
        if let Some(each) = &mut pending.each {
            each.results.push(result.to_json());
            each.index += 1;
            if each.index < each.items.len() {
                let request = self.render_item(step, each)?;
                self.pending = Some(pending);
                return Ok(Next::Send(request));
            }
            let results = std::mem::take(&mut each.results);
            self.record(step, Binding::value(Value::Array(results)));
        } else {
            self.record(step, result);
        }
        self.cursor = pending.step + 1;
        self.advance()
    }

    fn record(&mut self, step: &StepPlan, result: Binding) {
        self.scope.set_member("steps", &step.id, result);
    }

    /// Runs forward to the next request, or to the end.
    fn advance(&mut self) -> Result<Next, RunError> {
        let plan = self.plan.clone();
        while let Some(step) = plan.steps.get(self.cursor) {
            let root = Root::Scope(&self.scope);
            if let Some(when) = &step.when {
                let value = when.eval(&root).map_err(|m| mapping(step, "when", m))?;
                if !is_truthy(&value) {
                    self.cursor += 1;
                    continue;
                }
            }
            if let Some(for_each) = &step.for_each {
                let items = match for_each
                    .eval(&root)
                    .map_err(|m| mapping(step, "for_each", m))?
                {
                    Value::Array(items) => items,
                    Value::Null => Vec::new(),
                    other => vec![other],
                };
                if items.is_empty() {
                    self.record(step, Binding::value(Value::Array(Vec::new())));
                    self.cursor += 1;
                    continue;
                }
                let each = Each {
                    items,
                    index: 0,
                    results: Vec::new(),
                };
                let request = self.render_item(step, &each)?;
                self.pending = Some(Pending {
                    step: self.cursor,
                    each: Some(each),
                    walk: None,
                });
                return Ok(Next::Send(request));
            }
            let (request, walk) = self.first_page(step)?;
            self.pending = Some(Pending {
                step: self.cursor,
                each: None,
                walk,
            });
            return Ok(Next::Send(request));
        }
        self.finish().map(Next::Done)
    }

    fn render_item(&self, step: &StepPlan, each: &Each) -> Result<ProviderRequest, RunError> {
        let mut scope = self.scope.clone();
        scope.set("item", each.items[each.index].clone());
        scope.set("index", Value::from(each.index));
        let mut request = render::render(step, &scope, (&self.remote_query, &self.remote_data))?;
        request.read_only = self.plan.is_read();
        Ok(request)
    }

    /// Renders `step`'s request from the run's scope.
    fn render_step(&self, step: &StepPlan) -> Result<ProviderRequest, RunError> {
        let mut request =
            render::render(step, &self.scope, (&self.remote_query, &self.remote_data))?;
        request.read_only = self.plan.is_read();
        Ok(request)
    }

    /// Fails the run when the response is an error by the integration's (or method's) rules.
    fn check_error(&self, step: &StepPlan, response: &Answer) -> Result<(), RunError> {
        let errors = self.plan.error_plan();
        let scope = response.scope();
        let root = Root::Scope(&scope);
        let is_error = match &errors.is_error {
            Some(expr) => {
                response.status >= 400
                    || is_truthy(
                        &expr
                            .eval(&root)
                            .map_err(|m| mapping(step, "errors.is_error", m))?,
                    )
            }
            None => !response.is_success(),
        };
        if !is_error {
            return Ok(());
        }
        let text = |t: &crate::expr::Template| {
            t.render(&root)
                .ok()
                .map(|v| template_text(&v))
                .filter(|s| !s.is_empty())
        };
        let message = text(&errors.message).unwrap_or_else(|| {
            format!(
                "{} answered with HTTP {}",
                self.plan.integration_plan.label, response.status
            )
        });
        Err(RunError::Provider(Box::new(ProviderError {
            step: step.id.clone(),
            status: response.status,
            message,
            code: errors.code.as_ref().and_then(text),
            body: response.body.json().clone(),
            retry_after: response.header("retry-after").map(str::to_owned),
            unified_status: errors
                .status
                .as_ref()
                .and_then(|t| t.render(&root).ok())
                .and_then(|v| {
                    v.as_u64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                })
                .and_then(|n| u16::try_from(n).ok())
                .filter(|n| (400..600).contains(n)),
            details: errors
                .details
                .as_ref()
                .and_then(|t| t.render(&root).ok())
                .filter(has_details),
        })))
    }

    /// `{status, headers, response, selected?, item?}` for one call, each member bound on its
    /// own so the response body is neither copied nor converted twice.
    fn step_result(
        &mut self,
        step: &StepPlan,
        response: Answer,
        item: Option<&(Value, usize)>,
    ) -> Result<Binding, RunError> {
        let body = response.body;
        let mut members = vec![
            (
                "status".to_owned(),
                Binding::value(Value::from(response.status)),
            ),
            ("headers".to_owned(), Binding::Value(response.header_object)),
            ("response".to_owned(), Binding::Value(body.clone())),
        ];
        if let Some(select) = &step.select {
            let mut scope = self.scope.clone();
            scope.bind("response", Binding::Value(body.clone()));
            if let Some((value, index)) = item {
                scope.set("item", value.clone());
                scope.set("index", Value::from(*index));
            }
            let selected = select
                .eval(&Root::Scope(&scope))
                .map_err(|m| mapping(step, "select", m))?;
            if selected.is_null()
                && let Some(message) = &step.on_empty
            {
                return Err(RunError::Upstream {
                    step: step.id.clone(),
                    message: message.clone(),
                    body: body.json().clone(),
                });
            }
            members.push(("selected".to_owned(), Binding::value(selected)));
        }
        if let Some((value, _)) = item {
            members.push(("item".to_owned(), Binding::value(value.clone())));
        }
        self.completed.push(CompletedStep {
            step: step.id.clone(),
            method: step.method,
            status: response.status,
            response: body,
        });
        Ok(Binding::namespace(members))
    }

    /// Maps the unified record (a list: each record of the page).
    fn finish(&mut self) -> Result<UnifiedOutput, RunError> {
        let found = self
            .plan
            .response
            .from
            .eval_sorted(&Root::Scope(&self.scope))
            .map_err(|m| RunError::Mapping {
                field: "response.from".into(),
                message: m,
            })?;
        let no_record = |message: &str| RunError::Upstream {
            step: self
                .plan
                .step_ids()
                .last()
                .map(|s| (*s).to_owned())
                .unwrap_or_default(),
            message: message.to_owned(),
            body: Value::Null,
        };
        let record = if self.plan.is_list() {
            let items = match found {
                Value::Array(items) => items,
                Value::Null => Vec::new(),
                _ => return Err(no_record("the provider's answer holds no list of records")),
            };
            Value::Array(
                items
                    .into_iter()
                    .map(|item| self.map_record(item))
                    .collect::<Result<_, _>>()?,
            )
        } else if found.is_null() {
            return Err(no_record("the provider's answers hold no record to map"));
        } else {
            self.map_record(found)?
        };
        Ok(UnifiedOutput {
            record,
            warnings: std::mem::take(&mut self.warnings),
            next_cursor: self.next_cursor.take(),
        })
    }

    /// Maps one provider record with the response's fields; `remote_data` is the record unless
    /// the mapping says otherwise.
    fn map_record(&self, record: Value) -> Result<Value, RunError> {
        let root = Root::Record(&record);
        let mut out = Map::new();
        for (name, template) in &self.plan.response.fields {
            let value = template.render(&root).map_err(|m| RunError::Mapping {
                field: format!("response.fields.{name}"),
                message: m,
            })?;
            out.insert(name.clone(), value);
        }
        if !out.contains_key("remote_data") {
            out.insert("remote_data".into(), record);
        }
        Ok(Value::Object(out))
    }
}

fn mapping(step: &StepPlan, part: &str, message: String) -> RunError {
    RunError::Mapping {
        field: format!("steps.{}.{part}", step.id),
        message,
    }
}

/// Whether rendered error details say anything: not null, nor an empty array, object or string.
fn has_details(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Array(items) => !items.is_empty(),
        Value::Object(members) => !members.is_empty(),
        Value::String(text) => !text.is_empty(),
        Value::Bool(_) | Value::Number(_) => true,
    }
}
