//! Token and account lookups are remembered, but a change made through this server takes effect
//! on its next request.

use switchboard_server::{TokenScope, create_token, delete_token};

use crate::common::{TestServer, send};

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
