//! What `strata validate` reads besides the documents: the manifest files below a directory
//! argument, and the CRDs `--crds` names (files or directories), parsed into the schemas
//! their custom resources are checked against.

use crate::error::{Error, Result};
use crate::yaml::Value;
use std::path::{Path, PathBuf};

/// How deep `manifest_files` goes below a directory argument.
const MAX_DEPTH: usize = 32;

/// Files in a directory that are not manifests: a layer's kustomization and values.
const NOT_MANIFESTS: &[&str] = &[
    "kustomization.yaml",
    "kustomization.yml",
    "Kustomization",
    "values.yaml",
    "values.schema.json",
];

/// The manifest files below `dir` (`.yaml`, `.yml`, `.json`), sorted by path. Symbolic
/// links to directories are not followed (no cycles); hidden entries, kustomizations and
/// values files are skipped.
pub fn manifest_files(dir: &Path) -> Result<Vec<PathBuf>> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Error::new(format!(
                "`{}` is more than {MAX_DEPTH} directories deep",
                dir.display()
            ))
            .with_help("pass a directory nearer to the manifests"));
        }
        let entries = std::fs::read_dir(dir)
            .map_err(|e| Error::new(format!("cannot read `{}`: {e}", dir.display())))?;
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            if name.starts_with('.') || NOT_MANIFESTS.contains(&name.as_str()) {
                continue;
            }
            let meta = std::fs::symlink_metadata(&p)
                .map_err(|e| Error::new(format!("cannot read `{}`: {e}", p.display())))?;
            if meta.is_dir() {
                walk(&p, depth + 1, out)?;
            } else if p
                .extension()
                .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
                && p.is_file()
            {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, 0, &mut out)?;
    Ok(out)
}

/// The CRD documents of `paths`: each a file, or a directory of manifest files.
pub fn crds(paths: &[PathBuf]) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for path in paths {
        let files = if path.is_dir() {
            manifest_files(path)?
        } else {
            vec![path.clone()]
        };
        for f in files {
            let text = crate::fs::read_text(&f)?;
            let docs = crate::yaml::parse_documents(&text)
                .map_err(|e| crate::yaml::errors::yaml_error_in(&f, &text, e))?;
            out.extend(docs.into_iter().map(|d| d.value));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_give_their_manifests_and_crds_their_documents() {
        let t = tempfile::tempdir().unwrap();
        let w = |p: &str, s: &str| {
            let p = t.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, s).unwrap();
        };
        w("b.yaml", "kind: B\n");
        w("a/c.yml", "kind: C\n---\nkind: D\n");
        w("a/kustomization.yaml", "resources: []\n");
        w(".hidden/x.yaml", "kind: X\n");
        w("notes.txt", "no\n");
        let found = manifest_files(t.path()).unwrap();
        let names: Vec<String> = found
            .iter()
            .map(|p| p.strip_prefix(t.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["a/c.yml", "b.yaml"]);
        let kinds: Vec<String> = crds(&[t.path().to_path_buf()])
            .unwrap()
            .iter()
            .filter_map(|v| v.str_at(&["kind"]).map(str::to_string))
            .collect();
        assert_eq!(kinds, ["C", "D", "B"]);
        w("bad.yaml", "a: [1\n");
        let e = crds(&[t.path().join("bad.yaml")]).unwrap_err();
        assert_eq!(e.location.map(|l| l.line), Some(2));
    }
}
