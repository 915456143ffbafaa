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
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
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

/// Expanded alias nodes allowed per call before the input counts as an alias bomb.
const ALIAS_BUDGET: usize = 10_000_000;

/// Parses every document of `text`.
pub fn parse_documents(text: &str) -> Result<Vec<Document>, YamlError> {
    let pos = Positions::new(text);
    check_characters(text)?;
    let mut b = Builder {
        pos: &pos,
        docs: Vec::new(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        start: None,
        alias_nodes: 0,
    };
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| {
            let m = e.marker();
            let info = e.info().trim_end_matches('.');
            pos.error(info, m.index(), m.line(), m.col())
        })?;
        b.event(event, span)?;
    }
    Ok(b.docs)
}

/// Maps saphyr's character indices to byte offsets (a checkpoint every 64 characters).
struct Positions<'a> {
    text: &'a str,
    checkpoints: Option<Vec<usize>>,
}

impl<'a> Positions<'a> {
    fn new(text: &'a str) -> Self {
        let checkpoints = (!text.is_ascii()).then(|| {
            let mut v = Vec::with_capacity(text.len() / 64 + 1);
            for (i, (b, _)) in text.char_indices().enumerate() {
                if i % 64 == 0 {
                    v.push(b);
                }
            }
            v
        });
        Positions { text, checkpoints }
    }

    fn byte(&self, char_index: usize) -> usize {
        let Some(cp) = &self.checkpoints else {
            return char_index.min(self.text.len());
        };
        let Some(&start) = cp.get(char_index / 64) else {
            return self.text.len();
        };
        let rest = self.text.get(start..).unwrap_or("");
        match rest.char_indices().nth(char_index % 64) {
            Some((b, _)) => start + b,
            None => self.text.len(),
        }
    }

    fn error(&self, message: &str, index: usize, line: usize, col0: usize) -> YamlError {
        YamlError {
            message: message.to_string(),
            line,
            col: col0 + 1,
            offset: self.byte(index),
        }
    }

    fn at(&self, span: &Span, message: String) -> YamlError {
        let s = span.start;
        YamlError {
            offset: self.byte(s.index()),
            line: s.line(),
            col: s.col() + 1,
            message,
        }
    }
}

/// go-yaml's reader refuses control characters anywhere in the input.
fn check_characters(text: &str) -> Result<(), YamlError> {
    let (mut line, mut col) = (1, 1);
    for (offset, c) in text.char_indices() {
        let ok = matches!(c, '\t' | '\n' | '\r' | '\u{85}' | '\u{20}'..='\u{7E}')
            || ('\u{A0}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}';
        if !ok {
            let message = "control characters are not allowed".to_string();
            return Err(YamlError {
                message,
                line,
                col,
                offset,
            });
        }
        if c == '\n' {
            (line, col) = (line + 1, 1);
        } else {
            col += 1;
        }
    }
    Ok(())
}

/// A finished node on its way to its parent.
struct Node {
    value: Value,
    /// Node count, to charge alias expansion against [`ALIAS_BUDGET`].
    size: usize,
    /// The source text of a scalar, used when the node is a map key.
    key: Option<String>,
    merge: bool,
    span: Span,
}

enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        size: usize,
        span: Span,
    },
    Map {
        map: Map,
        /// Line of each explicit key, by index in `map`.
        lines: Vec<usize>,
        anchor: usize,
        size: usize,
        span: Span,
        /// The key waiting for its value (`None` when a key is expected).
        key: Option<(String, bool, Span)>,
        merge_line: Option<usize>,
        merges: Vec<(Value, Span)>,
    },
}

struct Builder<'a, 'p> {
    pos: &'p Positions<'a>,
    docs: Vec<Document>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Value, usize)>,
    root: Option<Value>,
    start: Option<(usize, usize)>,
    alias_nodes: usize,
}

