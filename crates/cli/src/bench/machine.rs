//! The header of every report: the machine, the build and the database the figures come from.

use anyhow::Context as _;
use serde::Serialize;
use tasker::{Clock as _, SystemClock};

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub memory_bytes: Option<u64>,
    pub cpu: Option<String>,
    pub os: Option<String>,
    pub kernel: Option<String>,
    pub tasker_version: &'static str,
    /// `release` or `debug`: debug builds are several times slower.
    pub build: &'static str,
    pub backend: String,
    pub server_version: String,
    pub settings: Vec<(String, String)>,
    pub date: String,
    /// 1, 5 and 15 minute load averages when the run started: other work on the machine
    /// skews every figure.
    pub load_average: Option<String>,
}

pub async fn collect(url: &str) -> anyhow::Result<Machine> {
    let db = tasker::connect_isolated(url)
        .await
        .with_context(|| format!("cannot open a database beside {}", redact(url)))?;
    let described = db.store().describe().await;
    db.cleanup().await?;
    let info = described?;
    Ok(Machine {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory_bytes: memory_total(),
        cpu: cpu_model(),
        os: os_name(),
        kernel: read_trimmed("/proc/sys/kernel/osrelease"),
        tasker_version: env!("CARGO_PKG_VERSION"),
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        backend: info.backend,
        server_version: info.server_version,
        settings: info.settings,
        date: SystemClock.now().format("%Y-%m-%d %H:%M UTC").to_string(),
        load_average: load_average(),
    })
}

fn redact(url: &str) -> String {
    crate::commands::redact_password(url)
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// `MemTotal` from `/proc/meminfo`, in bytes.
fn memory_total() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line
        .trim_start_matches("MemTotal:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

fn cpu_model() -> Option<String> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, model)| model.trim().to_owned())
}

fn os_name() -> Option<String> {
    let release = std::fs::read_to_string("/etc/os-release").ok()?;
    release
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|name| name.trim_matches('"').to_owned())
        .or_else(|| Some(std::env::consts::OS.to_owned()))
}

/// The first three fields of `/proc/loadavg`.
pub fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let fields: Vec<&str> = text.split_whitespace().take(3).collect();
    (fields.len() == 3).then(|| fields.join(" "))
}
