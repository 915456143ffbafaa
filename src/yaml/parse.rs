//! The YAML reader: text in, one typed [`Value`] per document out, read the way kustomize's
//! go-yaml v3 reads it.
//!
//! saphyr-parser supplies the events; this module builds the tree and applies go-yaml v3's
//! decoding rules for `interface{}`: only untagged plain scalars are resolved (`0777` is 511,
//! `yes` stays a string, `2001-12-14` becomes the RFC 3339 text Go would print for it), aliases
//! are expanded, `<<` merge keys are folded in with explicit keys winning, duplicate keys are
//! errors. Every document is returned, empty ones as `Value::Null`, with the line and byte
//! offset where its content starts, so callers can point at the source. [`locate`] re-reads
//! the text to find where a node lives, for error messages only.

use super::Value;
use super::build::Builder;
use saphyr_parser::{Event, Marker, Parser};
use std::fmt;

/// One YAML document and where its content starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub value: Value,
    /// 1-based line where the document's content starts.
    pub line: usize,
    /// Byte offset where the document's content starts.
    pub offset: usize,
    /// Where a map field's value is *empty* (`key:` with nothing after it), which reads
    /// as null like `key: null` but is not the same to Kustomize: a strategic merge patch
    /// removes empty fields from the documents it touches and keeps explicit nulls.
    pub(crate) empty_nulls: Vec<Vec<PathSeg>>,
    /// The written text of each scalar under `metadata.annotations` (objects only): Kustomize
    /// keeps an annotation as that text (`2001-12-14`, `1.50`, `0x1F`), not as what it reads
    /// as. Paths are from the document root (through `items.<i>` in a List).
    pub(crate) annotation_texts: Vec<(Vec<PathSeg>, String)>,
    /// Folded scalars (`>`) whose value go-yaml keeps raw but prints re-folded: the tree
    /// holds the printed form, this the raw one, which Kustomize's generator merge and
    /// replacements read (paths of map fields only).
    pub(crate) folded_raw: Vec<(Vec<PathSeg>, String)>,
    /// Scalars by path, recorded only by `parse_patch_written_in` and
    /// `parse_string_styles_in`: `t` and the written text of a typed plain scalar (`0x1F`,
    /// `1.10`, `~`), `q` or `p` and the value of a string written quoted (or as a block) or
    /// plain.
    pub(crate) scalars: Vec<(Vec<PathSeg>, String)>,
}

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

impl Document {
    fn new(value: Value, line: usize, offset: usize) -> Self {
        Document {
            value,
            line,
            offset,
            empty_nulls: Vec::new(),
            annotation_texts: Vec::new(),
            folded_raw: Vec::new(),
            scalars: Vec::new(),
        }
    }
}

/// A syntax or decoding error, with its position in the text.
#[derive(Debug, Clone)]
pub struct YamlError {
    pub message: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// Byte offset.
    pub offset: usize,
    /// What to do about it, when the reader knows better than a generic hint.
    pub help: Option<String>,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.col, self.message
        )
    }
}

impl std::error::Error for YamlError {}

impl YamlError {
    fn new(message: impl Into<String>, line: usize, col: usize, offset: usize) -> Self {
        let message = message.into();
        YamlError {
            message,
            line,
            col,
            offset,
            help: None,
        }
    }

    pub(super) fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// How many nodes aliases may expand to, shared by every file of a build (an alias bomb
/// spread over many small files is still one bomb). Each parse draws on it.
#[derive(Debug)]
pub struct AliasBudget {
    pub(super) limit: usize,
    spent: std::sync::atomic::AtomicUsize,
}

impl AliasBudget {
    /// The default, `--max-yaml-aliases`' default: far above what real files expand to.
    pub const DEFAULT: usize = 1_000_000;

