//! A loopback listener that only counts the connections made to it: a proxy or echo server that
//! must never be reached, so a test can assert that nothing was sent there.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Binds `127.0.0.1:0` and counts connections (closing each at once); returns its `http://` URL
/// and the count.
pub async fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("local address"));
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((connection, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(connection);
        }
    });
    (url, count)
}
