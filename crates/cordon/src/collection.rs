//! `cordon collection`: the TAXII collections the server offers, each a
//! view of the indicators defined by the hub.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use cordon_app::collections::NewCollection;
use cordon_model::{Category, Kind, Tlp};
use cordon_store::collections::{Collection, Readers};

use crate::cli::{Cli, JsonArg};
use crate::output::{human, json_line, stdout};

/// `cordon collection`.
#[derive(Subcommand, Debug)]
pub(crate) enum CollectionCommand {
    /// Define a collection: which sightings it is built from, who reads and
    /// who writes it. Every reader sees it as the visibility rule allows.
    Add(CollectionAddArgs),
    /// List the collections with their TAXII ids.
    List(JsonArg),
    /// Remove a collection (the indicators stay).
    Remove(CollectionRemoveArgs),
}

#[derive(Args, Debug)]
pub(crate) struct CollectionAddArgs {
    /// Its unique name (letters, digits, '-', '_', '.'): also its TAXII alias.
    name: String,
    /// Its title (default: the name).
    #[arg(long)]
    title: Option<String>,
    /// What it holds.
    #[arg(long)]
    description: Option<String>,
    /// Only sightings of these categories (repeatable).
    #[arg(long = "category", value_name = "C")]
    categories: Vec<Category>,
    /// Only indicators of these kinds (repeatable).
    #[arg(long = "kind", value_name = "K")]
    kinds: Vec<Kind>,
    /// Only indicators of at least this combined confidence (0-100).
    #[arg(long, value_name = "N")]
    min_confidence: Option<u8>,
    /// Only sightings up to this TLP (default green).
    #[arg(long, value_name = "T")]
    tlp_max: Option<Tlp>,
    /// Only sightings of this operation's imports.
    #[arg(long, value_name = "OP")]
    operation: Option<String>,
    /// Only these organisations read it (repeatable; default: every
    /// organisation of the community).
    #[arg(long = "readers", value_name = "ORG", num_args = 1.., conflicts_with = "public_clear")]
    readers: Vec<String>,
    /// Anyone reads it, TLP:CLEAR only.
    #[arg(long)]
    public_clear: bool,
    /// These organisations may post objects to it (repeatable).
    #[arg(long = "writers", value_name = "ORG", num_args = 1..)]
    writers: Vec<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub(crate) struct CollectionRemoveArgs {
    /// The collection's name.
    name: String,
}

fn as_json(collection: &Collection) -> serde_json::Value {
    let spec = &collection.spec;
    let names = |members: &[cordon_store::collections::Member]| -> Vec<String> {
        members.iter().map(|m| m.name.clone()).collect()
    };
    let readers = match &spec.readers {
        Readers::Community => serde_json::json!("community"),
        Readers::PublicClear => serde_json::json!("public-clear"),
        Readers::Orgs(orgs) => serde_json::json!(names(orgs)),
    };
    serde_json::json!({
        "name": spec.name,
        "id": collection.uuid,
        "title": spec.title,
        "description": spec.description,
        "categories": spec.categories.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "kinds": spec.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        "min_confidence": spec.min_confidence,
        "tlp_max": spec.tlp_max.as_str(),
        "operation": spec.operation,
        "readers": readers,
        "writers": names(&spec.writers),
    })
}

pub(crate) fn run(cli: &Cli, cmd: &CollectionCommand) -> anyhow::Result<ExitCode> {
    let (app, viewer) = cli.open()?;
    let (mut json, mut out) = (stdout(), human());
    match cmd {
        CollectionCommand::Add(args) => {
            let new = NewCollection {
                name: args.name.clone(),
                title: args.title.clone(),
                description: args.description.clone(),
                categories: args.categories.clone(),
                kinds: args.kinds.clone(),
                min_confidence: args.min_confidence,
                tlp_max: args.tlp_max,
                operation: args.operation.clone(),
                readers: args.readers.clone(),
                public_clear: args.public_clear,
                writers: args.writers.clone(),
            };
            let collection = app.add_collection(&viewer, &new)?;
            if args.json {
                json_line(&mut json, &as_json(&collection))?;
            } else {
                writeln!(
                    out,
                    "collection '{}': /taxii2/cordon/collections/{}/",
                    collection.spec.name, collection.uuid
                )?;
            }
        }
        CollectionCommand::List(args) => {
            for collection in app.collections(&viewer)? {
                if args.json {
                    json_line(&mut json, &as_json(&collection))?;
                } else {
                    let spec = &collection.spec;
                    writeln!(out, "{}\t{}\t{}\t{}", spec.name, collection.uuid, spec.tlp_max, spec.title)?;
                }
            }
        }
        CollectionCommand::Remove(args) => {
            app.remove_collection(&viewer, &args.name)?;
            writeln!(out, "collection '{}' removed", args.name)?;
        }
    }
    json.flush()?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
