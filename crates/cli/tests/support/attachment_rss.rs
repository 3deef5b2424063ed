//! Peak memory of `switchboard serve` while it streams a `file_url` attachment to the fake
//! Lever: shared by the `attachment_memory` test and the `attachment_rss` bench.
//!
//! The server runs as a child process with an account on the in-process fake Lever, which
//! generates the file as it serves it and hashes the upload as it receives it (neither holds
//! the file whole). The server's peak RSS (`VmHWM`) is reset before the measured create
//! (`echo 5 > /proc/<pid>/clear_refs`) or, where that is refused, taken after a warm-up create
//! with a tiny file; the growth is the peak during the create minus that baseline.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard_testkit::fake_lever::{FakeLever, generated_file_sha256};

/// The repository root (where `mappings/` is).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// Runs `switchboard` with `stdin` piped in; answers the last line it printed.
fn last_line(args: &[&str], stdin: &str) -> String {
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

/// Kills the server when dropped, whatever happens.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A field of `/proc/<pid>/status`, in bytes (the file gives kB).
fn status_bytes(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kb| kb.trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// Resets the peak RSS of `pid` to its current RSS; false when the kernel refuses.
fn reset_peak(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// What one measured upload showed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Measured {
    /// The file's size.
    pub(crate) file_bytes: u64,
    /// The server's peak RSS before the create (after the warm-up).
    pub(crate) baseline: u64,
    /// The server's peak RSS once the create answered.
    pub(crate) peak: u64,
    /// Whether the peak was reset before the create (else the warm-up's peak is the baseline).
    pub(crate) reset: bool,
}

impl Measured {
    /// How much the peak grew during the create.
    pub(crate) fn growth(&self) -> u64 {
        self.peak.saturating_sub(self.baseline)
    }
}

/// A running server with a Lever account on a fake Lever.
pub(crate) struct Setup {
    runtime: tokio::runtime::Runtime,
    fake: FakeLever,
    server: Server,
    base: String,
    token: String,
    account: String,
    dir: PathBuf,
    creates: usize,
}

impl Setup {
    /// Starts the fake Lever and `switchboard serve` (release or debug, as built), with a token
    /// and a Lever account; waits until the server is ready.
    pub(crate) fn start(name: &str) -> Setup {
        let dir = std::env::temp_dir().join(format!("switchboard-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let database = format!("sqlite:{}", dir.join("switchboard.db").display());
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let fake = runtime.block_on(FakeLever::start());
        let token = last_line(
            &["tokens", "create", "--name", name, "--database", &database],
            "",
        );
        let context =
            json!({"api_key": FakeLever::API_KEY, "perform_as": FakeLever::USER_ID}).to_string();
        let base_url = fake.base_url();
        let account = last_line(
            &[
                "accounts",
                "create",
                "--integration",
                "lever",
                "--base-url",
                &base_url,
                "--context-file",
                "-",
                "--database",
                &database,
            ],
            &context,
        );
        let listen = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .to_string();
        let server = Server(
            Command::new(env!("CARGO_BIN_EXE_switchboard"))
                .args([
                    "serve",
                    "--listen",
                    &listen,
                    "--database",
                    &database,
                    "--allow-private-provider-urls",
                    "--allow-private-file-urls",
                ])
                .current_dir(root())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("serve starts"),
        );
        let setup = Setup {
            runtime,
            fake,
            server,
            base: format!("http://{listen}"),
            token,
            account,
            dir,
            creates: 0,
        };
        setup.wait_until_ready();
        setup
    }

    fn wait_until_ready(&self) {
        let client = reqwest::Client::new();
        self.runtime.block_on(async {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                match client.get(format!("{}/ready", self.base)).send().await {
                    Ok(r) if r.status().is_success() => break,
                    _ if Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(100)).await
                    }
                    other => panic!("the server never became ready: {other:?}"),
                }
            }
        });
    }

    /// Creates a candidate whose resume is a generated `file_bytes`-byte file; checks the
    /// answer and that the fake Lever received the file intact.
    pub(crate) fn create_with_resume(&mut self, file_bytes: u64) {
        self.creates += 1;
        let name = format!("resume-{}.pdf", self.creates);
        let file_url = self
            .fake
            .serve_generated_file(&name, "application/pdf", file_bytes);
        let payload = json!({
            "first_name": "Ada", "last_name": "Lovelace",
            "emails": [{"email": format!("ada{}@example.com", self.creates)}],
            "job_form_field_answers": [],
            "attachments": [{"file_url": file_url, "file_name": name, "type": "resume"}],
        });
        let client = reqwest::Client::new();
        let (status, body) = self.runtime.block_on(async {
            let response = client
                .post(format!("{}/unified/ats/candidates", self.base))
                .query(&[
                    ("integrated_account_id", self.account.as_str()),
                    ("job_id", FakeLever::POSTING_ID),
                ])
                .bearer_auth(&self.token)
                .json(&payload)
                .send()
                .await
                .expect("answered");
            let status = response.status();
            (status, response.json::<Value>().await.expect("json"))
        });
        assert_eq!(status, 201, "{body}");
        let upload = self
            .fake
            .uploads()
            .into_iter()
            .find(|upload| upload.filename == name)
            .expect("the fake Lever received the resume");
        assert_eq!(upload.len as u64, file_bytes, "the whole file arrived");
        assert_eq!(
            upload.sha256,
            generated_file_sha256(file_bytes),
            "the file arrived intact"
        );
    }

    /// Warms the server up with a tiny file, then measures the peak RSS growth while it streams
    /// a `file_bytes`-byte resume through.
    pub(crate) fn measure(&mut self, file_bytes: u64) -> Measured {
        self.create_with_resume(1024);
        let pid = self.server.0.id();
        let reset = reset_peak(pid);
        let baseline = status_bytes(pid, "VmHWM");
        self.create_with_resume(file_bytes);
        Measured {
            file_bytes,
            baseline,
            peak: status_bytes(pid, "VmHWM"),
            reset,
        }
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
