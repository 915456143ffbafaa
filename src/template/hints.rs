//! Help for template errors, worked out from the template's source: the closest filter
//! name for an unknown one, a migration hint for Go-template (Helm) syntax, the line where
//! an unclosed block opened, the key an undefined value probably meant (from the map that
//! lacks it), and the template line that rendered a given output line (`LineMap`).

use crate::error::closest;
use crate::template::Values;
use crate::yaml::Value;
use regex::Regex;
use std::sync::OnceLock;

/// Filters every template has: minijinja's built-ins and strata's (`filters::NAMES`).
const BUILTIN_FILTERS: &[&str] = &[
    "abs",
    "attr",
    "batch",
    "bool",
    "capitalize",
    "chain",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "first",
    "float",
    "format",
    "groupby",
    "indent",
    "int",
    "items",
    "join",
    "last",
    "length",
    "lines",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "pprint",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "safe",
    "select",
    "selectattr",
    "slice",
    "sort",
    "split",
    "string",
    "sum",
    "title",
    "tojson",
    "trim",
    "unique",
    "upper",
    "urlencode",
    "zip",
];

/// Help for `filter NAME is unknown`: the closest filter there is.
pub fn unknown_filter(name: &str) -> String {
    let all = BUILTIN_FILTERS.iter().chain(super::filters::NAMES).copied();
    // `closest` ignores case; among equally close names, the one spelled in the same case
    // (`toYml` → `toYaml`, `to_yml` → `toyaml`).
    let near = closest(name, all.clone()).and_then(|near| {
        let d = strsim::levenshtein(&near.to_lowercase(), &name.to_lowercase());
        all.filter(|c| strsim::levenshtein(&c.to_lowercase(), &name.to_lowercase()) == d)
            .min_by_key(|c| strsim::levenshtein(c, name))
    });
    match near {
        Some(near) => format!("did you mean `{near}`?"),
        None => "the filters are minijinja's built-ins plus `toyaml`, `nindent`, `quote`, `b64encode`, `required`, … (and their Helm names: `toYaml`, `b64enc`, …)".to_string(),
    }
}

/// The filter named in minijinja's `filter NAME is unknown`.
pub fn filter_name(detail: &str) -> Option<&str> {
    detail.strip_prefix("filter ")?.strip_suffix(" is unknown")
}

fn go_tag() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"\{\{-?\s*(?:\.[A-Za-z$]|\$[A-Za-z_]*\s*:?=|(?:if|else if|range|with|define|template|include|block)\s+[."$(]|else\s*-?\}\}|end\s*-?\}\}|/\*)"#,
        )
        .expect("the Go-tag pattern compiles")
    })
}

/// For a line written in Go-template syntax (`{{ .Values.x }}`, `{{- if .Values.x }}`):
/// the first such tag, and how it reads in strata's Jinja (the `help:` line).
pub fn go_template(line: &str) -> Option<(String, String)> {
    let m = go_tag().find(line)?;
    let start = m.start();
    let end = line[start..]
        .find("}}")
        .map_or(line.len(), |e| start + e + 2);
    let tag = &line[start..end];
    let inner = tag
        .trim_start_matches("{{")
        .trim_end_matches("}}")
        .trim_matches('-')
        .trim();
    let dash_open = if tag.starts_with("{{-") { "-" } else { "" };
    let dash_close = if tag.ends_with("-}}") { "-" } else { "" };
    let expr = |e: &str| {
        e.replace(".Values.", "values.")
            .replace("$.Values.", "values.")
    };
    let jinja = if let Some(cond) = inner.strip_prefix("if ") {
        format!("{{%{dash_open} if {} {dash_close}%}}", expr(cond.trim()))
    } else if let Some(cond) = inner.strip_prefix("else if ") {
        format!("{{%{dash_open} elif {} {dash_close}%}}", expr(cond.trim()))
    } else if let Some(list) = inner.strip_prefix("range ") {
        format!(
            "{{%{dash_open} for item in {} {dash_close}%}}",
            expr(list.trim())
        )
    } else if inner == "else" {
        format!("{{%{dash_open} else {dash_close}%}}")
    } else if inner == "end" {
        format!("{{%{dash_open} endif {dash_close}%}}` or `{{%{dash_open} endfor {dash_close}%}}")
    } else if inner.starts_with(".Release") || inner.starts_with(".Chart") {
        return Some((
            tag.to_string(),
            "strata templates are Jinja and see `values`, `env` (the environment's name) and `capabilities`".to_string(),
        ));
    } else if inner.starts_with(".Values.") || inner.starts_with("$.Values.") {
        format!("{{{{{dash_open} {} {dash_close}}}}}", expr(inner))
    } else {
        return Some((
            tag.to_string(),
            "strata templates are Jinja: `{{ values.x }}`, `{% if values.x %}…{% endif %}`, filters with parentheses (`| default('x')`)".to_string(),
        ));
    };
    let jinja = jinja.replace("  ", " ");
    Some((
        tag.to_string(),
        format!("strata templates are Jinja: write `{jinja}`"),
    ))
}

