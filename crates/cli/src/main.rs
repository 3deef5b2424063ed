//! `switchboard`: serve the unified API, and the authoring tools for integration engineers.

mod commands;
mod paths;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Switchboard: a self-hostable unified API engine driven by YAML mappings.
#[derive(Parser)]
#[command(name = "switchboard", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the unified API over HTTP (mappings ./mappings, database sqlite:switchboard.db).
    Serve(commands::serve::ServeArgs),
    /// Create, list and delete integrated accounts.
    Accounts(commands::accounts::AccountsArgs),
    /// Create, list and revoke API tokens.
    Tokens(commands::tokens::TokensArgs),
    /// Create or bring up to date the database's tables (`serve` does it on start too).
    Migrate(commands::migrate::MigrateArgs),
    /// Generate a key, or seal every stored credential again under a new one.
    Keys(commands::keys::KeysArgs),
    /// Load every mapping and print every problem, rustc-style; exit non-zero on any.
    Check(commands::check::CheckArgs),
    /// Dry run: print the provider request(s) a unified call renders, and the unified output for
    /// recorded responses.
    Render(commands::render::RenderArgs),
    /// The field-support table: which integrations support or require each field.
    Fields(commands::fields::FieldsArgs),
    /// Write (or check) the JSON Schemas of the mapping file formats.
    Schema(commands::schema::SchemaArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => commands::serve::run(args),
        Command::Accounts(args) => commands::accounts::run(args),
        Command::Tokens(args) => commands::tokens::run(args),
        Command::Migrate(args) => commands::migrate::run(args),
        Command::Keys(args) => commands::keys::run(args),
        Command::Check(args) => commands::check::run(args),
        Command::Render(args) => commands::render::run(args),
        Command::Fields(args) => commands::fields::run(args),
        Command::Schema(args) => commands::schema::run(args),
    };
    result.unwrap_or_else(|error| {
        eprintln!("error: {error:#}");
        ExitCode::FAILURE
    })
}
