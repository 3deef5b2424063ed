//! URLs as they may appear in exchanges, errors and logs: never with credentials.

use reqwest::Url;

/// `url` without user name and password.
pub(crate) fn without_credentials(url: &Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.to_string();
    }
    let mut url = url.clone();
    // Both only fail for URLs that cannot have credentials, which then have none.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}

/// `url` without credentials, query and fragment: what logs and error messages show of a URL
/// whose query may hold a signature or personal data (a pre-signed file URL, `?email=`).
pub(crate) fn origin_and_path(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// Like [`without_credentials`] for text that may not be a URL (then shown as `<invalid url>`).
pub(crate) fn url_text(text: &str) -> String {
    match Url::parse(text) {
        Ok(url) => without_credentials(&url),
        Err(_) => "<invalid url>".to_owned(),
    }
}

/// Like [`origin_and_path`] for text that may not be a URL.
pub(crate) fn origin_and_path_text(text: &str) -> String {
    match Url::parse(text) {
        Ok(url) => origin_and_path(&url),
        Err(_) => "<invalid url>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_query_and_fragment_are_removed() {
        let url = Url::parse("https://user:secret@files.example.com/a/b.pdf?X-Sig=abc#top")
            .expect("valid");
        assert_eq!(
            without_credentials(&url),
            "https://files.example.com/a/b.pdf?X-Sig=abc#top"
        );
        assert_eq!(origin_and_path(&url), "https://files.example.com/a/b.pdf");
        assert_eq!(url_text("not a url"), "<invalid url>");
        assert_eq!(
            origin_and_path_text("http://127.0.0.1:8080/v1?x=1"),
            "http://127.0.0.1:8080/v1"
        );
    }
}
