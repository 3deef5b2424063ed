//! Bounded work per run: a deadline over every step, retry and wait; a cap on each answer's size
//! (per integration, or the executor's); a cap on the files one run fetches.

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use switchboard_core::Registry;
use switchboard_executor::{ExecErrorKind, ExecutorOptions, FileErrorKind, TransportKind};
use switchboard_testkit::fake_lever::{FakeLever, Fault};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::common::{
    account, applicant_input, executor, get, lead_input, options, registry, run_create,
};

#[tokio::test]
async fn a_run_stops_at_its_deadline_and_keeps_what_succeeded() {
    let lever = FakeLever::start().await;
    lever.script(Fault::delay(
        "GET",
        "/v1/opportunities",
        Duration::from_secs(3),
    ));
    let options = ExecutorOptions {
        deadline: Duration::from_millis(1500),
        ..options()
    };
    let error = run_create(
        options,
        applicant_input("deadline@example.com", json!({})),
        &lever,
    )
    .await
    .expect_err("past the deadline");
    let ExecErrorKind::DeadlineExceeded {
        step,
        may_have_reached_provider,
        ..
    } = error.kind()
    else {
        panic!("expected a deadline error, got {error:?}");
    };
    assert_eq!(step, "find");
    assert!(*may_have_reached_provider);
    let steps: Vec<&str> = error.exchanges().iter().map(|e| e.step.as_str()).collect();
    assert_eq!(steps, ["apply"], "the apply that succeeded is kept");
    assert_eq!(lever.count("GET", "/v1/opportunities"), 1, "not retried");
    assert_eq!(
        error.to_string(),
        "the run did not finish within its deadline of 1500 ms: it stopped in step `find`; \
         that step's request may have reached the provider"
    );
}

#[tokio::test]
async fn a_retry_after_that_ends_past_the_deadline_is_not_waited_for() {
    let lever = FakeLever::start().await;
    lever.script(Fault::status("POST", "/v1/opportunities", 429).retry_after("3"));
    let options = ExecutorOptions {
        deadline: Duration::from_secs(2),
        ..options()
    };
    let error = run_create(options, lead_input("wait@example.com", json!({})), &lever)
        .await
        .expect_err("the 429 is returned");
    assert_eq!(error.provider_error().map(|e| e.status), Some(429));
    assert_eq!(error.retry_after(), Some("3"));
    assert_eq!(lever.count("POST", "/v1/opportunities"), 1, "not retried");
}

/// An answer of 200 with a JSON string of `len` bytes.
fn large_answer(len: usize) -> serde_json::Value {
    json!("x".repeat(len))
}

#[tokio::test]
async fn an_answer_over_the_default_cap_is_refused() {
    let lever = FakeLever::start().await;
    lever.script(Fault::status("GET", "/v1/opportunities", 200).body(large_answer(9 << 20)));
    let error = executor(options())
        .send(
            registry().integration("lever").expect("lever"),
            &account(&lever),
            &get("probe", "/opportunities"),
        )
        .await
        .expect_err("too large");
    let ExecErrorKind::Transport(transport) = error.kind() else {
        panic!("expected a transport error, got {error:?}");
    };
    assert_eq!(transport.kind, TransportKind::ResponseTooLarge);
    assert!(
        transport.message.contains(&(8_u64 << 20).to_string()),
        "{}",
        transport.message
    );
}

/// Answers every request with an endless chunked body; returns its base URL and a receiver of
/// how many body bytes each connection got to send before the client hung up.
async fn endless_answer_server() -> (String, tokio::sync::mpsc::UnboundedReceiver<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let (sent, received) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let sent = sent.clone();
            tokio::spawn(async move {
                let mut head = [0_u8; 4096];
                let _ = stream.read(&mut head).await;
                let header = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                              transfer-encoding: chunked\r\n\r\n";
                if stream.write_all(header.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = format!("10000\r\n{}\r\n", "x".repeat(0x10000));
                let mut total = 0;
                // At most 1 GiB: far past any cap.
                while total < 1 << 30 && stream.write_all(chunk.as_bytes()).await.is_ok() {
                    total += 0x10000;
                }
                let _ = sent.send(total);
            });
        }
    });
    (base, received)
}

