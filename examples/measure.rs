//! Runs a command and prints its CPU time and peak memory as JSON, for `scripts/bench.py`.
//!
//! The benchmark cannot measure a child's peak memory itself: Python starts commands with
//! vfork, and Linux then counts the parent's own peak as the child's (`ru_maxrss` keeps the
//! largest resident set the process had before `exec` too), so a 27 MiB sesame run read as the
//! 34 MiB of the Python process that had just generated the test files. Started from this
//! small program instead, a command's peak is its own (plus this program's 2 MiB at most).
//!
//! Usage: `measure COMMAND [ARGS...]` with the command's stdout and stderr passed through;
//! prints `{"wall_s": .., "cpu_s": .., "maxrss_kib": .., "status": ..}` on the last line of
//! stderr.

#![allow(unsafe_code)]

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(program) = args.next() else {
        eprintln!("usage: measure COMMAND [ARGS...]");
        return ExitCode::from(2);
    };
    let start = std::time::Instant::now();
    let status = match Command::new(&program).args(args).status() {
        Ok(status) => status,
        Err(e) => {
            eprintln!("measure: cannot run {}: {e}", program.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    let wall = start.elapsed().as_secs_f64();
    // SAFETY: getrusage writes one rusage record into the zeroed value it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    eprintln!(
        "{{\"wall_s\": {wall}, \"cpu_s\": {}, \"maxrss_kib\": {}, \"status\": {}}}",
        seconds(usage.ru_utime) + seconds(usage.ru_stime),
        usage.ru_maxrss,
        status.code().unwrap_or(-1)
    );
    ExitCode::SUCCESS
}
