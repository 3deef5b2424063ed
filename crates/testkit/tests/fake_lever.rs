//! End-to-end tests of the fake Lever server over real HTTP (reqwest) and raw TCP.

use std::time::{Duration, Instant};

use reqwest::{Client, Method, RequestBuilder, StatusCode, multipart};
use serde_json::{Value, json};
use switchboard_testkit::fake_lever::{FakeLever, Fault, FaultKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn client() -> Client {
    Client::new()
}

/// A request to `path` (relative to `/v1`) with the fake's API key.
fn lever(lever: &FakeLever, method: Method, path: &str) -> RequestBuilder {
    client()
        .request(method, format!("{}{path}", lever.base_url()))
        .basic_auth(FakeLever::API_KEY, Some(""))
}

async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.json::<Value>().await.expect("a JSON body");
    (status, body)
}

fn apply_body(name: &str, email: &str) -> Value {
    json!({
        "personalInformation": [
            {"name": "fullName", "value": name},
            {"name": "email", "value": email},
            {"name": "phone", "value": "+1 555 0100"},
            {"name": "currentCompany", "value": "Acme"},
            {"name": "currentLocation", "value": "Oakland"}
        ],
        "urls": [{"name": "LinkedIn", "value": "https://linkedin.com/in/example"}],
        "customQuestions": [{"id": "card-1", "fields": [{"value": "Yes"}]}],
        "eeoResponses": {"gender": "Female"}
    })
}

fn lead_body(name: &str, email: &str) -> Value {
    json!({
        "name": name,
        "headline": "Engineer at Acme",
        "location": "Oakland",
        "emails": [email],
        "phones": [{"value": "(123) 456-7891", "type": "mobile"}],
        "links": ["https://github.com/example"],
        "tags": ["Marketing", "Marketing"],
        "sources": ["Unified API"],
        "origin": "sourced",
        "postings": [FakeLever::POSTING_ID]
    })
}

/// Every message in an error's source chain, joined.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The kinds of the I/O errors in an error's source chain.
fn io_error_kinds(error: &(dyn std::error::Error + 'static)) -> Vec<std::io::ErrorKind> {
    let mut kinds = Vec::new();
    let mut source = Some(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            kinds.push(io.kind());
        }
        source = cause.source();
    }
    kinds
}

async fn create_lead(fake: &FakeLever, body: &Value) -> (StatusCode, Value) {
    let response = lever(fake, Method::POST, "/opportunities")
        .query(&[("perform_as", FakeLever::USER_ID)])
        .json(body)
        .send()
        .await
        .expect("the request is answered");
    json_of(response).await
}

