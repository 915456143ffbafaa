//! `strata validate` and `build/render --validate`: arguments → `ValidateOptions`, the
//! documents to validate, the findings located at their fields, and the report.
//!
//! `strata validate` reads files, directories (every `.yaml`, `.yml` and `.json` below
//! them, sorted) or standard input, and prints its report on standard output (text
//! diagnostics go to standard error). `--validate` checks a finished build before anything
//! is printed: diagnostics on standard error, and the report in `--report FILE`.

use super::args::{Common, Format, MissingArg, ValidateArgs, ValidateCmd};
use super::formats::{self, Entry, Rendered, Report};
use super::report::shown;
use crate::Error;
use crate::validate::{self, Doc, Missing, Source, ValidateOptions, Violation, locate};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

pub fn options(v: &ValidateArgs, warnings_as_errors: bool) -> Result<ValidateOptions, Vec<Error>> {
    let mut opts = ValidateOptions {
        strict: !v.allow_unknown_fields,
        missing: match v.missing_schemas {
            MissingArg::Warn => Missing::Warn,
            MissingArg::Error => Missing::Error,
            MissingArg::Ignore => Missing::Ignore,
        },
        skip_kinds: v.skip_kinds.clone(),
        references: !v.no_reference_checks,
        warnings_as_errors,
        ..ValidateOptions::default()
    };
    if let Some(k) = &v.kube_version {
        let k = k.trim_start_matches('v');
        let minor: String = k.splitn(3, '.').take(2).collect::<Vec<_>>().join(".");
        if !validate::bundle::versions().contains(&minor.as_str()) {
            return Err(vec![
                Error::new(format!("no schemas for Kubernetes `{k}`")).with_help(format!(
                    "--kube-version takes one of {}",
                    validate::bundle::versions().join(", ")
                )),
            ]);
        }
        opts.kube_version = minor;
    }
    opts.crds = validate::inputs::crds(&v.crds).map_err(|e| vec![e])?;
    Ok(opts)
}

/// Write `--report FILE`.
fn write_report(path: &Path, text: &str) -> Result<(), Vec<Error>> {
    std::fs::write(path, text).map_err(|e| {
        vec![
            Error::new(format!("cannot write the report `{}`: {e}", path.display()))
                .with_help("check that its directory exists and is writable"),
        ]
    })
}

/// Validate finished builds (one group each, named by `labels`: environments when `render`)
/// before they are printed.
pub fn check_outputs(
    outputs: &[crate::Output],
    labels: &[String],
    render: bool,
    c: &Common,
) -> Result<(), Vec<Error>> {
    check_outputs_as(outputs, labels, render, c, false)
}

/// `check_outputs`, with the findings on standard error as plain lines (`error: file:line:col:
/// …` and `help:`) when `plain`: what the Argo CD plugin shows in the UI.
pub fn check_outputs_as(
    outputs: &[crate::Output],
    labels: &[String],
    render: bool,
    c: &Common,
    plain: bool,
) -> Result<(), Vec<Error>> {
    let opts = options(&c.validation, c.warnings_as_errors)?;
    let mut docs: Vec<Doc> = Vec::new();
    let mut first = Vec::new();
    for (g, o) in outputs.iter().enumerate() {
        first.push(docs.len());
        docs.extend(o.resources.iter().map(|r| Doc {
            value: &r.doc,
            file: Some(r.origin.file.clone()).filter(|f| !f.as_os_str().is_empty()),
            line: r.origin.line,
            source: None,
            group: g,
        }));
    }
    let outcome = validate::validate_docs(&docs, &opts).map_err(|e| vec![e])?;
    let mut violations = outcome.violations;
    let rendered = place_in_sources(&mut violations, &docs, outputs, &first);
    let rendered = rendered
        .into_iter()
        .zip(labels)
        .map(|(text, label)| {
            text.map(|text| Rendered {
                name: format!("<rendered {label}>"),
                text,
            })
        })
        .collect();
    let mut shown_files = HashMap::new();
    let entries = docs
        .iter()
        .zip(&outcome.skipped)
        .map(|(d, skipped)| entry(d, d.group, *skipped, &mut shown_files, ""))
        .collect();
    let report = Report {
        entries,
        violations: &violations,
        groups: labels.to_vec(),
        rendered,
        stdin: None,
        files: outputs.len(),
        unit: if render {
            ("environment", "environments")
        } else {
            ("build", "builds")
        },
        summary: c.validation.summary,
    };
    if plain {
        eprint!("{}", formats::text::plain(&report));
    } else if c.validation.error_format == Some(Format::Json) {
        eprint!("{}", report.document(Format::Json));
    } else {
        formats::text::print(&report);
        if report.summary {
            eprint!("{}", report.summary().text());
        }
    }
    if let Some(path) = &c.report {
        let format = c.report_format.unwrap_or_else(|| formats::format_of(path));
        write_report(path, &report.document(format))?;
    }
    if report.errors() > 0 {
        Err(Vec::new())
    } else {
        Ok(())
    }
}

