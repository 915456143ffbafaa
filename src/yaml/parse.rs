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

use super::{Map, Value};
use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Span, Tag};
use std::collections::HashMap;
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
    pub empty_nulls: Vec<Vec<PathSeg>>,
    /// The written text of each scalar under `metadata.annotations` (objects only): Kustomize
    /// keeps an annotation as that text (`2001-12-14`, `1.50`, `0x1F`), not as what it reads
    /// as. Paths are from the document root (through `items.<i>` in a List).
    pub annotation_texts: Vec<(Vec<PathSeg>, String)>,
    /// Folded scalars (`>`) whose value go-yaml keeps raw but prints re-folded: the tree
    /// holds the printed form, this the raw one, which Kustomize's generator merge and
    /// replacements read (paths of map fields only).
    pub folded_raw: Vec<(Vec<PathSeg>, String)>,
    /// Scalars by path, recorded only by `parse_patch_written_in` and
    /// `parse_string_styles_in`: `t` and the written text of a typed plain scalar (`0x1F`,
    /// `1.10`, `~`), `q` or `p` and the value of a string written quoted (or as a block) or
    /// plain.
    pub scalars: Vec<(Vec<PathSeg>, String)>,
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

    fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// How many nodes aliases may expand to, shared by every file of a build (an alias bomb
