//! Pagination as data, on a mapping of its own: each paging style finds the next page where its
//! provider puts it, a caller's cursor resumes there, and a lookup reads a bounded number of
//! pages and rereads.

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};
use switchboard_core::tooling::SourceFile;
use switchboard_core::{
    InputLocation, MethodPlan, Next, ProviderRequest, ProviderResponse, Registry, RequestBody,
    RunError, RunInput, UnifiedOutput,
};

/// An `acme` integration whose `ats/jobs` list pages with `paginate` (a YAML flow mapping), and
/// whose `ats/candidates` create looks a record up with `lookup` (the step's extra keys).
fn registry(paginate: &str, lookup: &str) -> Registry {
    let file = |name: &str, text: String| SourceFile {
        path: name.into(),
        name: name.to_owned(),
        text,
    };
    let mappings = [
        file(
            "acme/integration.yaml",
            "version: 1\nlabel: Acme\nbase_url:\n  production: https://acme.test/v1\n\
             auth:\n  - { type: bearer, token: token }\ncontext:\n  secrets: [token]\n\
             errors:\n  message: \"{{ response.message }}\"\n"
                .to_owned(),
        ),
        file(
            "acme/ats/jobs.yaml",
            format!(
                "version: 1\nmethods:\n  list:\n    query:\n      limit: supported\n    steps:\n\
                 \x20     - id: list\n        request:\n          method: GET\n          path: /jobs\n\
                 \x20         query:\n            per_page: \"{{{{ query.limit }}}}\"\n\
                 \x20       paginate: {paginate}\n    response:\n      from: response_items\n\
                 \x20     fields:\n        id: \"{{{{ id }}}}\"\n"
            )
            .replace("from: response_items", "from: steps.list.response.items"),
        ),
        file(
            "acme/ats/candidates.yaml",
            format!(
                "version: 1\nmethods:\n  create:\n    query:\n      job_id: supported\n    steps:\n\
                 \x20     - id: create\n        request:\n          method: POST\n          path: /people\n\
                 \x20     - id: find\n        request:\n          method: GET\n          path: /people\n\
                 {lookup}\
                 \x20       select: \"find_by(response.items, &id, steps.create.response.id)\"\n\
                 \x20       on_empty: not found\n    response:\n      from: steps.find.selected\n\
                 \x20     fields:\n        id: \"{{{{ id }}}}\"\n"
            ),
        ),
    ];
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let schemas = SourceFile::read_dir(&root.join("schemas"), &["json"]).expect("schemas");
    Registry::load(&mappings, &schemas).unwrap_or_else(|p| panic!("{p}"))
}

fn plan(registry: &Registry, resource: &str, method: &str) -> Arc<MethodPlan> {
    registry
        .method("acme", resource, method)
        .expect("mapped")
        .clone()
}

fn answer(headers: &[(&str, &str)], body: Value) -> ProviderResponse {
    ProviderResponse {
        status: 200,
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        body,
    }
}

fn sent(next: Next) -> ProviderRequest {
    match next {
        Next::Send(request) => request,
        Next::Done(output) => panic!("finished early: {output:?}"),
    }
}

fn done(next: Next) -> UnifiedOutput {
    match next {
        Next::Done(output) => output,
        Next::Send(request) => panic!("sent more: {request:?}"),
    }
}

/// Lists one page with `cursor`, answers it with `response`, and returns the first request and
/// the output.
fn one_page(
    plan: &Arc<MethodPlan>,
    cursor: Option<Value>,
    response: ProviderResponse,
) -> (ProviderRequest, UnifiedOutput) {
    let input = RunInput {
        query: json!({"limit": 2}).as_object().cloned().unwrap_or_default(),
        cursor,
        ..RunInput::default()
    };
    let (mut run, next) = plan.start(input).expect("valid");
    let request = sent(next);
    let output = done(run.resume(response).expect("mapped"));
    (request, output)
}

fn query_value<'a>(request: &'a ProviderRequest, key: &str) -> Option<&'a str> {
    request
        .query
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[test]
fn offsets_count_the_items_read() {
    let registry = registry("{ style: offset, items: response.items, param: skip }", "");
    let list = plan(&registry, "ats/jobs", "list");
    let page = json!({"items": [{"id": "a"}, {"id": "b"}]});
    let (request, output) = one_page(&list, None, answer(&[], page.clone()));
    assert_eq!(
        query_value(&request, "skip"),
        None,
        "the first page has no offset"
    );
    assert_eq!(
        output.record,
        json!([{"id": "a", "remote_data": {"id": "a"}}, {"id": "b", "remote_data": {"id": "b"}}])
    );
    let cursor = output.next_cursor.expect("more");
    let (request, output) = one_page(&list, Some(cursor), answer(&[], page));
    assert_eq!(query_value(&request, "skip"), Some("2"));
    assert_eq!(
        output.next_cursor,
        Some(json!({"step": "list", "position": 4}))
    );
    let (_, last) = one_page(&list, output.next_cursor, answer(&[], json!({"items": []})));
    assert_eq!((last.record, last.next_cursor), (json!([]), None));
}

#[test]
fn page_numbers_start_at_the_first_page_and_stop_when_told() {
    let registry = registry(
        "{ style: page, items: response.items, param: page, first_page: 1, more: response.more }",
        "",
    );
    let list = plan(&registry, "ats/jobs", "list");
    let (_, output) = one_page(
        &list,
        None,
        answer(&[], json!({"items": [{"id": "a"}], "more": true})),
    );
    assert_eq!(
        output.next_cursor,
        Some(json!({"step": "list", "position": 2}))
    );
    let (request, output) = one_page(
        &list,
        output.next_cursor,
        answer(&[], json!({"items": [{"id": "b"}], "more": false})),
    );
    assert_eq!(query_value(&request, "page"), Some("2"));
    assert_eq!(
        output.next_cursor, None,
        "`more` said this was the last page"
    );
}

