//! Attachments: fetched with a size limit, from public addresses only unless allowed, streamed
//! into the upload.

use std::net::{IpAddr, Ipv4Addr};

use serde_json::json;
use switchboard_executor::{ExecError, ExecErrorKind, ExecutorOptions, FileError, FileErrorKind};
use switchboard_testkit::fake_lever::FakeLever;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::common::{applicant_input, lead_input, options, run_create};

/// The file error inside `error`; panics on any other error.
fn file_error(error: &ExecError) -> &FileError {
    let ExecErrorKind::File(file) = error.kind() else {
        panic!("expected a file error, got {error:?}");
    };
    file
}

fn pdf(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn attachments(files: &[(&str, &str)]) -> serde_json::Value {
    json!({
        "attachments": files
            .iter()
            .map(|(name, url)| json!({"file_name": name, "file_url": url}))
            .collect::<Vec<_>>()
    })
}

#[tokio::test]
async fn applicant_resume_is_uploaded_then_named_in_the_application() {
    let lever = FakeLever::start().await;
    let bytes = pdf(200_000);
    let url = lever.serve_file("ada-cv.pdf", "application/pdf", bytes.clone());
    let outcome = run_create(
        options(),
        applicant_input("cv@example.com", attachments(&[("ada-cv.pdf", &url)])),
        &lever,
    )
    .await
    .expect("the applicant path with a resume succeeds");
    let steps: Vec<&str> = outcome.exchanges.iter().map(|e| e.step.as_str()).collect();
    assert_eq!(steps, vec!["upload", "apply", "find", "tag"]);

    let uploads = lever.uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].filename, "ada-cv.pdf");
    assert_eq!(uploads[0].content_type.as_deref(), Some("application/pdf"));
    assert!(uploads[0].bytes == bytes, "the file arrives intact");
    let uri = uploads[0].uri.clone().expect("an upload uri");

    let apply = lever
        .calls()
        .into_iter()
        .find(|call| call.matches("POST", "/v1/postings/"))
        .and_then(|call| call.json())
        .expect("an apply body");
    let info = apply["personalInformation"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        info.contains(&json!({"name": "resume", "value": uri})),
        "{apply}"
    );
}

#[tokio::test]
async fn lead_files_are_attached_to_the_new_opportunity() {
    let lever = FakeLever::start().await;
    let cv = lever.serve_file("cv.pdf", "application/pdf", pdf(3000));
    let letter = lever.serve_file("letter.txt", "text/plain", b"Dear Lever".to_vec());
    let outcome = run_create(
        options(),
        lead_input(
            "files@example.com",
            attachments(&[("cv.pdf", &cv), ("letter.txt", &letter)]),
        ),
        &lever,
    )
    .await
    .expect("the lead path with files succeeds");
    let id = outcome.output.record["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let uploads = lever.uploads();
    assert_eq!(uploads.len(), 2);
    assert!(
        uploads
            .iter()
            .all(|u| u.opportunity.as_deref() == Some(id.as_str()))
    );
    assert_eq!(uploads[1].filename, "letter.txt");
    assert_eq!(uploads[1].bytes, b"Dear Lever");
    assert_eq!(
        lever.count("POST", &format!("/v1/opportunities/{id}/files")),
        2
    );
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused_on_its_content_length() {
    let lever = FakeLever::start().await;
    let url = lever.serve_file("big.pdf", "application/pdf", pdf(4096));
    let options = ExecutorOptions {
        max_file_bytes: Some(1024),
        ..options()
    };
    let error = run_create(
        options,
        applicant_input("big@example.com", attachments(&[("big.pdf", &url)])),
        &lever,
    )
    .await
    .expect_err("too large");
    let file = file_error(&error);
    assert_eq!(file.kind, FileErrorKind::TooLarge { max_bytes: 1024 });
    assert_eq!(file.step, "upload");
    assert_eq!(
        error.to_string(),
        format!("file `{url}` for step `upload` is larger than the limit of 1024 bytes")
    );
    assert_eq!(
        lever.count("POST", "/v1/uploads"),
        0,
        "refused before uploading"
    );
    assert_eq!(lever.count("POST", "/v1/postings/"), 0);
}

/// Serves one file of `chunks` × 1 KiB with chunked encoding (no `Content-Length`) on loopback.
async fn chunked_file_server(chunks: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0_u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte).await {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/pdf\r\ntransfer-encoding: chunked\r\n\r\n")
                    .await;
                let chunk = vec![b'x'; 1024];
                for _ in 0..chunks {
                    let _ = stream.write_all(b"400\r\n").await;
                    let _ = stream.write_all(&chunk).await;
                    if stream.write_all(b"\r\n").await.is_err() {
                        return;
                    }
                }
                let _ = stream.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    format!("http://{addr}/stream.pdf")
}

#[tokio::test]
async fn a_file_without_a_length_is_cut_off_at_the_limit() {
    let lever = FakeLever::start().await;
    let url = chunked_file_server(64).await;
    let options = ExecutorOptions {
        max_file_bytes: Some(10 * 1024),
        ..options()
    };
    let error = run_create(
        options,
        applicant_input("stream@example.com", attachments(&[("stream.pdf", &url)])),
        &lever,
    )
    .await
    .expect_err("too large");
    let file = file_error(&error);
    assert_eq!(
        file.kind,
        FileErrorKind::TooLarge {
            max_bytes: 10 * 1024
        }
    );
    assert!(lever.uploads().is_empty(), "the cut upload was not stored");
    assert!(lever.count("POST", "/v1/uploads") <= 1, "not retried");
    assert_eq!(lever.count("POST", "/v1/postings/"), 0);
}

#[tokio::test]
async fn a_file_without_a_length_under_the_limit_streams_through() {
    let lever = FakeLever::start().await;
    let url = chunked_file_server(8).await;
    run_create(
        options(),
        lead_input("chunks@example.com", attachments(&[("stream.pdf", &url)])),
        &lever,
    )
    .await
    .expect("uploaded");
    let uploads = lever.uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].len, 8 * 1024);
}

