//! Keeps the programs a test runs away from the user's kernel keyrings: each gets a session
//! keyring of the test's own (shared by all programs of one test when the test asks for one,
//! private otherwise), and a seccomp filter makes the user's persistent keyring unreachable
//! (`KEYCTL_GET_PERSISTENT` fails as on a kernel built without persistent keyrings, which the
//! keyutils store supports). So `sesame identity add` in a test never writes where the user's
//! own identities live, and tests run in parallel.
#![allow(unsafe_code)] // test scaffolding: keyctl and seccomp syscalls, each with a SAFETY note

use std::ffi::CString;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
const KEYCTL_SETPERM: libc::c_long = 5;
const KEYCTL_INVALIDATE: libc::c_long = 21;
const KEYCTL_GET_PERSISTENT: u32 = 22;
const KEY_SPEC_THREAD_KEYRING: libc::c_long = -1;
/// Possessor: everything; same user: view, read, search (so other processes can join by name).
const SHARED_PERM: libc::c_long = 0x3f0b_0000;

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7;

/// A named session keyring that lives as long as the test: created in the test thread's own
/// keyring (which the kernel frees with the thread) and invalidated on drop.
pub struct Session {
    pub name: CString,
    id: libc::c_long,
}

impl Session {
    /// A fresh keyring, or a test failure saying why the kernel refused it.
    pub fn new() -> Session {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "sesame-test-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let name = CString::new(name).unwrap();
        let kind = CString::new("keyring").unwrap();
        // SAFETY: plain syscalls with valid NUL-terminated strings and no payload.
        let id = unsafe {
            libc::syscall(
                libc::SYS_add_key,
                kind.as_ptr(),
                name.as_ptr(),
                std::ptr::null::<u8>(),
                0usize,
                KEY_SPEC_THREAD_KEYRING,
            )
        };
        assert!(
            id > 0,
            "cannot create a kernel keyring for the test ({}); the identity tests need keyctl \
             (blocked in some containers)",
            std::io::Error::last_os_error()
        );
        // SAFETY: as above.
        let r = unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_SETPERM, id, SHARED_PERM) };
        assert_eq!(r, 0, "keyctl setperm: {}", std::io::Error::last_os_error());
        Session { name, id }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // SAFETY: invalidates the keyring this test created; nothing else refers to it.
        unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_INVALIDATE, self.id) };
    }
}

/// How a child may use the kernel keyring.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Its own keyring (the test's named one, or a private anonymous one); no persistent one.
    Confined,
    /// Every keyring call fails with EACCES, like a sandbox that forbids keyctl.
    Denied,
}

/// Makes `cmd` join `session` (or a private session keyring) and installs the filter.
pub fn confine(cmd: &mut Command, session: Option<&CString>, access: Access) {
    let filter = filter(access);
    let name = session.cloned();
    // SAFETY: the closure runs between fork and exec and only makes syscalls on memory
    // prepared before the fork.
    unsafe {
        cmd.pre_exec(move || {
            if access == Access::Confined {
                let name_ptr = name.as_ref().map_or(std::ptr::null(), |n| n.as_ptr());
                let r = libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name_ptr);
                if r < 0 {
                    let e = std::io::Error::last_os_error();
                    // No keyring at all (keyctl blocked): nothing of the user's can be reached.
                    if name.is_some()
                        || !matches!(e.raw_os_error(), Some(libc::EPERM | libc::ENOSYS))
                    {
                        return Err(e);
                    }
                }
            }
            let prog = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr() as *mut libc::sock_filter,
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &prog) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

fn stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jeq(k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt,
        jf,
        k,
    }
}

/// The seccomp program: `keyctl(KEYCTL_GET_PERSISTENT, …)` (Confined) or every keyring
/// syscall (Denied) fails; everything else is allowed.
fn filter(access: Access) -> Vec<libc::sock_filter> {
    let load = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
    let ret = libc::BPF_RET | libc::BPF_K;
    let allow = stmt(ret, libc::SECCOMP_RET_ALLOW);
    let keyctl = libc::SYS_keyctl as u32;
    match access {
        Access::Confined => vec![
            stmt(load, 4), // seccomp_data.arch
            jeq(AUDIT_ARCH, 0, 5),
            stmt(load, 0), // seccomp_data.nr
            jeq(keyctl, 0, 3),
            stmt(load, 16), // low half of args[0] (little-endian)
            jeq(KEYCTL_GET_PERSISTENT, 0, 1),
            stmt(ret, libc::SECCOMP_RET_ERRNO | libc::EOPNOTSUPP as u32),
            allow,
        ],
        Access::Denied => vec![
            stmt(load, 4),
            jeq(AUDIT_ARCH, 0, 5),
            stmt(load, 0),
            jeq(keyctl, 2, 0),
            jeq(libc::SYS_add_key as u32, 1, 0),
            jeq(libc::SYS_request_key as u32, 0, 1),
            stmt(ret, libc::SECCOMP_RET_ERRNO | libc::EACCES as u32),
            allow,
        ],
    }
}
