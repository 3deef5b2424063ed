//! Loading and compiling: source files → [`Registry`] of plans, or every problem at once.

mod integration;
mod method;
mod names;
pub(crate) mod pagination;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Diagnostics, Reporter, diagnostic};
use crate::expr::{Expr, Template, TemplateError};
use crate::loader::load_yaml;
use crate::lookup::LookupError;
use crate::model::{IntegrationFile, MappingFile};
use crate::plan::{IntegrationPlan, MethodPlan};
use crate::schema::UnifiedSchema;
use crate::source::SourceFile;

/// Every loaded integration, unified schema and method plan. Built once; read by every request.
#[derive(Default)]
pub struct Registry {
    integrations: BTreeMap<String, Arc<IntegrationPlan>>,
    schemas: BTreeMap<String, Arc<UnifiedSchema>>,
    methods: BTreeMap<(String, String, String), Arc<MethodPlan>>,
}

impl Registry {
    /// Loads `mappings_dir` (`<integration>/integration.yaml`, `<integration>/<model>/<resource>.yaml`)
    /// against the unified schemas in `schemas_dir` (`<model>/<resource>.json`).
    pub fn load_dirs(mappings_dir: &Path, schemas_dir: &Path) -> Result<Registry, Diagnostics> {
        let read = |dir: &Path, ext: &[&str]| {
            SourceFile::read_dir(dir, ext).map_err(|e| {
                Diagnostics(vec![Diagnostic {
                    file: dir.to_path_buf(),
                    line: 1,
                    column: 1,
                    field: String::new(),
                    message: format!("cannot read: {e}"),
                    hint: None,
                    source_line: None,
                }])
            })
        };
        let mappings = read(mappings_dir, &["yaml", "yml"])?;
        let schemas = read(schemas_dir, &["json"])?;
        Registry::load(&mappings, &schemas)
    }

    /// Loads from files already in memory (`name` relative to `mappings/` and `schemas/`).
    /// Files named `*.schema.json` in `schemas` describe file formats and are skipped.
    pub fn load(mappings: &[SourceFile], schemas: &[SourceFile]) -> Result<Registry, Diagnostics> {
        let mut found = Vec::new();
        let mut registry = Registry::default();
        for file in schemas.iter().filter(|f| !f.name.ends_with(".schema.json")) {
            let name = file.name.trim_end_matches(".json").to_owned();
            let compiled = serde_json::from_str::<Value>(&file.text)
                .map_err(|e| (e.line(), e.column(), e.to_string()))
                .and_then(|doc| UnifiedSchema::compile(&name, doc).map_err(|e| (1, 1, e)));
            match compiled {
                Ok(schema) => {
                    registry.schemas.insert(name, Arc::new(schema));
                }
                Err((line, column, message)) => {
                    found.push(diagnostic(file, line, column, "", message, None));
                }
            }
        }
        for file in mappings
            .iter()
            .filter(|f| f.name.ends_with("/integration.yaml"))
        {
            let name = file.name.trim_end_matches("/integration.yaml").to_owned();
            if let Some((spec, index)) = load_yaml::<IntegrationFile>(file, &mut found) {
                let plan =
                    integration::compile(&name, spec, &mut Reporter::new(file, &index, &mut found));
                registry.integrations.insert(name, Arc::new(plan));
            }
        }
        for file in mappings
            .iter()
            .filter(|f| !f.name.ends_with("/integration.yaml"))
        {
            registry.load_mapping(file, &mut found);
        }
        if found.is_empty() {
            Ok(registry)
        } else {
            Err(Diagnostics(found))
        }
    }

    fn load_mapping(&mut self, file: &SourceFile, found: &mut Vec<Diagnostic>) {
        let parts: Vec<&str> = file.name.split('/').collect();
        let [integration, model, resource_file] = parts[..] else {
            let message = "a mapping lives at `<integration>/<model>/<resource>.yaml` or `<integration>/integration.yaml`";
            found.push(diagnostic(file, 1, 1, "", message.to_owned(), None));
            return;
        };
        let resource = format!(
            "{model}/{}",
            resource_file
                .trim_end_matches(".yaml")
                .trim_end_matches(".yml")
        );
        let Some((spec, index)) = load_yaml::<MappingFile>(file, found) else {
            return;
        };
        let mut report = Reporter::new(file, &index, found);
        let Some(integration_plan) = self.integrations.get(integration).cloned() else {
            report.at(
                "",
                format!("no `{integration}/integration.yaml` for this mapping"),
                None,
            );
            return;
        };
        let Some(schema) = self.schemas.get(&resource).cloned() else {
            report.at(
                "",
                format!("no unified schema `{resource}` (expected `schemas/{resource}.json`)"),
                None,
            );
            return;
        };
        if spec.version != 1 {
            report.at(
                "/version",
                format!(
                    "unsupported version `{}` (this engine reads 1)",
                    spec.version
                ),
                None,
            );
        }
        let constants: serde_json::Map<String, Value> = spec.constants.into_iter().collect();
        let cx = method::MethodContext {
            integration: &integration_plan,
            schema: &schema,
            resource: &resource,
            constants: &constants,
        };
        for (name, method_spec) in spec.methods {
            if let Some(plan) = method::compile(&cx, &name, method_spec, &mut report) {
                self.methods.insert(
                    (integration.to_owned(), resource.clone(), name),
                    Arc::new(plan),
                );
            }
        }
    }

