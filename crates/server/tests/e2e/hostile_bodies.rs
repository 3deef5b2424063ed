//! Hostile request bodies and query values, as an attacker sends them over HTTP: refused before
//! any provider call, answered with the input problem, and the server stays up.

use serde_json::{Value, json};

use crate::common::{TestServer, applicant, candidate, envelope, send_json};

/// `count` answers, each in a card of its own (issue 8, row 4: 40,000 of them cost 11–41 s).
fn answers_in_their_own_groups(count: usize) -> Value {
    (0..count)
        .map(|i| json!({"group_id": format!("g{i}"), "name": "f", "value": "y"}))
        .collect()
}

async fn assert_still_up(server: &TestServer) {
    let (status, _) = send_json(server.client.get(server.url("/health"))).await;
    assert_eq!(status, 200, "the server is still up");
}

#[tokio::test]
async fn forty_thousand_form_answers_are_a_400_before_any_call() {
    let server = TestServer::start().await;
    let mut body = candidate("many@example.com");
    body["job_form_field_answers"] = answers_in_their_own_groups(40_000);
    let (status, body) = send_json(server.create(&applicant(), &body)).await;
    envelope(400, &body);
    assert_eq!(status, 400, "{}", body["message"]);
    let text = body.to_string();
    assert!(text.contains("/job_form_field_answers"), "{text:.400}");
    assert!(text.len() < 4096, "the refusal does not echo the body back");
    assert!(server.lever.calls().is_empty(), "nothing reached the fake");
    assert_still_up(&server).await;
}

#[tokio::test]
async fn dot_segment_job_ids_are_a_400_and_nothing_is_sent() {
    let server = TestServer::start().await;
    for job_id in ["..", ".", "%2e%2e", "%2E.", ""] {
        let (status, body) =
            send_json(server.create(&format!("job_id={job_id}"), &candidate("dots@example.com")))
                .await;
        envelope(400, &body);
        assert_eq!(status, 400, "job_id={job_id}: {body}");
        assert!(body.to_string().contains("job_id"), "{body}");
    }
    assert!(server.lever.calls().is_empty(), "nothing reached the fake");
    assert_still_up(&server).await;
}
