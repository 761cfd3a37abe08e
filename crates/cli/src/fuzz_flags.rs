//! Fuzzing the numeric flags: any text given to a numeric flag is parsed by clap into a value
//! inside the flag's documented range, or refused with a usage error; never a panic, never a
//! value outside the range. `TASKER_FUZZ_CASES` sets the cases per property (default 10,000).

use crate::cli::{Cli, Command, RunArgs, StepCommand, TaskCommand, ranges};
use clap::Parser;
use proptest::prelude::*;
use std::ops::RangeInclusive;

type Extract = fn(&Cli) -> Option<i128>;

/// `(arguments before the value, the flag's range, how to read the parsed value back)`.
fn flags() -> Vec<(Vec<&'static str>, RangeInclusive<i128>, Extract)> {
    fn r(range: RangeInclusive<u64>) -> RangeInclusive<i128> {
        i128::from(*range.start())..=i128::from(*range.end())
    }
    fn run(cli: &Cli) -> Option<&RunArgs> {
        match &cli.command {
            Command::Run(args) => Some(args),
            _ => None,
        }
    }
    let any_i64 = i128::from(i64::MIN)..=i128::from(i64::MAX);
    vec![
        (vec!["run", "--concurrency"], r(ranges::CONCURRENCY), |c| {
            run(c)?.orchestrator.concurrency.map(|v| v as i128)
        }),
        (vec!["run", "--lease-ms"], r(ranges::LEASE_MS), |c| {
            run(c)?.orchestrator.lease_ms.map(i128::from)
        }),
        (vec!["run", "--poll-ms"], r(ranges::POLL_MS), |c| {
            run(c)?.orchestrator.poll_ms.map(i128::from)
        }),
        (
            vec!["task", "create", "ns/t", "--wait", "--timeout"],
            r(ranges::WAIT_TIMEOUT_SECONDS),
            |c| match &c.command {
                Command::Task(TaskCommand::Create(args)) => args.timeout.map(i128::from),
                _ => None,
            },
        ),
        (
            vec!["task", "list", "--limit"],
            r(ranges::LIST_LIMIT),
            |c| match &c.command {
                Command::Task(TaskCommand::List(args)) => Some(i128::from(args.limit)),
                _ => None,
            },
        ),
        (vec!["task", "show"], any_i64.clone(), |c| {
            match &c.command {
                Command::Task(TaskCommand::Show { id }) => Some(i128::from(*id)),
                _ => None,
            }
        }),
        (vec!["step", "resolve"], any_i64.clone(), |c| {
            match &c.command {
                Command::Step(StepCommand::Resolve { id }) => Some(i128::from(*id)),
                _ => None,
            }
        }),
        (
            vec!["serve", "--max-body"],
            r(ranges::MAX_BODY),
            |c| match &c.command {
                Command::Serve(args) => Some(args.max_body as i128),
                _ => None,
            },
        ),
        (
            vec!["serve", "--worker-max-wait-ms"],
            r(ranges::WORKER_MAX_WAIT_MS),
            |c| match &c.command {
                Command::Serve(args) => Some(i128::from(args.worker_max_wait_ms)),
                _ => None,
            },
        ),
        (
            vec!["serve", "--concurrency"],
            r(ranges::CONCURRENCY),
            |c| match &c.command {
                Command::Serve(args) => args.orchestrator.concurrency.map(|v| v as i128),
                _ => None,
            },
        ),
        (vec!["token", "revoke"], any_i64, |c| match &c.command {
            Command::Token(crate::cli::TokenCommand::Revoke { id }) => Some(i128::from(*id)),
            _ => None,
        }),
        (
            vec!["demo", "--tasks"],
            r(ranges::DEMO_TASKS),
            |c| match &c.command {
                Command::Demo(args) => Some(args.tasks as i128),
                _ => None,
            },
        ),
        (
            vec!["bench", "--workers"],
            r(ranges::BENCH_WORKERS),
            |c| match &c.command {
                Command::Bench(args) => Some(args.workers as i128),
                _ => None,
            },
        ),
        (
            vec!["bench", "--runs"],
            r(ranges::BENCH_RUNS),
            |c| match &c.command {
                Command::Bench(args) => Some(args.runs as i128),
                _ => None,
            },
        ),
        (
            vec!["bench", "--fanout"],
            r(ranges::BENCH_FANOUT),
            |c| match &c.command {
                Command::Bench(args) => Some(args.fanout as i128),
                _ => None,
            },
        ),
        (
            vec!["bench", "--samples"],
            r(ranges::BENCH_SAMPLES),
            |c| match &c.command {
                Command::Bench(args) => Some(args.samples as i128),
                _ => None,
            },
        ),
        (
            vec!["bench", "--tasks"],
            r(ranges::BENCH_TASKS),
            |c| match &c.command {
                Command::Bench(args) => args.tasks.first().map(|&v| i128::from(v)),
                _ => None,
            },
        ),
        (
            vec!["bench", "--history"],
            r(ranges::BENCH_HISTORY),
            |c| match &c.command {
                Command::Bench(args) => args.history.first().map(|&v| i128::from(v)),
                _ => None,
            },
        ),
    ]
}