impl Builder<'_, '_> {
    fn event(&mut self, event: Event, span: Span) -> Result<(), YamlError> {
        if self.start.is_none()
            && matches!(
                event,
                Event::Scalar(..)
                    | Event::SequenceStart(..)
                    | Event::MappingStart(..)
                    | Event::Alias(_)
            )
        {
            self.start = Some((span.start.line(), self.pos.byte(span.start.index())));
        }
        match event {
            Event::DocumentStart(_) => {
                self.root = None;
                self.start = None;
                self.anchors.clear();
            }
            Event::DocumentEnd => {
                let (line, offset) = self.start.take().unwrap_or((span.start.line(), 0));
                let value = self.root.take().unwrap_or(Value::Null);
                self.docs.push(Document {
                    value,
                    line,
                    offset,
                });
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = resolve_scalar(&text, style, tag.as_deref())
                    .map_err(|m| self.pos.at(&span, m))?;
                let merge = style == ScalarStyle::Plain
                    && text == "<<"
                    && tag
                        .as_deref()
                        .is_none_or(|t| matches!(short_tag(t).as_str(), "!" | "!!merge"));
                let node = Node {
                    value,
                    size: 1,
                    key: Some(text.into_owned()),
                    merge,
                    span,
                };
                self.finish(node, anchor)?;
            }
            Event::Alias(id) => {
                let Some((value, size)) = self.anchors.get(&id).cloned() else {
                    return Err(self.pos.at(&span, "anchor value contains itself".into()));
                };
                self.alias_nodes += size;
                if self.alias_nodes > ALIAS_BUDGET {
                    return Err(self
                        .pos
                        .at(&span, "document contains excessive aliasing".into()));
                }
                let key = value.scalar_text();
                self.finish(
                    Node {
                        value,
                        size,
                        key,
                        merge: false,
                        span,
                    },
                    0,
                )?;
            }
            Event::SequenceStart(anchor, _) => {
                let items = Vec::new();
                self.stack.push(Frame::Seq {
                    items,
                    anchor,
                    size: 1,
                    span,
                });
            }
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                map: Map::new(),
                lines: Vec::new(),
                anchor,
                size: 1,
                span,
                key: None,
                merge_line: None,
                merges: Vec::new(),
            }),
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq {
                    items,
                    anchor,
                    size,
                    span,
                }) => {
                    let node = Node {
                        value: Value::Seq(items),
                        size,
                        key: None,
                        merge: false,
                        span,
                    };
                    self.finish(node, anchor)?;
                }
                Some(Frame::Map {
                    mut map,
                    anchor,
                    size,
                    span,
                    merges,
                    ..
                }) => {
                    for (value, at) in merges {
                        merge_into(&mut map, value).map_err(|m| self.pos.at(&at, m))?;
                    }
                    let node = Node {
                        value: Value::Map(map),
                        size,
                        key: None,
                        merge: false,
                        span,
                    };
                    self.finish(node, anchor)?;
                }
                None => {}
            },
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
        Ok(())
    }

    /// Hands a finished node to its parent (or makes it the document root).
    fn finish(&mut self, node: Node, anchor: usize) -> Result<(), YamlError> {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.value.clone(), node.size));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node.value),
            Some(Frame::Seq { items, size, .. }) => {
                *size += node.size;
                items.push(node.value);
            }
            Some(Frame::Map {
                map,
                lines,
                size,
                key,
                merge_line,
                merges,
                ..
            }) => {
                *size += node.size;
                match key.take() {
                    None => {
                        let Some(text) = node.key else {
                            return Err(self
                                .pos
                                .at(&node.span, "mapping key must be a scalar".into()));
                        };
                        let line = node.span.start.line();
                        let first = if node.merge {
                            merge_line.replace(line)
                        } else {
                            map.get_index_of(&text).and_then(|i| lines.get(i).copied())
                        };
                        if let Some(first) = first {
                            let m = format!(
                                "mapping key {} already defined at line {first}",
                                go_quote(&text)
                            );
                            return Err(self.pos.at(&node.span, m));
                        }
                        *key = Some((text, node.merge, node.span));
                    }
                    Some((_, true, span)) => merges.push((node.value, span)),
                    Some((text, false, span)) => {
                        map.insert(text, node.value);
                        lines.push(span.start.line());
                    }
                }
            }
        }
        Ok(())
    }
}

