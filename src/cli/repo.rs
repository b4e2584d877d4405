//! The repository-wide commands: `ls`, `check`, `access` and `audit` over every sops file
//! under some paths, read without a key (metadata and stored values only).

use crate::cli::args::{AccessArgs, CheckArgs, Flags, OffboardArgs, RepoArgs};
use crate::cli::context;
use crate::cli::exit::{CliResult, Failure, code};
use crate::cli::revisions;
use sesame::config::Config;
use sesame::gotext::json_quote;
use sesame::repository::access::{Access, access as access_of};
use sesame::repository::check::{self as checks, Finding, Level, Policy};
use sesame::repository::keyage::{KeyHistory, histories, per_file};
use sesame::repository::scan::{self, Entry};
use sesame::repository::timeline;
use sesame::review::names::Names;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

fn jobs(wanted: Option<usize>) -> usize {
    wanted.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
}

/// The files under `paths` (default: here), looked at on `jobs` threads.
fn entries(paths: &[String], jobs: usize) -> CliResult<Vec<Entry>> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let roots: Vec<PathBuf> = if paths.is_empty() {
        vec![cwd.clone()]
    } else {
        paths.iter().map(PathBuf::from).collect()
    };
    let files = scan::files(&roots).map_err(|e| Failure::new(code::GENERIC, e))?;
    Ok(scan::scan(files, &cwd, jobs))
}

fn names(config: Option<&Config>) -> Names {
    config
        .and_then(|c| std::fs::read_to_string(&c.path).ok())
        .map(|t| Names::from_config(&t))
        .unwrap_or_default()
}

fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// A data key's age for people: "200 days (since 2026-05-18, abc12345)".
fn age_text(h: Option<&KeyHistory>) -> String {
    match h {
        Some(h) => match (&h.since, h.age_days(now())) {
            (Some(c), Some(days)) => format!(
                "{days} days (since {} {:.8})",
                &c.date[..10.min(c.date.len())],
                c.id
            ),
            _ => "not committed yet".into(),
        },
        None => "unknown (not in Git)".into(),
    }
}