#[tokio::test]
async fn requests_without_valid_credentials_are_401() {
    let fake = FakeLever::start().await;
    let url = format!("{}/opportunities", fake.base_url());

    let (status, body) = json_of(client().get(&url).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "UnauthorizedError");
    assert!(body["message"].is_string());

    let wrong_key = client().get(&url).basic_auth("nope", Some("")).send().await;
    assert_eq!(wrong_key.unwrap().status(), StatusCode::UNAUTHORIZED);
    let password_given = client()
        .get(&url)
        .basic_auth(FakeLever::API_KEY, Some("secret"))
        .send()
        .await;
    assert_eq!(password_given.unwrap().status(), StatusCode::UNAUTHORIZED);
    let wrong_token = client().get(&url).bearer_auth("nope").send().await;
    assert_eq!(wrong_token.unwrap().status(), StatusCode::UNAUTHORIZED);

    let basic = client()
        .get(&url)
        .basic_auth(FakeLever::API_KEY, None::<&str>);
    assert_eq!(basic.send().await.unwrap().status(), StatusCode::OK);
    let header = client()
        .get(&url)
        .header("authorization", FakeLever::basic_authorization());
    assert_eq!(header.send().await.unwrap().status(), StatusCode::OK);
    let bearer = client().get(&url).bearer_auth(FakeLever::ACCESS_TOKEN);
    assert_eq!(bearer.send().await.unwrap().status(), StatusCode::OK);

    // Unknown routes need auth too, then are 404.
    let unknown = client().get(format!("{}/nothing", fake.base_url()));
    assert_eq!(
        unknown.send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = json_of(lever(&fake, Method::GET, "/nothing").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "NotFoundError");
    assert_eq!(fake.count("GET", "/v1/"), 9);
}

#[tokio::test]
async fn apply_creates_an_opportunity_found_by_email_and_posting() {
    let fake = FakeLever::start().await;
    let response = lever(
        &fake,
        Method::POST,
        &format!("/postings/{}/apply", FakeLever::POSTING_ID),
    )
    .query(&[("send_confirmation_email", "false")])
    .json(&apply_body("Ada Lovelace", "ada@example.com"))
    .send()
    .await
    .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK);
    let application_id = body["data"]["applicationId"].as_str().unwrap().to_owned();

    let response = lever(&fake, Method::GET, "/opportunities")
        .query(&[
            ("email", "ADA@example.com"),
            ("posting_id", FakeLever::POSTING_ID),
            ("expand", "applications"),
        ])
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["hasNext"], false);
    let found = body["data"].as_array().unwrap();
    assert_eq!(found.len(), 1);
    let opportunity = &found[0];
    assert_eq!(opportunity["name"], "Ada Lovelace");
    assert_eq!(opportunity["emails"], json!(["ada@example.com"]));
    assert_eq!(
        opportunity["phones"],
        json!([{"type": "other", "value": "+1 555 0100"}])
    );
    assert_eq!(opportunity["location"], "Oakland");
    assert_eq!(
        opportunity["links"],
        json!(["https://linkedin.com/in/example"])
    );
    assert_eq!(opportunity["origin"], "applied");
    assert_eq!(opportunity["stage"], "applicant-new");
    assert_eq!(opportunity["tags"], json!([]));
    assert_eq!(opportunity["confidentiality"], "non-confidential");
    assert_eq!(opportunity["dataProtection"], Value::Null);
    assert!(opportunity["createdAt"].as_i64().unwrap() > 1_700_000_000_000);
    assert!(opportunity["contact"].is_string());
    let application = &opportunity["applications"][0];
    assert_eq!(application["id"], application_id.as_str());
    assert_eq!(application["opportunityId"], opportunity["id"]);
    assert_eq!(application["posting"], FakeLever::POSTING_ID);
    assert_eq!(application["type"], "posting");
    assert_eq!(application["company"], "Acme");
    assert_eq!(application["email"], "ada@example.com");

    // Without expand, applications are ids; comma-separated expand works too.
    let plain = lever(&fake, Method::GET, "/opportunities")
        .query(&[("email", "ada@example.com")])
        .send()
        .await
        .unwrap();
    let (_, body) = json_of(plain).await;
    assert_eq!(body["data"][0]["applications"], json!([application_id]));
    let comma = lever(&fake, Method::GET, "/opportunities")
        .query(&[
            ("email", "ada@example.com"),
            ("expand", "stage,applications"),
        ])
        .send()
        .await
        .unwrap();
    let (_, body) = json_of(comma).await;
    assert_eq!(
        body["data"][0]["applications"][0]["id"],
        application_id.as_str()
    );

    // Other filters exclude it.
    fake.add_posting("other-posting");
    let other = lever(&fake, Method::GET, "/opportunities")
        .query(&[
            ("email", "ada@example.com"),
            ("posting_id", "other-posting"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(other).await.1["data"], json!([]));

    // A second application with the same email reuses the contact.
    let again = lever(
        &fake,
        Method::POST,
        &format!("/postings/{}/apply", FakeLever::POSTING_ID),
    )
    .json(&apply_body("Ada L.", "Ada@Example.com"))
    .send()
    .await
    .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let stored = fake.opportunities();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0]["contact"], stored[1]["contact"]);
    assert_eq!(stored[1]["name"], "Ada Lovelace");
}

#[tokio::test]
async fn apply_rejects_bad_input() {
    let fake = FakeLever::start().await;
    let path = format!("/postings/{}/apply", FakeLever::POSTING_ID);

    let no_email = json!({"personalInformation": [{"name": "fullName", "value": "Ada"}]});
    let response = lever(&fake, Method::POST, &path).json(&no_email).send();
    let (status, body) = json_of(response.await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "BadRequestError");
    assert!(body["message"].as_str().unwrap().contains("email"));

    let unknown = lever(&fake, Method::POST, "/postings/nope/apply")
        .json(&apply_body("Ada", "ada@example.com"))
        .send();
    let (status, body) = json_of(unknown.await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "NotFoundError");

    let malformed = lever(&fake, Method::POST, &path)
        .header("content-type", "application/json")
        .body("{not json")
        .send();
    let (status, body) = json_of(malformed.await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "BadRequestError");
    assert!(fake.opportunities().is_empty());
}

