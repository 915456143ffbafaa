//! `strata deps ENV`: every file the environment's render reads, one per line (relative to
//! the working directory, remote bases last as `URL@ref`), as JSON, or as the value of Argo
//! CD's `argocd.argoproj.io/manifest-generate-paths` annotation (`--format argocd`):
//! repository paths with a leading `/`, joined by `;`, so that Argo CD refreshes the
//! application only when one of them changes. The files come from a plan build (nothing is
//! built, see `crate::deps`).

use super::args::{DepsCmd, DepsFormat, DepsOutput};
use super::{options, print};
use crate::Error;
use crate::deps::Deps;
use std::path::{Path, PathBuf};

type Errors = Vec<Error>;

pub fn run(d: &DepsCmd) -> Result<(), Errors> {
    let all = crate::render::environments(&d.root).map_err(|e| vec![e])?;
    let env = crate::render::select(all, std::slice::from_ref(&d.env))
        .map_err(|e| vec![e])?
        .remove(0);
    let mut deps = plan(&env.dir, &d.common)
        .map_err(|e| vec![e.context(format!("environment `{}`", env.name))])?;
    with_project_file(&mut deps, &d.root);
    let cwd = real(&std::env::current_dir().unwrap_or_default());
    let local: Vec<String> = deps
        .files
        .iter()
        .map(|f| crate::load::relative_to(f, &cwd))
        .collect();
    let argocd = || argocd(&deps, &env.dir);
    let text = match (d.output, d.format) {
        (DepsOutput::Text, DepsFormat::Argocd) => format!("{}\n", argocd()),
        (DepsOutput::Text, DepsFormat::Paths) => {
            let mut s = String::new();
            for line in local.iter().chain(&deps.remotes) {
                s.push_str(line);
                s.push('\n');
            }
            s
        }
        (DepsOutput::Json, _) => {
            let layers: Vec<String> = deps
                .layers
                .iter()
                .map(|l| crate::load::relative_to(l, &cwd))
                .collect();
            let mut s = serde_json::to_string_pretty(&serde_json::json!({
                "environment": env.name,
                "files": local,
                "layers": layers,
                "remotes": deps.remotes,
                "argocd": argocd(),
            }))
            .unwrap_or_default();
            s.push('\n');
            s
        }
    };
    print(&text)
}

/// The dependencies of the build of `dir`, from a plan build on a fresh loader.
pub fn plan(dir: &Path, common: &super::args::Common) -> crate::Result<Deps> {
    let (mut loader, mut options) = options(common);
    loader.plan_only = true;
    // A plan builds nothing: warnings about objects (a patch matching none) mean nothing.
    options.strict = false;
    crate::deps::deps(dir, &options, &loader, 1)
}

/// The project's `strata.yaml` is read by every environment's render (it says where the
/// environments are and which values files apply).
pub fn with_project_file(deps: &mut Deps, root: &Path) {
    let file = root.join(crate::project::FILE);
    if file.is_file() {
        let file = real(&file);
        if let Err(i) = deps.files.binary_search(&file) {
            deps.files.insert(i, file);
        }
    }
}

fn real(p: &Path) -> PathBuf {
    crate::fs::real(p)
        .ok()
        .flatten()
        .unwrap_or_else(|| p.to_path_buf())
}

/// The annotation value: paths from the repository's top (`/base/app.yaml`) when the
/// project is in a git repository, else relative to the environment's directory (Argo CD
/// resolves those against the application's path); `;`-separated.
fn argocd(deps: &Deps, env_dir: &Path) -> String {
    let top = crate::git::open(env_dir).ok().map(|r| r.top);
    let env_dir = real(env_dir);
    deps.files
        .iter()
        .map(
            |f| match top.as_ref().and_then(|t| f.strip_prefix(t).ok()) {
                Some(rel) => format!("/{}", rel.to_string_lossy()),
                None => crate::load::relative_to(f, &env_dir),
            },
        )
        .collect::<Vec<_>>()
        .join(";")
}