    pub fn new(limit: usize) -> AliasBudget {
        AliasBudget {
            limit,
            spent: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Spend `n` expanded nodes; false when that goes over the limit.
    pub(super) fn spend(&self, n: usize) -> bool {
        let before = self
            .spent
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        before.saturating_add(n) <= self.limit
    }
}

impl Default for AliasBudget {
    fn default() -> AliasBudget {
        AliasBudget::new(AliasBudget::DEFAULT)
    }
}

/// Deepest nesting accepted, go-yaml's own limit. The printer, `Drop` and the transformers
/// recurse on documents: the CLI runs them on threads with large stacks.
pub(super) const MAX_DEPTH: usize = 10_000;

/// Parses every document of `text` (with a budget of its own for aliases).
pub fn parse_documents(text: &str) -> Result<Vec<Document>, YamlError> {
    parse_with(text, false, &AliasBudget::default())
}

/// Parses every document of `text`, drawing alias expansions from a shared budget;
/// `lenient` lets a repeated key replace the earlier one.
pub fn parse_documents_in(
    text: &str,
    lenient: bool,
    budget: &AliasBudget,
) -> Result<Vec<Document>, YamlError> {
    parse_with(text, lenient, budget)
}

/// Parses Kubernetes objects (resources, patches): as `parse_documents_in`, and every
/// mapping key must be a string, as kubectl's JSON round trip demands (`1: x` and
/// `true: x` are errors there).
pub fn parse_objects_in(text: &str, budget: &AliasBudget) -> Result<Vec<Document>, YamlError> {
    parse_opts(text, false, true, false, budget)
}

/// Parses a kustomization file as Kustomize decodes one (go-yaml v2, YAML 1.1): `yes`,
/// `on`, `y` and their kin are booleans; a repeated key replaces the earlier one.
pub fn parse_kustomization_in(
    text: &str,
    budget: &AliasBudget,
) -> Result<Vec<Document>, YamlError> {
    parse_opts(text, true, false, true, budget)
}

/// Parses text the way sigs.k8s.io/yaml (go-yaml v2, YAML 1.1) reads it, as Kustomize reads
/// a JSON 6902 patch: `y`, `yes`, `on` are booleans there.
pub fn parse_yaml11_in(text: &str, budget: &AliasBudget) -> Result<Vec<Document>, YamlError> {
    parse_opts(text, false, false, true, budget)
}

/// Strings of a document by path (written texts, or values).
pub type Texts = Vec<(Vec<PathSeg>, String)>;

/// How a string was written, as far as Kustomize's output depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    Plain,
    /// Quoted, or a literal block.
    Quoted,
    /// A folded block (`>`): kyaml re-folds whatever value the node ends up with.
    Folded,
}

impl Look {
    fn of(mark: u8) -> Look {
        match mark {
            b'q' => Look::Quoted,
            b'f' => Look::Folded,
            _ => Look::Plain,
        }
    }
}

/// A string of a document: its path, its value, and how it was written.
pub type StringStyle = (Vec<PathSeg>, String, Look);

/// How each non-empty document of a strategic merge patch was written: the texts of its
/// typed plain scalars (over a quoted string Kustomize keeps `0x1F` as that text, since
/// kyaml gives the patch's node the target's style), and the style of each string (a field
/// the patch adds keeps it).
pub fn parse_patch_written_in(
    text: &str,
    budget: &AliasBudget,
) -> Result<Vec<(Texts, Vec<StringStyle>)>, YamlError> {
    let docs = parse_opts_with(text, false, true, false, Record::Patch, budget)?;
    Ok(docs
        .into_iter()
        .filter(|d| !d.value.is_null())
        .map(|d| {
            let (mut texts, mut strings) = (Vec::new(), Vec::new());
            for (path, v) in d.scalars {
                let rest = v.get(1..).unwrap_or_default().to_string();
                match v.as_bytes().first() {
                    Some(b't') => texts.push((path, rest)),
                    Some(&mark) => strings.push((path, rest, Look::of(mark))),
                    None => {}
                }
            }
            (texts, strings)
        })
        .collect())
}

/// The strings of each document (with its start line) and how each was written: the style
/// a strategic merge patch's value takes on.
pub fn parse_string_styles_in(
    text: &str,
    budget: &AliasBudget,
) -> Result<Vec<(usize, Vec<StringStyle>)>, YamlError> {
    let docs = parse_opts_with(text, false, true, false, Record::Strings, budget)?;
    Ok(docs
        .into_iter()
        .map(|d| {
            let strings = d
                .scalars
                .into_iter()
                .map(|(path, v)| {
                    let look = Look::of(v.as_bytes().first().copied().unwrap_or(b'p'));
                    (path, v.get(1..).unwrap_or_default().to_string(), look)
                })
                .collect();
            (d.line, strings)
        })
        .collect())
}

/// What the reader records besides the values.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Record {
    #[default]
    Nothing,
    /// Typed plain scalars' texts and strings' styles.
    Patch,
    /// Strings' styles.
    Strings,
}

fn parse_with(text: &str, lenient: bool, budget: &AliasBudget) -> Result<Vec<Document>, YamlError> {
    parse_opts(text, lenient, false, false, budget)
}

fn parse_opts(
    text: &str,
    lenient: bool,
    string_keys: bool,
    yaml11: bool,
    budget: &AliasBudget,
) -> Result<Vec<Document>, YamlError> {
    parse_opts_with(text, lenient, string_keys, yaml11, Record::Nothing, budget)
}

fn parse_opts_with(
    text: &str,
    lenient: bool,
    string_keys: bool,
    yaml11: bool,
    record: Record,
    budget: &AliasBudget,
) -> Result<Vec<Document>, YamlError> {
    let pos = Positions::new(text);
    check_characters(text)?;
    let (mut b, mut docs) = (Builder::default(), Vec::new());
    b.lenient = lenient;
    b.string_keys = string_keys;
    b.yaml11 = yaml11;
    b.no_refold = yaml11;
    b.record = record;
    let (mut root, mut start) = (None, None);
    // Where the last document ended, whether it ended with `...`, and whether the current
    // document is one kubectl never reads (content after `...` without a `---`).
    let (mut ended_at, mut ended_explicitly, mut skip) = (0usize, false, false);
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| {
            let info = e.info().trim_end_matches('.');
            if info == "recursion limit exceeded" {
                // saphyr-parser counts flow levels in a byte.
                pos.at(
                    e.marker(),
                    "flow collections (`[` and `{`) nest deeper than 255 levels",
                )
                .with_help("write the inner levels in block style")
            } else {
                pos.at(e.marker(), info)
            }
        })?;
        let node = match event {
            Event::Scalar(..)
            | Event::SequenceStart(..)
            | Event::MappingStart(..)
            | Event::Alias(_) => true,
            Event::DocumentStart(explicit) => {
                (root, start) = (None, None);
                b.anchors.clear();
                let here = pos.byte(span.start.index());
                if explicit && let Some(line) = directive_line(text, ended_at, here) {
                    let message = "YAML directives (`%YAML`, `%TAG`) are not supported";
                    return Err(YamlError::new(message, line, 1, 0)
                        .with_help("remove the `%` line: kubectl refuses directives too"));
                }
                skip = !explicit && ended_explicitly;
                false
            }
            Event::DocumentEnd => {
                let (line, offset) = start
                    .take()
                    .unwrap_or((span.start.line(), pos.byte(span.start.index())));
                let value = root.take().unwrap_or(Value::Null);
                let mut doc = Document::new(value, line, offset);
                doc.empty_nulls = std::mem::take(&mut b.empty_nulls);
                doc.annotation_texts = std::mem::take(&mut b.annotation_texts);
                doc.folded_raw = std::mem::take(&mut b.folded_raw);
                doc.scalars = std::mem::take(&mut b.recorded);
                if !skip {
                    docs.push(doc);
                }
                ended_at = pos.byte(span.end.index());
                ended_explicitly = text
                    .get(pos.byte(span.start.index())..)
                    .is_some_and(|t| t.starts_with("..."));
                false
            }
            _ => false,
        };
        if node && start.is_none() {
            start = Some((span.start.line(), pos.byte(span.start.index())));
        }
        if let Some(value) = b.event(&pos, event, span, budget)? {
            root = Some(value);
        }
    }
    Ok(docs)
}

