//! Protections for a process that holds plaintext: no core dumps (a crash or a SIGQUIT must
//! not write decrypted values to disk), no attaching by other processes of the same user, and
//! the data key's memory kept out of swap where the platform allows.

use std::sync::OnceLock;

/// `ulimit -c` as the process started with, handed back to commands it runs (exec-env,
/// exec-file): their core dumps are their own business.
#[cfg(unix)]
static CORE_LIMIT: OnceLock<(libc::rlim_t, libc::rlim_t)> = OnceLock::new();

/// The stack the work of a command runs on: the tree's readers, writers and walks recurse once
/// per nesting level, and files as deep as sops reads (10,000 levels) must neither be refused
/// nor overflow (a debug build needs about 40 MiB for them, an optimised one less). Only the
/// pages a deep file touches are ever used.
pub const STACK_SIZE: usize = 256 << 20;

/// Runs `work` on a thread with a `STACK_SIZE` stack and returns its result (a panic in it is
/// passed on). Where no such thread can be made, `work` runs here.
pub fn on_deep_stack<T: Send, F: FnOnce() -> T + Send>(work: F) -> T {
    let slot = std::sync::Mutex::new(Some(work));
    let take = || slot.lock().ok().and_then(|mut w| w.take());
    let spawned = std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("sesame".into())
            .stack_size(STACK_SIZE)
            .spawn_scoped(scope, || take().map(|work| work()))
            .ok()?;
        Some(
            handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        )
    });
    match spawned.flatten() {
        Some(result) => result,
        None => take().expect("the work ran nowhere else")(),
    }
}

/// Turns core dumps off for this process (`RLIMIT_CORE` 0, and `PR_SET_DUMPABLE` 0, which also
/// stops core handlers such as systemd-coredump and ptrace/`/proc/PID/mem` access by other
/// processes of the user). Call it first thing; a platform without these degrades quietly.
#[allow(unsafe_code)]
pub fn protect() {
    #[cfg(unix)]
    {
        let mut old = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit read and write one rlimit on the stack.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_CORE, &mut old) == 0 {
                let _ = CORE_LIMIT.set((old.rlim_cur, old.rlim_max));
            }
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: old.rlim_max,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &none);
        }
    }
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_DUMPABLE takes one integer argument and touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

/// Restores, in a child between fork and exec, the core limit the process started with.
/// Only async-signal-safe calls (setrlimit).
#[allow(unsafe_code)]
pub fn restore_core_limit_in_child() -> std::io::Result<()> {
    #[cfg(unix)]
    if let Some((cur, max)) = CORE_LIMIT.get() {
        let limit = libc::rlimit {
            rlim_cur: *cur,
            rlim_max: *max,
        };
        // SAFETY: setrlimit reads one rlimit on the stack; it is async-signal-safe.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &limit);
        }
    }
    Ok(())
}

/// Keeps `bytes` out of swap (`mlock`), where allowed; returns whether it worked. Small
/// secrets only (the data key): the lockable amount is limited per user.
#[allow(unsafe_code)]
pub fn lock_memory(bytes: &[u8]) -> bool {
    #[cfg(unix)]
    {
        if bytes.is_empty() {
            return true;
        }
        // SAFETY: the range is a live borrow; mlock only changes how its pages are paged.
        unsafe { libc::mlock(bytes.as_ptr().cast(), bytes.len()) == 0 }
    }
    #[cfg(not(unix))]
    {
        let _ = bytes;
        false
    }
}

/// Lets the pages of `bytes` be swapped again (before the memory is freed).
#[allow(unsafe_code)]
pub fn unlock_memory(bytes: &[u8]) {
    #[cfg(unix)]
    if !bytes.is_empty() {
        // SAFETY: as for `lock_memory`; munlock of an unlocked range is harmless.
        unsafe {
            libc::munlock(bytes.as_ptr().cast(), bytes.len());
        }
    }
    #[cfg(not(unix))]
    let _ = bytes;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_locks_and_unlocks() {
        let key = Box::new([7u8; 32]);
        // Locking may be refused (RLIMIT_MEMLOCK 0); it must never fail loudly.
        let _ = lock_memory(&key[..]);
        unlock_memory(&key[..]);
        assert!(lock_memory(&[]));
    }
}
