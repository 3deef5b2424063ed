//! Per-account rate limits: calls wait for tokens, shared across concurrent runs.

use std::time::{Duration, SystemTime};

use futures_util::future::join_all;
use switchboard_executor::{ExecError, ExecErrorKind, ExecutorOptions};
use switchboard_testkit::fake_lever::FakeLever;

use crate::common::{account, executor, get, options, plan};

/// Lever's default bucket: 10 per second, bursts of 20.
const PER_SECOND: usize = 10;
const BURST: usize = 20;

#[tokio::test]
async fn concurrent_calls_of_one_account_stay_within_the_bucket() {
    let lever = FakeLever::start().await;
    let executor = executor(options());
    let account = account(&lever);
    let plan = plan();
    let request = get("probe", "/opportunities");
    let calls = 30;
    let sends = (0..calls).map(|_| executor.send(plan.integration_plan(), &account, &request));
    let exchanges: Vec<_> = join_all(sends)
        .await
        .into_iter()
        .map(|result| result.expect("sent"))
        .collect();
    assert_eq!(lever.count("GET", "/v1/opportunities"), calls);

    let mut starts: Vec<SystemTime> = exchanges.iter().map(|e| e.started_at).collect();
    starts.sort();
    let since_first = |t: &SystemTime| t.duration_since(starts[0]).unwrap_or_default();
    // The burst goes at once; the rest are spaced by the rate: the 30th after ~1 s.
    assert!(since_first(&starts[BURST - 1]) < Duration::from_millis(500));
    assert!(
        since_first(&starts[calls - 1]) >= Duration::from_millis(950),
        "{:?}",
        since_first(&starts[calls - 1])
    );
    // No one-second window holds more than burst + rate.
    for (i, start) in starts.iter().enumerate() {
        let in_window = starts[i..]
            .iter()
            .take_while(|t| t.duration_since(*start).unwrap_or_default() < Duration::from_secs(1))
            .count();
        assert!(
            in_window <= BURST + PER_SECOND,
            "{in_window} calls in one second"
        );
    }
}

#[tokio::test]
async fn accounts_have_their_own_buckets() {
    let lever = FakeLever::start().await;
    let executor = executor(options());
    let first = account(&lever);
    let second = switchboard_executor::Account {
        id: "acct-2".into(),
        ..first.clone()
    };
    let plan = plan();
    let request = get("probe", "/opportunities");
    let started = SystemTime::now();
    let sends = (0..BURST * 2).map(|i| {
        let account = if i % 2 == 0 { &first } else { &second };
        executor.send(plan.integration_plan(), account, &request)
    });
    for result in join_all(sends).await {
        let exchange = result.expect("sent");
        assert!(
            exchange
                .started_at
                .duration_since(started)
                .unwrap_or_default()
                < Duration::from_millis(500),
            "each account's burst goes at once"
        );
    }
}

#[tokio::test]
async fn a_call_that_would_wait_past_the_deadline_is_refused_unsent() {
    let lever = FakeLever::start().await;
    let executor = executor(ExecutorOptions {
        rate_limit_wait: Some(Duration::from_millis(200)),
        ..options()
    });
    let account = account(&lever);
    let plan = plan();
    let request = get("probe", "/opportunities");
    let sends = (0..BURST + 5).map(|_| executor.send(plan.integration_plan(), &account, &request));
    let results = join_all(sends).await;
    let refused: Vec<&ExecError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    let sent = results.len() - refused.len();
    assert!(!refused.is_empty());
    assert!(sent >= BURST);
    for error in &refused {
        match error.kind() {
            ExecErrorKind::RateLimited {
                bucket,
                account,
                step,
                ..
            } => {
                assert_eq!(bucket, "default");
                assert_eq!(account, "acct-1");
                assert_eq!(step, "probe");
            }
            other => panic!("expected RateLimited, got {other:?}"),
        }
    }
    assert_eq!(
        refused[0].to_string(),
        "rate limit `default` of account `acct-1` would hold step `probe` longer than 200 ms"
    );
    assert_eq!(lever.count("GET", "/v1/opportunities"), sent);
}

#[tokio::test]
async fn a_rate_limit_wait_past_the_run_deadline_is_not_made() {
    let lever = FakeLever::start().await;
    // The rate limit alone would let a call wait 30 s; the run's deadline does not.
    let executor = executor(ExecutorOptions {
        rate_limit_wait: Some(Duration::from_secs(30)),
        deadline: Duration::from_secs(1),
        ..options()
    });
    let account = account(&lever);
    let plan = plan();
    let request = get("probe", "/opportunities");
    // The last of these would wait two seconds for its token.
    let sends = (0..BURST + 20).map(|_| executor.send(plan.integration_plan(), &account, &request));
    let results = join_all(sends).await;
    let refused: Vec<&ExecError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        refused
            .iter()
            .all(|error| matches!(error.kind(), ExecErrorKind::DeadlineExceeded { .. })),
        "{refused:?}"
    );
    let unsent = refused
        .iter()
        .filter(|error| {
            matches!(
                error.kind(),
                ExecErrorKind::DeadlineExceeded {
                    may_have_reached_provider: false,
                    ..
                }
            )
        })
        .count();
    assert!(
        unsent > 0,
        "calls that would wait past the deadline are refused"
    );
    assert!(lever.count("GET", "/v1/opportunities") <= results.len() - unsent);
}