fn recipients_text(e: &Entry, names: &Names) -> String {
    let Some(md) = e.metadata() else {
        return String::new();
    };
    let groups: Vec<String> = md
        .key_groups
        .iter()
        .map(|g| {
            g.keys
                .iter()
                .map(|k| {
                    let id = k.display();
                    match names.name(&id) {
                        Some(n) => format!("{} {n}", k.kind.field()),
                        None => format!("{} {}", k.kind.field(), short(&id)),
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    if groups.len() > 1 {
        format!(
            "{} of {} groups: [{}]",
            md.shamir_threshold.max(1),
            groups.len(),
            groups.join("] [")
        )
    } else {
        groups.join("")
    }
}

/// A long identifier shortened for tables.
fn short(id: &str) -> String {
    if id.chars().count() > 20 {
        let head: String = id.chars().take(12).collect();
        let tail: String = id
            .chars()
            .rev()
            .take(6)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("{head}…{tail}")
    } else {
        id.to_string()
    }
}

fn rule_text(e: &Entry, config: Option<&Config>) -> String {
    let Some(config) = config else {
        return "no .sops.yaml".into();
    };
    match config.rule_for(&e.path) {
        Ok(Some(r)) => match &r.path_regex {
            Some(re) => format!("rule {re:?}"),
            None => "catch-all rule".into(),
        },
        Ok(None) | Err(_) => "no rule".into(),
    }
}

pub fn ls(args: &RepoArgs, flags: &Flags) -> CliResult {
    let jobs = jobs(args.jobs);
    let entries = entries(&args.paths, jobs)?;
    let config = context::load_config(flags)?;
    let names = names(config.as_ref());
    let sops: Vec<&Entry> = entries.iter().filter(|e| e.metadata().is_some()).collect();
    let ages = histories(&entries, jobs);
    let mut out = String::new();
    if args.format == "json" {
        let rows: Vec<String> = sops
            .iter()
            .map(|e| {
                let md = e.metadata().expect("filtered");
                let keys: Vec<String> = md
                    .all_keys()
                    .map(|k| {
                        let id = k.display();
                        format!(
                            "{{\"type\":\"{}\",\"id\":{},\"name\":{}}}",
                            k.kind.field(),
                            json_quote(&id),
                            names.name(&id).map_or("null".into(), json_quote)
                        )
                    })
                    .collect();
                let h = ages.get(&e.path);
                format!(
                    "{{\"file\":{},\"format\":\"{}\",\"groups\":{},\"threshold\":{},\"recipients\":[{}],\"rule\":{},\"data_key_age_days\":{}}}",
                    json_quote(&e.name),
                    e.format.name(),
                    md.key_groups.len(),
                    md.shamir_threshold,
                    keys.join(","),
                    json_quote(&rule_text(e, config.as_ref())),
                    h.and_then(|h| h.age_days(now())).map_or("null".into(), |d| d.to_string())
                )
            })
            .collect();
        out = format!("[{}]\n", rows.join(",\n"));
    } else {
        for e in &sops {
            out.push_str(&format!(
                "{}  {}  {}  {}  data key {}\n",
                e.name,
                e.format.name(),
                recipients_text(e, &names),
                rule_text(e, config.as_ref()),
                age_text(ages.get(&e.path))
            ));
        }
        out.push_str(&format!(
            "{} sops file(s) of {} file(s) looked at\n",
            sops.len(),
            entries.len()
        ));
    }
    print(&out);
    Ok(())
}

/// `180d`, `26w`, `6m` (30 days), `1y` as days.
fn parse_age(text: &str) -> CliResult<i64> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: i64 = num.parse().map_err(|_| {
        Failure::new(
            code::GENERIC,
            format!("--max-data-key-age {text:?}: not an age"),
        )
        .hint("write it as days (180d), weeks (26w), months (6m) or years (1y)")
    })?;
    let per = match unit {
        "" | "d" => 1,
        "w" => 7,
        "m" => 30,
        "y" => 365,
        _ => {
            return Err(Failure::new(
                code::GENERIC,
                format!("--max-data-key-age {text:?}: unknown unit {unit:?}"),
            )
            .hint("write it as days (180d), weeks (26w), months (6m) or years (1y)"));
        }
    };
    Ok(n * per)
}

pub fn check(args: &CheckArgs, flags: &Flags) -> CliResult {
    let jobs = jobs(args.jobs);
    let entries = entries(&args.paths, jobs)?;
    let config = context::load_config(flags)?;
    let names = names(config.as_ref());
    let policy = Policy {
        require: args.require.clone(),
        forbid: args.forbid.clone(),
        max_data_key_age_days: args
            .max_data_key_age
            .as_deref()
            .map(parse_age)
            .transpose()?,
    };
    let ages = if policy.max_data_key_age_days.is_some() {
        histories(&entries, jobs)
    } else {
        HashMap::new()
    };
    let age_of = |e: &Entry| ages.get(&e.path).and_then(|h| h.age_days(now()));
    let mut findings = checks::check(&entries, config.as_ref(), &names, &policy, &age_of);
    if args.verify_mac {
        findings.extend(verify_macs(&entries));
    }
    findings.sort_by(|a, b| (a.file.as_str(), a.level).cmp(&(b.file.as_str(), b.level)));
    let looked = entries.iter().filter(|e| e.metadata().is_some()).count();
    let text = match args.format.as_str() {
        "json" => findings_json(&findings),
        "sarif" => sarif(&findings),
        _ => findings_text(&findings, looked, entries.len()),
    };
    print(&text);
    if findings.iter().any(|f| f.level != Level::Note) {
        return Err(Failure::new(code::GENERIC, ""));
    }
    Ok(())
}

/// `--verify-mac`: files this machine can decrypt whose MAC does not match.
fn verify_macs(entries: &[Entry]) -> Vec<Finding> {
    let sources = revisions::key_sources();
    let mut out = Vec::new();
    for e in entries.iter().filter(|e| e.metadata().is_some()) {
        let Ok(bytes) = std::fs::read(&e.path) else {
            continue;
        };
        let opened = sesame::document::Document::open(
            e.format,
            bytes,
            &sources,
            sesame::document::OpenOptions {
                ignore_mac: false,
                keep_ciphertext: false,
                keep_damaged: false,
            },
        );
        if let Err(
            err @ (sesame::document::OpenError::MacMismatch { .. }
            | sesame::document::OpenError::MacUndecryptable(_)),
        ) = opened
        {
            out.push(Finding {
                rule: "mac",
                level: Level::Error,
                file: e.name.clone(),
                message: format!("{err}: the file was changed outside sops"),
            });
        }
    }
    out
}

fn findings_text(findings: &[Finding], sops: usize, looked: usize) -> String {
    let mut out = String::new();
    for f in findings {
        out.push_str(&format!(
            "{}: {} [{}] {}\n",
            f.file,
            f.level.name(),
            f.rule,
            f.message
        ));
    }
    let failing = findings.iter().filter(|f| f.level != Level::Note).count();
    out.push_str(&format!(
        "{failing} problem(s) in {} file(s); {sops} sops file(s) of {looked} file(s) checked\n",
        {
            let mut files: Vec<&str> = findings
                .iter()
                .filter(|f| f.level != Level::Note)
                .map(|f| f.file.as_str())
                .collect();
            files.dedup();
            files.len()
        }
    ));
    out
}

fn findings_json(findings: &[Finding]) -> String {
    let rows: Vec<String> = findings
        .iter()
        .map(|f| {
            format!(
                "{{\"file\":{},\"level\":\"{}\",\"rule\":\"{}\",\"message\":{}}}",
                json_quote(&f.file),
                f.level.name(),
                f.rule,
                json_quote(&f.message)
            )
        })
        .collect();
    format!("[{}]\n", rows.join(",\n"))
}

/// SARIF 2.1.0: one run of the `sesame` tool, its rules, a result per finding.
fn sarif(findings: &[Finding]) -> String {
    let rules: Vec<String> = checks::RULES
        .iter()
        .map(|(id, text)| {
            format!(
                "{{\"id\":\"{id}\",\"shortDescription\":{{\"text\":{}}}}}",
                json_quote(text)
            )
        })
        .collect();
    let results: Vec<String> = findings
        .iter()
        .map(|f| {
            let index = checks::RULES.iter().position(|(id, _)| *id == f.rule).unwrap_or(0);
            format!(
                "{{\"ruleId\":\"{}\",\"ruleIndex\":{index},\"level\":\"{}\",\"message\":{{\"text\":{}}},\"locations\":[{{\"physicalLocation\":{{\"artifactLocation\":{{\"uri\":{}}}}}}}]}}",
                f.rule,
                f.level.name(),
                json_quote(&f.message),
                json_quote(&f.file.replace('\\', "/"))
            )
        })
        .collect();
    format!(
        "{{\"version\":\"2.1.0\",\"runs\":[{{\"tool\":{{\"driver\":{{\"name\":\"sesame\",\"version\":\"{}\",\"rules\":[{}]}}}},\"results\":[{}]}}]}}\n",
        env!("CARGO_PKG_VERSION"),
        rules.join(","),
        results.join(",")
    )
}

pub fn access(args: &AccessArgs, flags: &Flags) -> CliResult {
    let jobs = jobs(None);
    let entries = entries(&args.paths, jobs)?;
    let config = context::load_config(flags)?;
    let names = names(config.as_ref());
    let histories = if args.history {
        histories(&entries, jobs)
    } else {
        HashMap::new()
    };
    let sops: Vec<&Entry> = entries.iter().filter(|e| e.metadata().is_some()).collect();
    // The principals: the one asked about, or every recipient of every file.
    let principals: Vec<String> = match &args.who {
        Some(w) => vec![w.clone()],
        None => {
            let mut all: Vec<String> = sops
                .iter()
                .flat_map(|e| {
                    e.metadata()
                        .expect("filtered")
                        .all_keys()
                        .map(|k| k.display())
                })
                .collect();
            all.sort();
            all.dedup();
            all
        }
    };
    let mut rows = Vec::new();
    for e in &sops {
        let md = e.metadata().expect("filtered");
        for p in &principals {
            let mut verdict = access_of(md, p, &names).words();
            let former = histories.get(&e.path).is_some_and(|h| {
                h.former
                    .iter()
                    .any(|(_, id)| id == p || names.name(id) == Some(p.as_str()))
            });
            if former && access_of(md, p, &names) == Access::No {
                verdict = "through Git history (a former recipient; rotate the data key)".into();
            }
            rows.push((e.name.clone(), names.label(p), verdict));
        }
    }
    let text = if args.format == "json" {
        let items: Vec<String> = rows
            .iter()
            .map(|(f, p, v)| {
                format!(
                    "{{\"file\":{},\"key\":{},\"access\":{}}}",
                    json_quote(f),
                    json_quote(p),
                    json_quote(v)
                )
            })
            .collect();
        format!("[{}]\n", items.join(",\n"))
    } else {
        rows.iter()
            .map(|(f, p, v)| format!("{f}  {p}  {v}\n"))
            .collect()
    };
    print(&text);
    Ok(())
}

pub fn audit(args: &RepoArgs, flags: &Flags) -> CliResult {
    let jobs = jobs(args.jobs);
    let entries = entries(&args.paths, jobs)?;
    let config = context::load_config(flags)?;
    let names = names(config.as_ref());
    let histories = histories(&entries, jobs);
    let timelines = per_file(&entries, jobs, &|commits, blobs, rel, e| {
        timeline::timeline(commits, blobs, rel, e.format, &names).ok()
    });
    let mut out = String::new();
    let mut rows = Vec::new();
    let mut flagged = 0;
    for e in entries.iter().filter(|e| e.metadata().is_some()) {
        let h = histories.get(&e.path);
        let former: Vec<String> = h
            .map(|h| {
                h.former
                    .iter()
                    .map(|(k, id)| format!("{} {}", k.field(), names.label(id)))
                    .collect()
            })
            .unwrap_or_default();
        if !former.is_empty() {
            flagged += 1;
        }
        let events = timelines
            .get(&e.path)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if args.format == "json" {
            let events: Vec<String> = events
                .iter()
                .map(|ev| {
                    format!(
                        "{{\"commit\":{},\"author\":{},\"date\":{},\"subject\":{},\"changes\":[{}]}}",
                        json_quote(&ev.commit.id),
                        json_quote(&ev.commit.author),
                        json_quote(&ev.commit.date),
                        json_quote(&ev.commit.subject),
                        ev.changes.iter().map(|c| json_quote(c)).collect::<Vec<_>>().join(",")
                    )
                })
                .collect();
            rows.push(format!(
                "{{\"file\":{},\"data_key_age_days\":{},\"data_key_since\":{},\"removed_without_rotation\":[{}],\"events\":[{}]}}",
                json_quote(&e.name),
                h.and_then(|h| h.age_days(now())).map_or("null".into(), |d| d.to_string()),
                h.and_then(|h| h.since.as_ref())
                    .map_or("null".into(), |c| json_quote(&c.id)),
                former.iter().map(|f| json_quote(f)).collect::<Vec<_>>().join(","),
                events.join(",")
            ));
            continue;
        }
        out.push_str(&format!("{}: data key {}\n", e.name, age_text(h)));
        for ev in events {
            out.push_str(&format!(
                "  {} {:.8} {}: {} ({})\n",
                &ev.commit.date[..10.min(ev.commit.date.len())],
                ev.commit.id,
                ev.commit.author,
                ev.changes.join("; "),
                ev.commit.subject
            ));
        }
        for f in &former {
            out.push_str(&format!(
                "  ✗ {f} was removed but the data key was not replaced: it can still decrypt this file from Git history; run `sesame rotate -i {}`\n",
                e.name
            ));
        }
    }
    if args.format == "json" {
        out = format!("[{}]\n", rows.join(",\n"));
    } else {
        out.push_str(&format!("{flagged} file(s) need a new data key\n"));
    }
    print(&out);
    if flagged > 0 {
        return Err(Failure::new(code::GENERIC, ""));
    }
    Ok(())
}

/// `offboard KEY`: every sops file that has KEY loses it and gets a new data key; files it
/// left earlier without a rotation (it still holds their data key through Git history) get a
/// new data key too. Worked out without a key, shown, asked once, written in parallel.
pub fn offboard(args: &OffboardArgs, flags: &Flags) -> CliResult {
    use crate::cli::updatekeys::{Bulk, show_and_write};
    let jobs = jobs(args.jobs);
    let entries = entries(&args.paths, jobs)?;
    let config = context::load_config(flags)?;
    let names = names(config.as_ref());
    let histories = histories(&entries, jobs);
    let (pending, problems) =
        sesame::repository::bulk::offboard(&entries, &args.key, &names, &histories);
    if !problems.is_empty() {
        return Err(Failure::new(
            code::GENERIC,
            format!("nothing was changed: {}", problems.join("; ")),
        )
        .hint("a file whose only key in a group is this one needs another key in that group first (the key manager, K, or `sesame groups`)"));
    }
    if pending.is_empty() {
        println!(
            "{} can decrypt no sops file here, now or from Git history",
            args.key
        );
        return Ok(());
    }
    let how = Bulk {
        dry_run: args.dry_run,
        yes: args.yes,
        jobs,
        verb: ("update", "updated"),
    };
    if !show_and_write(&pending, &how, flags)? {
        return Ok(());
    }
    let in_config = config
        .as_ref()
        .and_then(|c| std::fs::read_to_string(&c.path).ok())
        .is_some_and(|text| text.contains(&args.key));
    if in_config {
        eprintln!(
            "note: .sops.yaml still names {}: remove it there too, or `updatekeys` adds it back",
            args.key
        );
    }
    Ok(())
}
