//! A synchronous driver for embedders whose transport is a closure: the whole loop of the
//! [driver contract](crate#the-driver-contract) in one call.

use std::sync::Arc;

use crate::error::RunError;
use crate::http::ProviderResponse;
use crate::plan::MethodPlan;
use crate::prepare::{Endpoint, PreparedRequest};
use crate::run::{CompletedStep, Next, RunInput, UnifiedOutput};

/// Why [`MethodPlan::run_with`] stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriveError<E> {
    /// The run failed: invalid input (nothing sent), a provider error, an answer the mapping
    /// cannot use, or a request the mapping rendered badly.
    #[error("{error}")]
    Run {
        /// Why.
        error: RunError,
        /// The calls that had succeeded before (see [`crate::Run::completed_steps`]).
        completed: Vec<CompletedStep>,
    },
    /// The transport closure failed for a step.
    #[error("sending step `{step}` failed: {error}")]
    Send {
        /// The step whose request was being sent.
        step: String,
        /// The closure's error.
        error: E,
        /// The calls that had succeeded before.
        completed: Vec<CompletedStep>,
    },
}

impl<E> DriveError<E> {
    /// The provider calls that had succeeded before the failure, in order.
    pub fn completed_steps(&self) -> &[CompletedStep] {
        match self {
            DriveError::Run { completed, .. } | DriveError::Send { completed, .. } => completed,
        }
    }
}

impl MethodPlan {
    /// Runs the plan to its end, preparing each request for `endpoint` and handing it to `send`,
    /// which returns the provider's answer (after any retries it chooses to make: see the
    /// driver contract). One call per request, in order; nothing is sent when the input is
    /// invalid.
    #[allow(
        clippy::result_large_err,
        reason = "the error is built at most once per run, on the failure path, and matched on"
    )]
    pub fn run_with<E>(
        self: &Arc<Self>,
        input: RunInput,
        endpoint: &Endpoint,
        mut send: impl FnMut(&PreparedRequest) -> Result<ProviderResponse, E>,
    ) -> Result<UnifiedOutput, DriveError<E>> {
        let (mut run, mut next) = self.start(input).map_err(|error| DriveError::Run {
            error,
            completed: Vec::new(),
        })?;
        loop {
            let request = match next {
                Next::Done(output) => return Ok(output),
                Next::Send(request) => request,
            };
            let completed = |run: &crate::Run| run.completed_steps().to_vec();
            let prepared = endpoint
                .prepare(&request)
                .map_err(|error| DriveError::Run {
                    error: error.into(),
                    completed: completed(&run),
                })?;
            let response = send(&prepared).map_err(|error| DriveError::Send {
                step: prepared.step.clone(),
                error,
                completed: completed(&run),
            })?;
            next = run.resume(response).map_err(|error| DriveError::Run {
                error,
                completed: completed(&run),
            })?;
        }
    }
}