/// Folds the value of a `<<` key into `map`; keys already present win.
fn merge_into(map: &mut Map, value: Value) -> Result<(), String> {
    let want = || "map merge requires map or sequence of maps as the value".to_string();
    let sources = match value {
        Value::Map(m) => vec![m],
        Value::Seq(items) => items
            .into_iter()
            .map(|v| match v {
                Value::Map(m) => Ok(m),
                _ => Err(want()),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(want()),
    };
    for source in sources {
        for (k, v) in source {
            map.entry(k).or_insert(v);
        }
    }
    Ok(())
}

/// A tag in go-yaml's short form (`!!str`, `!foo`, `!`).
fn short_tag(tag: &Tag) -> String {
    let full = format!("{}{}", tag.handle, tag.suffix);
    match full.strip_prefix("tag:yaml.org,2002:") {
        Some(rest) => format!("!!{rest}"),
        None => full,
    }
}

/// What a scalar resolves to before tag checks.
enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Time(String),
    Str,
}

fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    let tag = tag.map(short_tag);
    let (tag, allow_time) = match tag.as_deref() {
        None if style == ScalarStyle::Plain => ("", true),
        None | Some("!!str" | "!!binary") => return Ok(Value::Str(text.to_string())),
        Some(t @ ("!!int" | "!!float" | "!!bool" | "!!null")) => (t, false),
        Some(t @ "!!timestamp") => (t, true),
        Some(_) => return Ok(Value::Str(text.to_string())),
    };
    let resolved = resolve_plain(text, allow_time);
    let (value, rtag) = match resolved {
        Resolved::Null => (Value::Null, "!!null"),
        Resolved::Bool(b) => (Value::Bool(b), "!!bool"),
        Resolved::Int(i) if tag == "!!float" => (Value::Float(i as f64), "!!float"),
        Resolved::Int(i) => (Value::Int(i), "!!int"),
        Resolved::UInt(u) => (Value::UInt(u), "!!int"),
        Resolved::Float(f) => (Value::Float(f), "!!float"),
        Resolved::Time(t) => (Value::Str(t), "!!timestamp"),
        Resolved::Str => (Value::Str(text.to_string()), "!!str"),
    };
    if tag.is_empty() || tag == rtag {
        Ok(value)
    } else {
        Err(format!("cannot decode {rtag} `{text}` as a {tag}"))
    }
}

/// go-yaml v3's `resolve` for an untagged plain scalar.
fn resolve_plain(s: &str, allow_time: bool) -> Resolved {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match s.as_bytes()[0] {
        b'.' => go_parse_float(s).map_or(Resolved::Str, Resolved::Float),
        b'0'..=b'9' | b'+' | b'-' => {
            if allow_time && let Some(t) = parse_timestamp(s) {
                return Resolved::Time(t);
            }
            let plain = s.replace('_', "");
            if let Some(i) = go_parse_int(&plain) {
                return Resolved::Int(i);
            }
            if let Some(u) = go_parse_uint(&plain) {
                return Resolved::UInt(u);
            }
            if is_yaml_float(&plain)
                && let Some(f) = go_parse_float(&plain)
            {
                return Resolved::Float(f);
            }
            let (neg, body) = match plain.strip_prefix('-') {
                Some(b) => (true, b),
                None => (false, plain.as_str()),
            };
            for (prefix, radix) in [("0b", 2), ("0o", 8)] {
                if let Some(digits) = body.strip_prefix(prefix) {
                    let n = parse_digits(digits, radix);
                    return match (neg, n) {
                        (false, Some(n)) => {
                            i64::try_from(n).map_or(Resolved::UInt(n), Resolved::Int)
                        }
                        (true, Some(n)) if n <= 1 << 63 => Resolved::Int((n as i64).wrapping_neg()),
                        _ => Resolved::Str,
                    };
                }
            }
            Resolved::Str
        }
        _ => Resolved::Str,
    }
}

/// Digits in `radix`, no sign, no prefix; `None` on a bad digit, emptiness or overflow.
fn parse_digits(s: &str, radix: u32) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.chars().try_fold(0u64, |n, c| {
        let d = c.to_digit(radix)?;
        n.checked_mul(u64::from(radix))?.checked_add(u64::from(d))
    })
}

