//! The command-line grammar. Parsing only: what each command does lives in `commands/`.

use clap::builder::{RangedI64ValueParser, RangedU64ValueParser, TypedValueParser};
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use tasker::limits;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://tasker.db";

/// The allowed values of the numeric flags, inclusive, checked when the flags are parsed. The
/// orchestrator's flags use the engine's own [`limits`].
pub mod ranges {
    use super::{RangeInclusive, limits};

    /// `run --lease-ms`.
    pub const LEASE_MS: RangeInclusive<u64> = limits::LEASE_MS;
    /// `run --poll-ms`.
    pub const POLL_MS: RangeInclusive<u64> = limits::POLL_MS;
    /// `run --concurrency`.
    pub const CONCURRENCY: RangeInclusive<u64> =
        *limits::CONCURRENCY.start() as u64..=*limits::CONCURRENCY.end() as u64;
    /// `task create --wait --timeout`, in seconds: up to 30 days.
    pub const WAIT_TIMEOUT_SECONDS: RangeInclusive<u64> = 1..=2_592_000;
    /// `task list --limit`.
    pub const LIST_LIMIT: RangeInclusive<u64> = 1..=10_000;
    /// `demo --tasks`.
    pub const DEMO_TASKS: RangeInclusive<u64> = 1..=1_000_000;
    /// `bench --tasks`, each size.
    pub const BENCH_TASKS: RangeInclusive<u64> = 1..=10_000_000;
    /// `bench --history`, each size.
    pub const BENCH_HISTORY: RangeInclusive<u64> = 1..=100_000_000;
    /// `bench --workers`.
    pub const BENCH_WORKERS: RangeInclusive<u64> = 1..=64;
    /// `bench --samples`.
    pub const BENCH_SAMPLES: RangeInclusive<u64> = 1..=1_000_000;
    /// `bench --fanout`: the join depends on every fan-out step, and a step may depend on at
    /// most `MAX_DEPENDS_ON` (10,000).
    pub const BENCH_FANOUT: RangeInclusive<u64> = 1..=10_000;
    /// `bench --runs`.
    pub const BENCH_RUNS: RangeInclusive<u64> = 1..=1_000;
    /// `serve --max-body`, in bytes: 1 KiB to 128 MiB.
    pub const MAX_BODY: RangeInclusive<u64> = 1_024..=134_217_728;
    /// `serve --worker-max-wait-ms`: 0 to 60000, the protocol's longest `wait_ms`.
    pub const WORKER_MAX_WAIT_MS: RangeInclusive<u64> = tasker::workers::limits::WAIT_MS;
    /// `serve --max-wait-ms`: 0 to 60000, the longest `timeout_ms` of a task `wait`.
    pub const MAX_WAIT_MS: RangeInclusive<u64> = 0..=60_000;
}

/// A number within a range. The flags that use it also take negative values
/// (`allow_negative_numbers`), so that `--limit -1` is answered with the allowed range rather
/// than "unexpected argument".
#[derive(Clone)]
pub struct InRange<T: TryFrom<u64> + TryFrom<i64> + Clone + Send + Sync + 'static> {
    unsigned: RangedU64ValueParser<T>,
    signed: RangedI64ValueParser<T>,
}

impl<T> TypedValueParser for InRange<T>
where
    T: TryFrom<u64> + TryFrom<i64> + Clone + Send + Sync + 'static,
    <T as TryFrom<u64>>::Error: Send + Sync + 'static + std::error::Error + ToString,
    <T as TryFrom<i64>>::Error: Send + Sync + 'static + std::error::Error + ToString,
{
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        // Negative numbers fit an i64 parser, the largest positive ones only a u64 parser.
        if value.to_string_lossy().starts_with('-') {
            self.signed.parse_ref(cmd, arg, value)
        } else {
            self.unsigned.parse_ref(cmd, arg, value)
        }
    }
}

fn in_range<T: TryFrom<u64> + TryFrom<i64> + Clone + Send + Sync + 'static>(
    range: RangeInclusive<u64>,
) -> InRange<T> {
    let signed = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    InRange {
        signed: RangedI64ValueParser::new().range(signed(*range.start())..=signed(*range.end())),
        unsigned: RangedU64ValueParser::new().range(range),
    }
}

fn u64_in(range: RangeInclusive<u64>) -> InRange<u64> {
    in_range(range)
}

fn usize_in(range: RangeInclusive<u64>) -> InRange<usize> {
    in_range(range)
}

fn u32_in(range: RangeInclusive<u64>) -> InRange<u32> {
    in_range(range)
}

