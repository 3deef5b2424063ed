//! The run deadline: a request whose provider calls take too long is answered 504
//! `deadline_exceeded`, with the steps that had already succeeded.

use std::time::Duration;

use switchboard_testkit::fake_lever::Fault;

use crate::common::{TestServer, applicant, candidate, config, envelope, send_json};

#[tokio::test]
async fn a_run_past_its_deadline_is_a_504_listing_completed_steps() {
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
    envelope(504, &body);
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["code"], "deadline_exceeded", "{body}");
    assert_eq!(body["remote_step"], "find", "{body}");
    assert_eq!(body["may_have_reached_provider"], true, "{body}");
    let completed = body["completed_steps"].as_array().expect("completed steps");
    assert_eq!(completed.len(), 1, "{body}");
    assert_eq!(completed[0]["step"], "apply");
    assert_eq!(server.lever.opportunities().len(), 1);
}
