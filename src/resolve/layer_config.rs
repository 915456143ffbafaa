//! A layer's configuration beyond its resources: the plugin configurations of its
//! `generators:`/`transformers:`/`validators:` fields, its `openapi:` schema, and the
//! `configurations:`/`crds:` files that extend its transformer configuration.

use super::{Builder, locate_at};
use crate::error::{Error, Result};
use crate::fs::Found;
use crate::fs::relative_to;
use crate::transform::config::Config;
use crate::transform::plugins::PluginConfig;
use std::sync::Arc;

impl Builder<'_> {
    /// The plugin configurations of a `generators:`/`transformers:`/`validators:` field:
    /// inline documents, files, or directories whose build yields the configurations.
    pub(super) fn plugin_configs(
        &mut self,
        k: &crate::load::Kustomization,
        field: &str,
    ) -> Result<Vec<PluginConfig>> {
        let mut out = Vec::new();
        let inline_in = relative_to(&k.file, &self.top);
        for (i, entry) in k.string_list(field)?.into_iter().enumerate() {
            let idx = i.to_string();
            let at = [field, idx.as_str()];
            let here = k.location(&at);
            let mut push = |doc: &crate::yaml::Value, configured_in: &str, within| -> Result<()> {
                let Some(m) = doc.as_map() else {
                    return Err(Error::new(format!(
                        "a `{field}` entry must hold plugin configurations (maps)"
                    ))
                    .at(here.clone())
                    .with_help("each configuration has `apiVersion: builtin` and a `kind`"));
                };
                out.push(PluginConfig {
                    doc: m.clone(),
                    configured_in: configured_in.to_string(),
                    at: here.clone(),
                    within,
                });
                Ok(())
            };
            if entry.contains('\n') {
                let docs = crate::yaml::parse_documents_in(&entry, false, &self.loader.aliases)
                    .map_err(|e| {
                        Error::new(format!(
                            "inline plugin configuration is not valid YAML: {}",
                            e.message
                        ))
                        .at(here.clone())
                    })?;
                for d in docs.iter().filter(|d| !d.value.is_null()) {
                    push(&d.value, &inline_in, None)?;
                }
                continue;
            }
            match self
                .loader
                .find(&k.dir, std::path::Path::new(&entry))
                .map_err(|e| e.at(here.clone()))?
            {
                Some(Found::Dir(_)) => {
                    let path = self.local_dir(k, &k.dir, &entry, &at)?.unwrap_or_default();
                    // Its objects are the configurations: built in full, even in a plan.
                    let plan = std::mem::replace(&mut self.plan, false);
                    let layer = self.accumulate(&path);
                    self.plan = plan;
                    let layer = layer.map_err(|e| locate_at(e, k, &at))?;
                    for r in &layer.rm.items {
                        push(&r.doc, &r.origin.display_path, None)?;
                    }
                }
                Some(Found::File(path)) => {
                    let display = relative_to(&path, &self.top);
                    let docs = self.loader.documents(&path, k.ctx.as_deref())?;
                    for (doc, _, index) in &docs.docs {
                        push(doc, &display, Some((path.clone(), docs.clone(), *index)))?;
                    }
                }
                None => {
                    return Err(k
                        .error(&at, format!("`{entry}` does not exist"))
                        .with_kind(crate::error::ErrorKind::NotFound)
                        .with_help(
                            "list plugin configuration files, directories or inline documents",
                        ));
                }
            }
        }
        Ok(out)
    }

    /// The layer's `openapi:` schema: `{path: FILE}` (custom merge keys) or
    /// `{version: v1.21.2}` (the built-in schema).
    pub(super) fn own_openapi(
        &self,
        k: &crate::load::Kustomization,
    ) -> Result<Option<Arc<crate::patch::schema::Custom>>> {
        let Some(v) = k.get("openapi") else {
            return Ok(None);
        };
        let m = k.strict_struct(&["openapi"], v, &["path", "version"])?;
        if let Some(version) = m.get("version").and_then(crate::yaml::Value::as_str)
            && version != "v1.21.2"
        {
            return Err(k
                    .error(&["openapi", "version"], format!("strata has the merge keys of Kubernetes v1.21.2 only, not `{version}`"))
                    .with_help("use `openapi: {version: v1.21.2}` (the default), or a `path:` to your own schema"));
        }
        let Some(path) = m.get("path").and_then(crate::yaml::Value::as_str) else {
            return Ok(None);
        };
        let Some(file) = self
            .loader
            .file(&k.dir, path)
            .map_err(|e| e.at(k.location(&["openapi", "path"])))?
        else {
            return Err(k
                .error(
                    &["openapi", "path"],
                    format!("openapi schema `{path}` does not exist"),
                )
                .with_help("paths are relative to the kustomization's directory")
                .with_kind(crate::error::ErrorKind::NotFound));
        };
        let docs = self.loader.documents(&file, None)?;
        let doc = docs
            .docs
            .first()
            .map(|(d, _, _)| d.clone())
            .unwrap_or_default();
        let custom = crate::patch::schema::Custom::from_doc(&doc).map_err(|e| e.in_file(&file))?;
        Ok(Some(Arc::new(custom)))
    }

    /// Add the layer's `configurations:` and `crds:` files to its configuration.
    pub(super) fn configure(
        &self,
        k: &crate::load::Kustomization,
        config: &mut Config,
    ) -> Result<()> {
        for field in ["configurations", "crds"] {
            for (i, path) in k.string_list(field)?.into_iter().enumerate() {
                let idx = i.to_string();
                let at = [field, idx.as_str()];
                let Some(file) = self
                    .loader
                    .file(&k.dir, &path)
                    .map_err(|e| e.at(k.location(&at)))?
                else {
                    return Err(k
                        .error(&at, format!("`{path}` does not exist"))
                        .with_help("paths are relative to the kustomization's directory")
                        .with_kind(crate::error::ErrorKind::NotFound));
                };
                let docs = self.loader.documents(&file, k.ctx.as_deref())?;
                for (doc, _, _) in &docs.docs {
                    let added = if field == "crds" {
                        config.add_crds(doc)
                    } else {
                        config.add_file(doc)
                    };
                    added.map_err(|e| e.in_file(&file))?;
                }
            }
        }
        Ok(())
    }
}
