//! Building a kustomization: follow `resources`, run each layer's transformers, finish at
//! the top.
//!
//! `build` walks the inclusion graph depth-first. Each directory in `resources` is built as
//! its own kustomization (its transformers apply to what it accumulated), files are read
//! through the `Loader`, and an id seen twice is an error naming both files. A directory
//! that includes itself, directly or not, is a cycle reported with the chain. What happens
//! once, at the top, lives in `finish`: name-reference fix-ups, dropping local-config
//! objects, build-metadata annotations and the output order.

mod entries;
mod finish;
mod layer_config;
mod layer_values;
mod options;
pub mod set;

use crate::error::{Error, Result};
use crate::load::{Loader, normalize, relative_to};
use crate::resource::{ResMap, Transformation};
use crate::template::schema::Schema;
use crate::template::{Ctx, Values};
use crate::transform;
use crate::transform::config::Config;
use crate::transform::plugins::{self, PluginMeta};
use crate::transform::vars::{self, Var};
use entries::Item;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use finish::{Reorder, finish};
pub use options::{BuildOptions, Limits, ValuesOptions, ValuesRecord};

/// The result of accumulating the top kustomization, before `finish`.
pub struct Accumulated {
    pub resources: ResMap,
    pub vars: Vec<Var>,
    pub config: Config,
    pub warnings: Vec<crate::warning::Warning>,
}

/// An included layer with the warnings its build gave.
type Built = (Layer, Vec<crate::warning::Warning>);

/// What one layer hands to the layer that includes it.
struct Layer {
    rm: ResMap,
    vars: Vec<Var>,
    config: Config,
    /// The last `openapi:` schema this layer's subtree set. Kustomize keeps the schema in
    /// global state: once a layer sets one, every patch applied after it uses it.
    openapi_set: Option<Arc<crate::patch::schema::Custom>>,
}

impl Default for Layer {
    fn default() -> Layer {
        Layer {
            rm: ResMap::new(),
            vars: Vec::new(),
            config: Config::builtin(),
            openapi_set: None,
        }
    }
}

pub struct Builder<'a> {
    loader: &'a Loader,
    top: PathBuf,
    stack: Vec<PathBuf>,
    warnings: Vec<crate::warning::Warning>,
    build_metadata: Vec<String>,
    strict: bool,
    helm: transform::helm::HelmOptions,
    values: ValuesOptions,
    env: String,
    sort_options: Option<crate::yaml::Value>,
    /// The values, schemas and template context of the layers being built, outermost first.
    value_stack: Vec<Arc<Values>>,
    schema_stack: Vec<Arc<Schema>>,
    /// The `openapi:` schema in force (a layer's own, or the one of a layer including it).
    openapi: Option<Arc<crate::patch::schema::Custom>>,
    /// The checkout of the fetched repository the current layer lies in, if any: its
    /// layers may not leave it.
    repo: Option<PathBuf>,
    limits: Limits,
    record_values: Option<ValuesRecord>,
    /// Read what the build reads, build nothing (`Loader::plan_only`; off inside a layer
    /// that yields plugin configurations, whose objects are needed).
    plan: bool,
}

/// A path as messages show it: relative to the working directory when below it.
fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd);
    let p = absolute(path);
    p.strip_prefix(&cwd).unwrap_or(&p).display().to_string()
}

/// The real form of `dir` (symlinks resolved, as Kustomize resolves a layer's root); when
/// it does not exist, its absolute, lexically normalized form (the error comes later).
pub fn absolute(dir: &Path) -> PathBuf {
    if let Ok(Some(real)) = crate::fs::real(dir) {
        return real;
    }
    if dir.is_absolute() {
        normalize(dir)
    } else {
        let cwd = std::env::current_dir().unwrap_or_default();
        normalize(&cwd.join(dir))
    }
}