fn sprig_call() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"\|\s*([A-Za-z_][A-Za-z0-9_]*)\s+(["'0-9.\-]|values\b|true\b|false\b)"#)
            .expect("the Sprig-call pattern compiles")
    })
}

/// For a filter given Sprig's space-separated argument (`| default "x"`): the Jinja form.
pub fn sprig_arguments(line: &str) -> Option<String> {
    let m = sprig_call().captures(line)?;
    let name = m.get(1)?.as_str();
    Some(format!(
        "filter arguments go in parentheses in Jinja: `| {name}(…)`, e.g. `| default(\"x\")` for Helm's `| default \"x\"`"
    ))
}

/// A block tag of the source: its keyword and line.
struct Tag<'a> {
    word: &'a str,
    line: usize,
}

/// The block tags of `source` in order, skipping comments and `raw` sections.
fn tags(source: &str) -> Vec<Tag<'_>> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut raw = false;
    while let Some(i) = source[at..].find('{').map(|i| at + i) {
        let rest = &source[i..];
        let close = if rest.starts_with("{#") {
            "#}"
        } else if rest.starts_with("{%") {
            "%}"
        } else {
            at = i + 1;
            continue;
        };
        let Some(len) = rest[2..].find(close) else {
            break;
        };
        let body = &rest[2..2 + len];
        at = i + 2 + len + 2;
        if close == "#}" {
            continue;
        }
        let body = body.trim_matches(['-', '+', '~']).trim();
        let word = body.split_whitespace().next().unwrap_or("");
        if raw && word != "endraw" {
            continue;
        }
        raw = word == "raw";
        // `{% set x = 1 %}` is a statement; `{% set x %}…{% endset %}` is a block.
        if word == "set" && body.contains('=') {
            continue;
        }
        let line = source[..i].matches('\n').count() + 1;
        out.push(Tag { word, line });
    }
    out
}

const BLOCKS: &[&str] = &[
    "if",
    "for",
    "macro",
    "call",
    "filter",
    "block",
    "with",
    "set",
    "autoescape",
    "raw",
];

/// For `unexpected end of input` or `unknown statement endX`: the block left open, the
/// line it opened on, and how to close it.
pub fn unclosed_block(source: &str) -> Option<(String, usize, String)> {
    let mut open: Vec<Tag> = Vec::new();
    for tag in tags(source) {
        if BLOCKS.contains(&tag.word) {
            open.push(tag);
        } else if let Some(kind) = tag.word.strip_prefix("end") {
            match open.last() {
                Some(top) if top.word == kind => {
                    open.pop();
                }
                Some(top) => {
                    return Some((
                        format!(
                            "`{{% {} %}}` on line {} closes a block that is not open: `{{% {} %}}` opened on line {} is still open",
                            tag.word, tag.line, top.word, top.line
                        ),
                        top.line,
                        format!("end{}", top.word),
                    ));
                }
                None => {}
            }
        }
    }
    let top = open.pop()?;
    Some((
        format!(
            "`{{% {} %}}` opened on line {} is never closed",
            top.word, top.line
        ),
        top.line,
        format!("end{}", top.word),
    ))
}

/// The dotted path around byte range `range` of `source` (minijinja's range for an
/// undefined attribute covers only its last part: `.imag.tag` of `values.imag.tag`).
pub fn dotted_path(source: &str, range: std::ops::Range<usize>) -> Option<String> {
    let part = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.');
    let (start, end) = (range.start.min(source.len()), range.end.min(source.len()));
    if !source.is_char_boundary(start) || !source.is_char_boundary(end) {
        return None;
    }
    let before = source[..start]
        .char_indices()
        .rev()
        .take_while(|(_, c)| part(*c))
        .last()
        .map_or(start, |(i, _)| i);
    let after = source[end..]
        .char_indices()
        .take_while(|(_, c)| part(*c))
        .last()
        .map_or(end, |(i, c)| end + i + c.len_utf8());
    let path = source[before..after].trim_matches('.');
    (!path.is_empty()).then(|| path.to_string())
}

