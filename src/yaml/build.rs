//! The tree from saphyr-parser's events, decoded as go-yaml v3 decodes into `interface{}`:
//! scalars resolved (`scalar.rs`), aliases expanded within the alias budget, `<<` merge keys
//! folded in with explicit keys winning, duplicate keys errors (unless lenient), non-string
//! keys errors where Kubernetes objects need strings. On the way it notes, by path, what the
//! printer and the patches need to know of how the document was written: empty values,
//! annotations' written texts, re-folded scalars' raw values, and scalars' styles.

use super::parse::{AliasBudget, MAX_DEPTH, PathSeg, Positions, Record, YamlError};
use super::scalar::{folded_round_trip, resolve_scalar, short_tag, yaml11_bool};
use super::{Map, Value};
use saphyr_parser::{Event, ScalarStyle, Span, Tag};
use std::borrow::Cow;
use std::collections::HashMap;

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

/// A complete node: its value, its text and whether it is `<<` when it can be a key, its
/// anchor id (0: none) and where it starts.
type Node = (Value, Option<(String, bool)>, usize, Span);

/// What a node brings besides its value.
#[derive(Default)]
struct Notes {
    /// An empty scalar (a map value written as nothing).
    empty: bool,
    /// The written text of an annotation (before folding is re-applied).
    raw: Option<String>,
    /// The raw value of a re-folded scalar.
    folded: Option<String>,
    /// What `Record` keeps of the scalar.
    recorded: Option<String>,
}

#[derive(Default)]
pub(super) struct Builder {
    /// Open collections with their anchor id and start.
    stack: Vec<(Frame, usize, Span)>,
    pub(super) anchors: HashMap<usize, (Value, usize, Option<String>)>,
    /// Repeated keys replace earlier ones instead of failing.
    pub(super) lenient: bool,
    /// Keys must be strings (Kubernetes objects).
    pub(super) string_keys: bool,
    /// Plain scalars resolve as go-yaml v2 resolves them (YAML 1.1 booleans).
    pub(super) yaml11: bool,
    /// Paths of the current document's empty map values.
    pub(super) empty_nulls: Vec<Vec<PathSeg>>,
    /// Written texts of the current document's annotations.
    pub(super) annotation_texts: Vec<(Vec<PathSeg>, String)>,
    /// Raw values of the current document's re-folded scalars.
    pub(super) folded_raw: Vec<(Vec<PathSeg>, String)>,
    /// Kustomization files: folded scalars stay raw (sigs.k8s.io/yaml never re-folds).
    pub(super) no_refold: bool,
    /// What to record of each scalar (`Document::plain_texts` or `Document::styled`).
    pub(super) record: Record,
    /// What was recorded for the current document.
    pub(super) recorded: Vec<(Vec<PathSeg>, String)>,
}

impl Builder {
    /// Applies one event; returns the document root once it is complete.
    pub(super) fn event(
        &mut self,
        pos: &Positions<'_>,
        event: Event,
        span: Span,
        budget: &AliasBudget,
    ) -> Result<Option<Value>, YamlError> {
        let mut notes = Notes::default();
        let (value, key, anchor, span) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let (value, key) =
                    self.scalar(pos, text, style, tag.as_deref(), span, &mut notes)?;
                (value, key, anchor, span)
            }
            Event::Alias(id) => self.alias(pos, id, span, budget, &mut notes)?,
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
            Event::SequenceEnd | Event::MappingEnd => match self.close(pos)? {
                Some(node) => node,
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        if anchor != 0 {
            let size = count_nodes(&value);
            self.anchors
                .insert(anchor, (value.clone(), size, notes.raw.clone()));
        }
        self.place(pos, value, key, span, notes)
    }