impl<'a> Builder<'a> {
    pub fn new(loader: &'a Loader, top: &Path, options: &BuildOptions) -> Builder<'a> {
        Builder {
            strict: options.strict,
            helm: options.helm.clone(),
            loader,
            top: absolute(top),
            stack: Vec::new(),
            warnings: Vec::new(),
            build_metadata: Vec::new(),
            values: options.values.clone(),
            env: options.env.clone().unwrap_or_else(|| {
                absolute(top)
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default()
            }),
            sort_options: None,
            value_stack: Vec::new(),
            schema_stack: Vec::new(),
            openapi: None,
            repo: None,
            limits: options.limits,
            plan: loader.plan_only,
            record_values: options.record_values.clone(),
        }
    }

    /// Accumulate the top kustomization.
    pub fn run(mut self) -> Result<(Accumulated, Vec<String>, Option<crate::yaml::Value>)> {
        let top = self.top.clone();
        let layer = self.accumulate(&top)?;
        let metadata = std::mem::take(&mut self.build_metadata);
        Ok((
            Accumulated {
                resources: layer.rm,
                vars: layer.vars,
                config: layer.config,
                warnings: self.warnings,
            },
            metadata,
            self.sort_options,
        ))
    }

    /// Read the top kustomization's build-wide settings (`buildMetadata`, `sortOptions`).
    fn top_settings(&mut self, k: &crate::load::Kustomization) -> Result<()> {
        self.build_metadata = k.string_list("buildMetadata")?;
        for m in &self.build_metadata {
            if ![
                "originAnnotations",
                "transformerAnnotations",
                "managedByLabel",
            ]
            .contains(&m.as_str())
            {
                return Err(k
                    .error(
                        &["buildMetadata"],
                        format!("unknown build metadata option `{m}`"),
                    )
                    .with_help(
                        "use `originAnnotations`, `transformerAnnotations` or `managedByLabel`",
                    ));
            }
        }
        let sort_options = match k.get("sortOptions") {
            None => None,
            Some(v) => {
                let mut m =
                    k.strict_struct(&["sortOptions"], v, &["order", "legacySortOptions"])?;
                if let Some(l) = m.get("legacySortOptions").filter(|l| !l.is_null()).cloned() {
                    let l = k.strict_struct(
                        &["sortOptions", "legacySortOptions"],
                        &l,
                        &["orderFirst", "orderLast"],
                    )?;
                    m.insert("legacySortOptions".to_string(), crate::yaml::Value::Map(l));
                }
                Some(crate::yaml::Value::Map(m))
            }
        };
        self.sort_options = sort_options;
        Ok(())
    }

    /// A builder for an included layer, built on another thread: the same options and
    /// inclusion stacks, its own warnings.
    fn child(&self) -> Builder<'a> {
        Builder {
            loader: self.loader,
            top: self.top.clone(),
            stack: self.stack.clone(),
            warnings: Vec::new(),
            build_metadata: self.build_metadata.clone(),
            strict: self.strict,
            helm: self.helm.clone(),
            values: self.values.clone(),
            env: self.env.clone(),
            sort_options: None,
            value_stack: self.value_stack.clone(),
            schema_stack: self.schema_stack.clone(),
            openapi: self.openapi.clone(),
            repo: self.repo.clone(),
            limits: self.limits,
            plan: self.plan,
            record_values: self.record_values.clone(),
        }
    }

    /// Build the kustomization in `dir` on its own.
    fn accumulate(&mut self, dir: &Path) -> Result<Layer> {
        self.enter(dir, Layer::default(), false)
    }

    /// Build `dir` (a kustomization, or with `component` a Component applied to `acc`).
    fn enter(&mut self, dir: &Path, acc: Layer, component: bool) -> Result<Layer> {
        let dir = absolute(dir);
        // As Kustomize: a layer may not include itself, nor a directory above a layer that
        // is being built (that directory would contain, and so include, the layer).
        if let Some(pos) = self.stack.iter().position(|d| d.starts_with(&dir)) {
            // Named from the top layer, or from its parent when the top is on the cycle
            // (`a -> b -> a`, not `. -> ../b -> .`).
            let on_cycle = self.stack[pos..].contains(&self.top);
            let base = match self.top.parent() {
                Some(parent) if on_cycle => parent,
                _ => &self.top,
            };
            let chain: Vec<String> = self.stack[pos..]
                .iter()
                .chain(std::iter::once(&dir))
                .map(|d| relative_to(d, base))
                .collect();
            let help = if self.stack[pos] == dir {
                "a kustomization may not include itself, directly or through other layers"
            } else {
                "a kustomization may not include a directory that contains it"
            };
            return Err(
                Error::new(format!("cycle detected: {}", chain.join(" -> ")))
                    .with_help(help)
                    .with_kind(crate::error::ErrorKind::Cycle),
            );
        }
        if self.stack.len() >= self.limits.max_depth {
            return Err(Error::new(format!(
                "layers nest deeper than {} levels at `{}`",
                self.limits.max_depth,
                relative_to(&dir, &self.top)
            ))
            .with_help("pass `--max-depth N` to allow deeper inclusion chains")
            .with_kind(crate::error::ErrorKind::Limit));
        }
        let layer_values::LayerValues {
            merged: values,
            seen,
            schema,
        } = self
            .layer_values(&dir)
            .map_err(|e| e.or_kind(crate::error::ErrorKind::Values))?;
        if let Some(r) = &self.record_values
            && let Ok(mut r) = r.lock()
        {
            r.push((dir.clone(), (*seen).clone()));
        }
        let ctx = Arc::new(Ctx::new(seen, &self.env, &dir));
        self.stack.push(dir.clone());
        self.value_stack.push(values);
        let pushed_schema = schema.is_some();
        if let Some(s) = schema {
            self.schema_stack.push(s);
        }
        let result = self.accumulate_inner(&dir, acc, component, &ctx);
        if pushed_schema {
            self.schema_stack.pop();
        }
        self.value_stack.pop();
        self.stack.pop();
        result
    }

