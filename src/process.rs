//! Running the external programs strata delegates to (`git`, `curl`, `helm`): with no
//! standard input, in a process group of their own, and killed with that group when they
//! outlive their timeout, so a hanging remote or chart never hangs a build.

use crate::error::{Error, Result};
use std::process::{Command, Stdio};
use std::time::Duration;

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
        Error::new(format!(
            "cannot run `{name}`: {}",
            crate::load::fs::reason(&e)
        ))
        .with_help(format!("install `{name}`, or check the path given for it"))
    })?;
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(timeout) {
        Ok(out) => {
            let _ = waiter.join();
            out.map_err(|e| Error::new(format!("`{name}` failed: {}", crate::load::fs::reason(&e))))
        }
        Err(_) => {
            // The whole process group: git's helpers (ssh, remote-https) go with it.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
            let _ = waiter.join();
            Err(Error::new(format!(
                "`{name}` did not finish within {} s",
                timeout.as_secs()
            ))
            .with_help(format!("check that `{name}` can finish, or raise `{flag}`")))
        }
    }
}
