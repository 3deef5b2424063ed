//! Scale-out: two `switchboard serve` processes on one PostgreSQL database in front of the
//! testkit's fake Lever. Idempotency keys and provider rate limits hold across both; `/ready`
//! follows the database; killing one instance mid-burst loses and duplicates nothing.
//! Skipped (with a message) without PostgreSQL, except under CI.

#[path = "../../server/tests/support/postgres.rs"]
mod postgres;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use postgres::{POSTGRES_URL_ENV, TestDatabase};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;
use switchboard_testkit::fake_lever::FakeLever;

/// The applications bucket Lever's mapping declares: 2 per second, burst 2.
const APPLICATIONS_PER_SECOND: f64 = 2.0;
const APPLICATIONS_BURST: f64 = 2.0;
/// How far apart (seconds) two calls' arrivals may be pulled by scheduling and the network,
/// beyond what the bucket allows.
const ARRIVAL_SLACK: f64 = 0.15;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// `switchboard args` with the database and key given; its last line of output.
fn cli(args: &[&str], database: &str, key: &str) -> String {
    let out = cli_output(args, database, key);
    out.lines().last().unwrap_or_default().trim().to_owned()
}

/// `switchboard args` with the database and key given; its output.
fn cli_output(args: &[&str], database: &str, key: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(args)
        .current_dir(root())
        .env("SWITCHBOARD_DATABASE", database)
        .env("SWITCHBOARD_SECRET_KEY", key)
        .env_remove("SWITCHBOARD_EXTRA_SECRET_KEYS")
        .output()
        .expect("the binary runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// One `switchboard serve` process; killed when dropped.
struct Instance {
    child: Child,
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Instance {
    fn start(database: &str, key: &str) -> Instance {
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--allow-private-provider-urls",
                "--request-timeout",
                "12",
                "--log-format",
                "json",
            ])
            .current_dir(root())
            .env("SWITCHBOARD_DATABASE", database)
            .env("SWITCHBOARD_SECRET_KEY", key)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let lines = Arc::clone(&log);
        // Reads every line (a full pipe would stall the server), reporting the listen address.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("switchboard listening") {
                    let _ = addr_tx.send(listen_address(&line));
                }
                lines.lock().expect("log").push(line);
            }
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("serve did not start: {:?}", log.lock().expect("log")));
        Instance {
            child,
            base: format!("http://{addr}"),
            log,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Whether the process wrote a panic.
    fn panicked(&self) -> bool {
        self.log
            .lock()
            .expect("log")
            .iter()
            .any(|line| line.contains("panicked"))
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `127.0.0.1:PORT` from the "listening" log line.
fn listen_address(line: &str) -> String {
    let start = line.find("127.0.0.1:").expect("an address");
    line[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
        .collect()
}

/// A create answer: status, whether replayed, request id, body text.
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    status: StatusCode,
    replayed: bool,
    request_id: String,
    body: String,
}

async fn create(
    client: &Client,
    instance_base: &str,
    token: &str,
    query: &str,
    body: &Value,
    key: Option<&str>,
) -> reqwest::Result<Answer> {
    let mut request = client
        .post(format!("{instance_base}/unified/ats/candidates?{query}"))
        .bearer_auth(token)
        .json(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await?;
    let status = response.status();
    let replayed = response.headers().contains_key("idempotent-replayed");
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Ok(Answer {
        status,
        replayed,
        request_id,
        body: response.text().await?,
    })
}

fn person(email: &str) -> Value {
    json!({"first_name": "Scale", "last_name": "Out", "emails": [{"email": email}],
           "job_form_field_answers": []})
}

/// Every pair of arrivals respects the bucket: `n` calls within `t` seconds need
/// `n <= burst + rate * t` (with a little slack for scheduling).
fn assert_paced(mut arrivals: Vec<Instant>) {
    arrivals.sort();
    for (i, first) in arrivals.iter().enumerate() {
        for (j, last) in arrivals.iter().enumerate().skip(i) {
            let calls = (j - i + 1) as f64;
            let span = last.duration_since(*first).as_secs_f64();
            let allowed = APPLICATIONS_BURST + APPLICATIONS_PER_SECOND * (span + ARRIVAL_SLACK);
            assert!(
                calls <= allowed,
                "{calls} calls within {span:.3} s: more than the applications bucket allows"
            );
        }
    }
}

/// Polls `/ready` on each instance until it answers `want`.
async fn wait_ready(client: &Client, instances: &[&Instance], want: StatusCode) {
    for instance in instances {
        let mut last = None;
        for _ in 0..200 {
            let status = client
                .get(instance.url("/ready"))
                .send()
                .await
                .map(|r| r.status())
                .ok();
            if status == Some(want) {
                last = status;
                break;
            }
            last = status;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(last, Some(want), "/ready on {}", instance.base);
    }
}

/// Polls `GET /log` on `instance` until it lists every request id in `ids`.
async fn assert_logged(client: &Client, instance: &Instance, token: &str, ids: &[&str]) {
    let mut missing = Vec::new();
    for _ in 0..100 {
        let log: Value = client
            .get(instance.url("/log?limit=100"))
            .bearer_auth(token)
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("json");
        let listed: Vec<&str> = log["result"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|entry| entry["request_id"].as_str())
            .collect();
        missing = ids.iter().filter(|id| !listed.contains(id)).collect();
        if missing.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{} does not list {missing:?}", instance.base);
}

/// A token used on every instance, then revoked through the CLI, is refused by every instance
/// within twice the 5 s lookup TTL.
async fn assert_revocation_spreads(client: &Client, instances: &[&Instance], db: &str, key: &str) {
    let token = cli(
        &["tokens", "create", "--name", "revoked", "--scope", "admin"],
        db,
        key,
    );
    let status = |instance: &Instance| {
        let request = client.get(instance.url("/log?limit=1")).bearer_auth(&token);
        async move { request.send().await.expect("sent").status() }
    };
    for instance in instances {
        assert_eq!(status(instance).await, StatusCode::OK, "cached as valid");
    }
    let list = cli_output(&["tokens", "list"], db, key);
    let row = list
        .lines()
        .find(|line| line.split('\t').nth(1) == Some("revoked"))
        .expect("listed");
    let id = row.split('\t').next().expect("an id").to_owned();
    cli(&["tokens", "delete", &id], db, key);
    for instance in instances {
        let mut last = StatusCode::OK;
        for _ in 0..100 {
            last = status(instance).await;
            if last == StatusCode::UNAUTHORIZED {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(last, StatusCode::UNAUTHORIZED, "{}", instance.base);
    }
}

/// Runs `sql` on the server's maintenance database (as the test's administrator).
async fn admin(sql: &str) {
    let url = std::env::var(POSTGRES_URL_ENV).expect("set when a database was made");
    let mut conn = sqlx::PgConnection::connect(&url).await.expect("admin");
    sqlx::raw_sql(sql).execute(&mut conn).await.expect(sql);
    let _ = conn.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_postgres_act_as_one() {
    let Some(database) = TestDatabase::create("scale-out").await else {
        return;
    };
    let db_name = url::Url::parse(&database.url)
        .expect("url")
        .path()
        .trim_start_matches('/')
        .to_owned();
    let lever = FakeLever::start().await;
    let key = cli(&["keys", "generate"], &database.url, "");
    let token = cli(
        &["tokens", "create", "--name", "e2e", "--scope", "admin"],
        &database.url,
        &key,
    );
    let (a, b) = (
        Instance::start(&database.url, &key),
        Instance::start(&database.url, &key),
    );
    let client = Client::new();
    let account: Value = client
        .post(a.url("/integrated-account"))
        .bearer_auth(&token)
        .json(
            &json!({"integration": "lever", "base_url": lever.base_url(),
            "context": {"api_key": FakeLever::API_KEY, "perform_as": FakeLever::USER_ID}}),
        )
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let account = account["id"].as_str().expect("an account id").to_owned();
    let lead = format!(
        "integrated_account_id={account}&job_id={}&application_source=lead",
        FakeLever::POSTING_ID
    );
    let applicant = format!(
        "integrated_account_id={account}&job_id={}",
        FakeLever::POSTING_ID
    );

    // 20 keys, each sent once to each instance at the same time: 20 creates, equal answers.
    let sends = (0..20).flat_map(|i| {
        [&a, &b].map(|instance| {
            let (client, token, lead) = (client.clone(), token.clone(), lead.clone());
            let base = instance.base.clone();
            tokio::spawn(async move {
                let key = format!("key-{i}");
                let body = person(&format!("lead-{i}@example.com"));
                create(&client, &base, &token, &lead, &body, Some(&key)).await
            })
        })
    });
    let answers: Vec<Answer> = futures_join(sends).await;
    for pair in answers.chunks(2) {
        assert_eq!(pair[0].status, StatusCode::CREATED, "{}", pair[0].body);
        assert_eq!(pair[0].body, pair[1].body, "both instances answer alike");
        assert!(pair[0].replayed ^ pair[1].replayed, "one ran, one replayed");
    }
    assert_eq!(lever.count("POST", "/v1/opportunities"), 20);
    // The request log is one: the second instance lists the first one's requests.
    let served_by_a: Vec<&str> = answers
        .iter()
        .step_by(2)
        .map(|answer| answer.request_id.as_str())
        .collect();
    assert_logged(&client, &b, &token, &served_by_a).await;
    // A token revoked on the database stops working on every instance within the lookup TTL.
    assert_revocation_spreads(&client, &[&a, &b], &database.url, &key).await;

    // 20 applications at once over both instances: never faster than the bucket, in total.
    let sends = (0..20).map(|i| {
        let (client, token, applicant) = (client.clone(), token.clone(), applicant.clone());
        let base = [&a, &b][i % 2].base.clone();
        tokio::spawn(async move {
            let body = person(&format!("applicant-{i}@example.com"));
            create(&client, &base, &token, &applicant, &body, None).await
        })
    });
    for answer in futures_join(sends).await {
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    }
    let applied = |lever: &FakeLever| -> Vec<Instant> {
        lever
            .calls()
            .iter()
            .filter(|c| c.matches("POST", "/v1/postings/"))
            .map(|c| c.received_at)
            .collect()
    };
    assert_eq!(applied(&lever).len(), 20);
    assert_paced(applied(&lever));

    // The database unreachable: both instances say not ready, then ready again, unrestarted.
    admin(&format!(
        "ALTER DATABASE {db_name} ALLOW_CONNECTIONS false; \
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db_name}'"
    ))
    .await;
    wait_ready(&client, &[&a, &b], StatusCode::SERVICE_UNAVAILABLE).await;
    admin(&format!("ALTER DATABASE {db_name} ALLOW_CONNECTIONS true")).await;
    wait_ready(&client, &[&a, &b], StatusCode::OK).await;
    // The stored credentials still open: a create goes through on each.
    for (i, instance) in [&a, &b].into_iter().enumerate() {
        let body = person(&format!("after-outage-{i}@example.com"));
        let answer = create(&client, &instance.base, &token, &lead, &body, None)
            .await
            .expect("answered");
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    }
    assert!(!a.panicked() && !b.panicked());

    // One instance killed mid-burst of keyed applications.
    let before = applied(&lever).len();
    let sends: Vec<_> = (0..8)
        .map(|i| {
            let (client, token, applicant) = (client.clone(), token.clone(), applicant.clone());
            let base = [&a, &b][i % 2].base.clone();
            tokio::spawn(async move {
                let body = person(&format!("burst-{i}@example.com"));
                create(
                    &client,
                    &base,
                    &token,
                    &applicant,
                    &body,
                    Some(&format!("burst-{i}")),
                )
                .await
            })
        })
        .collect();
    while applied(&lever).len() < before + 3 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut b = b;
    b.child.kill().expect("killed");
    let _ = b.child.wait();
    let mut first_answers = Vec::new();
    for send in sends {
        first_answers.push(send.await.expect("joined").ok());
    }
    for (i, answer) in first_answers.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
        let answer = answer
            .as_ref()
            .expect("the survivor answers what it received");
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "burst-{i}: {}",
            answer.body
        );
    }
    // Retrying every key on the survivor: a finished run's answer is replayed; a run the killed
    // instance left unfinished is reported unknown, never sent again.
    for (i, first) in first_answers.iter().enumerate() {
        let body = person(&format!("burst-{i}@example.com"));
        let key = format!("burst-{i}");
        // A 409 `idempotency_key_in_progress` says to retry later, as a client would.
        let mut retry = create(&client, &a.base, &token, &applicant, &body, Some(&key))
            .await
            .expect("answered");
        for _ in 0..50 {
            if !retry.body.contains("idempotency_key_in_progress") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            retry = create(&client, &a.base, &token, &applicant, &body, Some(&key))
                .await
                .expect("answered");
        }
        match first {
            Some(first) if first.status == StatusCode::CREATED => {
                assert!(retry.replayed, "burst-{i}: {}", retry.body);
                assert_eq!(retry.body, first.body, "burst-{i}");
            }
            _ => assert!(
                retry.status == StatusCode::CREATED
                    || retry.body.contains("idempotency_outcome_unknown"),
                "burst-{i}: {} {}",
                retry.status,
                retry.body
            ),
        }
    }
    for i in 0..8 {
        let email = format!("burst-{i}@example.com");
        let sent = lever
            .calls()
            .iter()
            .filter(|c| c.matches("POST", "/v1/postings/") && c.body_text().contains(&email))
            .count();
        assert!(sent <= 1, "burst-{i} reached the provider {sent} times");
    }
    assert!(!a.panicked());
    drop(a);
    drop(b);
}

/// Awaits every task, in order.
async fn futures_join<T>(
    tasks: impl IntoIterator<Item = tokio::task::JoinHandle<reqwest::Result<T>>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.expect("joined").expect("answered"));
    }
    out
}