/// For an undefined `values.a.b.c`: the first part that is missing, and help from the map
/// that lacks it (its closest key, or the keys it has).
pub fn undefined_value(path: &str, values: &Values) -> Option<String> {
    let parts: Vec<&str> = path.split('.').collect();
    if parts.first() != Some(&"values") || parts.len() < 2 {
        return None;
    }
    let mut cur = &values.tree;
    for (i, part) in parts.iter().enumerate().skip(1) {
        let here = parts[..i].join(".");
        match cur.get(*part) {
            Some(Value::Map(m)) => cur = m,
            Some(other) if i + 1 < parts.len() => {
                let what = crate::yaml::describe(other);
                return Some(format!(
                    "`{here}.{part}` is {what}, not a map: it has no `{}`",
                    parts[i + 1]
                ));
            }
            Some(_) => return None,
            None => {
                if let Some(near) = closest(part, cur.keys().map(String::as_str)) {
                    return Some(format!("did you mean `{here}.{near}`?"));
                }
                let keys: Vec<String> = cur.keys().take(6).map(|k| format!("`{k}`")).collect();
                let more = if cur.len() > 6 { ", …" } else { "" };
                if let Some(near) = synonym(part, cur) {
                    return Some(format!(
                        "did you mean `{here}.{near}`? (`{here}` has {}{more})",
                        keys.join(", ")
                    ));
                }
                return Some(if keys.is_empty() {
                    format!(
                        "`{here}` is empty: define `{part}` in a values.yaml, pass `--set`, or use `| default(...)`"
                    )
                } else {
                    format!(
                        "`{here}` has no `{part}`; it has {}{more} (or use `| default(...)`)",
                        keys.join(", ")
                    )
                });
            }
        }
    }
    None
}

/// Names chart values commonly use for the same thing (`image.version` is `image.tag`).
const SYNONYMS: &[&[&str]] = &[
    &["tag", "version"],
    &["repository", "repo", "image", "name"],
    &["replicas", "replicaCount", "count"],
    &["enabled", "enable", "on"],
    &["pullPolicy", "imagePullPolicy", "policy"],
    &["annotations", "podAnnotations"],
    &["labels", "podLabels"],
    &["host", "hostname", "domain"],
    &["port", "servicePort", "targetPort"],
];

/// The key of `map` that commonly names what `part` names.
fn synonym<'m>(part: &str, map: &'m crate::yaml::Map) -> Option<&'m str> {
    let group = SYNONYMS
        .iter()
        .find(|g| g.iter().any(|w| w.eq_ignore_ascii_case(part)))?;
    map.keys()
        .map(String::as_str)
        .find(|k| !k.eq_ignore_ascii_case(part) && group.iter().any(|w| w.eq_ignore_ascii_case(k)))
}

/// A template's lines as patterns of what each may render to, to find the template line
/// that wrote a given output line.
pub struct LineMap {
    patterns: Vec<Option<Regex>>,
}

impl LineMap {
    pub fn new(source: &str) -> LineMap {
        LineMap {
            patterns: source.lines().map(line_pattern).collect(),
        }
    }

    /// The 1-based template line that most likely rendered `line` of `rendered`: one whose
    /// literal text matches it with every `{{ … }}` read as anything, the nearest to
    /// `line` when several do. Lines that are only expressions or tags never match.
    pub fn source_line(&self, rendered: &str, line: usize) -> Option<usize> {
        let target = rendered.lines().nth(line.checked_sub(1)?)?.trim_end();
        if target.trim().is_empty() {
            return None;
        }
        let mut best: Option<usize> = None;
        for (i, re) in self.patterns.iter().enumerate() {
            let Some(re) = re else { continue };
            if re.is_match(target) && best.is_none_or(|b| (i + 1).abs_diff(line) < b.abs_diff(line))
            {
                best = Some(i + 1);
            }
        }
        best
    }
}

