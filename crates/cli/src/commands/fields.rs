//! `switchboard fields`: the field-support table, generated from the mappings.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::{Map, Value, json};
use switchboard_core::{MethodPlan, Registry, Support};

use crate::paths::SourceArgs;

/// Output formats.
#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Markdown,
    Json,
}

/// Arguments of `fields`.
#[derive(Args)]
pub(crate) struct FieldsArgs {
    /// Only this integration (default: all, side by side).
    #[arg(long)]
    integration: Option<String>,
    /// Only this resource (`ats/candidates`).
    #[arg(long)]
    resource: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "markdown")]
    format: Format,
    #[command(flatten)]
    sources: SourceArgs,
}

/// Prints the table.
pub(crate) fn run(args: FieldsArgs) -> anyhow::Result<ExitCode> {
    let registry = args.sources.load()?;
    let table = FieldTable::build(
        &registry,
        args.integration.as_deref(),
        args.resource.as_deref(),
    );
    if table.groups.is_empty() {
        anyhow::bail!("no mapped methods match");
    }
    match args.format {
        Format::Markdown => print!("{}", table.markdown()),
        Format::Json => println!("{}", serde_json::to_string_pretty(&table.json())?),
    }
    Ok(ExitCode::SUCCESS)
}

/// One cell: an integration's support for a field.
#[derive(Clone)]
struct Cell {
    support: Support,
    note: Option<String>,
}

/// Field → integration → cell.
type Rows = BTreeMap<String, BTreeMap<String, Cell>>;

/// Support per field per integration, grouped by resource and method.
struct FieldTable {
    /// `(resource, method)` → section → rows.
    groups: BTreeMap<(String, String), BTreeMap<&'static str, Rows>>,
    integrations: Vec<String>,
}

const SECTIONS: [&str; 3] = ["query", "body", "response"];

impl FieldTable {
    fn build(registry: &Registry, integration: Option<&str>, resource: Option<&str>) -> FieldTable {
        let mut groups: BTreeMap<_, BTreeMap<_, Rows>> = BTreeMap::new();
        let mut integrations = Vec::new();
        for plan in registry.methods() {
            if integration.is_some_and(|i| i != plan.integration)
                || resource.is_some_and(|r| r != plan.resource)
            {
                continue;
            }
            if !integrations.contains(&plan.integration) {
                integrations.push(plan.integration.clone());
            }
            let group = groups
                .entry((plan.resource.clone(), plan.method.clone()))
                .or_default();
            for (section, cells) in sections(plan) {
                let rows = group.entry(section).or_default();
                for (field, cell) in cells {
                    rows.entry(field)
                        .or_default()
                        .insert(plan.integration.clone(), cell);
                }
            }
        }
        FieldTable {
            groups,
            integrations,
        }
    }

    fn markdown(&self) -> String {
        let mut out = String::new();
        for ((resource, method), sections) in &self.groups {
            out.push_str(&format!("### `{resource}` · `{method}`\n\n"));
            for section in SECTIONS {
                let Some(rows) = sections.get(section) else {
                    continue;
                };
                let title = match section {
                    "query" => "query parameter",
                    "body" => "body field",
                    _ => "response field",
                };
                out.push_str(&format!(
                    "| {title} | {} |\n",
                    self.integrations.join(" | ")
                ));
                out.push_str(&format!(
                    "|---|{}\n",
                    "---|".repeat(self.integrations.len())
                ));
                for (field, cells) in rows {
                    let row: Vec<String> = self
                        .integrations
                        .iter()
                        .map(|i| match cells.get(i) {
                            Some(Cell {
                                support: Support::Required,
                                ..
                            }) => "**required**".to_owned(),
                            Some(Cell {
                                support: Support::Supported,
                                note: Some(note),
                            }) => format!("supported ({note})"),
                            Some(Cell {
                                support: Support::Supported,
                                ..
                            }) => "supported".to_owned(),
                            _ => "—".to_owned(),
                        })
                        .collect();
                    let supported = cells
                        .values()
                        .filter(|c| c.support != Support::Unsupported)
                        .count();
                    let required = cells
                        .values()
                        .filter(|c| c.support == Support::Required)
                        .count();
                    out.push_str(&format!(
                        "| `{field}` ({supported} supported · {required} required) | {} |\n",
                        row.join(" | ")
                    ));
                }
                out.push('\n');
            }
        }
        out
    }

    fn json(&self) -> Value {
        let mut root = Map::new();
        for ((resource, method), sections) in &self.groups {
            let mut by_section = Map::new();
            for (section, rows) in sections {
                let mut fields = Map::new();
                for (field, cells) in rows {
                    let cells: Map<String, Value> = cells
                        .iter()
                        .map(|(integration, cell)| {
                            (
                                integration.clone(),
                                json!({"support": cell.support, "note": cell.note}),
                            )
                        })
                        .collect();
                    fields.insert(field.clone(), Value::Object(cells));
                }
                by_section.insert((*section).to_owned(), Value::Object(fields));
            }
            let entry = root.entry(resource.clone()).or_insert_with(|| json!({}));
            if let Value::Object(methods) = entry {
                methods.insert(method.clone(), Value::Object(by_section));
            }
        }
        Value::Object(root)
    }
}

/// A plan's support for every unified query parameter, body field and response field.
fn sections(plan: &MethodPlan) -> Vec<(&'static str, Vec<(String, Cell)>)> {
    let cells = |fields: &[switchboard_core::FieldSupport]| {
        fields
            .iter()
            .map(|f| {
                (
                    f.name.clone(),
                    Cell {
                        support: f.support,
                        note: f.note.clone(),
                    },
                )
            })
            .collect::<Vec<_>>()
    };
    let filled = plan.response_fields();
    let response = plan
        .schema()
        .record_fields()
        .into_iter()
        .map(|name| {
            let support = if filled.contains(&name) {
                Support::Supported
            } else {
                Support::Unsupported
            };
            (
                name.to_owned(),
                Cell {
                    support,
                    note: None,
                },
            )
        })
        .collect();
    vec![
        ("query", cells(plan.query_fields())),
        ("body", cells(plan.body_fields())),
        ("response", response),
    ]
}