#[tokio::test]
async fn create_opportunity_dedupes_by_email() {
    let fake = FakeLever::start().await;
    let (status, first) = create_lead(&fake, &lead_body("Shane Smith", "shane@example.com")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(first["deduped"], false);
    let data = &first["data"];
    assert_eq!(data["name"], "Shane Smith");
    assert_eq!(data["stage"], "lead-new");
    assert_eq!(data["origin"], "sourced");
    assert_eq!(data["tags"], json!(["Marketing"]));
    assert_eq!(data["sources"], json!(["Unified API"]));
    assert_eq!(
        data["phones"],
        json!([{"type": "mobile", "value": "(123) 456-7891"}])
    );
    assert_eq!(data["owner"], FakeLever::USER_ID);
    assert_eq!(data["followers"], json!([FakeLever::USER_ID]));
    assert_eq!(data["applications"].as_array().unwrap().len(), 1);
    assert!(data["applications"][0].is_string());

    let (status, second) = create_lead(&fake, &lead_body("S. Smith", "SHANE@example.com")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(second["deduped"], true);
    assert_eq!(second["data"]["contact"], first["data"]["contact"]);
    assert_ne!(second["data"]["id"], first["data"]["id"]);
    assert_eq!(second["data"]["name"], "Shane Smith");
    assert_eq!(fake.opportunities().len(), 2);

    let (_, other) = create_lead(&fake, &lead_body("Other", "other@example.com")).await;
    assert_eq!(other["deduped"], false);
    assert_ne!(other["data"]["contact"], first["data"]["contact"]);

    // The lead is found by posting like an applicant.
    let response = lever(&fake, Method::GET, "/opportunities")
        .query(&[
            ("email", "shane@example.com"),
            ("posting_id", FakeLever::POSTING_ID),
            ("expand", "applications"),
        ])
        .send()
        .await
        .unwrap();
    let (_, body) = json_of(response).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(body["data"][0]["applications"][0]["type"], "user");
}

#[tokio::test]
async fn create_opportunity_validates_perform_as_and_body() {
    let fake = FakeLever::start().await;
    let body = lead_body("Shane", "shane@example.com");

    let missing = lever(&fake, Method::POST, "/opportunities")
        .json(&body)
        .send();
    let (status, answer) = json_of(missing.await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["code"], "BadRequestError");
    assert!(answer["message"].as_str().unwrap().contains("perform_as"));

    let unknown = lever(&fake, Method::POST, "/opportunities")
        .query(&[("perform_as", "someone-else")])
        .json(&body)
        .send();
    assert_eq!(unknown.await.unwrap().status(), StatusCode::BAD_REQUEST);

    let mut bad_posting = body.clone();
    bad_posting["postings"] = json!(["nope"]);
    assert_eq!(
        create_lead(&fake, &bad_posting).await.0,
        StatusCode::BAD_REQUEST
    );
    let mut bad_phone = body.clone();
    bad_phone["phones"] = json!([{"value": "1", "type": "pager"}]);
    assert_eq!(
        create_lead(&fake, &bad_phone).await.0,
        StatusCode::BAD_REQUEST
    );
    let malformed = lever(&fake, Method::POST, "/opportunities")
        .query(&[("perform_as", FakeLever::USER_ID)])
        .header("content-type", "application/json")
        .body("[1,")
        .send();
    assert_eq!(malformed.await.unwrap().status(), StatusCode::BAD_REQUEST);
    assert!(fake.opportunities().is_empty());

    let mut applied = body;
    applied["origin"] = json!("applied");
    let (status, answer) = create_lead(&fake, &applied).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(answer["data"]["stage"], "applicant-new");
}

#[tokio::test]
async fn add_tags_adds_without_duplicates_and_bumps_updated_at() {
    let fake = FakeLever::start().await;
    let (_, created) = create_lead(&fake, &lead_body("Shane", "shane@example.com")).await;
    let id = created["data"]["id"].as_str().unwrap();
    let before = created["data"]["updatedAt"].as_i64().unwrap();

    let response = lever(&fake, Method::POST, &format!("/opportunities/{id}/addTags"))
        .json(&json!({"tags": ["Marketing", "Remote", "Remote"]}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["tags"], json!(["Marketing", "Remote"]));
    assert!(body["data"]["updatedAt"].as_i64().unwrap() > before);
    assert_eq!(
        fake.opportunities()[0]["tags"],
        json!(["Marketing", "Remote"])
    );

    let unknown = lever(&fake, Method::POST, "/opportunities/nope/addTags")
        .json(&json!({"tags": ["x"]}))
        .send();
    let (status, body) = json_of(unknown.await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "NotFoundError");

    let no_tags = lever(&fake, Method::POST, &format!("/opportunities/{id}/addTags"))
        .json(&json!({}))
        .send();
    assert_eq!(no_tags.await.unwrap().status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn uploads_store_files_and_enforce_the_limit() {
    let fake = FakeLever::start().await;
    let resume = b"%PDF-1.4 fake resume".to_vec();
    let url = fake.serve_file("resume one.pdf", "application/pdf", resume.clone());
    assert!(url.ends_with("/files/resume%20one.pdf"));
    let fetched = client().get(&url).send().await.unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(
        fetched.headers()["content-type"].to_str().unwrap(),
        "application/pdf"
    );
    assert_eq!(fetched.bytes().await.unwrap().to_vec(), resume);
    let missing_file = client().get(format!("{url}.gone")).send().await.unwrap();
    assert_eq!(missing_file.status(), StatusCode::NOT_FOUND);

    let part = multipart::Part::bytes(resume.clone())
        .file_name("resume.pdf")
        .mime_str("application/pdf")
        .unwrap();
    let form = multipart::Form::new().part("file", part);
    let response = lever(&fake, Method::POST, "/uploads")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK);
    let uri = body["data"]["uri"].as_str().unwrap();
    assert!(uri.starts_with(&format!("{}/uploads/", fake.base_url())));
    assert_eq!(body["data"]["filename"], "resume.pdf");
    let downloaded = client()
        .get(uri)
        .basic_auth(FakeLever::API_KEY, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(downloaded.bytes().await.unwrap().to_vec(), resume);

    let no_file = multipart::Form::new().text("other", "x");
    let response = lever(&fake, Method::POST, "/uploads")
        .multipart(no_file)
        .send();
    let (status, body) = json_of(response.await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "BadRequestError");

    let too_big = multipart::Part::bytes(vec![b'x'; 30 * 1024 * 1024 + 1]).file_name("big.bin");
    let response = lever(&fake, Method::POST, "/uploads")
        .multipart(multipart::Form::new().part("file", too_big))
        .send();
    let (status, body) = json_of(response.await.unwrap()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body["code"].is_string() && body["message"].is_string());

    // Files attached to an opportunity.
    let (_, created) = create_lead(&fake, &lead_body("Shane", "shane@example.com")).await;
    let id = created["data"]["id"].as_str().unwrap();
    let part = multipart::Part::bytes(b"cover letter".to_vec()).file_name("cover.txt");
    let response = lever(&fake, Method::POST, &format!("/opportunities/{id}/files"))
        .query(&[("perform_as", FakeLever::USER_ID)])
        .multipart(multipart::Form::new().part("file", part))
        .send();
    let (status, body) = json_of(response.await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["filename"], "cover.txt");
    assert!(body["data"]["id"].is_string());
    let part = multipart::Part::bytes(b"x".to_vec()).file_name("x.txt");
    let without_user = lever(&fake, Method::POST, &format!("/opportunities/{id}/files"))
        .multipart(multipart::Form::new().part("file", part))
        .send();
    assert_eq!(
        without_user.await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );

    let uploads = fake.uploads();
    assert_eq!(uploads.len(), 2);
    assert_eq!(uploads[0].filename, "resume.pdf");
    assert_eq!(uploads[0].content_type.as_deref(), Some("application/pdf"));
    assert_eq!(uploads[0].len, resume.len());
    assert_eq!(uploads[1].opportunity.as_deref(), Some(id));
    assert_eq!(uploads[1].bytes, b"cover letter");
}

#[tokio::test]
async fn status_fault_answers_429_with_retry_after_then_succeeds() {
    let fake = FakeLever::start().await;
    fake.script(
        Fault::status("POST", "/v1/opportunities", 429)
            .retry_after("1")
            .times(2),
    );
    let body = lead_body("Shane", "shane@example.com");
    for _ in 0..2 {
        let response = lever(&fake, Method::POST, "/opportunities")
            .query(&[("perform_as", FakeLever::USER_ID)])
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "1");
        let (_, answer) = json_of(response).await;
        assert_eq!(answer["code"], "TooManyRequestsError");
    }
    assert!(fake.opportunities().is_empty());
    let (status, _) = create_lead(&fake, &body).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(fake.opportunities().len(), 1);
    assert_eq!(fake.count("POST", "/v1/opportunities"), 3);
    assert_eq!(fake.count("post", "/v1/opportunities"), 3);
    assert_eq!(fake.count("GET", "/v1/opportunities"), 0);
    assert!(fake.pending_faults().is_empty());

    let calls = fake.calls();
    assert!(matches!(
        calls[0].fault,
        Some(FaultKind::Status { status: 429, .. })
    ));
    assert_eq!(calls[0].status, Some(429));
    assert_eq!(calls[2].fault, None);
    assert_eq!(calls[2].status, Some(201));
    assert_eq!(calls[2].query_value("perform_as"), Some(FakeLever::USER_ID));
    assert_eq!(
        calls[2].json().unwrap()["emails"],
        json!(["shane@example.com"])
    );
    assert!(
        calls[2]
            .header("authorization")
            .unwrap()
            .starts_with("Basic ")
    );

    // Faults come before auth, and a custom body and 503 work too.
    fake.script(Fault::status("GET", "/v1/", 503).body(json!({"code": "X", "message": "y"})));
    let response = client()
        .get(format!("{}/opportunities", fake.base_url()))
        .send()
        .await
        .unwrap();
    let (status, answer) = json_of(response).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer, json!({"code": "X", "message": "y"}));
}

#[tokio::test]
async fn drop_after_body_creates_the_opportunity_but_the_client_sees_an_error() {
    let fake = FakeLever::start().await;
    fake.script(Fault::drop_after_body("POST", "/v1/opportunities"));
    let result = lever(&fake, Method::POST, "/opportunities")
        .query(&[("perform_as", FakeLever::USER_ID)])
        .json(&lead_body("Shane", "shane@example.com"))
        .send()
        .await;
    let error = result.expect_err("the answer is lost");
    assert!(
        error_chain(&error).contains("connection closed before message completed"),
        "{error:?}"
    );
    assert_eq!(fake.opportunities().len(), 1);
    assert_eq!(fake.count("POST", "/v1/opportunities"), 1);
    let call = &fake.calls()[0];
    assert_eq!(call.fault, Some(FaultKind::DropAfterBody));
    assert_eq!(call.status, Some(201));
    assert!(call.json().is_some());

    // The server keeps working afterwards.
    let (status, answer) = create_lead(&fake, &lead_body("Shane", "shane@example.com")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(answer["deduped"], true);
}

#[tokio::test]
async fn reset_before_body_creates_nothing_and_the_client_sees_an_error() {
    let fake = FakeLever::start().await;
    fake.script(Fault::reset_before_body("POST", "/v1/opportunities"));
    let result = lever(&fake, Method::POST, "/opportunities")
        .query(&[("perform_as", FakeLever::USER_ID)])
        .json(&lead_body("Shane", "shane@example.com"))
        .send()
        .await;
    let error = result.expect_err("the connection is reset");
    assert!(
        io_error_kinds(&error).contains(&std::io::ErrorKind::ConnectionReset),
        "{error:?}"
    );
    assert!(fake.opportunities().is_empty());
    let calls = fake.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].fault, Some(FaultKind::ResetBeforeBody));
    assert!(calls[0].body.is_empty());
    assert_eq!(calls[0].status, None);

    let (status, _) = create_lead(&fake, &lead_body("Shane", "shane@example.com")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(fake.opportunities().len(), 1);
}

/// Sends a raw HTTP/1.1 request and returns what the server sent back before closing.
async fn raw_exchange(fake: &FakeLever, request: &str) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(fake.addr()).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    Ok(answer)
}

#[tokio::test]
async fn connection_faults_close_the_socket_without_an_answer() {
    let fake = FakeLever::start().await;
    let body = lead_body("Raw", "raw@example.com").to_string();
    let request = format!(
        "POST /v1/opportunities?perform_as={} HTTP/1.1\r\nhost: x\r\nauthorization: {}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        FakeLever::USER_ID,
        FakeLever::basic_authorization(),
        body.len()
    );

    fake.script(Fault::reset_before_body("POST", "/v1/opportunities"));
    match raw_exchange(&fake, &request).await {
        Ok(answer) => assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer)),
        Err(error) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset),
    }
    assert!(fake.opportunities().is_empty());

    fake.script(Fault::drop_after_body("POST", "/v1/opportunities"));
    let answer = raw_exchange(&fake, &request).await.unwrap_or_default();
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    assert_eq!(fake.opportunities().len(), 1);

    let answer = raw_exchange(
        &fake,
        &request.replace("HTTP/1.1\r\n", "HTTP/1.1\r\nconnection: close\r\n"),
    )
    .await
    .unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 201"));
}

