//! Running the external programs strata delegates to (`git`, `helm`): with no
//! standard input, in a process group of their own, and killed with that group when they
//! outlive their timeout, so a hanging remote or chart never hangs a build. The groups
//! still running are known, so a caller that gives up on the whole build (the Argo CD
//! plugin's deadline) can end them with `kill_running`.

use crate::error::{Error, Result};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// The process groups of the commands running now.
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn running() -> std::sync::MutexGuard<'static, Vec<u32>> {
    RUNNING.lock().unwrap_or_else(|p| p.into_inner())
}

fn kill_group(pid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Kill every command still running (with its process group); returns how many there were.
pub fn kill_running() -> usize {
    let pids = std::mem::take(&mut *running());
    for &pid in &pids {
        kill_group(pid);
    }
    pids.len()
}

/// Run a command to completion, killing it when it outlives `timeout`.
pub fn run(
    mut cmd: Command,
    timeout: Duration,
    name: &str,
    flag: &str,
) -> Result<std::process::Output> {
    use std::os::unix::process::CommandExt;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.process_group(0);
    let child = cmd.spawn().map_err(|e| {
        Error::new(format!("cannot run `{name}`: {}", crate::fs::reason(&e)))
            .with_help(format!("install `{name}`, or check the path given for it"))
    })?;
    let pid = child.id();
    running().push(pid);
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let result = rx.recv_timeout(timeout);
    running().retain(|&p| p != pid);
    match result {
        Ok(out) => {
            let _ = waiter.join();
            out.map_err(|e| Error::new(format!("`{name}` failed: {}", crate::fs::reason(&e))))
        }
        Err(_) => {
            // The whole process group: git's helpers (ssh, remote-https) go with it.
            kill_group(pid);
            let _ = waiter.join();
            Err(Error::new(format!(
                "`{name}` did not finish within {} s",
                timeout.as_secs()
            ))
            .with_help(format!("check that `{name}` can finish, or raise `{flag}`")))
        }
    }
}
