//! Where mappings and schemas are read from.

use std::path::PathBuf;

use clap::Args;
use switchboard_core::Registry;

/// The mapping and schema folders.
#[derive(Args, Clone)]
pub(crate) struct SourceArgs {
    /// The mappings folder.
    #[arg(long, default_value = "mappings")]
    pub(crate) mappings: PathBuf,
    /// The unified schemas folder (default: `schemas` beside the mappings folder).
    #[arg(long)]
    pub(crate) schemas: Option<PathBuf>,
}

impl SourceArgs {
    /// The schemas folder.
    pub(crate) fn schemas_dir(&self) -> PathBuf {
        self.schemas.clone().unwrap_or_else(|| {
            let parent = self
                .mappings
                .parent()
                .map(PathBuf::from)
                .unwrap_or_default();
            parent.join("schemas")
        })
    }

    /// Loads the registry, or fails with every problem printed rustc-style.
    pub(crate) fn load(&self) -> anyhow::Result<Registry> {
        Registry::load_dirs(&self.mappings, &self.schemas_dir())
            .map_err(|problems| anyhow::anyhow!("{problems}"))
    }
}