/// Move a build's findings to their field's line in its source file, or else into the
/// rendered output; the rendered stream of each group that needed it.
fn place_in_sources(
    violations: &mut [Violation],
    docs: &[Doc],
    outputs: &[crate::Output],
    first: &[usize],
) -> Vec<Option<String>> {
    let mut locator = locate::Locator::default();
    let mut pending = Vec::new();
    for (n, v) in violations.iter_mut().enumerate() {
        if !locator.in_source_file(v, &docs[v.doc]) {
            pending.push(n);
        }
    }
    let mut texts: Vec<Option<String>> = vec![None; outputs.len()];
    for &n in &pending {
        let g = docs[violations[n].doc].group;
        if texts[g].is_none() {
            texts[g] = Some(outputs[g].yaml());
        }
    }
    let split: Vec<Vec<Source>> = texts
        .iter()
        .map(|t| {
            t.as_deref()
                .map(locate::rendered_documents)
                .unwrap_or_default()
        })
        .collect();
    for n in pending {
        let v = &mut violations[n];
        let g = docs[v.doc].group;
        if let Some(doc) = split[g].get(v.doc - first[g]) {
            locate::in_rendered(v, doc);
        }
    }
    texts
}

/// The report's entry of a document; `shown_files` caches how each file is shown, `none`
/// names a document without a file (standard input, or a generated object: empty).
fn entry<'a>(
    d: &Doc<'a>,
    group: usize,
    skipped: bool,
    shown_files: &mut HashMap<PathBuf, Rc<str>>,
    none: &str,
) -> Entry<'a> {
    let value = d.value;
    let s = |path: &[&str]| value.str_at(path).unwrap_or("");
    let file = match &d.file {
        Some(f) => match shown_files.get(f) {
            Some(s) => s.clone(),
            None => {
                let s: Rc<str> = shown(f).into();
                shown_files.insert(f.clone(), s.clone());
                s
            }
        },
        None => none.into(),
    };
    Entry {
        api_version: s(&["apiVersion"]),
        kind: s(&["kind"]),
        name: s(&["metadata", "name"]),
        namespace: s(&["metadata", "namespace"]),
        file,
        line: d.line,
        group,
        skipped,
    }
}

/// The texts `validate` reads: standard input (no file, or `-`), the files given, and the
/// manifests under each directory given.
fn read_inputs(files: &[PathBuf]) -> Result<Vec<(Option<PathBuf>, String)>, Vec<Error>> {
    let mut inputs: Vec<(Option<PathBuf>, String)> = Vec::new();
    if files.is_empty() || files.iter().any(|f| f.as_os_str() == "-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| vec![Error::new(format!("cannot read standard input: {e}"))])?;
        inputs.push((None, text));
    }
    for f in files.iter().filter(|f| f.as_os_str() != "-") {
        let files = if f.is_dir() {
            let found = validate::inputs::manifest_files(f).map_err(|e| vec![e])?;
            if found.is_empty() {
                return Err(vec![
                    Error::new(format!("no manifests under `{}`", f.display()))
                        .with_help("a directory is searched for `.yaml`, `.yml` and `.json` files"),
                ]);
            }
            found
        } else {
            vec![f.clone()]
        };
        for file in files {
            let text = crate::load::read_text(&file).map_err(|e| vec![e])?;
            inputs.push((Some(file), text));
        }
    }
    Ok(inputs)
}

pub fn validate_cmd(v: &ValidateCmd) -> Result<(), Vec<Error>> {
    let opts = options(&v.validate, v.warnings_as_errors)?;
    let format = v.output.or(v.validate.error_format).unwrap_or(Format::Text);
    let inputs = read_inputs(&v.files)?;
    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for (file, text) in &inputs {
        match crate::yaml::parse_documents(text) {
            Ok(docs) => parsed.push((file, text.as_str(), docs)),
            Err(e) => errors.push(match file {
                Some(f) => crate::yaml::errors::yaml_error(f, e),
                None => Error::new(format!("<stdin>:{}:{}: {}", e.line, e.col, e.message)),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut docs: Vec<Doc> = Vec::new();
    let mut groups = Vec::new();
    for (file, text, parsed_docs) in &parsed {
        groups.push(
            file.as_deref()
                .map(shown)
                .unwrap_or_else(|| "<stdin>".into()),
        );
        for (i, d) in parsed_docs.iter().enumerate() {
            if d.value.is_null() {
                continue;
            }
            docs.push(Doc {
                value: &d.value,
                file: (*file).clone(),
                line: d.line,
                source: Some(Source::of(text, parsed_docs, i)),
                // The inputs are one render: references may cross files.
                group: 0,
            });
        }
    }
    let outcome = validate::validate_docs(&docs, &opts).map_err(|e| vec![e])?;
    // The report groups resources by file.
    let mut file_of = Vec::new();
    for (g, (_, _, parsed_docs)) in parsed.iter().enumerate() {
        file_of.extend(parsed_docs.iter().filter(|d| !d.value.is_null()).map(|_| g));
    }
    let mut shown_files = HashMap::new();
    let entries = docs
        .iter()
        .zip(&outcome.skipped)
        .zip(&file_of)
        .map(|((d, skipped), g)| entry(d, *g, *skipped, &mut shown_files, "<stdin>"))
        .collect();
    let report = Report {
        entries,
        violations: &outcome.violations,
        rendered: groups.iter().map(|_| None).collect(),
        groups,
        stdin: inputs
            .iter()
            .find(|(f, _)| f.is_none())
            .map(|(_, t)| t.as_str()),
        files: parsed.len(),
        unit: ("file", "files"),
        summary: v.validate.summary,
    };
    match format {
        Format::Text => {
            formats::text::print(&report);
            if report.summary {
                super::print(&report.summary().text())?;
            }
        }
        other => super::print(&report.document(other))?,
    }
    if report.errors() > 0 {
        Err(Vec::new())
    } else {
        Ok(())
    }
}
