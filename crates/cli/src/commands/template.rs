//! `tasker template validate | register | list | show`.

use super::Ctx;
use crate::cli::TemplateCommand;
use crate::output::template::{self as out, Registration, Validation};
use anyhow::Context as _;
use std::path::{Path, PathBuf};
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
            let templates = check_all(&engine, &files)?;
            let mut done: Vec<Registration> = Vec::with_capacity(files.len());
            for (file, template) in files.iter().zip(&templates) {
                let registered = match engine.register_template(template).await {
                    Ok(registered) => registered,
                    Err(e) => {
                        let before: Vec<&str> = done.iter().map(|r| r.template.as_str()).collect();
                        return Err(anyhow::Error::new(e).context(format!(
                            "cannot register {} (registered before it: {})",
                            file.display(),
                            if before.is_empty() {
                                "none".to_owned()
                            } else {
                                before.join(", ")
                            }
                        )));
                    }
                };
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

/// Reads, parses and checks every file against the engine's handlers before any is
/// registered: one bad file refuses them all, naming every problem of every file.
fn check_all(engine: &tasker::Engine, files: &[PathBuf]) -> anyhow::Result<Vec<Template>> {
    let mut templates = Vec::with_capacity(files.len());
    let mut problems = Vec::new();
    for file in files {
        let checked = read(file).and_then(|yaml| {
            let template = Template::from_yaml(&yaml)?;
            engine.check_template(&template)?;
            Ok(template)
        });
        match checked {
            Ok(template) => templates.push(template),
            Err(e) => problems.push(format!("{}: {e:#}", file.display())),
        }
    }
    if problems.is_empty() {
        return Ok(templates);
    }
    anyhow::bail!(
        "{} of {} files cannot be registered, so nothing was registered:\n{}",
        problems.len(),
        files.len(),
        problems
            .iter()
            .flat_map(|p| p.lines())
            .map(|line| crate::output::clean(line).into_owned())
            .collect::<Vec<_>>()
            .join("\n")
    )
}

fn read(file: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))
}

/// Parse, validate and check the built-in handlers' configs, without a database; warn about
/// in-process handlers that are not built in.
fn validate_file(file: &Path, builtins: &HandlerRegistry) -> Validation {
    let name = file.display().to_string();
    let invalid = |errors: Vec<TemplateError>| Validation {
        file: name.clone(),
        valid: false,
        template: None,
        steps: None,
        errors,
        warnings: Vec::new(),
    };
    let yaml = match std::fs::read_to_string(file) {
        Ok(yaml) => yaml,
        Err(e) => return invalid(vec![TemplateError::new("", format!("cannot read: {e}"))]),
    };
    let template = match Template::from_yaml(&yaml) {
        Ok(template) => template,
        Err(errors) => return invalid(errors.0),
    };
    let errors = match builtins.check_template(&template) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.0,
    };
    Validation {
        file: name.clone(),
        valid: errors.is_empty(),
        template: Some(template.key()),
        steps: Some(template.steps.len()),
        errors,
        // The CLI cannot know an application's handlers: a name it does not know is worth a
        // look (a typo of `noop`?), not a refusal.
        warnings: builtins.unknown_handlers(&template),
    }
}