/// A source line as a pattern of what it may render to; `None` for a line without
/// literal text (only tags and expressions) or with a block tag.
fn line_pattern(src: &str) -> Option<Regex> {
    let src = src.trim_end();
    if src.contains("{%") || src.contains("{#") {
        return None;
    }
    let mut pattern = String::from("^");
    let mut literal = false;
    let mut rest = src;
    while let Some(open) = rest.find("{{") {
        let text = &rest[..open];
        literal |= !text.trim().is_empty();
        pattern.push_str(&regex::escape(text));
        let close = rest[open..].find("}}").map_or(rest.len(), |c| open + c + 2);
        pattern.push_str(".*?");
        rest = &rest[close.min(rest.len())..];
    }
    literal |= !rest.trim().is_empty();
    pattern.push_str(&regex::escape(rest));
    pattern.push('$');
    if !literal {
        return None;
    }
    Regex::new(&pattern).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_filters_get_the_closest_name() {
        assert_eq!(unknown_filter("to_yml"), "did you mean `toyaml`?");
        assert_eq!(unknown_filter("toyml"), "did you mean `toyaml`?");
        assert_eq!(unknown_filter("b64encod"), "did you mean `b64encode`?");
        assert_eq!(unknown_filter("nident"), "did you mean `nindent`?");
        assert_eq!(unknown_filter("toYml"), "did you mean `toYaml`?");
        assert!(unknown_filter("zzzzzzzzzz").starts_with("the filters are"));
        assert_eq!(filter_name("filter to_yml is unknown"), Some("to_yml"));
    }

    #[test]
    fn go_templates_get_a_migration_hint() {
        for (line, want) in [
            (
                "  image: {{ .Values.image.tag }}",
                "write `{{ values.image.tag }}`",
            ),
            (
                "{{- if .Values.enabled }}",
                "write `{%- if values.enabled %}`",
            ),
            (
                "{{ range .Values.ports }}",
                "write `{% for item in values.ports %}`",
            ),
            ("{{- end }}", "write `{%- endif %}` or `{%- endfor %}`"),
            ("name: {{ .Release.Name }}", "see `values`, `env`"),
            ("a: {{ include \"x\" . }}", "filters with parentheses"),
        ] {
            let (_, hint) = go_template(line).unwrap_or_default();
            assert!(hint.contains(want), "{line}: {hint}");
        }
        for line in [
            "a: {{ values.x }}",
            "{% if values.x %}",
            "a: {{ '.x' }}",
            "a: b",
        ] {
            assert_eq!(go_template(line), None, "{line}");
        }
        let (tag, _) = go_template("a: {{ .Values.x }} b: {{ .Values.y }}").unwrap_or_default();
        assert_eq!(tag, "{{ .Values.x }}");
    }

    #[test]
    fn sprig_arguments_get_parentheses() {
        let hint = sprig_arguments("a: {{ values.x | default \"d\" }}").unwrap_or_default();
        assert!(hint.contains("`| default(…)`"), "{hint}");
        assert!(sprig_arguments("a: {{ values.x | default(\"d\") }}").is_none());
        assert!(sprig_arguments("a: {{ values.x | upper }}").is_none());
    }

    #[test]
    fn unclosed_blocks_name_their_line() {
        let src = "a: 1\n{% if x %}\n{# {% for %} #}\n{% raw %}{% for %}{% endraw %}\n{% for y in z %}\n{% endfor %}\n{% set v %}x{% endset %}{% set w = 1 %}\n";
        let (msg, line, end) = unclosed_block(src).unwrap();
        assert_eq!((line, end.as_str()), (2, "endif"));
        assert_eq!(msg, "`{% if %}` opened on line 2 is never closed");
        let (msg, line, _) =
            unclosed_block("{% for x in y %}\n{% if x %}\n{% endfor %}\n").unwrap();
        assert_eq!(line, 2);
        assert!(msg.starts_with("`{% endfor %}` on line 3 closes"), "{msg}");
        assert!(unclosed_block("{% if a %}{% endif %}").is_none());
    }

    #[test]
    fn dotted_paths_are_whole() {
        let src = "a: {{ values.imag.tag }}";
        let start = src.find(".imag").unwrap();
        assert_eq!(
            dotted_path(src, start..start + 9).as_deref(),
            Some("values.imag.tag")
        );
    }

    #[test]
    fn undefined_values_are_explained_from_their_parent_map() {
        let values = Values::from_file(
            "values.yaml",
            "image: {repository: nginx, tag: '1'}\nreplicas: 2\nempty: {}\n".to_string(),
        )
        .unwrap();
        for (path, want) in [
            ("values.image.tagg", "did you mean `values.image.tag`?"),
            ("values.imag.tag", "did you mean `values.image`?"),
            (
                "values.image.version",
                "did you mean `values.image.tag`? (`values.image` has `repository`, `tag`)",
            ),
            (
                "values.image.digest",
                "`values.image` has no `digest`; it has `repository`, `tag` (or use `| default(...)`)",
            ),
            (
                "values.replicas.count",
                "`values.replicas` is a number, not a map: it has no `count`",
            ),
            (
                "values.empty.x",
                "`values.empty` is empty: define `x` in a values.yaml, pass `--set`, or use `| default(...)`",
            ),
        ] {
            assert_eq!(
                undefined_value(path, &values).as_deref(),
                Some(want),
                "{path}"
            );
        }
        assert_eq!(undefined_value("env.x", &values), None);
    }

    #[test]
    fn rendered_lines_map_back_to_their_template_line() {
        let src = "kind: A\n{#- two\nlines #}\nmetadata:\n  name: {{ n }}\n{% if x %}\n{{ block }}\nspec:\n   template: {}\n";
        let out = "kind: A\nmetadata:\n  name: web\n\nanything\nspec:\n   template: {}\n";
        let map = LineMap::new(src);
        assert_eq!(map.source_line(out, 7), Some(9));
        assert_eq!(map.source_line(out, 3), Some(5));
        // Only an expression on the source line: no match.
        assert_eq!(map.source_line(out, 5), None);
    }
}