#[tokio::test]
async fn loopback_file_urls_are_refused_unless_allowed() {
    let lever = FakeLever::start().await;
    let url = lever.serve_file("cv.pdf", "application/pdf", pdf(100));
    let strict = ExecutorOptions {
        allow_private_file_urls: false,
        ..options()
    };
    let error = run_create(
        strict.clone(),
        applicant_input("ssrf@example.com", attachments(&[("cv.pdf", &url)])),
        &lever,
    )
    .await
    .expect_err("loopback refused");
    let file = file_error(&error);
    assert_eq!(
        file.kind,
        FileErrorKind::ForbiddenAddress {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST)
        }
    );
    assert!(lever.calls().is_empty(), "nothing was fetched or sent");

    // A host name that resolves to loopback is refused too (checked at resolution).
    let by_name = url.replacen("127.0.0.1", "localhost", 1);
    let error = run_create(
        strict,
        lead_input("ssrf2@example.com", attachments(&[("cv.pdf", &by_name)])),
        &lever,
    )
    .await
    .expect_err("localhost refused");
    let file = file_error(&error);
    match file.kind {
        FileErrorKind::ForbiddenAddress { address } => assert!(address.is_loopback()),
        ref other => panic!("expected a forbidden address, got {other:?}"),
    }
    assert!(
        lever
            .calls()
            .iter()
            .all(|call| !call.path.starts_with("/files/"))
    );
    assert_eq!(
        lever.count("POST", "/v1/opportunities/"),
        0,
        "no file attached"
    );
}

#[tokio::test]
async fn only_http_file_urls_are_fetched_and_errors_say_why() {
    let lever = FakeLever::start().await;
    let error = run_create(
        options(),
        applicant_input(
            "ftp@example.com",
            attachments(&[("cv.pdf", "ftp://example.com/cv.pdf")]),
        ),
        &lever,
    )
    .await
    .expect_err("ftp refused");
    assert!(matches!(
        error.kind(),
        ExecErrorKind::File(file) if file.kind == FileErrorKind::UnsupportedScheme { scheme: "ftp".into() }
    ));

    let missing = format!(
        "{}/files/missing.pdf?token=s3cr3t",
        lever.base_url().trim_end_matches("/v1")
    );
    let error = run_create(
        options(),
        applicant_input("404@example.com", attachments(&[("cv.pdf", &missing)])),
        &lever,
    )
    .await
    .expect_err("not found");
    let file = file_error(&error);
    assert!(
        matches!(
            file.kind,
            FileErrorKind::Fetch {
                status: Some(404),
                ..
            }
        ),
        "{error}"
    );
    assert!(
        !error.to_string().contains("s3cr3t"),
        "no query in messages: {error}"
    );
    assert_eq!(lever.count("POST", "/v1/uploads"), 0);
}

#[tokio::test]
async fn an_upload_retried_after_a_429_fetches_the_file_again() {
    let lever = FakeLever::start().await;
    let bytes = pdf(5000);
    let url = lever.serve_file("again.pdf", "application/pdf", bytes.clone());
    lever.script(switchboard_testkit::fake_lever::Fault::status(
        "POST",
        "/v1/uploads",
        429,
    ));
    run_create(
        options(),
        applicant_input("again@example.com", attachments(&[("again.pdf", &url)])),
        &lever,
    )
    .await
    .expect("the upload is retried");
    assert_eq!(lever.count("POST", "/v1/uploads"), 2);
    assert_eq!(
        lever.count("GET", "/files/again.pdf"),
        2,
        "a streamed body is fetched anew"
    );
    let uploads = lever.uploads();
    assert_eq!(uploads.len(), 1);
    assert!(uploads[0].bytes == bytes);
}
