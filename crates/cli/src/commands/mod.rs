//! One file per command group. Each gathers data through the engine and hands it to `output`.

mod migrate;
mod run;
mod serve;
mod step;
mod task;
mod template;
mod token;

use crate::cli::{Cli, Command, DEFAULT_DATABASE_URL};
use anyhow::{Context as _, bail};
use std::process::ExitCode;
use std::sync::Arc;
use tasker::{Engine, TaskerBuilder, TraceContext};

/// What every command needs from the global options.
pub struct Ctx {
    /// `None` when neither `--database-url` nor `TASKER_DATABASE_URL` was given.
    pub database_url: Option<String>,
    pub json: bool,
    /// Set when traces are exported: engines carry tasks' traces into their steps.
    pub trace_context: Option<Arc<dyn TraceContext>>,
}

impl Ctx {
    pub fn url(&self) -> &str {
        self.database_url.as_deref().unwrap_or(DEFAULT_DATABASE_URL)
    }

    fn in_memory() -> Ctx {
        Ctx {
            database_url: Some("sqlite::memory:".to_owned()),
            json: false,
            trace_context: None,
        }
    }

    /// The URL names a SQLite file that does not exist (yet).
    pub fn sqlite_file_missing(&self) -> bool {
        sqlite_file(self.url()).is_some_and(|path| !std::path::Path::new(path).exists())
    }

    /// A builder for an engine on this context's database.
    pub fn builder(&self) -> TaskerBuilder {
        let builder = TaskerBuilder::new(self.url());
        match &self.trace_context {
            Some(hook) => builder.trace_context(hook.clone()),
            None => builder,
        }
    }

    /// The URL for messages: without its password.
    pub fn shown_url(&self) -> String {
        redact_password(self.url())
    }

    /// An engine on a database whose schema is current. Only `tasker migrate` (and the demo)
    /// create or change a schema, so a mistyped URL is an error, not a new empty database.
    /// An in-memory database lives as long as the command, so it is migrated when opened:
    /// there is no database to migrate beforehand.
    pub async fn engine(&self) -> anyhow::Result<Engine> {
        if self.url().starts_with("sqlite::memory:") {
            return self
                .builder()
                .migrate(true)
                .build()
                .await
                .with_context(|| format!("cannot open the database at {}", self.shown_url()));
        }
        if self.sqlite_file_missing() {
            let url = self.shown_url();
            bail!("no database at {url}; `tasker --database-url {url} migrate` creates it");
        }
        let engine = self.engine_unchecked().await?;
        let pending = engine.pending_migrations().await?;
        if !pending.is_empty() {
            let url = self.shown_url();
            bail!(
                "the database at {url} is not migrated ({} pending); run `tasker --database-url {url} migrate`",
                pending.len(),
            );
        }
        Ok(engine)
    }

    pub async fn engine_unchecked(&self) -> anyhow::Result<Engine> {
        self.builder()
            .migrate(false)
            .build()
            .await
            .with_context(|| format!("cannot open the database at {}", self.shown_url()))
    }
}

/// Runs a command; `trace_context` is set when traces are exported.
pub async fn run(
    cli: Cli,
    trace_context: Option<Arc<dyn TraceContext>>,
) -> anyhow::Result<ExitCode> {
    let ctx = Ctx {
        database_url: cli.database_url,
        json: cli.json,
        trace_context,
    };
    match cli.command {
        Command::Migrate(args) => migrate::run(&ctx, args).await,
        Command::Template(command) => template::run(&ctx, command).await,
        Command::Task(command) => task::run(&ctx, command).await,
        Command::Step(command) => step::run(&ctx, command).await,
        Command::Run(args) => run::run(&ctx, args).await,
        Command::Serve(args) => serve::run(&ctx, args).await,
        Command::Token(command) => token::run(&ctx, command).await,
        Command::Demo(args) => crate::demo::run(&ctx, args).await,
        Command::Bench(args) => crate::bench::run(&ctx, args).await,
    }
}

/// The file a SQLite URL names (`sqlite://path`, `sqlite:path`), as the SQLite backend reads it.
fn sqlite_file(url: &str) -> Option<&str> {
    if url.starts_with("sqlite::memory:") {
        return None;
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    path.split('?').next().filter(|p| !p.is_empty())
}

/// `scheme://user:secret@host/db` becomes `scheme://user:***@host/db`.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

/// Resolves on ctrl-c, or SIGTERM on Unix (what service managers and `kill` send).
///
/// The handlers are installed when this is called, not when the future is first polled, so a
/// signal that arrives while the orchestrator starts is not lost (nor fatal). When signals
/// cannot be listened to, the future never resolves rather than stopping at once.
pub fn stop_requested() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{Signal, SignalKind, signal};
        async fn wait(stream: std::io::Result<Signal>, name: &'static str) {
            match stream {
                Ok(mut stream) => {
                    stream.recv().await;
                }
                Err(e) => {
                    tracing::warn!("cannot listen for {name}: {e}");
                    std::future::pending::<()>().await;
                }
            }
        }
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            tokio::select! {
                _ = wait(interrupt, "ctrl-c") => {}
                _ = wait(terminate, "SIGTERM") => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            if let Err(e) = tokio::signal::ctrl_c().await {
                tracing::warn!("cannot listen for ctrl-c: {e}");
                std::future::pending::<()>().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{redact_password, sqlite_file};

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(sqlite_file("sqlite://tasker.db"), Some("tasker.db"));
        assert_eq!(
            sqlite_file("sqlite:///tmp/t.db?mode=rwc"),
            Some("/tmp/t.db")
        );
        assert_eq!(sqlite_file("sqlite:t.db"), Some("t.db"));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://h/db"), None);
    }

    #[test]
    fn passwords_are_left_out_of_messages() {
        assert_eq!(
            redact_password("postgres://app:s3cret@db:5432/prod?sslmode=disable"),
            "postgres://app:***@db:5432/prod?sslmode=disable"
        );
        for unchanged in [
            "postgres://postgres@127.0.0.1:5432/test",
            "sqlite://tasker.db",
            "sqlite::memory:",
            "postgres://host/db?user=a@b",
        ] {
            assert_eq!(redact_password(unchanged), unchanged);
        }
    }
}
