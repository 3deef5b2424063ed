//! `switchboard keys` and `migrate`, and the key a PostgreSQL deployment must be given.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// `switchboard args` with exactly the key variables given.
fn switchboard(args: &[&str], key: Option<&str>, extra: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    command
        .args(args)
        .current_dir(root())
        .env_remove("SWITCHBOARD_SECRET_KEY")
        .env_remove("SWITCHBOARD_SECRET_KEY_FILE")
        .env_remove("SWITCHBOARD_EXTRA_SECRET_KEYS")
        .env_remove("SWITCHBOARD_DATABASE");
    if let Some(key) = key {
        command.env("SWITCHBOARD_SECRET_KEY", key);
    }
    if let Some(extra) = extra {
        command.env("SWITCHBOARD_EXTRA_SECRET_KEYS", extra);
    }
    command.output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn generated_key() -> String {
    let out = switchboard(&["keys", "generate"], None, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

#[test]
fn a_rotation_reseals_every_account_under_the_new_key() {
    let dir = std::env::temp_dir().join(format!("switchboard-cli-keys-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let database = format!("sqlite:{}", dir.join("s.db").display());
    let (old, new) = (generated_key(), generated_key());
    assert_ne!(old, new);
    let created = switchboard(
        &[
            "accounts",
            "create",
            "--integration",
            "lever",
            "--database",
            &database,
            "--context",
            r#"{"api_key":"k-1"}"#,
        ],
        Some(&old),
        None,
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    let rotate = |key: &str, extra: Option<&str>| {
        switchboard(
            &["keys", "rotate", "--database", &database],
            Some(key),
            extra,
        )
    };

    // The new key alone does not open what the old one sealed: nothing changes, and it says so.
    let without_old = rotate(&new, None);
    assert!(!without_old.status.success());
    assert!(
        text(&without_old.stderr).contains("1 account(s) open under none of the keys given"),
        "{}",
        text(&without_old.stderr)
    );
    let rotated = rotate(&new, Some(&old));
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    assert!(text(&rotated.stdout).starts_with("1 account(s) sealed again"));
    // Done: the new key alone suffices, and the old one alone no longer opens anything.
    let again = rotate(&new, None);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(text(&again.stdout).starts_with("0 account(s) sealed again"));
    assert!(!rotate(&old, None).status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn postgres_without_a_key_refuses_to_start_and_says_why() {
    for args in [
        &[
            "serve",
            "--database",
            "postgres://postgres@127.0.0.1:9/none",
        ][..],
        &[
            "keys",
            "rotate",
            "--database",
            "postgres://postgres@127.0.0.1:9/none",
        ][..],
    ] {
        let out = switchboard(args, None, None);
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains("a PostgreSQL database needs the key"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn migrate_creates_the_tables_and_is_idempotent() {
    let dir = std::env::temp_dir().join(format!("switchboard-cli-migrate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let database = format!("sqlite:{}", dir.join("s.db").display());
    for _ in 0..2 {
        let out = switchboard(&["migrate", "--database", &database], None, None);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout).trim(), "the database is up to date");
    }
    assert!(dir.join("s.db").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
