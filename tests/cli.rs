//! Runs the CLI cases of `tests/cli/cases.txt` against the built binary.

mod common;

use common::{Sandbox, TEST_IDENTITY, fixture};
use sesame::env::split_command;

#[derive(Default, Debug)]
struct Case {
    name: String,
    args: String,
    copy: Vec<(String, String)>,
    env: Vec<(String, String)>,
    stdin: Option<String>,
    stdin_file: Option<String>,
    code: i32,
    stdout: Option<String>,
    stdout_contains: Option<String>,
    stderr_contains: Option<String>,
    file_contains: Option<(String, String)>,
}

fn unescape(s: &str) -> String {
    s.replace("\\n", "\n")
}

fn parse_cases(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    for block in text.split("\n---\n") {
        let mut case = Case::default();
        let mut seen = false;
        for line in block.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let (key, value) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("bad line {line:?}"));
            let value = value.strip_prefix(' ').unwrap_or(value);
            seen = true;
            match key {
                "name" => case.name = value.into(),
                "args" => case.args = value.into(),
                "copy" => {
                    for item in value.split(',') {
                        let (from, to) = item.trim().split_once(" as ").expect("copy: X as Y");
                        case.copy.push((from.into(), to.into()));
                    }
                }
                "env" => {
                    for item in value.split(',') {
                        let (k, v) = item.trim().split_once('=').expect("env: K=V");
                        case.env.push((k.into(), v.into()));
                    }
                }
                "stdin" => case.stdin = Some(unescape(value)),
                "stdin-file" => case.stdin_file = Some(value.into()),
                "code" => case.code = value.parse().expect("code"),
                "stdout" => case.stdout = Some(unescape(value)),
                "stdout~" => case.stdout_contains = Some(unescape(value)),
                "stderr~" => case.stderr_contains = Some(unescape(value)),
                "file~" => {
                    let (name, text) = value.split_once(" => ").expect("file~: NAME => text");
                    case.file_contains = Some((name.into(), unescape(text)));
                }
                other => panic!("unknown field {other:?}"),
            }
        }
        if seen {
            assert!(!case.name.is_empty(), "every case has a name");
            cases.push(case);
        }
    }
    cases
}

#[test]
fn cli_cases() {
    let text = std::fs::read_to_string(common::root().join("tests/cli/cases.txt")).unwrap();
    let cases = parse_cases(&text);
    assert!(cases.len() >= 20, "cases parsed: {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let mut sb = Sandbox::new().env("SOPS_AGE_KEY", TEST_IDENTITY);
        for (k, v) in &case.env {
            sb = sb.env(k, v.clone());
        }
        for (from, to) in &case.copy {
            sb.write(to, std::fs::read(fixture(from)).unwrap());
        }
        let args = split_command(&case.args);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let stdin = match (&case.stdin, &case.stdin_file) {
            (Some(s), _) => Some(s.as_bytes().to_vec()),
            (None, Some(f)) => Some(sb.read(f)),
            (None, None) => None,
        };
        let out = match &stdin {
            Some(input) => sb.sesame_stdin(&args, input),
            None => sb.sesame(&args),
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut problems = Vec::new();
        if out.status.code() != Some(case.code) {
            problems.push(format!(
                "exit {:?}, expected {}",
                out.status.code(),
                case.code
            ));
        }
        if let Some(s) = &case.stdout
            && stdout != *s
        {
            problems.push(format!("stdout {stdout:?}, expected {s:?}"));
        }
        if let Some(s) = &case.stdout_contains
            && !stdout.contains(s.as_str())
        {
            problems.push(format!("stdout lacks {s:?}: {stdout:?}"));
        }
        if let Some(s) = &case.stderr_contains
            && !stderr.contains(s.as_str())
        {
            problems.push(format!("stderr lacks {s:?}: {stderr:?}"));
        }
        if let Some((name, text)) = &case.file_contains {
            let content = std::fs::read(sb.path(name)).unwrap_or_default();
            if !String::from_utf8_lossy(&content).contains(text.as_str()) {
                problems.push(format!("{name} lacks {text:?}"));
            }
        }
        if case.code != 0 && !stderr.is_empty() && stderr.contains("panicked") {
            problems.push(format!("panicked: {stderr}"));
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}", case.name, problems.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