/// Go's `strconv.ParseUint(s, 0, 64)` on text without underscores.
fn go_parse_uint(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.first() != Some(&b'0') {
        return parse_digits(s, 10);
    }
    if b.len() >= 3 {
        match b[1].to_ascii_lowercase() {
            b'b' => return parse_digits(&s[2..], 2),
            b'o' => return parse_digits(&s[2..], 8),
            b'x' => return parse_digits(&s[2..], 16),
            _ => {}
        }
    }
    if s.len() == 1 {
        Some(0)
    } else {
        parse_digits(&s[1..], 8)
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)` on text without underscores.
fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let n = go_parse_uint(body)?;
    if neg {
        (n <= 1 << 63).then(|| (n as i64).wrapping_neg())
    } else {
        i64::try_from(n).ok()
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |i: usize| b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    if b.get(i) == Some(&b'.') {
        let n = digits(i + 1);
        if n == 0 {
            return false;
        }
        i += 1 + n;
    } else {
        let n = digits(i);
        if n == 0 {
            return false;
        }
        i += n;
        if b.get(i) == Some(&b'.') {
            i += 1 + digits(i + 1);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let n = digits(i);
        if n == 0 {
            return false;
        }
        i += n;
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal text (underscores between digits allowed);
/// out-of-range values are errors, as in Go.
pub(crate) fn go_parse_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let body = b
        .strip_prefix(b"+")
        .or_else(|| b.strip_prefix(b"-"))
        .unwrap_or(b);
    if body.contains(&b'_') {
        let mut prev = b'^';
        for &c in body {
            let class = if c.is_ascii_digit() { b'0' } else { c };
            if (c == b'_' && prev != b'0') || (prev == b'_' && class != b'0') {
                return None;
            }
            prev = class;
        }
        if prev == b'_' {
            return None;
        }
    }
    let clean: String = s.chars().filter(|&c| c != '_').collect();
    let cb = clean.as_bytes();
    let mantissa_end = cb
        .iter()
        .position(|&c| c == b'e' || c == b'E')
        .unwrap_or(cb.len());
    let ok_chars = cb[..mantissa_end].iter().any(u8::is_ascii_digit)
        && cb
            .iter()
            .all(|c| c.is_ascii_digit() || b"+-.eE".contains(c));
    let f: f64 = if ok_chars {
        clean.parse().ok()?
    } else {
        return None;
    };
    f.is_finite().then_some(f)
}

/// go-yaml's timestamp layouts, rendered the way Go's JSON encoder prints a `time.Time`.
pub(crate) fn parse_timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    // Up to two digits, like Go's getnum.
    fn num(b: &[u8], i: &mut usize) -> Option<u32> {
        let d = |k: usize| {
            b.get(k)
                .filter(|c| c.is_ascii_digit())
                .map(|c| u32::from(c - b'0'))
        };
        let first = d(*i)?;
        *i += 1;
        match d(*i) {
            Some(second) => {
                *i += 1;
                Some(first * 10 + second)
            }
            None => Some(first),
        }
    }
    let year: u32 = s[..4].parse().ok()?;
    let mut i = 5;
    let month = num(b, &mut i)?;
    (b.get(i) == Some(&b'-')).then_some(())?;
    i += 1;
    let day = num(b, &mut i)?;
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month) || day < 1 || day > days[month as usize - 1] {
        return None;
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    if i == b.len() {
        return Some(format!("{date}T00:00:00Z"));
    }
    let zoned = matches!(b[i], b'T' | b't');
    if zoned {
        i += 1;
    } else if b[i] == b' ' {
        while b.get(i) == Some(&b' ') {
            i += 1;
        }
    } else {
        return None;
    }
    let hour = num(b, &mut i)?;
    (b.get(i) == Some(&b':')).then_some(())?;
    i += 1;
    let min = num(b, &mut i)?;
    (b.get(i) == Some(&b':')).then_some(())?;
    i += 1;
    let sec = num(b, &mut i)?;
    if hour >= 24 || min >= 60 || sec >= 60 {
        return None;
    }
    let mut frac = String::new();
    if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        let n = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        frac = s[i + 1..i + 1 + n.min(9)].trim_end_matches('0').to_string();
        i += 1 + n;
    }
    let zone = if !zoned {
        "Z".to_string()
    } else if b.get(i) == Some(&b'Z') {
        i += 1;
        "Z".to_string()
    } else {
        let z = b.get(i..i + 6)?;
        let two = |k: usize| -> Option<u32> {
            let (a, c) = (z[k], z[k + 1]);
            (a.is_ascii_digit() && c.is_ascii_digit())
                .then(|| u32::from(a - b'0') * 10 + u32::from(c - b'0'))
        };
        let (hh, mm) = (two(1)?, two(4)?);
        if z[3] != b':' || !matches!(z[0], b'+' | b'-') || hh > 24 || mm > 60 {
            return None;
        }
        i += 6;
        let total = hh * 60 + mm;
        if total == 0 {
            "Z".to_string()
        } else {
            format!("{}{:02}:{:02}", z[0] as char, total / 60, total % 60)
        }
    };
    if i != b.len() {
        return None;
    }
    let frac = if frac.is_empty() {
        frac
    } else {
        format!(".{frac}")
    };
    Some(format!("{date}T{hour:02}:{min:02}:{sec:02}{frac}{zone}"))
}

/// A string the way Go's `%#v` prints it.
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Where the node at `path` of document `doc_index` starts: the key's position when the last
/// segment is a map key, the item's position otherwise. Aliased and merged content is not
/// searched. `(line, col, offset)`, 1-based line and column, byte offset.
pub fn locate(text: &str, doc_index: usize, path: &[&str]) -> Option<(usize, usize, usize)> {
    enum F {
        Seq(usize),
        /// `Some(key)` while the value of `key` is expected.
        Map(Option<String>),
    }
    let pos = Positions::new(text);
    let place = |s: &Span| (s.start.line(), s.start.col() + 1, pos.byte(s.start.index()));
    let mut parser = Parser::new_from_str(text);
    let (mut doc, mut stack, mut prefix) = (0usize, Vec::<F>::new(), Vec::<String>::new());
    // Depth of a complex key being skipped (collections used as keys).
    let mut skip = 0usize;
    while let Some(Ok((event, span))) = parser.next_event() {
        let (is_node, opens) = match &event {
            Event::DocumentEnd => {
                doc += 1;
                if doc > doc_index {
                    return None;
                }
                (false, false)
            }
            Event::Scalar(..) | Event::Alias(_) => (true, false),
            Event::SequenceStart(..) | Event::MappingStart(..) => (true, true),
            Event::SequenceEnd | Event::MappingEnd => {
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                stack.pop();
                if !stack.is_empty() {
                    prefix.pop();
                }
                if let Some(F::Map(k)) = stack.last_mut() {
                    *k = None;
                }
                (false, false)
            }
            _ => (false, false),
        };
        if doc != doc_index || !is_node {
            continue;
        }
        if skip > 0 {
            skip += usize::from(opens);
            continue;
        }
        let segment = match stack.last_mut() {
            None if path.is_empty() => return Some(place(&span)),
            None => String::new(),
            Some(F::Seq(n)) => {
                *n += 1;
                (*n - 1).to_string()
            }
            Some(F::Map(k @ None)) => {
                let Event::Scalar(t, ..) = &event else {
                    skip = usize::from(opens);
                    *k = Some(String::new());
                    continue;
                };
                if prefix.len() + 1 == path.len()
                    && prefix.iter().zip(path).all(|(a, b)| a == b)
                    && t == path[prefix.len()]
                {
                    return Some(place(&span));
                }
                *k = Some(t.to_string());
                continue;
            }
            Some(F::Map(Some(k))) => std::mem::take(k),
        };
        let hit = prefix.len() + 1 == path.len() && prefix.iter().zip(path).all(|(a, b)| a == b);
        if hit && matches!(stack.last(), Some(F::Seq(_))) && segment == path[prefix.len()] {
            return Some(place(&span));
        }
        if opens {
            if !stack.is_empty() {
                prefix.push(segment);
            }
            stack.push(if matches!(event, Event::SequenceStart(..)) {
                F::Seq(0)
            } else {
                F::Map(None)
            });
        } else if let Some(F::Map(k)) = stack.last_mut() {
            *k = None;
        }
    }
    None
}