    fn accumulate_inner(
        &mut self,
        dir: &Path,
        acc: Layer,
        component: bool,
        ctx: &Arc<Ctx>,
    ) -> Result<Layer> {
        let k = self.loader.kustomization(dir, ctx)?;
        if self.stack.len() == 1 {
            self.top_settings(&k)?;
        }
        self.warnings.extend(k.deprecation_warnings());
        transform::check_supported(&k)?;
        let own = self.own_openapi(&k)?;
        if let Some(o) = &own {
            self.openapi = Some(o.clone());
        }
        let mut layer = self.accumulate_layer(dir, &k, acc, component, ctx)?;
        if layer.openapi_set.is_none() {
            layer.openapi_set = own;
        }
        Ok(layer)
    }

    /// One kustomization's layer, in Kustomize's order: its resources, configurations and
    /// crds, its generators, then its components (each running on what this layer holds so
    /// far), then its transformers, validators and vars.
    fn accumulate_layer(
        &mut self,
        dir: &Path,
        k: &Arc<crate::load::Kustomization>,
        acc: Layer,
        component: bool,
        ctx: &Ctx,
    ) -> Result<Layer> {
        self.check_kind(dir, k, component)?;
        let mut layer = self.resources(dir, k, acc, ctx)?;
        self.configure(k, &mut layer.config)?;
        layer.config.openapi = self.openapi.clone();
        let configured_in = relative_to(&k.file, &self.top);
        self.generate(k, &mut layer.rm, &configured_in)?;
        let mut layer = self.components(dir, k, layer)?;
        layer.config.openapi = self.openapi.clone();
        self.transform(k, &mut layer, &configured_in)?;
        if let Some(c) = self.plugin_configs(k, "validators")?.first() {
            let kind = c
                .doc
                .get("kind")
                .and_then(crate::yaml::Value::scalar_text)
                .unwrap_or_default();
            return Err(Error::new(format!(
                "validator plugin `{kind}` is not supported: strata runs no external code from a repository"
            ))
            .at(c.at.clone())
            .with_help("remove the `validators:` entry; strata validates with `--validate`"));
        }
        vars::merge(&mut layer.vars, vars::read(k)?)?;
        if !self.plan {
            vars::bind(&mut layer.rm, &layer.vars)?;
        }
        Ok(layer)
    }

    /// A Component is listed under `components`, and only a Component is.
    fn check_kind(
        &self,
        dir: &Path,
        k: &crate::load::Kustomization,
        component: bool,
    ) -> Result<()> {
        if component && !k.is_component {
            return Err(k
                .error(
                    &["kind"],
                    format!(
                        "`{}` is listed in `components` but is not a Component",
                        relative_to(dir, &self.top)
                    ),
                )
                .with_help("a component's kustomization starts with `kind: Component`"));
        }
        if !component && k.is_component && self.stack.len() > 1 {
            return Err(k
                .error(
                    &["kind"],
                    format!(
                        "`{}` is a Component and must be listed under `components`",
                        relative_to(dir, &self.top)
                    ),
                )
                .with_help("move the entry from `resources` to `components`"));
        }
        Ok(())
    }

