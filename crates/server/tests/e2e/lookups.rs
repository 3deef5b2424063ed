//! Token and account lookups are remembered, but a change made through this server takes effect
//! on its next request.

use serde_json::json;
use switchboard_server::{TokenScope, create_token, delete_token};

use crate::common::{TestServer, applicant, candidate, send, send_json};

#[tokio::test]
async fn a_revoked_token_is_refused_on_the_next_request() {
    let server = TestServer::start().await;
    let created = create_token(server.store.as_ref(), "short-lived", TokenScope::Admin, &[])
        .await
        .expect("token");
    let health = || {
        server
            .client
            .get(server.url("/integrated-account"))
            .bearer_auth(&created.token)
    };
    assert_eq!(send(health()).await.status(), 200);
    assert_eq!(send(health()).await.status(), 200, "answered from memory");
    assert!(
        delete_token(server.store.as_ref(), &created.id)
            .await
            .expect("revoke")
    );
    assert_eq!(send(health()).await.status(), 401);
}

#[tokio::test]
async fn a_changed_or_deleted_account_is_used_as_it_now_is() {
    let server = TestServer::start().await;
    let create = |email: &str| server.create(&applicant(), &candidate(email));
    assert_eq!(send(create("a@example.com")).await.status(), 201);
    assert_eq!(send(create("b@example.com")).await.status(), 201);

    let path = format!("/integrated-account/{}", server.account);
    let wrong_key = json!({"context": {"api_key": "not-the-key"}});
    assert_eq!(
        send(server.patch(&path).json(&wrong_key)).await.status(),
        200
    );
    let refused = send(create("c@example.com")).await.status();
    assert!(
        refused.is_client_error() || refused.is_server_error(),
        "{refused}"
    );
    assert_ne!(refused, 404);

    assert_eq!(send(server.delete(&path)).await.status(), 200);
    let (status, body) = send_json(create("d@example.com")).await;
    assert_eq!(status, 404, "{body}");
}
