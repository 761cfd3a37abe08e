//! `tasker template validate | register | list | show`.

use super::Ctx;
use crate::cli::TemplateCommand;
use crate::output::template::{self as out, Registration, Validation};
use anyhow::Context as _;
use std::path::Path;
use std::process::ExitCode;
use tasker::model::{Template, TemplateError};
use tasker::{HandlerRegistry, TemplateRef};

pub async fn run(ctx: &Ctx, command: TemplateCommand) -> anyhow::Result<ExitCode> {
    match command {
        TemplateCommand::Validate { files } => {
            let builtins = HandlerRegistry::with_builtins();
            let reports: Vec<Validation> = files
                .iter()
                .map(|file| validate_file(file, &builtins))
                .collect();
            out::validations(&reports, ctx.json)?;
            let all_valid = reports.iter().all(|r| r.valid);
            return Ok(if all_valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        TemplateCommand::Register { files } => {
            let engine = ctx.engine().await?;
            let mut done = Vec::with_capacity(files.len());
            for file in &files {
                let yaml = read(file)?;
                let (template, registered) = engine
                    .register_template_yaml(&yaml)
                    .await
                    .with_context(|| format!("cannot register {}", file.display()))?;
                done.push(Registration {
                    file: file.display().to_string(),
                    template: template.key(),
                    id: registered.id,
                    created: registered.created,
                });
            }
            out::registrations(&done, ctx.json)?;
        }
        TemplateCommand::List => {
            let engine = ctx.engine().await?;
            out::list(&engine.list_templates().await?, ctx.json)?;
        }
        TemplateCommand::Show { template } => {
            let reference = parse_ref(&template)?;
            let engine = ctx.engine().await?;
            let (stored, template) = engine.template(&reference).await?;
            out::show(&stored, &template, ctx.json)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn parse_ref(text: &str) -> anyhow::Result<TemplateRef> {
    Ok(text.parse::<TemplateRef>()?)
}

fn read(file: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))
}

/// Parse, validate and check handlers against the built-ins, without a database.
fn validate_file(file: &Path, builtins: &HandlerRegistry) -> Validation {
    let name = file.display().to_string();
    let invalid = |errors: Vec<TemplateError>| Validation {
        file: name.clone(),
        valid: false,
        template: None,
        steps: None,
        errors,
    };
    let yaml = match std::fs::read_to_string(file) {
        Ok(yaml) => yaml,
        Err(e) => return invalid(vec![TemplateError::new("", format!("cannot read: {e}"))]),
    };
    let template = match Template::from_yaml(&yaml) {
        Ok(template) => template,
        Err(errors) => return invalid(errors.0),
    };
    let errors = match template.check_handlers(|h| builtins.contains(h)) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.0,
    };
    Validation {
        file: name.clone(),
        valid: errors.is_empty(),
        template: Some(template.key()),
        steps: Some(template.steps.len()),
        errors,
    }
}