#[derive(Debug, Parser)]
#[command(
    name = "tasker",
    version,
    about = "Run workflows of dependent steps, defined as versioned YAML templates"
)]
pub struct Cli {
    /// Database to use: sqlite://PATH, sqlite::memory: or postgres://... [default: sqlite://tasker.db]
    #[arg(long, env = "TASKER_DATABASE_URL", global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Print machine-readable JSON on stdout instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log more to stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending database migrations.
    Migrate(MigrateArgs),
    /// Validate, register and inspect task templates.
    #[command(subcommand)]
    Template(TemplateCommand),
    /// Create, inspect, cancel and retry tasks.
    #[command(subcommand)]
    Task(TaskCommand),
    /// Act on single steps.
    #[command(subcommand)]
    Step(StepCommand),
    /// Run an orchestrator: claim ready steps and run their handlers.
    Run(RunArgs),
    /// Serve the REST API (with an orchestrator beside it unless --no-orchestrator) until
    /// ctrl-c / SIGTERM, which drains requests in flight and the orchestrator.
    Serve(ServeArgs),
    /// Create, list and revoke the API tokens `tasker serve` accepts.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Create many tasks, run them and print what happened (on a fresh tasker-demo.db unless
    /// --database-url is given).
    Demo(DemoArgs),
    /// Measure the engine end to end on a fresh database per scenario (a temporary SQLite
    /// file, or a new schema in the PostgreSQL database given), check every result, and print
    /// the figures beside the targets.
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Apply nothing; exit 1 and list the pending migrations if there are any.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Check template files without touching a database (exit 1 if any is invalid).
    Validate {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Store template files in the database.
    Register {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// List registered templates.
    List,
    /// Show a template's steps grouped by dependency level.
    Show {
        /// NAMESPACE/NAME or NAMESPACE/NAME@VERSION (latest version when omitted).
        #[arg(value_name = "NS/NAME[@VERSION]")]
        template: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// Create a task from a registered template.
    Create(CreateArgs),
    /// List tasks, newest first.
    List(ListArgs),
    /// Show a task, its execution context and why each step is or is not running.
    Show { id: i64 },
    /// Every transition of a task and its steps, in order.
    History { id: i64 },
    /// Cancel a task: nothing new starts, pending and failed steps are cancelled.
    Cancel { id: i64 },
    /// Give the permanently failed steps of a task in error a fresh set of attempts.
    Retry { id: i64 },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// NAMESPACE/NAME or NAMESPACE/NAME@VERSION (latest version when omitted).
    #[arg(value_name = "NS/NAME[@VERSION]")]
    pub template: String,
    /// The task's context: inline JSON, @FILE to read it from a file, or @- for stdin.
    #[arg(long, default_value = "{}", value_name = "JSON|@FILE")]
    pub context: String,
    /// Creating again with the same key (for the same template) returns the first task.
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Run an in-process orchestrator until the task finishes; exit 1 if it ends in error.
    #[arg(long)]
    pub wait: bool,
    /// With --wait: give up after this many seconds (1 to 2592000, 30 days).
    #[arg(long, requires = "wait", value_name = "SECONDS",
          allow_negative_numbers = true, value_parser = u64_in(ranges::WAIT_TIMEOUT_SECONDS))]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only tasks in this state (pending, in_progress, complete, error, cancelled).
    #[arg(long)]
    pub state: Option<String>,
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
    /// How many tasks to show (1 to 10000).
    #[arg(long, default_value_t = 50, allow_negative_numbers = true, value_parser = u32_in(ranges::LIST_LIMIT))]
    pub limit: u32,
    /// Only tasks with a smaller id: the next page after the last id shown.
    #[arg(long, value_name = "ID")]
    pub before: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum StepCommand {
    /// Mark a pending or failed step as resolved by hand, so its dependents can run.
    Resolve {
        #[arg(value_name = "STEP_ID")]
        id: i64,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Stop when nothing is runnable, waiting for a retry or running.
    #[arg(long)]
    pub until_idle: bool,
    #[command(flatten)]
    pub orchestrator: OrchestratorArgs,
}

/// The orchestrator's settings, as `tasker run` and `tasker serve` take them.
#[derive(Debug, Args)]
pub struct OrchestratorArgs {
    /// Handlers running at once (1 to 100000).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = usize_in(ranges::CONCURRENCY))]
    pub concurrency: Option<usize>,
    /// How long a claimed step stays leased before another orchestrator may recover it, in
    /// milliseconds (100 to 86400000, 24 h) [default: 30000].
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = u64_in(ranges::LEASE_MS))]
    pub lease_ms: Option<u64>,
    /// How often to look for work when nothing signals it [default: 1000]. On PostgreSQL,
    /// work created or released by other processes is signalled (LISTEN/NOTIFY). In
    /// milliseconds, 1 to 3600000 (1 h).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = u64_in(ranges::POLL_MS))]
    pub poll_ms: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. One other machines can reach needs an API token to exist first
    /// (`tasker token create`), or --insecure-no-auth.
    #[arg(long, default_value = tasker::server::DEFAULT_LISTEN, value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Serve the API only; steps run in `tasker run` processes.
    #[arg(long)]
    pub no_orchestrator: bool,
    /// Serve every route without a token (a warning is logged at start).
    #[arg(long)]
    pub insecure_no_auth: bool,
    /// The largest request body, in bytes (1024 to 134217728, 128 MiB); larger ones are
    /// answered 413.
    #[arg(long, value_name = "BYTES", default_value_t = tasker::server::DEFAULT_MAX_BODY,
          allow_negative_numbers = true, value_parser = usize_in(ranges::MAX_BODY))]
    pub max_body: usize,
    /// The longest a worker's claim (`POST /v1/worker/claim`) waits for work, in
    /// milliseconds (0 to 60000), whatever its `wait_ms` asks.
    #[arg(long, value_name = "MS", default_value_t = tasker::workers::limits::DEFAULT_MAX_WAIT_MS,
          allow_negative_numbers = true, value_parser = u64_in(ranges::WORKER_MAX_WAIT_MS))]
    pub worker_max_wait_ms: u64,
    /// The longest `GET /v1/tasks/{id}/wait` holds on, in milliseconds (0 to 60000), whatever
    /// its `timeout_ms` asks.
    #[arg(long, value_name = "MS", default_value_t = 60_000,
          allow_negative_numbers = true, value_parser = u64_in(ranges::MAX_WAIT_MS))]
    pub max_wait_ms: u64,
    #[command(flatten)]
    pub orchestrator: OrchestratorArgs,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; it is printed once and cannot be shown again.
    Create {
        /// A label for people (`ci`, `payments-service`).
        #[arg(long)]
        name: String,
        /// What the token may do: templates:read, templates:write, tasks:read, tasks:write,
        /// analytics:read, workers or admin, each optionally limited to a namespace
        /// (tasks:write@ecommerce; @* for all). Repeat the flag or list several.
        #[arg(long = "scope", value_name = "SCOPE", required = true, num_args = 1..)]
        scopes: Vec<String>,
    },
    /// List tokens (never the tokens themselves).
    List,
    /// Revoke a token: it authenticates nothing from then on.
    Revoke {
        #[arg(value_name = "ID")]
        id: i64,
    },
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many tasks to create (1 to 1000000).
    #[arg(long, default_value_t = 1000, allow_negative_numbers = true, value_parser = usize_in(ranges::DEMO_TASKS))]
    pub tasks: usize,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[arg(long, value_enum, default_value_t = Scenario::All)]
    pub scenario: Scenario,
    /// Scale: how many tasks to create and run at once, one measurement per size.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "50,500,5000,50000",
        value_name = "N,...",
        allow_negative_numbers = true, value_parser = u64_in(ranges::BENCH_TASKS)
    )]
    pub tasks: Vec<u64>,
    /// Scale: a bundled template (NAMESPACE/NAME) or a template file (.yaml).
    #[arg(long, default_value = "examples/diamond", value_name = "NS/NAME|FILE")]
    pub template: String,
    /// Orchestrators for scale and fan-out: 1 runs one in this process; more start that many
    /// `tasker run --until-idle` processes on the same database (PostgreSQL only).
    #[arg(long, default_value_t = 1, value_name = "K", allow_negative_numbers = true, value_parser = usize_in(ranges::BENCH_WORKERS))]
    pub workers: usize,
    /// History: completed tasks to seed before measuring, one column per size.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "10000,100000,1000000",
        value_name = "H,...",
        allow_negative_numbers = true, value_parser = u64_in(ranges::BENCH_HISTORY)
    )]
    pub history: Vec<u64>,
    /// Latency: tasks to time one at a time (history takes five times as many per query).
    #[arg(long, default_value_t = 200, value_name = "N", allow_negative_numbers = true, value_parser = usize_in(ranges::BENCH_SAMPLES))]
    pub samples: usize,
    /// Fan-out: steps between the root and the join.
    #[arg(long, default_value_t = 10_000, value_name = "N", allow_negative_numbers = true, value_parser = usize_in(ranges::BENCH_FANOUT))]
    pub fanout: usize,
    /// Repeat each measurement (history: seeded once) and report the median, min and max.
    #[arg(long, default_value_t = 3, value_name = "N", allow_negative_numbers = true, value_parser = usize_in(ranges::BENCH_RUNS))]
    pub runs: usize,
    /// The smallest size of every scenario, once: what CI runs (no timing targets apply).
    #[arg(long)]
    pub smoke: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    Scale,
    Latency,
    History,
    Fanout,
    Baseline,
    /// Task creation through `tasker serve`'s HTTP API against the engine called directly.
    Api,
    /// Queue steps run by HTTP workers against the same tasks run in-process (the largest
    /// `--tasks` size).
    Workers,
    All,
}
