//! What the executor logs: steps, attempts, statuses and waits — never credentials.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use switchboard_testkit::fake_lever::{FakeLever, Fault};
use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

use crate::common::{account, executor, lead_input, options, plan};

/// A log sink tests can read.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn logs_name_steps_and_retries_but_never_credentials() {
    let buffer = Buffer::default();
    // Everything at TRACE except the fake's own logs (it is the provider, not us).
    let filter = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_target("switchboard_testkit", LevelFilter::OFF);
    let subscriber = tracing_subscriber::registry().with(filter).with(
        tracing_subscriber::fmt::layer()
            .with_writer(buffer.clone())
            .with_ansi(false),
    );
    let _guard = tracing::subscriber::set_default(subscriber);

    let lever = FakeLever::start().await;
    lever.script(Fault::status("POST", "/v1/opportunities", 429).retry_after("0"));
    let account = account(&lever);
    executor(options())
        .run(&plan(), lead_input("logs@example.com", json!({})), &account)
        .await
        .expect("succeeds after one retry");
    let mut missing = account.clone();
    missing.context.remove("api_key");
    let _ = executor(options())
        .run(
            &plan(),
            lead_input("logs2@example.com", json!({})),
            &missing,
        )
        .await;

    let logs = buffer.text();
    assert!(logs.contains("retrying"), "the retry is logged: {logs}");
    assert!(logs.contains("step=lead"), "{logs}");
    assert!(logs.contains("status=429"), "{logs}");
    assert!(logs.contains("wait_ms="), "{logs}");
    let basic = STANDARD.encode(format!("{}:", FakeLever::API_KEY));
    for secret in [FakeLever::API_KEY, basic.as_str(), "logs@example.com"] {
        assert!(
            !logs.contains(secret),
            "`{secret}` leaked into the logs:\n{logs}"
        );
    }
}