#[test]
fn link_headers_give_the_next_url() {
    let registry = registry("{ style: link_header }", "");
    let list = plan(&registry, "ats/jobs", "list");
    let next = "https://acme.test/v1/jobs?page=2&per_page=2";
    let link = format!("<{next}>; rel=\"next\", <https://acme.test/v1/jobs?page=9>; rel=\"last\"");
    let (_, output) = one_page(
        &list,
        None,
        answer(&[("link", &link)], json!({"items": [{"id": "a"}]})),
    );
    let cursor = output.next_cursor.expect("a next link");
    let (request, output) = one_page(&list, Some(cursor), answer(&[], json!({"items": []})));
    assert_eq!(request.page_url.as_deref(), Some(next));
    assert_eq!(request.url("https://acme.test/v1"), Ok(next.to_owned()));
    assert!(
        request.url("https://other.test/v1").is_err(),
        "a page URL is followed only below the account's own base URL"
    );
    assert_eq!(output.next_cursor, None);
}

#[test]
fn a_cursor_with_a_position_of_the_wrong_kind_is_an_input_problem() {
    let registry = registry("{ style: offset, items: response.items, param: skip }", "");
    let list = plan(&registry, "ats/jobs", "list");
    for cursor in [
        json!({"step": "list", "position": "2"}),
        json!({"step": "list", "position": -1}),
        json!({"step": "other", "position": 2}),
        json!("list"),
    ] {
        let input = RunInput {
            cursor: Some(cursor.clone()),
            ..RunInput::default()
        };
        let Err(RunError::Input { problems, .. }) = list.start(input) else {
            panic!("{cursor} was accepted");
        };
        assert_eq!(
            (problems[0].location, problems[0].pointer.as_str()),
            (InputLocation::Query, "/next_cursor")
        );
    }
}

#[test]
fn a_lookup_reads_at_most_max_pages_then_rereads_after_growing_waits() {
    let registry = registry(
        "{ style: cursor, next: response.next, param: after }",
        "        paginate: { style: cursor, next: response.next, param: after, max_pages: 2 }\n\
         \x20       reread: { times: 2, delay_ms: 100 }\n",
    );
    let create = plan(&registry, "ats/candidates", "create");
    let (mut run, next) = create.start(RunInput::default()).expect("valid");
    assert_eq!(sent(next).step, "create");
    let mut next = run
        .resume(answer(&[], json!({"id": "new"})))
        .expect("created");
    let miss = || answer(&[], json!({"items": [{"id": "old"}], "next": "more"}));
    let mut reads = Vec::new();
    loop {
        let request = sent(next);
        reads.push((
            query_value(&request, "after").map(str::to_owned),
            request.delay_ms,
        ));
        match run.resume(miss()) {
            Ok(more) => next = more,
            Err(RunError::Upstream { message, .. }) => {
                assert_eq!(message, "not found");
                break;
            }
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(
        reads,
        vec![
            (None, 0),
            (Some("more".to_owned()), 0),
            (None, 100),
            (Some("more".to_owned()), 0),
            (None, 200),
            (Some("more".to_owned()), 0),
        ],
        "two pages per pass, three passes, the waits doubling"
    );
}

#[test]
fn a_lookup_stops_at_the_page_that_holds_the_record() {
    let registry = registry(
        "{ style: cursor, next: response.next, param: after }",
        "        paginate: { style: cursor, next: response.next, param: after }\n",
    );
    let create = plan(&registry, "ats/candidates", "create");
    let (mut run, _) = create.start(RunInput::default()).expect("valid");
    let first = sent(
        run.resume(answer(&[], json!({"id": "new"})))
            .expect("created"),
    );
    assert_eq!(first.body, RequestBody::Empty);
    let second = sent(
        run.resume(answer(&[], json!({"items": [{"id": "old"}], "next": "p2"})))
            .expect("next page"),
    );
    assert_eq!(query_value(&second, "after"), Some("p2"));
    let output = done(
        run.resume(answer(&[], json!({"items": [{"id": "new"}], "next": "p3"})))
            .expect("found"),
    );
    assert_eq!(output.record["id"], "new");
}

#[test]
fn paginate_is_checked_at_load() {
    let file = |name: &str, text: &str| SourceFile {
        path: name.into(),
        name: name.to_owned(),
        text: text.to_owned(),
    };
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let schemas = SourceFile::read_dir(&root.join("schemas"), &["json"]).expect("schemas");
    let integration = file(
        "acme/integration.yaml",
        "version: 1\nlabel: Acme\nbase_url:\n  production: https://acme.test\nauth:\n  - { type: bearer, token: token }\n\
         context:\n  secrets: [token]\nerrors:\n  message: x\n",
    );
    let jobs = file(
        "acme/ats/jobs.yaml",
        "version: 1\nmethods:\n  get:\n    steps:\n      - id: one\n        request: { method: GET, path: \"/jobs/{{ id }}\" }\n\
         \x20       paginate: { style: cursor, max_pages: 0 }\n    response:\n      from: steps.one.response\n      fields: {}\n",
    );
    let problems = Registry::load(&[integration, jobs], &schemas)
        .err()
        .expect("refused")
        .to_string();
    for expected in [
        "needs `next`",
        "needs `param`",
        "`max_pages` must be",
        "only a `list` answers pages",
    ] {
        assert!(problems.contains(expected), "{expected}: {problems}");
    }
}