    /// What `resources` (and the old `bases`) bring, added to `acc` at once: one id index,
    /// not one per entry. Every entry is resolved first (remote ones are fetched), then the
    /// included layers are built and the files read in parallel; results are combined in
    /// entry order, so the output does not depend on the thread count.
    fn resources(
        &mut self,
        dir: &Path,
        k: &crate::load::Kustomization,
        acc: Layer,
        ctx: &Ctx,
    ) -> Result<Layer> {
        let Layer {
            mut rm,
            mut vars,
            mut config,
            ..
        } = acc;
        let mut openapi_set = None;
        let mut entries: Vec<(String, String)> = k
            .string_list("resources")?
            .into_iter()
            .enumerate()
            .map(|(i, e)| (format!("resources/{i}"), e))
            .collect();
        entries.extend(
            k.string_list("bases")?
                .into_iter()
                .enumerate()
                .map(|(i, e)| (format!("bases/{i}"), e)),
        );
        // Every entry is resolved before an error is returned: the errors of independent
        // entries (two missing files) are reported together. (Building stops at the first
        // failing entry: see `build_items`.)
        let mut items = Vec::with_capacity(entries.len());
        let mut errors = Vec::new();
        for (at, entry) in entries {
            let at: Vec<String> = at.split('/').map(str::to_string).collect();
            let at_refs: Vec<&str> = at.iter().map(String::as_str).collect();
            match self.resolve_entry(k, dir, &entry, at.clone(), &at_refs) {
                Ok(item) => items.push(item),
                Err(e) => errors.push(e),
            }
        }
        if let Some(e) = Error::joined(errors) {
            return Err(e);
        }
        let mut pending = Vec::new();
        for result in self.build_items(k, &items, ctx).into_iter().flatten() {
            let (sub, warnings) = result?;
            self.warnings.extend(warnings);
            pending.extend(sub.rm.items);
            vars::merge(&mut vars, sub.vars)?;
            config.merge(&sub.config);
            if let Some(o) = sub.openapi_set {
                self.openapi = Some(o.clone());
                openapi_set = Some(o);
            }
        }
        rm.append_all(pending)?;
        Ok(Layer {
            rm,
            vars,
            config,
            openapi_set,
        })
    }

    /// The layers and files of the entries, built in parallel. The error reported is the
    /// first in entry order, as a sequential build finds it: once an entry failed, later
    /// ones are not started (`None`), so a failing diamond of layers costs no more than one
    /// path through it.
    fn build_items(
        &self,
        k: &crate::load::Kustomization,
        items: &[Item],
        ctx: &Ctx,
    ) -> Vec<Option<Result<Built>>> {
        let failed = AtomicUsize::new(usize::MAX);
        items
            .par_iter()
            .enumerate()
            .map(|(i, item)| {
                if i > failed.load(Ordering::Relaxed) {
                    return None;
                }
                let result = match item {
                    Item::Dir { path, at, repo } => {
                        let mut child = self.child();
                        if repo.is_some() {
                            child.repo.clone_from(repo);
                        }
                        let at_refs: Vec<&str> = at.iter().map(String::as_str).collect();
                        child
                            .accumulate(path)
                            .map_err(|e| locate_at(e, k, &at_refs))
                            .map(|layer| (layer, child.warnings))
                    }
                    Item::File(path, _) if self.plan => self
                        .loader
                        .note_resources(path, ctx)
                        .map(|()| (Layer::default(), Vec::new())),
                    Item::File(path, display) => {
                        self.loader.resources(path, display, ctx).map(|resources| {
                            let layer = Layer {
                                rm: ResMap { items: resources },
                                ..Layer::default()
                            };
                            (layer, Vec::new())
                        })
                    }
                };
                if result.is_err() {
                    failed.fetch_min(i, Ordering::Relaxed);
                }
                Some(result)
            })
            .collect()
    }

