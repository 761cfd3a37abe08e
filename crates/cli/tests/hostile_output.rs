//! Control characters from templates and contexts never reach the terminal raw, and
//! `template register` of several files is all or nothing.

mod common;

use common::Sandbox;

/// A step name, description and config that would draw a fake row and recolour the terminal.
const SNEAKY: &str = "namespace: t
name: sneaky
version: 1.0.0
description: \"line one\\nline two \\e[31mred\"
steps:
  - name: \"a\\n1      complete  forged\"
    handler: noop
    description: \"bell\\a\"
    config: {text: \"\\e]0;title\\a\"}
  - name: \"b\\e[2J\"
    handler: noop
    depends_on: [\"a\\n1      complete  forged\"]
";

fn assert_no_raw_controls(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| (c.is_control() && c != '\n') || c == '\u{7f}')
        .collect();
    assert!(bad.is_empty(), "{what} printed raw {bad:?}:\n{text}");
    assert!(
        !text.contains("\n1      complete  forged"),
        "{what}:\n{text}"
    );
}

#[test]
fn human_output_escapes_control_characters_and_json_stays_exact() {
    let sandbox = Sandbox::migrated();
    let file = sandbox.write("sneaky.yaml", SNEAKY);
    let registered = sandbox.ok(&["template", "register", &file]);
    assert_no_raw_controls("template register", &registered);

    let list = sandbox.ok(&["template", "list"]);
    assert_no_raw_controls("template list", &list);
    assert!(
        list.contains("line one\\nline two \\u{1b}[31mred"),
        "{list}"
    );

    let show = sandbox.ok(&["template", "show", "t/sneaky"]);
    assert_no_raw_controls("template show", &show);
    assert!(show.contains("a\\n1      complete  forged"), "{show}");
    assert!(show.contains("b\\u{1b}[2J"), "{show}");

    let json = sandbox.json(&["template", "show", "t/sneaky"]);
    assert_eq!(
        json["template"]["steps"][0]["name"],
        "a\n1      complete  forged"
    );
    assert_eq!(
        json["template"]["description"],
        "line one\nline two \u{1b}[31mred"
    );

    let created = sandbox.json(&[
        "task",
        "create",
        "t/sneaky",
        "--context",
        r#"{"note": "x\u001b[8m\nhidden\u009b"}"#,
        "--idempotency-key",
        "key\u{1b}[1m",
    ]);
    let id = created["task"]["id"].to_string();
    assert_eq!(
        created["task"]["context"]["note"],
        "x\u{1b}[8m\nhidden\u{9b}"
    );
    let show = sandbox.ok(&["task", "show", &id]);
    assert_no_raw_controls("task show", &show);
    assert!(show.contains("key\\u{1b}[1m"), "{show}");
    let history = sandbox.ok(&["task", "history", &id]);
    assert_no_raw_controls("task history", &history);
    let list = sandbox.ok(&["task", "list"]);
    assert_no_raw_controls("task list", &list);
}

#[test]
fn register_checks_every_file_before_registering_any() {
    let sandbox = Sandbox::migrated();
    let good = |name: &str| {
        sandbox.write(
            &format!("{name}.yaml"),
            &format!("namespace: t\nname: {name}\nversion: 1.0.0\nsteps:\n  - {{name: s, handler: noop}}\n"),
        )
    };
    let a = good("a");
    let b = good("b");
    let bad = sandbox.write(
        "bad.yaml",
        "namespace: t\nname: bad\nversion: 1.0.0\nsteps:\n  - {name: s, handler: command, config: {args: \"x\"}}\n",
    );
    let (stdout, stderr) = sandbox.fails(&["template", "register", &a, &bad, &b]);
    assert!(stderr.contains("bad.yaml"), "{stderr}");
    assert!(stderr.contains("steps[0].config.program"), "{stderr}");
    assert!(stderr.contains("nothing was registered"), "{stderr}");
    assert!(!stdout.contains("registered"), "{stdout}");
    assert_eq!(sandbox.json(&["template", "list"]), serde_json::json!([]));

    let done = sandbox.ok(&["template", "register", &a, &b]);
    assert!(
        done.contains("t/a@1.0.0") && done.contains("t/b@1.0.0"),
        "{done}"
    );
}