/// Maps saphyr's character indices to byte offsets.
pub(super) struct Positions<'a> {
    pub(super) text: &'a str,
    /// Byte offset of every 64th character; empty when the text is ASCII.
    marks: Vec<usize>,
}

impl<'a> Positions<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        let marks = match text.is_ascii() {
            true => Vec::new(),
            false => text.char_indices().step_by(64).map(|(b, _)| b).collect(),
        };
        Positions { text, marks }
    }

    pub(super) fn byte(&self, index: usize) -> usize {
        let len = self.text.len();
        if self.marks.is_empty() {
            return index.min(len);
        }
        let start = self.marks.get(index / 64).copied().unwrap_or(len);
        let mut chars = self.text[start..].char_indices();
        chars.nth(index % 64).map_or(len, |(b, _)| start + b)
    }

    pub(super) fn at(&self, m: &Marker, message: impl Into<String>) -> YamlError {
        YamlError::new(message, m.line(), m.col() + 1, self.byte(m.index()))
    }
}

/// The line of a `%` directive between byte offsets `from` and `to`, if there is one.
fn directive_line(text: &str, from: usize, to: usize) -> Option<usize> {
    let between = text.get(from..to)?;
    let first = text[..from].matches('\n').count() + 1;
    between
        .split('\n')
        .enumerate()
        .find(|(_, l)| l.starts_with('%'))
        .map(|(i, _)| first + i)
}