    /// The plan for one method (`"acme", "ats/candidates", "create"`); when it is not mapped,
    /// the error lists what is (integrations, their resources, a resource's methods).
    pub fn method(
        &self,
        integration: &str,
        resource: &str,
        method: &str,
    ) -> Result<&Arc<MethodPlan>, LookupError> {
        let key = (
            integration.to_owned(),
            resource.to_owned(),
            method.to_owned(),
        );
        if let Some(plan) = self.methods.get(&key) {
            return Ok(plan);
        }
        let integration_plan = self.integration(integration)?;
        let of_integration = || {
            self.methods
                .keys()
                .filter(|(i, _, _)| i == &integration_plan.name)
        };
        let methods: Vec<String> = of_integration()
            .filter(|(_, r, _)| r == resource)
            .map(|(_, _, m)| m.clone())
            .collect();
        if methods.is_empty() {
            let mut known: Vec<String> = of_integration().map(|(_, r, _)| r.clone()).collect();
            known.dedup();
            return Err(LookupError::UnknownResource {
                integration: integration.to_owned(),
                resource: resource.to_owned(),
                known,
            });
        }
        Err(LookupError::UnknownMethod {
            integration: integration.to_owned(),
            resource: resource.to_owned(),
            method: method.to_owned(),
            known: methods,
        })
    }

    /// Every method plan, ordered by integration, resource and method.
    pub fn methods(&self) -> impl Iterator<Item = &Arc<MethodPlan>> {
        self.methods.values()
    }

    /// One integration; when it is not loaded, the error lists those that are.
    pub fn integration(&self, name: &str) -> Result<&Arc<IntegrationPlan>, LookupError> {
        self.integrations
            .get(name)
            .ok_or_else(|| LookupError::UnknownIntegration {
                integration: name.to_owned(),
                known: self.integrations.keys().cloned().collect(),
            })
    }

    /// Every integration, by name.
    pub fn integrations(&self) -> impl Iterator<Item = &Arc<IntegrationPlan>> {
        self.integrations.values()
    }

    /// One unified schema (`ats/candidates`).
    pub fn schema(&self, resource: &str) -> Option<&Arc<UnifiedSchema>> {
        self.schemas.get(resource)
    }

    /// Every unified schema.
    pub fn schemas(&self) -> impl Iterator<Item = &Arc<UnifiedSchema>> {
        self.schemas.values()
    }
}

/// Whether `name` is an HTTP header name (an RFC 9110 token).
pub(crate) fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Compiles one expression (braces optional), reporting a failure at `pointer`.
pub(crate) fn compile_expr(text: &str, pointer: &str, report: &mut Reporter<'_>) -> Option<Expr> {
    match Template::compile_expr(text) {
        Ok(e) => Some(e),
        Err(message) => {
            report.at(pointer, message, None);
            None
        }
    }
}

/// Compiles a template, reporting every failure at its place below `pointer`.
pub(crate) fn compile_template(
    value: &Value,
    pointer: &str,
    report: &mut Reporter<'_>,
) -> Template {
    let mut errors = Vec::new();
    let template = Template::compile(value, &mut errors);
    report_template_errors(errors, pointer, report);
    template
}

/// Compiles a JSON request body, where `{"$file": …}` embeds files.
pub(crate) fn compile_body_template(
    value: &Value,
    pointer: &str,
    report: &mut Reporter<'_>,
) -> Template {
    let mut errors = Vec::new();
    let template = Template::compile_body(value, &mut errors);
    report_template_errors(errors, pointer, report);
    template
}

fn report_template_errors(errors: Vec<TemplateError>, pointer: &str, report: &mut Reporter<'_>) {
    for e in errors {
        let at: String = e
            .path
            .iter()
            .map(|s| format!("/{}", crate::source::escape(s)))
            .collect();
        report.at(&format!("{pointer}{at}"), e.message, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_tokens() {
        assert!(is_header_name("On-Behalf-Of"));
        assert!(!is_header_name("On Behalf"));
        assert!(!is_header_name(""));
    }

    #[test]
    fn plans_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Registry>();
        check::<MethodPlan>();
        check::<IntegrationPlan>();
    }
}
