//! Files embedded base64 in a JSON body (`$file`), with SmartRecruiters' apply mapping: each
//! file_url is fetched whole (bounded by `files.max_bytes`) and its content written where the
//! mapping puts it, with the name and content type the caller did not give.

use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use switchboard_core::{Registry, RunInput};
use switchboard_executor::{Account, ExecErrorKind, FileErrorKind};
use switchboard_testkit::fake_lever::FakeLever;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::common::{context, executor, options, registry};

const POSTING: &str = "3c5a0a7e-5f0b-4b34-9b8e-2a8f6f1d2c11";

/// A stand-in for SmartRecruiters' apply endpoint: answers every request `201 {id}` and keeps
/// each request's body, parsed.
async fn stand_in() -> (String, Arc<Mutex<Vec<Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let origin = format!("http://{}", listener.local_addr().expect("addr"));
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&bodies);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let body = read_request_body(&mut stream).await;
            kept.lock()
                .expect("lock")
                .push(serde_json::from_slice(&body).expect("json"));
            let answer = r#"{"id":"b0e1f2a3-0009-4c5d-9e8f-0123456789ab","createdOn":"2026-12-03T08:12:44.120Z"}"#;
            let response = format!(
                "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
        }
    });
    (origin, bodies)
}

/// Reads one HTTP/1.1 request with a `Content-Length` body; returns the body.
async fn read_request_body(stream: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 64 * 1024];
    loop {
        let read = stream.read(&mut buffer).await.expect("read");
        received.extend_from_slice(&buffer[..read]);
        let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&received[..end]).to_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|value| value.trim().parse().ok())
            .expect("a content-length");
        while received.len() < end + 4 + length {
            let read = stream.read(&mut buffer).await.expect("read");
            received.extend_from_slice(&buffer[..read]);
        }
        return received[end + 4..end + 4 + length].to_vec();
    }
}

fn run_input(attachments: Value) -> RunInput {
    let mut query = Map::new();
    query.insert("job_id".to_owned(), json!(POSTING));
    RunInput {
        query,
        body: json!({
            "first_name": "Ada",
            "last_name": "Lovelace",
            "emails": [{"email": "ada@example.com"}],
            "attachments": attachments,
        }),
        ..RunInput::default()
    }
}

fn account(origin: &str) -> Account {
    Account {
        id: "acct-sr".to_owned(),
        environment: None,
        base_url: Some(origin.to_owned()),
        context: context(&[("api_key", "sr-key")]),
    }
}

fn plan(registry: &Registry) -> Arc<switchboard_core::MethodPlan> {
    registry
        .method("smartrecruiters", "ats/candidates", "create")
        .expect("smartrecruiters ats/candidates create is mapped")
        .clone()
}

#[tokio::test]
async fn files_are_fetched_and_embedded_base64_where_the_mapping_puts_them() {
    let files = FakeLever::start().await;
    let resume: Vec<u8> = (0..300_000).map(|i| (i % 251) as u8).collect();
    let resume_url = files.serve_file("cv.pdf", "application/pdf", resume.clone());
    let photo_url = files.serve_file("portfolio.png", "image/png", b"\x89PNG".to_vec());
    let (origin, bodies) = stand_in().await;

    let input = run_input(json!([
        {"file_url": photo_url},
        {"file_url": resume_url, "file_name": "Ada CV.pdf", "type": "resume"},
    ]));
    let outcome = executor(options())
        .run(&plan(registry()), input, &account(&origin))
        .await
        .expect("the apply succeeds");
    assert_eq!(outcome.exchanges.len(), 1);

    let bodies = bodies.lock().expect("lock");
    assert_eq!(bodies.len(), 1);
    assert_eq!(
        bodies[0]["resume"],
        json!({"fileName": "Ada CV.pdf", "mimeType": "application/pdf", "fileContent": STANDARD.encode(&resume)})
    );
    assert_eq!(
        bodies[0]["attachments"],
        json!([{"fileName": "portfolio.png", "mimeType": "image/png", "fileContent": STANDARD.encode(b"\x89PNG")}])
    );
}

#[tokio::test]
async fn a_file_over_the_integrations_limit_is_refused_before_anything_is_sent() {
    let files = FakeLever::start().await;
    // SmartRecruiters' files.max_bytes is 2 MiB [S5].
    let url = files.serve_generated_file("huge.pdf", "application/pdf", 2 * 1024 * 1024 + 1);
    let (origin, bodies) = stand_in().await;

    let error = executor(options())
        .run(
            &plan(registry()),
            run_input(json!([{"file_url": url, "type": "resume"}])),
            &account(&origin),
        )
        .await
        .expect_err("refused");
    let ExecErrorKind::File(file) = error.kind() else {
        panic!("expected a file error, got {error:?}");
    };
    assert_eq!(file.step, "apply");
    assert!(
        matches!(
            file.kind,
            FileErrorKind::TooLarge {
                max_bytes: 2_097_152
            }
        ),
        "{file:?}"
    );
    assert!(
        bodies.lock().expect("lock").is_empty(),
        "nothing reached the provider"
    );
}
