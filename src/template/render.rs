//! Rendering `.j2` files with minijinja.
//!
//! One minijinja environment per layer directory holds its templates, compiled once per
//! file and reused by every environment that renders it; `include` names are relative to
//! the including file and read under the load restrictor. Every render has a budget: fuel
//! for the instructions it runs, a cap on the text it writes, and filters that check a size
//! before they allocate it. Undefined values are errors (`default`,
//! `is defined` and `if` still work), and the filters Helm users know are there (see
//! `filters`: `toyaml`/`toYaml`, `nindent`, `b64enc`, `required`, …).
//! Errors come back with the template file, line, the expression and, for an undefined
//! value, the closest key that does exist.

use super::{Ctx, hints};
use crate::error::{Error, Location, Result};
use crate::yaml::{Map, Value};
use minijinja::value::{Value as J, ValueKind};
use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Budgets for one template render: minijinja's fuel (instructions) and the size of the
/// text it may produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateLimits {
    /// `--template-fuel`.
    pub fuel: u64,
    /// `--max-template-output`, in bytes.
    pub max_output: usize,
}

impl Default for TemplateLimits {
    fn default() -> TemplateLimits {
        TemplateLimits {
            fuel: 50_000_000,
            max_output: 64 << 20,
        }
    }
}

/// The compiled templates of a process, one environment per layer directory: a template's
/// `include`/`import` names are resolved relative to the including file and read from disk
/// under the load restrictor, so what a name means depends only on the layer and its files,
/// never on what another thread happened to render first.
#[derive(Default)]
pub struct Templates {
    envs: Mutex<HashMap<(PathBuf, bool), Arc<Environment<'static>>>>,
    pub limits: TemplateLimits,
    /// What templates see as `capabilities` (the cluster's version and API versions, as
    /// Argo CD passes them to a plugin); empty by default.
    pub capabilities: Capabilities,
}

/// The target cluster as templates see it, as Helm's `.Capabilities`:
/// `capabilities.kube_version` (`1.29.3`, empty when unknown) and
/// `capabilities.api_versions` (`apps/v1`, `apps/v1/Deployment`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub kube_version: String,
    pub api_versions: Vec<String>,
}

impl Capabilities {
    fn to_template(&self) -> J {
        J::from_pairs(vec![
            (J::from("kube_version"), J::from(self.kube_version.clone())),
            (
                J::from("api_versions"),
                J::from(
                    self.api_versions
                        .iter()
                        .map(|v| J::from(v.clone()))
                        .collect::<Vec<J>>(),
                ),
            ),
        ])
    }
}

impl Templates {
    fn environment(&self, root: &Path, restrict: bool) -> Arc<Environment<'static>> {
        let mut envs = self.envs.lock().unwrap_or_else(|p| p.into_inner());
        envs.entry((root.to_path_buf(), restrict))
            .or_insert_with(|| Arc::new(new_environment(root, restrict, self.limits)))
            .clone()
    }
}

fn new_environment(root: &Path, restrict: bool, limits: TemplateLimits) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_fuel(Some(limits.fuel));
    // Output is YAML text; minijinja would JSON-escape `*.yaml.j2` by default.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    // Booleans print as YAML and Helm write them (`true`, not Jinja's `True`).
    env.set_formatter(|out, state, value| {
        if value.kind() == ValueKind::Bool {
            out.write_str(if value.is_true() { "true" } else { "false" })
                .map_err(|_| minijinja::Error::new(ErrorKind::WriteFailure, "cannot write"))
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    // `include "x.j2"` in `sub/a.yaml.j2` means `sub/x.j2`; names are layer-relative.
    env.set_path_join_callback(|name, parent| {
        if name.starts_with('/') {
            return name.to_string().into();
        }
        let dir = Path::new(parent).parent().unwrap_or(Path::new(""));
        crate::fs::normalize(&dir.join(name))
            .to_string_lossy()
            .to_string()
            .into()
    });
    let root = root.to_path_buf();
    env.set_loader(move |name| load_template(&root, restrict, name));
    super::filters::register(&mut env, limits.max_output);
    env
}

/// The text of template `name` (relative to the layer root `root`): a regular file,
/// inside the root unless the load restrictor is off.
fn load_template(
    root: &Path,
    restrict: bool,
    name: &str,
) -> std::result::Result<Option<String>, minijinja::Error> {
    let refuse = |why: String| Err(minijinja::Error::new(ErrorKind::InvalidOperation, why));
    if Path::new(name).is_absolute() {
        return refuse(format!(
            "template `{name}` is an absolute path; include templates by a path relative to the including file"
        ));
    }
    let found = crate::fs::real(&root.join(name))
        .map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, e.message))?;
    let Some(real) = found else {
        return Ok(None);
    };
    if restrict && !real.starts_with(root) {
        return refuse(format!(
            "security; template `{name}` is not in or below `{}`",
            root.display()
        ));
    }
    crate::fs::read_text(&real)
        .map(Some)
        .map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, e.message))
}

