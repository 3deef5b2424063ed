//! The README's walkthrough, as a new user runs it: a token, a Lever account pointed at the fake
//! Lever, `switchboard serve`, then the contract's request.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard_testkit::fake_lever::FakeLever;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

fn last_line(args: &[&str]) -> String {
    last_line_with_stdin(args, "")
}

/// Runs `switchboard` with `stdin` piped in; answers the last line it printed.
fn last_line_with_stdin(args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin written");
    let out = child.wait_with_output().expect("finishes");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .expect("a line")
        .trim()
        .to_owned()
}

/// Kills the server when the test ends, whatever happens.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[test]
fn token_account_serve_and_the_contract_request() {
    let dir = std::env::temp_dir().join(format!("switchboard-walkthrough-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let database = format!("sqlite:{}", dir.join("switchboard.db").display());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let fake = runtime.block_on(FakeLever::start());

    let token = last_line(&[
        "tokens",
        "create",
        "--name",
        "walkthrough",
        "--database",
        &database,
    ]);
    let context =
        json!({"api_key": FakeLever::API_KEY, "perform_as": FakeLever::USER_ID}).to_string();
    let account = last_line_with_stdin(
        &[
            "accounts",
            "create",
            "--integration",
            "lever",
            "--base-url",
            &fake.base_url(),
            "--context-file",
            "-",
            "--database",
            &database,
        ],
        &context,
    );

    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args([
                "serve",
                "--listen",
                &listen,
                "--database",
                &database,
                "--allow-private-provider-urls",
            ])
            .current_dir(root())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts"),
    );
    let base = format!("http://{listen}");
    let client = reqwest::Client::new();
    runtime.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match client.get(format!("{base}/ready")).send().await {
                Ok(r) if r.status().is_success() => break,
                _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
                other => panic!("the server never became ready: {other:?}"),
            }
        }
        let payload = json!({
            "first_name": "your_first_name", "last_name": "your_last_name", "title": "your_title",
            "company": "your_company", "locations": [], "phones": [], "emails": [{"email": "you@example.com"}],
            "tags": [], "attachments": [], "job_form_field_answers": [], "remote_data": {}
        });
        let response = client
            .post(format!("{base}/unified/ats/candidates"))
            .query(&[("integrated_account_id", account.as_str()), ("job_id", FakeLever::POSTING_ID)])
            .bearer_auth(&token)
            .json(&payload)
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), 201);
        let candidate: Value = response.json().await.expect("json");
        assert_eq!(candidate["name"], "your_first_name your_last_name");
        assert_eq!(candidate["emails"], json!([{"email": "you@example.com"}]));
        assert!(candidate["remote_data"]["applicationId"].is_string());

        let unauthenticated = client.post(format!("{base}/unified/ats/candidates")).json(&payload).send().await.expect("answered");
        assert_eq!(unauthenticated.status(), 401);
        // The walkthrough's token is a client app's: it cannot manage accounts.
        let accounts = client.get(format!("{base}/integrated-account")).bearer_auth(&token).send().await.expect("answered");
        assert_eq!(accounts.status(), 403);
    });
    assert_eq!(fake.opportunities().len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
