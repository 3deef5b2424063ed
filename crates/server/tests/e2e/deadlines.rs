//! The run deadline: a request whose provider calls take too long is answered 504
//! `deadline_exceeded`, or, once a step created something, 424 `partially_completed` with the
//! steps that had already succeeded (a 504 would invite a retry that applies again).

use std::time::Duration;

use switchboard_testkit::fake_lever::Fault;

use crate::common::{TestServer, applicant, candidate, config, envelope, send_json};

#[tokio::test]
async fn a_run_past_its_deadline_after_the_application_is_a_424_listing_completed_steps() {
    let mut config = config();
    config.executor.deadline = Duration::from_millis(1500);
    let server = TestServer::start_with(config).await;
    server.lever.script(Fault::delay(
        "GET",
        "/v1/opportunities",
        Duration::from_secs(3),
    ));
    let (status, body) =
        send_json(server.create(&applicant(), &candidate("late@example.com"))).await;
    envelope(424, &body);
    assert_eq!(status, 424, "{body}");
    assert_eq!(body["code"], "partially_completed", "{body}");
    assert_eq!(body["failure"]["code"], "deadline_exceeded", "{body}");
    assert_eq!(body["failure"]["status"], 504, "{body}");
    assert_eq!(body["remote_step"], "find", "{body}");
    assert_eq!(body["may_have_reached_provider"], true, "{body}");
    let completed = body["completed_steps"].as_array().expect("completed steps");
    assert_eq!(completed.len(), 1, "{body}");
    assert_eq!(completed[0]["step"], "apply");
    assert_eq!(server.lever.opportunities().len(), 1);
}

#[tokio::test]
async fn a_run_past_its_deadline_before_anything_was_created_is_a_504() {
    let mut config = config();
    config.executor.deadline = Duration::from_millis(1500);
    let server = TestServer::start_with(config).await;
    server
        .lever
        .script(Fault::delay("POST", "/v1/postings", Duration::from_secs(3)));
    let (status, body) =
        send_json(server.create(&applicant(), &candidate("slow@example.com"))).await;
    envelope(504, &body);
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["code"], "deadline_exceeded", "{body}");
    assert!(body.get("created").is_none(), "{body}");
}
