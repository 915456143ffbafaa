//! What `render --out` tells the user besides the files: a progress bar while it works
//! (on a terminal, only past a second), a one-line summary when done, and the files in the
//! output directory that no environment writes any more (removed with `--prune`).

use super::report::shown;
use super::warnings::{quiet, thousands};
use crate::Error;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long work runs before a progress bar appears.
const PROGRESS_AFTER: Duration = Duration::from_secs(1);

/// A progress bar on stderr that shows itself only when stderr is a terminal and the work
/// takes longer than `PROGRESS_AFTER`; `status` adds to its message while it runs (remote
/// bases fetched). Returns what `work` returns.
pub fn with_progress<T>(
    total: usize,
    what: &str,
    status: &(dyn Fn() -> String + Sync),
    work: impl FnOnce(&ProgressBar) -> T,
) -> T {
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {pos}/{len} [{elapsed}]") {
        bar.set_style(style);
    }
    bar.set_message(what.to_string());
    if quiet() || !std::io::stderr().is_terminal() {
        return work(&bar);
    }
    let (stop, stopped) = mpsc::channel::<()>();
    let shown = bar.clone();
    let out = std::thread::scope(|scope| {
        scope.spawn(move || {
            if stopped.recv_timeout(PROGRESS_AFTER).is_ok() {
                return;
            }
            shown.set_draw_target(ProgressDrawTarget::stderr());
            shown.enable_steady_tick(Duration::from_millis(120));
            loop {
                shown.set_message(format!("{what}{}", status()));
                if stopped.recv_timeout(Duration::from_millis(200)).is_ok() {
                    return;
                }
            }
        });
        let out = work(&bar);
        let _ = stop.send(());
        out
    });
    bar.finish_and_clear();
    out
}

/// `crate::render` with a progress bar: environments rendered / total and the
/// remote bases fetched so far.
pub fn render_all(
    envs: &[crate::render::Environment],
    options: &crate::BuildOptions,
    loader: &crate::Loader,
) -> Result<Vec<crate::Output>, Vec<Error>> {
    let remotes = || match loader.fetches.entries().len() {
        0 => String::new(),
        1 => ", 1 remote base".to_string(),
        n => format!(", {n} remote bases"),
    };
    with_progress(envs.len(), "rendering environments", &remotes, |bar| {
        crate::render::render_all_with(envs, options, loader, &|| bar.inc(1))
    })
}

/// `wrote 3 environments, 1,512 objects to rendered/ in 0.10 s` on stderr.
pub fn summary(envs: usize, objects: usize, dir: &Path, started: Instant) {
    if quiet() {
        return;
    }
    let plural = |n: usize, one: &str, many: &str| {
        format!("{} {}", thousands(n), if n == 1 { one } else { many })
    };
    let mut dir = shown(dir);
    if !dir.ends_with('/') {
        dir.push('/');
    }
    let _ = writeln!(
        std::io::stderr().lock(),
        "wrote {}, {} to {dir} in {:.2} s",
        plural(envs, "environment", "environments"),
        plural(objects, "object", "objects"),
        started.elapsed().as_secs_f64()
    );
}

/// The `.yaml` files below `dir` that are not in `keep` (relative names with `/`), sorted.
/// Symlinks are listed, never followed.
pub fn stale(dir: &Path, keep: &[String]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.filter_map(std::result::Result::ok) {
            let Ok(t) = entry.file_type() else { continue };
            let path = entry.path();
            if t.is_dir() {
                pending.push(path);
                continue;
            }
            let is_yaml = path.extension().is_some_and(|e| e == "yaml");
            let name = path
                .strip_prefix(dir)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            if is_yaml && !name.starts_with(".strata-") && !keep.contains(&name) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// List the stale files (a warning each), or remove them when `prune`.
pub fn handle_stale(files: &[PathBuf], prune: bool) -> Result<(), Vec<Error>> {
    if files.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = files.iter().map(|f| shown(f)).collect();
    if prune {
        for f in files {
            std::fs::remove_file(f).map_err(|e| {
                vec![Error::new(format!(
                    "cannot remove `{}`: {}",
                    shown(f),
                    crate::fs::reason(&e)
                ))]
            })?;
        }
        if !quiet() {
            let _ = writeln!(
                std::io::stderr().lock(),
                "removed {}: {}",
                if files.len() == 1 {
                    "1 stale file".to_string()
                } else {
                    format!("{} stale files", files.len())
                },
                names.join(", ")
            );
        }
        return Ok(());
    }
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    let (message, help) = match quoted.as_slice() {
        [one] => (
            format!("{one} belongs to no environment"),
            "pass `--prune` to remove it",
        ),
        many => (
            format!(
                "{} files belong to no environment: {}",
                many.len(),
                many.join(", ")
            ),
            "pass `--prune` to remove them",
        ),
    };
    let mut w = crate::Warning::new(String::new(), message).with_help(help);
    w.kustomize = w.message.clone();
    super::warn(&[w]);
    Ok(())
}