/// My value → a template value.
pub fn to_template(v: &Value) -> J {
    match v {
        Value::Null => J::from(()),
        Value::Bool(b) => J::from(*b),
        Value::Int(i) => J::from(*i),
        Value::UInt(u) => J::from(*u),
        Value::Float(f) => J::from(*f),
        Value::Str(s) => J::from(s.clone()),
        Value::Seq(items) => items.iter().map(to_template).collect(),
        Value::Map(m) => J::from_pairs(
            m.iter()
                .map(|(k, v)| (J::from(k.clone()), to_template(v)))
                .collect::<Vec<_>>(),
        ),
    }
}

/// A template value → my value (for `toyaml`).
pub fn from_template(v: &J) -> Value {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => Value::Null,
        ValueKind::Bool => Value::Bool(v.is_true()),
        ValueKind::Number => match v.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(f64::try_from(v.clone()).unwrap_or(0.0)),
        },
        ValueKind::String => Value::Str(v.as_str().unwrap_or("").to_string()),
        ValueKind::Map => {
            let mut m = Map::default();
            if let Ok(keys) = v.try_iter() {
                for k in keys {
                    let child = v.get_item(&k).unwrap_or_default();
                    m.insert(text_of(&k), from_template(&child));
                }
            }
            Value::Map(m)
        }
        _ => match v.try_iter() {
            Ok(items) => Value::Seq(items.map(|i| from_template(&i)).collect()),
            Err(_) => Value::Str(v.to_string()),
        },
    }
}

pub(super) fn text_of(v: &J) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

/// Render a template given as text, with no files to include (for fuzzing): the same
/// environment, filters and budgets as a layer's templates.
#[cfg(any(test, feature = "fuzzing"))]
pub fn render_str(source: &str, values: &super::Values, limits: TemplateLimits) -> Result<String> {
    let env = new_environment(Path::new("/nonexistent"), true, limits);
    let ctx = Ctx::new(Arc::new(values.clone()), "fuzz", Path::new("/nonexistent"));
    let fake = Path::new("fuzz.yaml.j2");
    let template = env
        .template_from_str(source)
        .map_err(|e| template_error(fake, "fuzz", source, &e, &ctx, limits))?;
    let context = J::from_pairs(vec![(
        J::from("values"),
        to_template(&Value::Map(values.tree.clone())),
    )]);
    let mut out = Limited {
        text: Vec::new(),
        max: limits.max_output,
    };
    template
        .render_captured_to(context, &mut out)
        .map_err(|e| template_error(fake, "fuzz", source, &e, &ctx, limits))?;
    String::from_utf8(out.text).map_err(|_| Error::new("not UTF-8"))
}

/// Render `source` (the text of `file`) with the layer's values.
pub fn render(
    templates: &Templates,
    restrict: bool,
    file: &Path,
    display: &str,
    source: &str,
    ctx: &Ctx,
) -> Result<String> {
    let name = crate::fs::relative_to(file, &ctx.root);
    let env = templates.environment(&ctx.root, restrict);
    let template = env.get_template(&name).map_err(|e| {
        template_error(file, display, source, &e, ctx, templates.limits)
            .or_kind(crate::error::ErrorKind::Template)
    })?;
    let context = J::from_pairs(vec![
        (
            J::from("values"),
            to_template(&Value::Map(ctx.values.tree.clone())),
        ),
        (J::from("env"), J::from(ctx.env.clone())),
        (
            J::from("capabilities"),
            templates.capabilities.to_template(),
        ),
    ]);
    let max = templates.limits.max_output;
    let mut out = Limited {
        text: Vec::new(),
        max,
    };
    template
        .render_captured_to(context, &mut out)
        .map_err(|e| {
            template_error(file, display, source, &e, ctx, templates.limits)
                .or_kind(crate::error::ErrorKind::Template)
        })?;
    String::from_utf8(out.text).map_err(|_| {
        Error::new(format!(
            "template {display} rendered text that is not UTF-8"
        ))
        .in_file(file)
        .with_help("check the values this template uses")
    })
}

