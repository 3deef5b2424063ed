//! Pagination as data: a step's `paginate` (how the provider pages, where the next position is
//! read and where it goes) and `reread` (how often a lookup that found nothing reads again),
//! compiled into a [`PagePlan`].

#[cfg(feature = "format-check")]
use schemars::JsonSchema;
use serde::Deserialize;

use crate::diagnostic::Reporter;
use crate::expr::Expr;

use super::compile_expr;
use super::names::Names;

/// How a provider pages a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub(crate) enum PageStyle {
    /// The answer carries the next position (`next`), sent back as `param` (an opaque token or
    /// cursor).
    Cursor,
    /// The position is a count of items already read: the next one is the current offset plus
    /// the number of `items` in the answer.
    Offset,
    /// The position is a page number, starting at `first_page`, one more per page.
    Page,
    /// The next page's URL is the `Link` header's `rel="next"` target.
    LinkHeader,
    /// The next page's URL is in the answer (`next`).
    NextUrl,
}

/// Where a cursor, offset or page number is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub(crate) enum PageParamIn {
    /// A query parameter.
    #[default]
    Query,
    /// A member of the JSON request body.
    Body,
}

/// A step's `paginate`: how to get from one page of the provider's answer to the next.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct PaginateSpec {
    /// The provider's paging style.
    pub(crate) style: PageStyle,
    /// The next position (`cursor`) or URL (`next_url`), an expression over `response`,
    /// `headers` and `status`.
    #[serde(default)]
    pub(crate) next: Option<String>,
    /// Whether another page exists (same scope); by default: a next position was found
    /// (`cursor`, `next_url`, `link_header`) or the page held items (`offset`, `page`).
    #[serde(default)]
    pub(crate) more: Option<String>,
    /// The page's items (same scope); needed by `offset` and `page`.
    #[serde(default)]
    pub(crate) items: Option<String>,
    /// The parameter carrying the position (`cursor`, `offset`, `page`).
    #[serde(default)]
    pub(crate) param: Option<String>,
    /// Where `param` goes: `query` (default) or `body`.
    #[serde(default, rename = "in")]
    pub(crate) param_in: PageParamIn,
    /// The first page's number (`page`); 1 unless given.
    #[serde(default)]
    pub(crate) first_page: Option<u64>,
    /// The most pages one lookup step (a step with `select`) reads before giving up; 10 unless
    /// given, at most 100.
    #[serde(default)]
    pub(crate) max_pages: Option<u32>,
}

/// A lookup step's `reread`: when `select` found nothing on any page, read again from the first
/// page (the provider may not have indexed a record just created).
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct RereadSpec {
    /// How many more times to read (at most 5).
    pub(crate) times: u32,
    /// The wait before the first reread, in milliseconds (at most 10,000); doubled for each
    /// following one.
    pub(crate) delay_ms: u64,
}

/// The most pages a lookup may be told to read.
const MAX_LOOKUP_PAGES: u32 = 100;
/// The most rereads a lookup may ask for.
const MAX_REREADS: u32 = 5;
/// The longest first wait before a reread.
const MAX_REREAD_DELAY_MS: u64 = 10_000;

/// A compiled `paginate`.
pub(crate) struct PagePlan {
    pub(crate) style: PageStyle,
    pub(crate) next: Option<Expr>,
    pub(crate) more: Option<Expr>,
    pub(crate) items: Option<Expr>,
    pub(crate) param: Option<String>,
    pub(crate) param_in: PageParamIn,
    pub(crate) first_page: u64,
    pub(crate) max_pages: u32,
}

/// A compiled `reread`.
pub(crate) struct RereadPlan {
    pub(crate) times: u32,
    pub(crate) delay_ms: u64,
}

/// The names a pagination expression reads.
const PAGE_ROOTS: [&str; 3] = ["response", "headers", "status"];

/// Compiles `spec` at `pointer` (`…/steps/2/paginate`), reporting every inconsistency.
pub(crate) fn compile(
    spec: &PaginateSpec,
    pointer: &str,
    names: &Names<'_>,
    report: &mut Reporter<'_>,
) -> Option<PagePlan> {
    let page_names = Names {
        roots: &PAGE_ROOTS,
        ..super::method::copy(names)
    };
    let expr = |text: &Option<String>, key: &str, report: &mut Reporter<'_>| {
        text.as_ref().and_then(|t| {
            let p = format!("{pointer}/{key}");
            let e = compile_expr(t, &p, report)?;
            page_names.check(&e.references(), &p, report);
            Some(e)
        })
    };
    let next = expr(&spec.next, "next", report);
    let more = expr(&spec.more, "more", report);
    let items = expr(&spec.items, "items", report);
    let needs = |what: &str, present: bool, report: &mut Reporter<'_>| {
        if !present {
            report.at(
                pointer,
                format!("`style: {}` needs `{what}`", style_name(spec.style)),
                None,
            );
        }
    };
    match spec.style {
        PageStyle::Cursor => {
            needs("next", spec.next.is_some(), report);
            needs("param", spec.param.is_some(), report);
        }
        PageStyle::Offset | PageStyle::Page => {
            needs("items", spec.items.is_some(), report);
            needs("param", spec.param.is_some(), report);
        }
        PageStyle::NextUrl => needs("next", spec.next.is_some(), report),
        PageStyle::LinkHeader => {}
    }
    let max_pages = spec.max_pages.unwrap_or(10);
    if max_pages == 0 || max_pages > MAX_LOOKUP_PAGES {
        report.at(
            &format!("{pointer}/max_pages"),
            format!("`max_pages` must be from 1 to {MAX_LOOKUP_PAGES}"),
            None,
        );
    }
    Some(PagePlan {
        style: spec.style,
        next,
        more,
        items,
        param: spec.param.clone(),
        param_in: spec.param_in,
        first_page: spec.first_page.unwrap_or(1),
        max_pages: max_pages.clamp(1, MAX_LOOKUP_PAGES),
    })
}

/// Compiles `reread`, which only a lookup (`select`) with `paginate` or not may use.
pub(crate) fn compile_reread(
    spec: &RereadSpec,
    pointer: &str,
    has_select: bool,
    report: &mut Reporter<'_>,
) -> RereadPlan {
    if !has_select {
        report.at(pointer, "`reread` needs a `select`", None);
    }
    if spec.times > MAX_REREADS {
        report.at(
            &format!("{pointer}/times"),
            format!("`times` is at most {MAX_REREADS}"),
            None,
        );
    }
    if spec.delay_ms > MAX_REREAD_DELAY_MS {
        report.at(
            &format!("{pointer}/delay_ms"),
            format!("`delay_ms` is at most {MAX_REREAD_DELAY_MS}"),
            None,
        );
    }
    RereadPlan {
        times: spec.times.min(MAX_REREADS),
        delay_ms: spec.delay_ms.min(MAX_REREAD_DELAY_MS),
    }
}

/// The style's name as the mapping writes it.
pub(crate) fn style_name(style: PageStyle) -> &'static str {
    match style {
        PageStyle::Cursor => "cursor",
        PageStyle::Offset => "offset",
        PageStyle::Page => "page",
        PageStyle::LinkHeader => "link_header",
        PageStyle::NextUrl => "next_url",
    }
}