/// go-yaml's reader refuses control characters anywhere in the input.
fn check_characters(text: &str) -> Result<(), YamlError> {
    let ok = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | '\u{85}' | ' '..='~' | '\u{A0}'..='\u{FFFD}')
            || c >= '\u{10000}'
    };
    let Some((offset, _)) = text.char_indices().find(|&(_, c)| !ok(c)) else {
        return Ok(());
    };
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    let message = "control characters are not allowed";
    Err(YamlError::new(message, line, col, offset).with_help(
        "remove the character (escape it as `\\u…` in a double-quoted string if it is meant)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Value {
        let docs = parse_documents(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(docs.len(), 1, "{text:?}");
        docs[0].value.clone()
    }

    #[test]
    fn scalars_resolve_like_go_yaml_v3() {
        // `input => Debug of the value`, several per line.
        let cases = r#"
            => Null; ~ => Null; null => Null; NULL => Null; nUll => Str("nUll"); true => Bool(true)
            True => Bool(true); FALSE => Bool(false); yes => Str("yes"); no => Str("no"); on => Str("on")
            2001-12-14 => Str("2001-12-14T00:00:00Z"); 2001-1-4 => Str("2001-01-04T00:00:00Z")
            2001-12-14t21:59:43.10-05:00 => Str("2001-12-14T21:59:43.1-05:00")
            2001-12-14 21:59:43.10 => Str("2001-12-14T21:59:43.1Z")
            2001-12-14T21:59:43+00:00 => Str("2001-12-14T21:59:43Z")
            2001-01-01T01:02:03.1234567891Z => Str("2001-01-01T01:02:03.123456789Z")
            2001-02-30 => Str("2001-02-30"); 2001-12-14T21:59:43 => Str("2001-12-14T21:59:43")
            0777 => Int(511); 0o17 => Int(15); 0x1F => Int(31); -0x10 => Int(-16); 0B11 => Int(3)
            -0b101 => Int(-5); +1 => Int(1); -0 => Int(0); 1_000 => Int(1000); 0_7 => Int(7)
            9223372036854775807 => Int(9223372036854775807); 0x8000000000000000 => UInt(9223372036854775808)
            -9223372036854775808 => Int(-9223372036854775808); 12345678901234567890 => UInt(12345678901234567890)
            -9223372036854775809 => Float(-9.223372036854776e18); 09 => Float(9.0); 1.0 => Float(1.0)
            .5 => Float(0.5); -.5 => Float(-0.5); 1e3 => Float(1000.0); 1.0e+30 => Float(1e30); 1. => Float(1.0)
            1_0.5 => Float(10.5); .5_0 => Float(0.5); .inf => Float(inf); -.Inf => Float(-inf); .NaN => Float(NaN)
            1e400 => Str("1e400"); 1.2.3 => Str("1.2.3"); 0x => Str("0x"); 0x1g => Str("0x1g"); 1e => Str("1e")
            ._5 => Str("._5"); _1 => Str("_1"); 1:20 => Str("1:20"); 0x123456789012345678901 => Str("0x123456789012345678901")
            '0777' => Str("0777"); "true" => Str("true"); "" => Str(""); !!str 123 => Str("123")
            !!int "12" => Int(12); !!float 1 => Float(1.0); !!null ~ => Null; !foo 1 => Str("1"); ! 1 => Str("1")
            !!binary aGVsbG8= => Str("hello"); !!binary aGk= => Str("hi"); !!binary YQ== => Str("a")
        "#;
        for case in cases
            .lines()
            .flat_map(|l| l.split("; "))
            .filter(|c| !c.trim().is_empty())
        {
            let (input, want) = case.trim().split_once("=>").unwrap_or_default();
            let got = one(&format!("v: {}\n", input.trim())).get("v").cloned();
            assert_eq!(
                format!("{:?}", got.unwrap_or(Value::Str("?".into()))),
                want.trim(),
                "{input}"
            );
        }
        assert_eq!(
            one("v: |\n  0777\n").get("v"),
            Some(&Value::Str("0777\n".into()))
        );
        let folded = [
            ("c: >\n  a\n    b\n  c\n", "a\n\n  b\nc\n"),
            ("c: >+\n  a\n\n", "a\n\n\n"),
            ("c: >2\n    a\n  b\n\n  c\n", "  a\nb c\n"),
            ("c: >\n\n  a\n    b\n", "\na\n\n  b\n"),
            (
                "c: >2\n    a\n  b\n  c\n\n\n  d\n    e\n  f\n",
                "  a\nb c\nd\n  e\nf\n",
            ),
            ("c: >-\n  a\n  b\n\n  c", "a b\nc"),
        ];
        for (text, want) in folded {
            assert_eq!(
                one(text).get("c"),
                Some(&Value::Str(want.into())),
                "{text:?}"
            );
        }
        let keys = one("1: a\n1.50: b\ntrue: c\n\"q\": d\n");
        let keys: Vec<&String> = keys
            .as_map()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys, ["1", "1.50", "true", "q"]);
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let cases = [
            ("a: &x {k: v}\nb: *x\n", "{a: {k: v}, b: {k: v}}"),
            ("a: &x [1, 2]\nb: *x\n", "{a: [1, 2], b: [1, 2]}"),
            ("a: &x 1\nb: *x\n", "{a: 1, b: 1}"),
            (
                "b: &b {a: 1, b: 2}\nm:\n  <<: *b\n  b: 3\n",
                "{b: {a: 1, b: 2}, m: {b: 3, a: 1}}",
            ),
            (
                "x: &x {a: 1, b: 2}\ny: &y {a: 9, c: 9}\nm: {<<: [*x, *y], c: 4}\n",
                "{x: {a: 1, b: 2}, y: {a: 9, c: 9}, m: {c: 4, a: 1, b: 2}}",
            ),
            ("m:\n  \"<<\": {a: 1}\n", "{m: {\"<<\": {a: 1}}}"),
        ];
        for (text, want) in cases {
            assert_eq!(one(text), one(want), "{text}");
        }
    }

    #[test]
    fn errors_carry_positions() {
        // `yaml ~ message ~ line:col`, with `|` standing for a line break.
        let cases = r#"
            a: 1|b: 2|a: 3 ~ mapping key "a" already defined at line 1 ~ 3:1
            m:|  <<: {a: 1}|  <<: {b: 1} ~ mapping key "<<" already defined at line 2 ~ 3:3
            a: 1|b: *nope ~ while parsing node, found unknown anchor ~ 2:4
            a: &x [*x] ~ anchor value contains itself ~ 1:8
            a: &x 1|---|b: *x ~ unknown anchor referenced ~ 3:4
            m:|  <<: 1 ~ map merge requires map or sequence of maps as the value ~ 2:3
            v: !!int abc ~ cannot decode !!str `abc` as a !!int ~ 1:4
            v: !!binary a?== ~ !!binary value contains invalid base64 data ~ 1:4
            a:|  b: 1|   c: 2 ~ mapping values are not allowed in this context ~ 3:5
            a: [1, 2 ~ while parsing a flow sequence, expected ',' or ']' ~ 2:1
            a: 1|b: é\x01 ~ control characters are not allowed ~ 2:5
            ? [a]|: 1 ~ mapping key must be a scalar ~ 1:3
        "#;
        for case in cases.lines().map(str::trim).filter(|c| !c.is_empty()) {
            let (text, want) = case.split_once(" ~ ").unwrap_or_default();
            let text = format!("{}\n", text.replace('|', "\n").replace("\\x01", "\u{1}"));
            let e = parse_documents(&text)
                .err()
                .unwrap_or_else(|| panic!("{text:?} parsed"));
            assert_eq!(
                format!("{} ~ {}:{}", e.message, e.line, e.col),
                want,
                "{text:?}"
            );
        }
        let deep = format!("{}x\n", "- ".repeat(MAX_DEPTH + 1));
        let e = parse_documents(&deep).err().map(|e| (e.message, e.col));
        assert_eq!(e, Some(("exceeded max depth of 10000".into(), 20001)));
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/fixtures/book/broken/deployment.yaml"
        );
        let Ok(text) = std::fs::read_to_string(path) else {
            return eprintln!("skipping: no {path}");
        };
        let e = parse_documents(&text)
            .err()
            .unwrap_or_else(|| panic!("{path} parsed"));
        assert_eq!(
            (e.message.as_str(), e.line, e.col),
            (
                "while parsing a block mapping, did not find expected key",
                16,
                6
            )
        );
        assert_eq!(text.get(e.offset..e.offset + 5), Some("spec:"));
    }

    #[test]
    fn documents_and_their_start() {
        let text = "# head\na: 1\n---\n# only a comment\n---\n\nb: é\n...\n---\n- x\n";
        let docs = parse_documents(text).unwrap_or_default();
        let got: Vec<(bool, usize, usize)> = docs
            .iter()
            .map(|d| (d.value.is_null(), d.line, d.offset))
            .collect();
        assert_eq!(
            got,
            [
                (false, 2, 7),
                (true, 5, 33),
                (false, 7, 38),
                (false, 10, 52)
            ]
        );
        assert!(parse_documents("").unwrap_or_default().is_empty());
        assert_eq!(
            one("\u{feff}é: ü\n").get("é"),
            Some(&Value::Str("ü".into()))
        );
    }
}