fn cases() -> u32 {
    std::env::var("TASKER_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// The property for one flag and one text.
fn check(index: usize, text: &str) -> Result<(), TestCaseError> {
    let (before, range, extract) = &flags()[index];
    let mut argv = vec!["tasker"];
    argv.extend(before.iter().copied());
    argv.push(text);
    let in_range = |part: &str| part.parse::<i128>().ok().filter(|v| range.contains(v));
    // `bench --tasks` and `--history` take comma-separated lists: every item must be valid.
    let is_list = before[0] == "bench" && matches!(before[1], "--tasks" | "--history");
    let expected: Option<i128> = if is_list {
        let items: Vec<Option<i128>> = text.split(',').map(in_range).collect();
        if items.iter().all(Option::is_some) {
            items[0]
        } else {
            None
        }
    } else {
        in_range(text)
    };
    match Cli::try_parse_from(&argv) {
        Ok(cli) => {
            let got = extract(&cli);
            prop_assert!(got.is_some(), "{argv:?} parsed into another command");
            let got = got.unwrap_or_default();
            prop_assert!(
                range.contains(&got),
                "{argv:?} gave {got}, outside {range:?}"
            );
            prop_assert_eq!(Some(got), expected, "{:?}", argv);
        }
        Err(e) => {
            prop_assert!(
                expected.is_none() || text.starts_with('-'),
                "{argv:?} refused a valid value: {e}"
            );
            prop_assert!(!e.to_string().is_empty());
        }
    }
    Ok(())
}

/// Text that looks like a number, or nearly: edges of every integer type, signs, spaces,
/// exponents, separators, hex, unicode digits, NULs.
fn numberish() -> impl Strategy<Value = String> {
    let edges: Vec<String> = [
        0i128,
        1,
        -1,
        63,
        64,
        65,
        99,
        100,
        999,
        1_000,
        1_001,
        1_023,
        1_024,
        10_000,
        10_001,
        100_000,
        100_001,
        1_000_000,
        1_000_001,
        2_592_000,
        2_592_001,
        3_600_000,
        3_600_001,
        86_400_000,
        86_400_001,
        134_217_728,
        134_217_729,
        i128::from(u32::MAX),
        i128::from(u32::MAX) + 1,
        i128::from(i64::MAX),
        i128::from(i64::MAX) + 1,
        i128::from(i64::MIN),
        i128::from(i64::MIN) - 1,
        i128::from(u64::MAX),
        i128::from(u64::MAX) + 1,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    prop_oneof![
        3 => any::<i64>().prop_map(|v| v.to_string()),
        2 => any::<u64>().prop_map(|v| v.to_string()),
        3 => proptest::sample::select(edges),
        2 => (proptest::sample::select(vec!["", "+", " ", "0", "00", "-0"]), any::<u32>(), proptest::sample::select(vec!["", " ", "e3", ".0", "_000", "k", "\0", "\u{1b}"]))
            .prop_map(|(pre, v, post)| format!("{pre}{v}{post}")),
        1 => proptest::sample::select(vec!["0x10", "1e3", "١٢", "NaN", "inf", "--", "-", "", "1,2", "∞"]).prop_map(str::to_owned),
        1 => "\\PC{0,24}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn numeric_flags_parse_into_their_range_or_are_refused(
        index in 0usize..17,
        text in numberish(),
    ) {
        check(index, &text)?;
    }
}

#[test]
fn every_flag_is_in_the_table() {
    assert_eq!(flags().len(), 17);
    // The table's readers work: the smallest allowed value of each flag parses to itself.
    for (i, (_, range, _)) in flags().iter().enumerate() {
        check(i, &range.start().to_string()).unwrap();
        check(i, &range.end().to_string()).unwrap();
    }
}