    /// A scalar's value, and its text as a key.
    fn scalar(
        &mut self,
        pos: &Positions<'_>,
        mut text: Cow<'_, str>,
        style: ScalarStyle,
        tag: Option<&Tag>,
        span: Span,
        notes: &mut Notes,
    ) -> Result<(Value, Option<(String, bool)>), YamlError> {
        // A block scalar that runs to the end of a file with no final newline has no last
        // line break to keep (saphyr-parser adds one; go-yaml does not).
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
            notes.raw = Some(text.to_string());
        }
        if style == ScalarStyle::Folded && !self.no_refold {
            let refolded = folded_round_trip(&text);
            if refolded != *text {
                notes.folded = Some(text.to_string());
            }
            text = refolded.into();
        }
        let mut value = resolve_scalar(&text, style, tag).map_err(|m| pos.at(&span.start, m))?;
        if self.yaml11 && style == ScalarStyle::Plain && tag.is_none() {
            value = yaml11_bool(&text).map_or(value, Value::Bool);
            // go-yaml v2 gives a timestamp-like value its text when decoding into an
            // interface (sigs.k8s.io/yaml does so).
            if matches!(&value, Value::Str(s) if *s != *text) {
                value = Value::Str(text.to_string());
            }
        }
        notes.empty = text.is_empty() && value.is_null();
        if self.record != Record::Nothing {
            let typed = style == ScalarStyle::Plain
                && tag.is_none()
                && value != Value::Str(text.to_string());
            notes.recorded = match (&value, typed) {
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
            && tag.is_none_or(|t| matches!(short_tag(t).as_str(), "!" | "!!merge"));
        Ok((value, Some((text.into_owned(), merge))))
    }

    /// An alias: its anchor's value, paid for from the budget.
    fn alias(
        &self,
        pos: &Positions<'_>,
        id: usize,
        span: Span,
        budget: &AliasBudget,
        notes: &mut Notes,
    ) -> Result<Node, YamlError> {
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
        notes.raw = anchored_raw;
        Ok((value, key, 0, span))
    }

    /// The collection an end event closes (`<<` values merged into a map).
    fn close(&mut self, pos: &Positions<'_>) -> Result<Option<Node>, YamlError> {
        Ok(match self.stack.pop() {
            Some((Frame::Seq(mut items), anchor, start)) => {
                // Documents stay in memory for the whole build: give back the growth slack
                // of every sequence and mapping.
                items.shrink_to_fit();
                Some((Value::Seq(items), None, anchor, start))
            }
            Some((Frame::Map(mut m), anchor, start)) => {
                for (value, at) in m.merges {
                    merge_into(&mut m.map, value).map_err(|e| pos.at(&at.start, e))?;
                }
                m.map.shrink_to_fit();
                Some((Value::Map(m.map), None, anchor, start))
            }
            None => None,
        })
    }

    /// A complete node into the collection on top of the stack (as a key, a value or an
    /// item), or the document's root when nothing is open.
    fn place(
        &mut self,
        pos: &Positions<'_>,
        value: Value,
        key: Option<(String, bool)>,
        span: Span,
        notes: Notes,
    ) -> Result<Option<Value>, YamlError> {
        // A re-folded scalar, an annotation's written text, an empty value becoming a map
        // field: remembered by path once the field is set. (Paths are made only for these:
        // most nodes need none.)
        let annotation = notes.raw.filter(|_| self.in_annotations());
        let field = if notes.folded.is_some() || annotation.is_some() || notes.empty {
            self.field_path()
        } else {
            None
        };
        let folded_entry = field.clone().zip(notes.folded);
        let annotation = field.clone().zip(annotation);
        let empty_path = field.filter(|_| notes.empty);
        // A scalar to record becoming a map field or a list item.
        if let Some(t) = notes.recorded {
            let path = match self.stack.last() {
                Some((Frame::Seq(items), ..)) => {
                    let mut path = self.path_to_top();
                    path.push(PathSeg::Index(items.len()));
                    Some(path)
                }
                _ => self.field_path(),
            };
            if let Some(path) = path {
                self.recorded.push((path, t));
            }
        }
        let (string_keys, lenient) = (self.string_keys, self.lenient);
        match self.stack.last_mut() {
            None => return Ok(Some(value)),
            Some((Frame::Seq(items), ..)) => items.push(value),
            Some((Frame::Map(m), ..)) => match m.key.take() {
                None => new_key(pos, m, key, &value, span, string_keys, lenient)?,
                Some((_, true, at)) => m.merges.push((value, at)),
                // kubectl drops a quoted `<<` key from objects (its JSON round trip turns it
                // into a merge key that then merges nothing).
                Some((text, false, _)) if string_keys && text == "<<" => {}
                Some((text, false, at)) => {
                    if m.map.insert(text, value).is_none() {
                        m.lines.push(at.start.line());
                    }
                    if let Some(path) = empty_path {
                        self.empty_nulls.push(path);
                    }
                    if let Some(a) = annotation {
                        self.annotation_texts.push(a);
                    }
                    if let Some(f) = folded_entry {
                        self.folded_raw.push(f);
                    }
                }
            },
        }
        Ok(None)
    }

    /// The path of the field whose value comes next: the map on top of the stack has a key
    /// (not `<<`) waiting.
    fn field_path(&self) -> Option<Vec<PathSeg>> {
        match self.stack.last() {
            Some((Frame::Map(m), ..)) => match &m.key {
                Some((k, false, _)) => {
                    let mut path = self.path_to_top();
                    path.push(PathSeg::Key(k.clone()));
                    Some(path)
                }
                _ => None,
            },
            _ => None,
        }
    }

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

/// A key for the map being built: a scalar, a string where objects need one, not repeated.
fn new_key(
    pos: &Positions<'_>,
    m: &mut MapFrame,
    key: Option<(String, bool)>,
    value: &Value,
    span: Span,
    string_keys: bool,
    lenient: bool,
) -> Result<(), YamlError> {
    let Some((text, merge)) = key else {
        return Err(pos.at(&span.start, "mapping key must be a scalar"));
    };
    if string_keys && !merge && !matches!(value, Value::Str(_)) {
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
    if let Some(first) = first.filter(|_| !lenient) {
        let message = format!("mapping key {text:?} already defined at line {first}");
        return Err(pos.at(&span.start, message));
    }
    m.key = Some((text, merge, span));
    Ok(())
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
