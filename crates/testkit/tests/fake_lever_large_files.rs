//! The fake Lever with files larger than it keeps: generated files are served with their
//! length, and uploads are checked by length and digest as they stream in.

use reqwest::{Body, Client, StatusCode, multipart};
use switchboard_testkit::fake_lever::{FakeLever, Upload, generated_file_sha256};

/// Three times what the fake keeps of an upload.
const LEN: u64 = 3 * Upload::KEPT_BYTES as u64;

#[tokio::test]
async fn a_generated_file_streams_through_an_upload_and_is_checked_by_digest() {
    let fake = FakeLever::start().await;
    let url = fake.serve_generated_file("big cv.pdf", "application/pdf", LEN);
    let client = Client::new();

    let served = client.get(&url).send().await.expect("served");
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.content_length(), Some(LEN));
    assert_eq!(served.headers()["content-type"], "application/pdf");
    let part = multipart::Part::stream_with_length(Body::wrap_stream(served.bytes_stream()), LEN)
        .file_name("big-cv.pdf");
    let answer = client
        .post(format!("{}/uploads", fake.base_url()))
        .basic_auth(FakeLever::API_KEY, Some(""))
        .multipart(multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("answered");
    assert_eq!(answer.status(), StatusCode::OK);
    let data: serde_json::Value = answer.json().await.expect("json");
    assert_eq!(data["data"]["size"], LEN);

    let uploads = fake.uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].len as u64, LEN);
    assert_eq!(uploads[0].sha256, generated_file_sha256(LEN));
    assert!(
        uploads[0].bytes.is_empty(),
        "a large upload's bytes are not kept"
    );
    let call = fake
        .calls()
        .into_iter()
        .find(|call| call.matches("POST", "/v1/uploads"))
        .expect("recorded");
    assert!(
        call.body.is_empty(),
        "a multipart body is not recorded whole"
    );

    let download = client
        .get(uploads[0].uri.as_deref().expect("a uri"))
        .basic_auth(FakeLever::API_KEY, Some(""))
        .send()
        .await
        .expect("answered");
    assert_eq!(download.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_small_upload_keeps_its_bytes_and_digest() {
    let fake = FakeLever::start().await;
    let part = multipart::Part::bytes(b"abc".to_vec()).file_name("a.txt");
    let answer = Client::new()
        .post(format!("{}/uploads", fake.base_url()))
        .basic_auth(FakeLever::API_KEY, Some(""))
        .multipart(multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("answered");
    assert_eq!(answer.status(), StatusCode::OK);
    let uploads = fake.uploads();
    assert_eq!(uploads[0].bytes, b"abc");
    assert_eq!(
        uploads[0].sha256,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