/// spread over many small files is still one bomb). Each parse draws on it.
#[derive(Debug)]
pub struct AliasBudget {
    limit: usize,
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
    fn spend(&self, n: usize) -> bool {
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
const MAX_DEPTH: usize = 10_000;

/// Parses every document of `text` (with a budget of its own for aliases).
pub fn parse_documents(text: &str) -> Result<Vec<Document>, YamlError> {
    parse_with(text, false, &AliasBudget::default())
}

/// Like `parse_documents`, but a repeated map key replaces the earlier value instead of
/// being an error (kustomization files are decoded that way).
pub fn parse_documents_lenient(text: &str) -> Result<Vec<Document>, YamlError> {
    parse_with(text, true, &AliasBudget::default())
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
enum Record {
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
struct Positions<'a> {
    text: &'a str,
    /// Byte offset of every 64th character; empty when the text is ASCII.
    marks: Vec<usize>,
}

impl<'a> Positions<'a> {
    fn new(text: &'a str) -> Self {
        let marks = match text.is_ascii() {
            true => Vec::new(),
            false => text.char_indices().step_by(64).map(|(b, _)| b).collect(),
        };
        Positions { text, marks }
    }

    fn byte(&self, index: usize) -> usize {
        let len = self.text.len();
        if self.marks.is_empty() {
            return index.min(len);
        }
        let start = self.marks.get(index / 64).copied().unwrap_or(len);
        let mut chars = self.text[start..].char_indices();
        chars.nth(index % 64).map_or(len, |(b, _)| start + b)
    }

    fn at(&self, m: &Marker, message: impl Into<String>) -> YamlError {
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

/// A map being built.
struct MapFrame {
    map: Map,
    /// Line of each explicit key, by index in `map`.
    lines: Vec<usize>,
    /// The key waiting for its value, whether it is `<<`, and where it is.
    key: Option<(String, bool, Span)>,
    /// Values of `<<` keys, with the key's position.
    merges: Vec<(Value, Span)>,
}

enum Frame {
    Seq(Vec<Value>),
    Map(MapFrame),
}

#[derive(Default)]
struct Builder {
    /// Open collections with their anchor id and start.
    stack: Vec<(Frame, usize, Span)>,
    anchors: HashMap<usize, (Value, usize, Option<String>)>,
    /// Repeated keys replace earlier ones instead of failing.
    lenient: bool,
    /// Keys must be strings (Kubernetes objects).
    string_keys: bool,
    /// Plain scalars resolve as go-yaml v2 resolves them (YAML 1.1 booleans).
    yaml11: bool,
    /// Paths of the current document's empty map values.
    empty_nulls: Vec<Vec<PathSeg>>,
    /// Written texts of the current document's annotations.
    annotation_texts: Vec<(Vec<PathSeg>, String)>,
    /// Raw values of the current document's re-folded scalars.
    folded_raw: Vec<(Vec<PathSeg>, String)>,
    /// Kustomization files: folded scalars stay raw (sigs.k8s.io/yaml never re-folds).
    no_refold: bool,
    /// What to record of each scalar (`Document::plain_texts` or `Document::styled`).
    record: Record,
    /// What was recorded for the current document.
    recorded: Vec<(Vec<PathSeg>, String)>,
}

impl Builder {
    /// Applies one event; returns the document root once it is complete.
    fn event(
        &mut self,
        pos: &Positions<'_>,
        event: Event,
        span: Span,
        budget: &AliasBudget,
    ) -> Result<Option<Value>, YamlError> {
        let mut empty = false;
        // The written text of a scalar (before folding is re-applied), for annotations.
        let mut raw: Option<String> = None;
        let mut folded: Option<String> = None;
        let mut recorded: Option<String> = None;
        let (value, key, anchor, span) = match event {
            Event::Scalar(mut text, style, anchor, tag) => {
                // A block scalar that runs to the end of a file with no final newline has no
                // last line break to keep (saphyr-parser adds one; go-yaml does not).
                let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
                if block && text.ends_with('\n') && !pos.text.ends_with('\n') {
                    let rest = pos.text.get(pos.byte(span.end.index())..).unwrap_or("");
                    if !rest.contains('\n') {
                        let mut t = text.into_owned();
                        t.pop();
                        text = t.into();
                    }
                }
                if self.string_keys && self.in_annotations() {
                    raw = Some(text.to_string());
                }
                if style == ScalarStyle::Folded && !self.no_refold {
                    let refolded = folded_round_trip(&text);
                    if refolded != *text {
                        folded = Some(text.to_string());
                    }
                    text = refolded.into();
                }
                let mut value = resolve_scalar(&text, style, tag.as_deref())
                    .map_err(|m| pos.at(&span.start, m))?;
                if self.yaml11 && style == ScalarStyle::Plain && tag.is_none() {
                    value = yaml11_bool(&text).map_or(value, Value::Bool);
                    // go-yaml v2 gives a timestamp-like value its text when decoding into
                    // an interface (sigs.k8s.io/yaml does so).
                    if matches!(&value, Value::Str(s) if *s != *text) {
                        value = Value::Str(text.to_string());
                    }
                }
                empty = text.is_empty() && value.is_null();
                if self.record != Record::Nothing {
                    let typed = style == ScalarStyle::Plain
                        && tag.is_none()
                        && value != Value::Str(text.to_string());
                    recorded = match (&value, typed) {
                        (_, true) if self.record == Record::Patch => Some(format!("t{text}")),
                        (Value::Str(v), _) => {
                            let mark = match style {
                                ScalarStyle::Plain => 'p',
                                ScalarStyle::Folded => 'f',
                                _ => 'q',
                            };
                            Some(format!("{mark}{v}"))
                        }
                        _ => None,
                    };
                }
                let merge = style == ScalarStyle::Plain
                    && text == "<<"
                    && tag
                        .as_deref()
                        .is_none_or(|t| matches!(short_tag(t).as_str(), "!" | "!!merge"));
                (value, Some((text.into_owned(), merge)), anchor, span)
            }
            Event::Alias(id) => {
                let Some((value, size, anchored_raw)) = self.anchors.get(&id).cloned() else {
                    let open = self.stack.iter().any(|(_, anchor, _)| *anchor == id);
                    let message = match open {
                        true => "anchor value contains itself",
                        false => "unknown anchor referenced",
                    };
                    return Err(pos.at(&span.start, message));
                };
                if !budget.spend(size) {
                    let message = format!(
                        "YAML aliases expand to more than {} nodes in this run",
                        budget.limit
                    );
                    return Err(pos.at(&span.start, message).with_help(
                        "an alias bomb? pass `--max-yaml-aliases N` if the files really need more",
                    ));
                }
                let key = value.scalar_text().map(|t| (t, false));
                raw = anchored_raw;
                (value, key, 0, span)
            }
            Event::SequenceStart(..) | Event::MappingStart(..) if self.stack.len() >= MAX_DEPTH => {
                return Err(pos.at(&span.start, format!("exceeded max depth of {MAX_DEPTH}")));
            }
            Event::SequenceStart(anchor, _) => {
                self.stack.push((Frame::Seq(Vec::new()), anchor, span));
                return Ok(None);
            }
            Event::MappingStart(anchor, _) => {
                let frame = MapFrame {
                    map: Map::default(),
                    lines: Vec::new(),
                    key: None,
                    merges: Vec::new(),
                };
                self.stack.push((Frame::Map(frame), anchor, span));
                return Ok(None);
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some((Frame::Seq(mut items), anchor, start)) => {
                    // Documents stay in memory for the whole build: give back the
                    // growth slack of every sequence and mapping.
                    items.shrink_to_fit();
                    (Value::Seq(items), None, anchor, start)
                }
                Some((Frame::Map(mut m), anchor, start)) => {
                    for (value, at) in m.merges {
                        merge_into(&mut m.map, value).map_err(|e| pos.at(&at.start, e))?;
                    }
                    m.map.shrink_to_fit();
                    (Value::Map(m.map), None, anchor, start)
                }
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        if anchor != 0 {
            let size = count_nodes(&value);
            self.anchors
                .insert(anchor, (value.clone(), size, raw.clone()));
        }
        // A re-folded scalar becoming a map field: remember its raw value.
        let folded_entry = match (&folded, self.stack.last()) {
            (Some(r), Some((Frame::Map(m), ..))) => match &m.key {
                Some((k, false, _)) => {
                    let mut path = self.path_to_top();
                    path.push(PathSeg::Key(k.clone()));
                    Some((path, r.clone()))
                }
                _ => None,
            },
            _ => None,
        };
        // An annotation's written text: remember it under its path.
        let annotation = match (&raw, self.stack.last()) {
            (Some(r), Some((Frame::Map(m), ..))) if self.in_annotations() => match &m.key {
                Some((k, false, _)) => {
                    let mut path = self.path_to_top();
                    path.push(PathSeg::Key(k.clone()));
                    Some((path, r.clone()))
                }
                _ => None,
            },
            _ => None,
        };
        // A scalar to record becoming a map field or a list item: remember it by path.
        if let Some(t) = recorded {
            match self.stack.last() {
                Some((Frame::Map(m), ..)) => {
                    if let Some((k, false, _)) = &m.key {
                        let mut path = self.path_to_top();
                        path.push(PathSeg::Key(k.clone()));
                        self.recorded.push((path, t));
                    }
                }
                Some((Frame::Seq(items), ..)) => {
                    let mut path = self.path_to_top();
                    path.push(PathSeg::Index(items.len()));
                    self.recorded.push((path, t));
                }
                None => {}
            }
        }
        // An empty value about to become a map field: remember where.
        let empty_path = match self.stack.last() {
            Some((Frame::Map(m), ..)) if empty => match &m.key {
                Some((k, false, _)) => {
                    let mut path = self.path_to_top();
                    path.push(PathSeg::Key(k.clone()));
                    Some(path)
                }
                _ => None,
            },
            _ => None,
        };
        match self.stack.last_mut() {
            None => return Ok(Some(value)),
            Some((Frame::Seq(items), ..)) => items.push(value),
            Some((Frame::Map(m), ..)) => match m.key.take() {
                None => {
                    let Some((text, merge)) = key else {
                        return Err(pos.at(&span.start, "mapping key must be a scalar"));
                    };
                    if self.string_keys && !merge && !matches!(value, Value::Str(_)) {
                        let what = match value {
                            Value::Bool(_) => "a boolean",
                            Value::Null => "null",
                            _ => "a number",
                        };
                        let message = format!("mapping key `{text}` is {what}, not a string");
                        return Err(pos.at(&span.start, message).with_help(format!(
                            "Kubernetes objects need string keys: quote it, `\"{text}\":`"
                        )));
                    }
                    let first = if merge {
                        m.merges.first().map(|(_, s)| s.start.line())
                    } else {
                        m.map
                            .get_index_of(&text)
                            .and_then(|i| m.lines.get(i).copied())
                    };
                    if let Some(first) = first.filter(|_| !self.lenient) {
                        let message =
                            format!("mapping key {text:?} already defined at line {first}");
                        return Err(pos.at(&span.start, message));
                    }
                    m.key = Some((text, merge, span));
                }
                Some((_, true, at)) => m.merges.push((value, at)),
                // kubectl drops a quoted `<<` key from objects (its JSON round trip turns it
                // into a merge key that then merges nothing).
                Some((text, false, _)) if self.string_keys && text == "<<" => {}
                Some((text, false, at)) => {
                    if let Some(path) = empty_path {
                        self.empty_nulls.push(path);
                    }
                    if let Some(a) = annotation {
                        self.annotation_texts.push(a);
                    }
                    if let Some(f) = folded_entry {
                        self.folded_raw.push(f);
                    }
                    if m.map.insert(text, value).is_none() {
                        m.lines.push(at.start.line());
                    }
                }
            },
        }
        Ok(None)
    }
}

impl Builder {
    /// Whether the collection on top of the stack is `metadata.annotations` of an object
    /// (the document itself, or an item of a List at any depth).
    fn in_annotations(&self) -> bool {
        let n = self.stack.len();
        if n < 3 || n.is_multiple_of(2) {
            return false;
        }
        let key_of = |i: usize| match &self.stack[i].0 {
            Frame::Map(m) => m.key.as_ref().map(|(k, ..)| k.as_str()),
            Frame::Seq(_) => None,
        };
        if key_of(n - 2) != Some("annotations") || key_of(n - 3) != Some("metadata") {
            return false;
        }
        // Below: the root, or `items` / a list / an item for every List level.
        (0..n - 3).step_by(2).all(|i| key_of(i) == Some("items"))
            && (1..n - 3)
                .step_by(2)
                .all(|i| matches!(self.stack[i].0, Frame::Seq(_)))
            && matches!(self.stack[n - 1].0, Frame::Map(_))
    }

    /// The path from the document root to the collection on top of the stack.
    fn path_to_top(&self) -> Vec<PathSeg> {
        let n = self.stack.len();
        self.stack[..n.saturating_sub(1)]
            .iter()
            .map(|(frame, ..)| match frame {
                Frame::Seq(items) => PathSeg::Index(items.len()),
                Frame::Map(m) => {
                    PathSeg::Key(m.key.as_ref().map(|(k, ..)| k.clone()).unwrap_or_default())
                }
            })
            .collect()
    }
}

fn count_nodes(value: &Value) -> usize {
    match value {
        Value::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Value::Map(map) => 1 + map.values().map(count_nodes).sum::<usize>(),
        _ => 1,
    }
}

/// Folds the value of a `<<` key into `map`; keys already present win, then earlier sources.
fn merge_into(map: &mut Map, value: Value) -> Result<(), String> {
    let sources = match value {
        Value::Map(m) => vec![Value::Map(m)],
        Value::Seq(items) => items,
        _ => Vec::new(),
    };
    if sources.is_empty() || sources.iter().any(|s| s.as_map().is_none()) {
        return Err("map merge requires map or sequence of maps as the value".into());
    }
    for source in sources {
        if let Value::Map(source) = source {
            for (k, v) in source {
                map.entry(k).or_insert(v);
            }
        }
    }
    Ok(())
}

/// What a folded (`>`) scalar becomes on its way to kubectl's output: kustomize re-emits each
/// node in its source style with go-yaml v3 and reads it back, and that emitter decides
/// whether a line break needs an extra blank line by looking at the first line of the whole
/// value instead of the next line. Breaks before more-indented lines or at the end of a `>+`
/// scalar gain a newline when the value starts flush; when it starts indented, a break
/// between two flush lines loses one (a single one becomes a space).
/// The value kubectl prints for a folded scalar whose raw value is `raw`.
pub fn refolded(raw: &str) -> String {
    folded_round_trip(raw)
}

fn folded_round_trip(v: &str) -> String {
    let blank = |s: &str| s.starts_with([' ', '\t']);
    let mut rest = v.trim_start_matches('\n');
    let flush = !rest.is_empty() && !blank(rest);
    let keep = v == "\n" || v.ends_with("\n\n");
    let mut out = "\n".repeat(v.len() - rest.len());
    while let Some(end) = rest.find('\n') {
        let (line, after) = rest.split_at(end);
        let next = after.trim_start_matches('\n');
        let mut breaks = after.len() - next.len();
        out.push_str(line);
        if !blank(line) {
            if flush && (blank(next) || next.is_empty() && keep) {
                breaks += 1;
            } else if !flush && !next.is_empty() && !blank(next) {
                breaks -= 1;
                if breaks == 0 {
                    out.push(' ');
                }
            }
        }
        out.push_str(&"\n".repeat(breaks));
        rest = next;
    }
    out.push_str(rest);
    out
}

/// A tag in go-yaml's short form (`!!str`, `!foo`, `!`).
fn short_tag(tag: &Tag) -> String {
    let full = format!("{}{}", tag.handle, tag.suffix);
    match full.strip_prefix("tag:yaml.org,2002:") {
        Some(rest) => format!("!!{rest}"),
        None => full,
    }
}

/// One scalar as go-yaml v3 decodes it into `interface{}`.
fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    let tag = tag.map(short_tag);
    let tag = match tag.as_deref() {
        None if style == ScalarStyle::Plain => "",
        Some(t @ ("!!int" | "!!float" | "!!bool" | "!!null" | "!!timestamp")) => t,
        Some("!!binary") => {
            let bad = || "!!binary value contains invalid base64 data".to_string();
            return crate::codec::decode_yaml_binary(text)
                .map(Value::Str)
                .ok_or_else(bad);
        }
        _ => return Ok(Value::Str(text.to_string())),
    };
    let (value, rtag) = resolve_plain(text, tag.is_empty() || tag == "!!timestamp");
    match (tag, value) {
        ("", value) => Ok(value),
        (_, value) if tag == rtag => Ok(value),
        ("!!float", Value::Int(i)) => Ok(Value::Float(i as f64)),
        _ => Err(format!("cannot decode {rtag} `{text}` as a {tag}")),
    }
}

/// go-yaml v3's `resolve` for a plain scalar: the value and its tag.
/// The YAML 1.1 booleans go-yaml v2 knows beyond `true` and `false`.
fn yaml11_bool(text: &str) -> Option<bool> {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// Whether `s` is a YAML 1.1 boolean that YAML 1.2 reads as a string (`yes`, `on`, `n`):
/// kyaml double-quotes such a string wherever a strategic merge walks.
pub fn is_yaml11_only_bool(s: &str) -> bool {
    yaml11_bool(s).is_some()
}

/// Whether go-yaml v3 reads `s`, written as a plain scalar, as a string: a key Kustomize
/// writes untagged (a generator's, a label transformer's) survives kubectl's JSON round
/// trip only then (`1`, `true`, `~`, `2001-12-14` and `<<` do not).
pub fn plain_is_string(s: &str) -> bool {
    s != "<<" && resolve_plain(s, true).1 == "!!str"
}

/// What an untagged plain scalar with this text reads as (go-yaml v3's resolution).
pub fn plain_scalar(text: &str) -> Value {
    resolve_plain(text, true).0
}

fn resolve_plain(s: &str, allow_time: bool) -> (Value, &'static str) {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return (Value::Null, "!!null"),
        "true" | "True" | "TRUE" => return (Value::Bool(true), "!!bool"),
        "false" | "False" | "FALSE" => return (Value::Bool(false), "!!bool"),
        ".nan" | ".NaN" | ".NAN" => return (Value::Float(f64::NAN), "!!float"),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return (Value::Float(f64::INFINITY), "!!float");
        }
        "-.inf" | "-.Inf" | "-.INF" => return (Value::Float(f64::NEG_INFINITY), "!!float"),
        _ => {}
    }
    let string = (Value::Str(s.to_string()), "!!str");
    match s.as_bytes()[0] {
        b'.' => go_parse_float(s).map_or(string, |f| (Value::Float(f), "!!float")),
        b'0'..=b'9' | b'+' | b'-' => {
            if let Some(t) = parse_timestamp(s).filter(|_| allow_time) {
                return (Value::Str(t), "!!timestamp");
            }
            let plain = s.replace('_', "");
            if let Some(i) = go_parse_int(&plain) {
                (Value::Int(i), "!!int")
            } else if let Some(u) = go_parse_uint(&plain) {
                (Value::UInt(u), "!!int")
            } else if let Some(f) = go_parse_float(&plain).filter(|_| is_yaml_float(&plain)) {
                (Value::Float(f), "!!float")
            } else {
                string
            }
        }
        _ => string,
    }
}

/// Go's `strconv.ParseUint(s, 0, 64)` on text without underscores.
pub(super) fn go_parse_uint(s: &str) -> Option<u64> {
    let digits = |t: &str, radix| {
        let ok = t.bytes().all(|c| c.is_ascii_alphanumeric());
        ok.then(|| u64::from_str_radix(t, radix).ok()).flatten()
    };
    let b = s.as_bytes();
    match (b.first(), b.get(1).map(u8::to_ascii_lowercase)) {
        (Some(b'0'), Some(b'b')) if b.len() > 2 => digits(&s[2..], 2),
        (Some(b'0'), Some(b'o')) if b.len() > 2 => digits(&s[2..], 8),
        (Some(b'0'), Some(b'x')) if b.len() > 2 => digits(&s[2..], 16),
        (Some(b'0'), None) => Some(0),
        (Some(b'0'), _) => digits(&s[1..], 8),
        _ => digits(s, 10),
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)` on text without underscores.
pub(super) fn go_parse_int(s: &str) -> Option<i64> {
    match s.as_bytes().first()? {
        b'-' => go_parse_uint(&s[1..])
            .filter(|&n| n <= 1 << 63)
            .map(|n| (n as i64).wrapping_neg()),
        b'+' => go_parse_uint(&s[1..]).and_then(|n| i64::try_from(n).ok()),
        _ => go_parse_uint(s).and_then(|n| i64::try_from(n).ok()),
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
pub(super) fn is_yaml_float(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exp) = body
        .split_once(['e', 'E'])
        .map_or((body, None), |(m, e)| (m, Some(e)));
    let digits = |t: &str| t.bytes().all(|c| c.is_ascii_digit());
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let exp = exp.map(|e| e.strip_prefix(['+', '-']).unwrap_or(e));
    digits(int)
        && digits(frac)
        && !(int.is_empty() && frac.is_empty())
        && exp.is_none_or(|e| !e.is_empty() && digits(e))
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal text; underscores must sit between digits, and
/// out-of-range values are errors, as in Go.
pub(super) fn go_parse_float(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    let digit_at = |i: usize| body.get(i).is_some_and(u8::is_ascii_digit);
    let underscores_ok =
        (0..body.len()).all(|i| body[i] != b'_' || (i > 0 && digit_at(i - 1) && digit_at(i + 1)));
    let clean = s.replace('_', "");
    let mantissa = clean.split(['e', 'E']).next().unwrap_or("");
    let well_formed = mantissa.bytes().any(|c| c.is_ascii_digit())
        && clean
            .bytes()
            .all(|c| c.is_ascii_digit() || b"+-.eE".contains(&c));
    let f: f64 = clean
        .parse()
        .ok()
        .filter(|_| underscores_ok && well_formed)?;
    f.is_finite().then_some(f)
}

/// go-yaml's timestamp layouts (`2006-1-2T15:4:5.999999999Z07:00`, the same with `t`,
/// `2006-1-2 15:4:5.999999999`, `2006-1-2`), rendered as Go's JSON prints a `time.Time`.
pub(super) fn parse_timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let digit = |i: usize| {
        b.get(i)
            .filter(|c| c.is_ascii_digit())
            .map(|c| u32::from(c - b'0'))
    };
    // Go's getnum: one or two digits.
    let num = |i: &mut usize| {
        let first = digit(*i)?;
        *i += 1;
        let Some(second) = digit(*i) else {
            return Some(first);
        };
        *i += 1;
        Some(first * 10 + second)
    };
    let lit = |i: &mut usize, c: u8| (b.get(*i) == Some(&c)).then(|| *i += 1);
    let year: u32 = s[..4].parse().ok()?;
    let mut i = 5;
    let (month, _, day) = (num(&mut i)?, lit(&mut i, b'-')?, num(&mut i)?);
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        2 => 28 + u32::from(leap),
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=12).contains(&month) || day < 1 || day > days {
        return None;
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    if i == b.len() {
        return Some(format!("{date}T00:00:00Z"));
    }
    let zoned = matches!(b[i], b'T' | b't');
    let spaces = b[i..].iter().take_while(|&&c| c == b' ').count();
    i += if zoned { 1 } else { spaces };
    if !zoned && spaces == 0 {
        return None;
    }
    let hour = num(&mut i)?;
    let (_, min, _, sec) = (
        lit(&mut i, b':')?,
        num(&mut i)?,
        lit(&mut i, b':')?,
        num(&mut i)?,
    );
    if hour >= 24 || min >= 60 || sec >= 60 {
        return None;
    }
    let mut frac = String::new();
    if matches!(b.get(i), Some(b'.' | b',')) && digit(i + 1).is_some() {
        let n = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        let kept = s[i + 1..i + 1 + n.min(9)].trim_end_matches('0');
        if !kept.is_empty() {
            frac = format!(".{kept}");
        }
        i += 1 + n;
    }
    let mut zone = "Z".to_string();
    if zoned && lit(&mut i, b'Z').is_none() {
        let (sign, z) = (*b.get(i)?, i + 1);
        let two = |k: usize| Some(digit(k)? * 10 + digit(k + 1)?);
        let (hh, mm) = (two(z)?, two(z + 3)?);
        if !matches!(sign, b'+' | b'-') || b[z + 2] != b':' || hh > 24 || mm > 60 {
            return None;
        }
        let minutes = hh * 60 + mm;
        if minutes != 0 {
            zone = format!("{}{:02}:{:02}", sign as char, minutes / 60, minutes % 60);
        }
        i += 6;
    }
    (i == b.len()).then(|| format!("{date}T{hour:02}:{min:02}:{sec:02}{frac}{zone}"))
}

/// Where the node at `path` of document `doc_index` starts: the key's position when the last
/// segment is a map key, the item's when it is a sequence index (decimal). Content reached
/// through aliases or merge keys is not searched. `(line, col, byte offset)`, 1-based.
pub fn locate(text: &str, doc_index: usize, path: &[&str]) -> Option<(usize, usize, usize)> {
    /// An open collection: `seq` with its next index, or a map with the key whose value is
    /// pending (`None` while a key is expected).
    struct Open {
        seq: bool,
        next: usize,
        key: Option<String>,
    }
    let pos = Positions::new(text);
    let place = |s: &Span| Some((s.start.line(), s.start.col() + 1, pos.byte(s.start.index())));
    let (mut doc, mut skip, mut stack, mut prefix) =
        (0, 0usize, Vec::<Open>::new(), Vec::<String>::new());
    let is_target = |prefix: &[String], seg: &str| {
        prefix.len() + 1 == path.len()
            && prefix.iter().zip(path).all(|(a, b)| a == b)
            && path[prefix.len()] == seg
    };
    let mut parser = Parser::new_from_str(text);
    while let Some(Ok((event, span))) = parser.next_event() {
        let opens = matches!(event, Event::SequenceStart(..) | Event::MappingStart(..));
        let closes = matches!(event, Event::SequenceEnd | Event::MappingEnd);
        if matches!(event, Event::DocumentEnd) {
            doc += 1;
        }
        if doc > doc_index {
            return None;
        }
        if skip > 0 {
            skip = skip + usize::from(opens) - usize::from(closes);
            continue;
        }
        if closes {
            stack.pop();
            if !stack.is_empty() {
                prefix.pop();
            }
            continue;
        }
        if doc != doc_index || !(opens || matches!(event, Event::Scalar(..) | Event::Alias(_))) {
            continue;
        }
        let seg = match stack.last_mut() {
            None if path.is_empty() => return place(&span),
            None => None,
            Some(open) if open.seq => {
                open.next += 1;
                let seg = (open.next - 1).to_string();
                if is_target(&prefix, &seg) {
                    return place(&span);
                }
                Some(seg)
            }
            Some(open) if open.key.is_none() => {
                match &event {
                    Event::Scalar(t, ..) if is_target(&prefix, t) => return place(&span),
                    Event::Scalar(t, ..) => open.key = Some(t.to_string()),
                    _ => (open.key, skip) = (Some(String::new()), usize::from(opens)),
                }
                continue;
            }
            Some(open) => open.key.take(),
        };
        if opens {
            prefix.extend(seg);
            stack.push(Open {
                seq: matches!(event, Event::SequenceStart(..)),
                next: 0,
                key: None,
            });
        }
    }
    None
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

    #[test]
    fn locate_finds_keys_and_items() {
        let text = "a: 1\n---\nkind: X\nspec:\n  list:\n  - name: é\n  - {name: b, v: [1, 2]}\n  \"q k\": [x]\n";
        let cases: [(usize, &[&str], _); 12] = [
            (0, &["a"], Some((1, 1, 0))),
            (0, &[], Some((1, 1, 0))),
            (1, &[], Some((3, 1, 9))),
            (1, &["spec"], Some((4, 1, 17))),
            (1, &["spec", "list"], Some((5, 3, 25))),
            (1, &["spec", "list", "0"], Some((6, 5, 35))),
            (1, &["spec", "list", "0", "name"], Some((6, 5, 35))),
            (1, &["spec", "list", "1", "v", "1"], Some((7, 22, 65))),
            (1, &["spec", "q k", "0"], Some((8, 11, 79))),
            (1, &["spec", "list", "2"], None),
            (1, &["nope"], None),
            (2, &["a"], None),
        ];
        for (doc, path, want) in cases {
            assert_eq!(locate(text, doc, path), want, "{doc} {path:?}");
        }
    }
}
