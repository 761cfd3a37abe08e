//! Shared by the `fuzz_*` property tests: the case budget, the seed corpus and hostile inputs.
//!
//! `TASKER_FUZZ_CASES` sets the number of generated cases per property (default below, sized
//! so that each target runs for roughly 20-40 s in a debug build on CI); the corpus in
//! `tests/corpus/` is replayed in full on every run, whatever the budget.
#![allow(dead_code)] // each fuzz target uses part of this module

use proptest::prelude::*;
use serde_json::Value;
use std::path::PathBuf;

pub const DEFAULT_CASES: u32 = 1_000;

/// Cases per property: `TASKER_FUZZ_CASES`, or `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("TASKER_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn config() -> ProptestConfig {
    config_with_default(DEFAULT_CASES)
}

/// For a target whose cases are cheaper: a larger default, same override.
pub fn config_with_default(default: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases(default),
        // Shrinking a hostile input can take long; the failing case is printed as found.
        max_shrink_iters: 200,
        ..ProptestConfig::default()
    }
}

pub fn corpus_dir(kind: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(kind)
}

/// Every file of one corpus folder, sorted by name, as bytes.
pub fn corpus(kind: &str) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(corpus_dir(kind))
        .expect("the corpus folder exists")
        .map(|entry| {
            let path = entry.expect("a corpus entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("a readable corpus file"))
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the {kind} corpus is empty");
    files
}

/// Fragments that have broken parsers before: NULs and terminal escapes, quotes, YAML
/// anchors, aliases, merge keys and tags, deep nesting, numbers past every integer type,
/// non-numbers, BOMs and surrogate escapes.
pub const HOSTILE: &[&str] = &[
    "\0",
    "\u{1b}[2J",
    "\u{9b}31m",
    "\n",
    "\r\n",
    "\t",
    "\"",
    "'",
    "\\",
    "\\u0000",
    "\\ud800",
    "&a ",
    "*a",
    "<<: *a\n",
    "!!binary ",
    "!<tag:x> ",
    "? ",
    ": ",
    "- ",
    "# ",
    "---\n",
    "...\n",
    "%YAML 1.2\n---\n",
    "\u{feff}",
    "~",
    "null",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{",
    "18446744073709551616",
    "9223372036854775808",
    "-9223372036854775809",
    "340282366920938463463374607431768211456",
    "-1",
    "0",
    "1e999",
    "-0.0",
    ".nan",
    ".inf",
    "0x7fffffffffffffff",
    "0o777",
    "steps:\n",
    "depends_on: [a, a, b]\n",
    "retry: {max_attempts: 4294967295, base_ms: 0}\n",
];

#[derive(Debug, Clone)]
pub enum Edit {
    Insert(usize, &'static str),
    Delete(usize, usize),
    Byte(usize, u8),
    DuplicateLine(usize),
}

pub fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        4 => (any::<usize>(), proptest::sample::select(HOSTILE)).prop_map(|(at, s)| Edit::Insert(at, s)),
        2 => (any::<usize>(), 1usize..16).prop_map(|(at, n)| Edit::Delete(at, n)),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Edit::Byte(at, b)),
        1 => any::<usize>().prop_map(Edit::DuplicateLine),
    ];
    proptest::collection::vec(edit, 1..8)
}

/// Applies `edits` to `seed` (positions taken modulo its length).
pub fn mutate(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for edit in edits {
        let len = bytes.len();
        let at = |i: usize| if len == 0 { 0 } else { i % (len + 1) };
        match *edit {
            Edit::Insert(i, s) => {
                let i = at(i);
                bytes.splice(i..i, s.bytes());
            }
            Edit::Delete(i, n) => {
                let i = at(i);
                let end = (i + n).min(len);
                bytes.drain(i..end);
            }
            Edit::Byte(i, b) => {
                if len > 0 {
                    bytes[i % len] = b;
                }
            }
            Edit::DuplicateLine(i) => {
                let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
                let k = i % lines.len();
                let mut out = Vec::with_capacity(len * 2);
                for (n, line) in lines.iter().enumerate() {
                    out.extend_from_slice(line);
                    out.push(b'\n');
                    if n == k {
                        out.extend_from_slice(line);
                        out.push(b'\n');
                    }
                }
                bytes = out;
            }
        }
    }
    bytes
}

/// Strings drawn from hostile fragments and ordinary text.
pub fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z_]{0,12}",
        2 => proptest::collection::vec(proptest::sample::select(HOSTILE), 0..4).prop_map(|v| v.concat()),
        1 => any::<String>(),
    ]
}

/// Arbitrary JSON values: hostile strings and keys, numbers at the edges of every type, and
/// nesting up to a few dozen levels.
pub fn json_value() -> impl Strategy<Value = Value> {
    json_value_sized(32, 256)
}

/// [`json_value`] with at most `depth` levels and about `size` nodes.
pub fn json_value_sized(depth: u32, size: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        hostile_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(depth, size, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(hostile_string(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