#[tokio::test]
async fn delay_fault_exceeds_a_client_timeout_but_is_still_processed() {
    let fake = FakeLever::start().await;
    fake.script(Fault::delay(
        "POST",
        "/v1/opportunities",
        Duration::from_millis(600),
    ));
    let result = lever(&fake, Method::POST, "/opportunities")
        .query(&[("perform_as", FakeLever::USER_ID)])
        .json(&lead_body("Shane", "shane@example.com"))
        .timeout(Duration::from_millis(150))
        .send()
        .await;
    assert!(result.expect_err("times out").is_timeout());
    assert!(fake.opportunities().is_empty());
    // The request is processed once the delay is over, although the client gave up.
    let deadline = Instant::now() + Duration::from_secs(10);
    while fake.opportunities().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(fake.opportunities().len(), 1);
    assert_eq!(fake.calls()[0].status, Some(201));

    fake.script(Fault::delay(
        "GET",
        "/v1/opportunities",
        Duration::from_millis(300),
    ));
    let started = Instant::now();
    let response = lever(&fake, Method::GET, "/opportunities")
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn list_pages_with_limit_and_offset() {
    let fake = FakeLever::start().await;
    for n in 0..3 {
        create_lead(&fake, &lead_body("P", &format!("p{n}@example.com"))).await;
    }
    let page = lever(&fake, Method::GET, "/opportunities")
        .query(&[("limit", "2")])
        .send();
    let (_, body) = json_of(page.await.unwrap()).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(body["hasNext"], true);
    let next = body["next"].as_str().unwrap().to_owned();
    let page = lever(&fake, Method::GET, "/opportunities")
        .query(&[("limit", "2"), ("offset", next.as_str())])
        .send();
    let (_, body) = json_of(page.await.unwrap()).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(body["hasNext"], false);

    let id = fake.opportunities()[1]["id"].as_str().unwrap().to_owned();
    let one = lever(&fake, Method::GET, &format!("/opportunities/{id}"))
        .query(&[("expand", "applications")])
        .send();
    let (status, body) = json_of(one.await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["emails"], json!(["p1@example.com"]));
    assert!(body["data"]["applications"][0].is_object());
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let fake = FakeLever::start().await;
    let url = format!("{}/opportunities", fake.base_url());
    fake.shutdown();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let result = client().get(&url).send().await;
    assert!(result.expect_err("nothing listens").is_connect());
}

#[tokio::test]
async fn postings_page_with_limit_and_offset_and_show_their_form() {
    let fake = FakeLever::start().await;
    fake.add_posting("00000001-0000-4000-8000-000000000000");
    fake.add_posting("00000002-0000-4000-8000-000000000000");
    let mut seen = Vec::new();
    let mut path = "/postings?limit=2".to_owned();
    loop {
        let (status, page) = json_of(lever(&fake, Method::GET, &path).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for posting in page["data"].as_array().unwrap() {
            seen.push(posting["id"].as_str().unwrap().to_owned());
        }
        match (page["hasNext"].as_bool(), page["next"].as_str()) {
            (Some(true), Some(next)) => path = format!("/postings?limit=2&offset={next}"),
            (Some(false), None) => break,
            other => panic!("inconsistent paging {other:?}: {page}"),
        }
    }
    assert_eq!(seen.len(), 3, "{seen:?}");

    let (status, one) = json_of(
        lever(
            &fake,
            Method::GET,
            &format!("/postings/{}", FakeLever::POSTING_ID),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["data"]["state"], "published");
    let (status, missing) = json_of(
        lever(&fake, Method::GET, "/postings/nope")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, missing["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NotFoundError"))
    );
    let (status, bad) = json_of(
        lever(&fake, Method::GET, "/postings?limit=0")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, bad["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("BadRequestError"))
    );

    let form_path = format!("/postings/{}/apply", FakeLever::POSTING_ID);
    let (status, form) = json_of(lever(&fake, Method::GET, &form_path).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let card = &form["data"]["customQuestions"][0];
    assert_eq!(card["id"], FakeLever::CARD_ID);
    assert_eq!(card["fields"].as_array().map(Vec::len), Some(3));
    assert!(form["data"]["eeoQuestions"]["gender"]["options"].is_array());
}