    /// The kustomization's generators, generator plugins and helm charts, absorbed into
    /// `rm` (`create`, `merge`, `replace`). A plan (`strata deps`) notes their sources
    /// instead, where it can.
    fn generate(
        &mut self,
        k: &crate::load::Kustomization,
        rm: &mut ResMap,
        configured_in: &str,
    ) -> Result<()> {
        let mut generated = if self.plan && crate::deps::note_generator_sources(k, self.loader)? {
            Vec::new()
        } else {
            transform::generators::configured(k, self.loader, configured_in)?
        };
        let generator_configs = self.plugin_configs(k, "generators")?;
        generated.extend(plugins::generators(k, self.loader, &generator_configs)?);
        if self.plan {
            // `strata deps`: what helm would read, without running it; no objects to add.
            return crate::deps::note_charts(k, self.loader);
        }
        for r in transform::helm::inflate(k, self.loader, &self.helm, configured_in)
            .map_err(|e| e.or_kind(crate::error::ErrorKind::Helm))?
        {
            let at = k.spot(&["helmCharts"]);
            generated.push(transform::generators::Generated {
                resource: r,
                behavior: transform::generators::Behavior::Create,
                at,
            });
        }
        transform::generators::absorb(rm, generated)
    }

    /// The kustomization's components, in order, each on what the layer holds so far.
    fn components(
        &mut self,
        dir: &Path,
        k: &crate::load::Kustomization,
        mut layer: Layer,
    ) -> Result<Layer> {
        for (i, entry) in k.string_list("components")?.into_iter().enumerate() {
            let idx = i.to_string();
            let at = ["components", idx.as_str()];
            let Some(path) = self.local_dir(k, dir, &entry, &at)? else {
                return Err(k
                    .error(&at, format!("component `{entry}` is not a directory"))
                    .with_help(
                        "a component is a directory holding a `kind: Component` kustomization",
                    )
                    .with_kind(crate::error::ErrorKind::NotFound));
            };
            let openapi_set = layer.openapi_set.take();
            let next = self
                .enter(
                    &path,
                    Layer {
                        openapi_set: None,
                        ..layer
                    },
                    true,
                )
                .map_err(|e| locate_at(e, k, &at))?;
            layer = Layer {
                openapi_set: match next.openapi_set {
                    Some(o) => {
                        self.openapi = Some(o.clone());
                        Some(o)
                    }
                    None => openapi_set,
                },
                ..next
            };
        }
        Ok(layer)
    }

    /// The kustomization's built-in transformers (in `transform::configured`'s order), then
    /// its transformer plugins, each run on the whole layer. A plan configures them (their
    /// files are read) and runs none.
    fn transform(
        &mut self,
        k: &crate::load::Kustomization,
        layer: &mut Layer,
        configured_in: &str,
    ) -> Result<()> {
        let builtin = if self.plan && crate::deps::note_transformer_files(k, self.loader)? {
            Vec::new()
        } else {
            transform::configured(k, self.loader, self.strict, &layer.config)?
        };
        let mut transformers: Vec<(Box<dyn transform::Transformer>, PluginMeta)> = builtin
            .into_iter()
            .map(|t| {
                let meta = PluginMeta {
                    configured_in: configured_in.to_string(),
                    ..PluginMeta::default()
                };
                (t, meta)
            })
            .collect();
        let transformer_configs = self.plugin_configs(k, "transformers")?;
        transformers.extend(plugins::transformers(
            k,
            self.loader,
            self.strict,
            &layer.config,
            &transformer_configs,
        )?);
        if self.plan {
            return Ok(());
        }
        let annotate = self
            .build_metadata
            .iter()
            .any(|m| m == "transformerAnnotations");
        let rm = &mut layer.rm;
        for (t, meta) in transformers {
            t.transform(rm, &mut self.warnings)
                .map_err(|e| match (&e.location, &meta.at) {
                    (None, Some(at)) => e.at(at.clone()),
                    _ => e.in_file(&k.file),
                })?;
            if annotate {
                for r in &mut rm.items {
                    r.transformations.push(Transformation {
                        configured_in: meta.configured_in.clone(),
                        kind: t.kind().to_string(),
                        name: meta.name.clone(),
                        namespace: meta.namespace.clone(),
                    });
                }
            }
            rm.items
                .retain(|r| r.doc.as_map().is_some_and(|m| !m.is_empty()));
        }
        Ok(())
    }
}

/// Point an error without a place at the kustomization entry that led to it.
fn locate_at(e: Error, k: &crate::load::Kustomization, at: &[&str]) -> Error {
    if e.location.is_none() && e.file.is_none() {
        e.at(k.location(at))
    } else {
        e
    }
}