#[tokio::test]
async fn an_unannounced_answer_is_cut_off_at_the_cap() {
    let (base, mut sent) = endless_answer_server().await;
    let options = ExecutorOptions {
        max_response_bytes: Some(1 << 20),
        ..options()
    };
    let mut account = account(&FakeLever::start().await);
    account.base_url = Some(base);
    let error = executor(options)
        .send(
            registry().integration("lever").expect("lever"),
            &account,
            &get("probe", "/endless"),
        )
        .await
        .expect_err("too large");
    let ExecErrorKind::Transport(transport) = error.kind() else {
        panic!("expected a transport error, got {error:?}");
    };
    assert_eq!(transport.kind, TransportKind::ResponseTooLarge);
    assert_eq!(transport.attempts, 1, "a too-large answer is not retried");
    let total = sent.recv().await.expect("the server reports");
    assert!(
        total < 1 << 30,
        "the client stopped reading: {total} bytes sent"
    );
}

/// The repository's mappings with `extra` appended to Lever's `integration.yaml`, in a scratch
/// folder named after `name`.
fn registry_with(name: &str, extra: &str) -> Registry {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let scratch = std::env::temp_dir().join(format!(
        "switchboard-executor-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&scratch);
    copy_dir(&root.join("mappings/lever"), &scratch.join("lever"));
    let file = scratch.join("lever/integration.yaml");
    let text = std::fs::read_to_string(&file).expect("readable");
    std::fs::write(&file, format!("{text}\n{extra}\n")).expect("writable");
    let registry = Registry::load_dirs(&scratch, &root.join("schemas"))
        .unwrap_or_else(|problems| panic!("the edited mapping loads: {problems}"));
    let _ = std::fs::remove_dir_all(&scratch);
    registry
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("readable") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[tokio::test]
async fn an_integration_sets_its_own_answer_cap() {
    let registry = registry_with("responses", "responses:\n  max_bytes: 4096");
    let integration = registry.integration("lever").expect("lever");
    assert_eq!(integration.responses.max_bytes, 4096);
    let lever = FakeLever::start().await;
    lever.script(Fault::status("GET", "/v1/opportunities", 200).body(large_answer(5000)));
    let error = executor(options())
        .send(
            integration,
            &account(&lever),
            &get("probe", "/opportunities"),
        )
        .await
        .expect_err("too large for this integration");
    let ExecErrorKind::Transport(transport) = error.kind() else {
        panic!("expected a transport error, got {error:?}");
    };
    assert_eq!(transport.kind, TransportKind::ResponseTooLarge);
    // The same answer passes under the default cap.
    lever.script(Fault::status("GET", "/v1/opportunities", 200).body(large_answer(5000)));
    let exchange = executor(options())
        .send(
            crate::common::registry()
                .integration("lever")
                .expect("lever"),
            &account(&lever),
            &get("probe", "/opportunities"),
        )
        .await
        .expect("within the default cap");
    assert_eq!(exchange.status, 200);
}

#[tokio::test]
async fn a_run_fetches_at_most_max_files_per_run() {
    let lever = FakeLever::start().await;
    let urls: Vec<String> = (0..3)
        .map(|i| lever.serve_file(&format!("f{i}.txt"), "text/plain", b"file".to_vec()))
        .collect();
    let files: Vec<_> = urls
        .iter()
        .enumerate()
        .map(|(i, url)| json!({"file_name": format!("f{i}.txt"), "file_url": url}))
        .collect();
    let options = ExecutorOptions {
        max_files_per_run: 2,
        ..options()
    };
    let error = run_create(
        options,
        lead_input("many@example.com", json!({"attachments": files})),
        &lever,
    )
    .await
    .expect_err("one file too many");
    let ExecErrorKind::File(file) = error.kind() else {
        panic!("expected a file error, got {error:?}");
    };
    assert_eq!(file.kind, FileErrorKind::TooMany { max_files: 2 });
    assert_eq!(file.url, urls[2]);
    assert_eq!(lever.uploads().len(), 2, "two files were fetched and sent");
    assert_eq!(
        lever
            .calls()
            .iter()
            .filter(|call| call.path.starts_with("/files/"))
            .count(),
        2,
        "the third file was never fetched"
    );
}