/// The rendered text, refusing to grow past the output limit.
struct Limited {
    text: Vec<u8>,
    max: usize,
}

impl std::io::Write for Limited {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.text.len() + buf.len() > self.max {
            return Err(std::io::Error::other(format!(
                "the rendered text exceeds {} bytes (`--max-template-output`)",
                self.max
            )));
        }
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn template_error(
    file: &Path,
    display: &str,
    source: &str,
    e: &minijinja::Error,
    ctx: &Ctx,
    limits: TemplateLimits,
) -> Error {
    let line = e.line().unwrap_or(1);
    let at = |line: usize| Location {
        file: file.to_path_buf(),
        line,
        col: 1,
        offset: 0,
    };
    let line_text = source.lines().nth(line.saturating_sub(1)).unwrap_or("");
    if let Some((tag, help)) = hints::go_template(line_text) {
        return Error::new(format!(
            "template {display} uses Go-template (Helm) syntax `{tag}`"
        ))
        .at(at(line))
        .with_help(help);
    }
    let expr = e
        .range()
        .and_then(|r| source.get(r))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let loc = at(line);
    match e.kind() {
        ErrorKind::UndefinedError => {
            let path = e
                .range()
                .and_then(|r| hints::dotted_path(source, r))
                .filter(|p| p.starts_with("values."));
            let expr = path
                .clone()
                .or(expr)
                .unwrap_or_else(|| "a value".to_string());
            let help = path
                .and_then(|p| hints::undefined_value(&p, &ctx.values))
                .unwrap_or_else(|| {
                    "define it in a values.yaml on this layer's inclusion path, pass `--set`, or use `| default(...)`".to_string()
                });
            Error::new(format!("undefined value `{expr}` in template {display}"))
                .at(loc)
                .with_help(help)
        }
        ErrorKind::UnknownFilter => {
            let detail = e.detail().unwrap_or("");
            let name = hints::filter_name(detail).unwrap_or(detail);
            Error::new(format!(
                "template {display} uses the unknown filter `{name}`"
            ))
            .at(loc)
            .with_help(hints::unknown_filter(name))
        }
        ErrorKind::OutOfFuel => Error::new(format!(
            "template {display} ran out of fuel: it ran more than {} instructions",
            limits.fuel
        ))
        .at(loc)
        .with_help(
            "look for a loop that never ends, or pass `--template-fuel N` to allow more work",
        ),
        ErrorKind::WriteFailure => Error::new(format!(
            "template {display} renders more than {} bytes",
            limits.max_output
        ))
        .at(loc)
        .with_help("look for a loop that never ends, or pass `--max-template-output BYTES`"),
        ErrorKind::SyntaxError => {
            let detail = e.detail().unwrap_or("invalid syntax");
            let unbalanced =
                detail.contains("end of input") || detail.starts_with("unknown statement end");
            if let Some(help) = hints::sprig_arguments(line_text) {
                return Error::new(format!("template syntax error in {display}: {detail}"))
                    .at(loc)
                    .with_help(help);
            }
            match unbalanced.then(|| hints::unclosed_block(source)).flatten() {
                Some((what, opened, end)) => {
                    Error::new(format!("template syntax error in {display}: {what}"))
                        .at(at(opened))
                        .with_help(format!("add `{{% {end} %}}` where the block ends"))
                }
                None => Error::new(format!("template syntax error in {display}: {detail}"))
                    .at(loc)
                    .with_help("check the `{{ }}` and `{% %}` tags on this line"),
            }
        }
        _ => {
            let what = e
                .detail()
                .map(str::to_string)
                .unwrap_or_else(|| e.kind().to_string());
            let expr = expr.map(|x| format!(" in `{x}`")).unwrap_or_default();
            Error::new(format!("template {display} failed{expr}: {what}"))
                .at(loc)
                .with_help("check the values this template uses")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Values;
    use std::sync::Arc;

    /// Render `src` as the template `name` of a fresh layer directory.
    fn run(values: &str, name: &str, src: &str) -> Result<String> {
        run_with(values, &[(name, src)], name, TemplateLimits::default())
    }

    fn run_with(
        values: &str,
        files: &[(&str, &str)],
        main: &str,
        limits: TemplateLimits,
    ) -> Result<String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = std::fs::canonicalize(dir.path())
            .expect("real")
            .join("layer");
        std::fs::create_dir_all(&root).expect("mkdir");
        for (name, text) in files {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        let c = Ctx::new(
            Arc::new(Values::from_file("values.yaml", values.to_string()).expect("values")),
            "dev",
            &root,
        );
        let templates = Templates {
            limits,
            ..Templates::default()
        };
        let file = root.join(main);
        let source = std::fs::read_to_string(&file).expect("read");
        render(&templates, true, &file, main, &source, &c)
    }

    #[test]
    fn renders_with_filters() {
        let src = "n: {{ values.name | quote }}\nenv: {{ env }}\nports:{{ values.ports | toyaml | nindent(2) }}\nx: {{ values.missing | default('d') }}\nh: {{ 'a' | sha256 }}\nb: {{ 'hi' | b64encode }}\n";
        let out = run(
            "name: web\nports: [80, 443]\nlabels: {a: b}\n",
            "a.yaml.j2",
            src,
        )
        .expect("renders");
        assert_eq!(
            out,
            "n: \"web\"\nenv: dev\nports:\n  - 80\n  - 443\nx: d\nh: ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb\nb: aGk=\n"
        );
    }

    #[test]
    fn undefined_values_are_errors_with_suggestions() {
        let err = run(
            "image: {tag: '1'}\n",
            "b.yaml.j2",
            "a: 1\nimage: {{ values.image.tagg }}\n",
        )
        .expect_err("undefined");
        assert_eq!(err.location.expect("located").line, 2);
        assert_eq!(
            err.help.as_deref(),
            Some("did you mean `values.image.tag`?")
        );
        assert!(err.message.contains("values.image.tagg"), "{}", err.message);
    }

    #[test]
    fn required_fails_with_message() {
        let err = run(
            "a: 1\n",
            "c.yaml.j2",
            "x: {{ values.b | required('set b') }}\n",
        )
        .expect_err("required");
        assert!(err.message.contains("set b"), "{}", err.message);
    }

    #[test]
    fn includes_are_relative_to_the_including_file_and_stay_in_the_layer() {
        let files = [
            ("sub/a.yaml.j2", "{% include 'part.j2' %}"),
            ("sub/part.j2", "x: 1\n"),
            ("abs.yaml.j2", "{% include '/etc/hostname' %}"),
            ("up.yaml.j2", "{% include '../outside.j2' %}"),
            ("../outside.j2", "secret: 1\n"),
        ];
        let limits = TemplateLimits::default();
        assert_eq!(
            run_with("a: 1\n", &files, "sub/a.yaml.j2", limits).expect("include"),
            "x: 1\n"
        );
        let e = run_with("a: 1\n", &files, "abs.yaml.j2", limits).expect_err("absolute");
        assert!(e.message.contains("absolute path"), "{}", e.message);
        let e = run_with("a: 1\n", &files, "up.yaml.j2", limits).expect_err("outside");
        assert!(e.message.contains("security"), "{}", e.message);
    }

    #[test]
    fn budgets_stop_runaway_templates() {
        let small = TemplateLimits {
            fuel: 10_000,
            max_output: 1000,
        };
        let e = run_with(
            "a: 1\n",
            &[(
                "l.j2",
                "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            )],
            "l.j2",
            small,
        )
        .expect_err("fuel");
        assert!(e.message.contains("fuel"), "{}", e.message);
        assert!(e.help.as_deref().unwrap_or("").contains("--template-fuel"));
        let e = run_with(
            "a: 1\n",
            &[("o.j2", "{% for i in range(500) %}xxxxxxxx{% endfor %}")],
            "o.j2",
            small,
        )
        .expect_err("output");
        assert!(
            e.help
                .as_deref()
                .unwrap_or("")
                .contains("--max-template-output"),
            "{e:?}"
        );
        let e = run_with(
            "a: 1\n",
            &[("i.j2", "{{ 'a' | indent(100000000000) }}")],
            "i.j2",
            TemplateLimits::default(),
        )
        .expect_err("indent");
        assert!(e.message.contains("--max-template-output"), "{}", e.message);
    }
}
