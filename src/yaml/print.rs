//! The YAML printer: one [`Value`] in, the exact text `kubectl kustomize` prints for it out.
//!
//! kubectl prints a resource by encoding it as JSON and converting that JSON to YAML with
//! go-yaml v2 (`sigs.k8s.io/yaml.JSONToYAML`). So the bytes depend on three things this
//! module reproduces: how Go's JSON encoder writes numbers and how go-yaml v2 re-reads them
//! (`1.0` prints as `1`, `1234567.5` as `1.2345675e+06`), go-yaml v2's key order and its
//! choice of quoting (`"yes"`, `'@x'`, `|-` blocks), and the libyaml emitter's layout (2-space
//! indent, sequences in maps not indented, scalars folded past column 80). The emitter below
//! is a port of the parts of go-yaml v2's `emitterc.go` that block documents reach, with its
//! column/indent bookkeeping kept as is so line folding lands on the same spaces.

use super::scalar::{go_parse_float, go_parse_int, go_parse_uint, is_yaml_float, parse_timestamp};
use super::{Map, Value};
use std::borrow::Cow;

/// Prints one document (no `---`), ending with a newline.
pub fn to_yaml_string(value: &Value) -> String {
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        indent: -1,
        indents: Vec::new(),
        whitespace: true,
        indention: true,
    };
    e.node(value, Ctx::default());
    e.write_indent();
    e.out
}

/// How a float prints: Go's JSON text for it, re-read and re-printed by go-yaml v2.
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    if f == 0.0 {
        return "0".into();
    }
    // Shortest round-trip digits d1d2…dn, value = 0.d1d2…dn × 10^dp.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let dp = exp.parse::<i32>().unwrap_or(0) + 1;
    let nd = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    // A count of zeros or digits (never negative where it is used).
    let n = |x: i32| usize::try_from(x).unwrap_or(0);
    let sign = if f < 0.0 { "-" } else { "" };
    // Go's JSON uses plain notation here; if that text is an integer, go-yaml reads an int.
    let abs = f.abs();
    if (1e-6..1e21).contains(&abs) && nd <= dp {
        let text = format!("{sign}{digits}{}", "0".repeat(n(dp - nd)));
        if let Ok(i) = text.parse::<i64>() {
            return i.to_string();
        }
        if let Ok(u) = text.parse::<u64>() {
            return u.to_string();
        }
    }
    // strconv.FormatFloat(f, 'g', -1, 64).
    let exp = dp - 1;
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{dot}{rest}e{esign}{:02}", exp.abs());
    }
    if dp <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat(n(-dp)))
    } else if nd <= dp {
        format!("{sign}{digits}{}", "0".repeat(n(dp - nd)))
    } else {
        let (int, frac) = digits.split_at(n(dp));
        format!("{sign}{int}.{frac}")
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// The context flags libyaml passes to `yaml_emitter_emit_node`.
#[derive(Clone, Copy, Default)]
struct Ctx {
    mapping: bool,
    simple_key: bool,
}

impl Ctx {
    /// A simple (single-line) mapping key.
    const KEY: Ctx = Ctx {
        mapping: true,
        simple_key: true,
    };
    /// A mapping value, or a key written after `? `.
    const IN_MAP: Ctx = Ctx {
        mapping: true,
        simple_key: false,
    };
}

/// `yaml_emitter_analyze_scalar`'s verdict.
struct Analysis {
    multiline: bool,
    block_plain: bool,
    single_quoted: bool,
    block: bool,
}

const BEST_WIDTH: usize = 80;

/// Characters the double-quoted style writes as `\` plus the letter at the same place in
/// [`ESCAPES`]; others that need escaping are written as `\xXX`, `\uXXXX` or `\UXXXXXXXX`.
const ESCAPED: &str = "\0\u{7}\u{8}\t\n\u{b}\u{c}\r\u{1b}\"\\\u{85}\u{a0}\u{2028}\u{2029}";
const ESCAPES: &str = "0abtnvfre\"\\N_LP";

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blankz(c: Option<char>) -> bool {
    c.is_none_or(|c| matches!(c, ' ' | '\t' | '\0') || is_break(c))
}

/// libyaml's `is_printable` (4-byte UTF-8 counts as unprintable).
fn is_printable(c: char) -> bool {
    matches!(c, '\n' | ' '..='~' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        && c != '\u{FEFF}'
}

fn analyze(s: &[char]) -> Analysis {
    let starts = |p: &str| s.len() >= 3 && s[..3].iter().copied().eq(p.chars());
    let mut block_indicators = starts("---") || starts("...");
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break, mut previous_space, mut previous_break) =
        (false, false, false, false);
    let mut preceded_by_whitespace = true;
    for (i, &c) in s.iter().enumerate() {
        let next = s.get(i + 1).copied();
        let followed_by_whitespace = next.is_none_or(|n| n == ' ' || n == '\t');
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_whitespace => block_indicators = true,
                '#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        special |= !is_printable(c);
        let last = i + 1 == s.len();
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= last;
            break_space |= previous_break;
            (previous_space, previous_break) = (true, false);
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= last;
            space_break |= previous_space;
            (previous_space, previous_break) = (false, true);
        } else {
            (previous_space, previous_break) = (false, false);
        }
        preceded_by_whitespace = is_blankz(Some(c));
    }
    let edges = leading_space || leading_break || trailing_space || trailing_break;
    Analysis {
        multiline: line_breaks,
        block_plain: !(edges
            || break_space
            || space_break
            || special
            || line_breaks
            || block_indicators),
        single_quoted: !(break_space || space_break || special),
        block: !(trailing_space || space_break || special),
    }
}

/// What go-yaml v2's `resolve("", s)` would make of `s` as a plain scalar: `true` unless a
/// string. Its `encode.go` double-quotes such strings (and YAML 1.1 base-60 floats).
fn resolves_to_non_string(s: &str) -> bool {
    const MAP: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "n", "N", "no",
        "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "null", "Null", "NULL", "~",
        ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF",
    ];
    let Some(&first) = s.as_bytes().first() else {
        return true;
    };
    match first {
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => {
            MAP.contains(&s)
        }
        b'.' => MAP.contains(&s) || go_parse_float(s).is_some(),
        b'+' | b'-' | b'0'..=b'9' => {
            if MAP.contains(&s) || parse_timestamp(s).is_some() {
                return true;
            }
            let plain = s.replace('_', "");
            go_parse_int(&plain).is_some()
                || go_parse_uint(&plain).is_some()
                || (is_yaml_float(&plain) && go_parse_float(&plain).is_some())
                || is_base60_float(s)
        }
        _ => false,
    }
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (main, frac) = body.split_once('.').unwrap_or((body, ""));
    let mut parts = main.split(':');
    let head = parts.next().unwrap_or("");
    let head_ok = head.starts_with(|c: char| c.is_ascii_digit())
        && head.bytes().all(|c| c.is_ascii_digit() || c == b'_');
    let mut groups = 0;
    let groups_ok = parts.all(|p| {
        groups += 1;
        let b = p.as_bytes();
        match b {
            [d] => d.is_ascii_digit(),
            [a, d] => (b'0'..=b'5').contains(a) && d.is_ascii_digit(),
            _ => false,
        }
    });
    head_ok && groups > 0 && groups_ok && frac.bytes().all(|c| c.is_ascii_digit() || c == b'_')
}

/// The style go-yaml v2's `stringv` asks for.
fn string_style(s: &str) -> Style {
    if s.contains('\n') {
        Style::Literal
    } else if resolves_to_non_string(s) {
        Style::Double
    } else {
        Style::Plain
    }
}

/// Whether go-yaml writes the string `s` as a plain scalar. Kustomize keeps a string it had
/// to quote (or write as a block) in that style, which a strategic merge patch's value then
/// takes on.
pub fn prints_plain(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    !s.is_empty() && string_style(s) == Style::Plain && analyze(&chars).block_plain
}

/// A quirk of the JSON round trip: Go's JSON encoder leaves U+0085 (NEL) raw and go-yaml v2
/// reads it as a line break inside the quoted string, folding the run of spaces and NELs
/// around it (one NEL becomes a space, n of them n-1 newlines).
pub fn json_round_trip(s: &str) -> Cow<'_, str> {
    if !s.contains('\u{85}') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        match run.matches('\u{85}').count() {
            0 => out.push_str(run),
            1 => out.push(' '),
            n => out.push_str(&"\n".repeat(n - 1)),
        }
        run.clear();
    };
    for c in s.chars() {
        if c == ' ' || c == '\u{85}' {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    Cow::Owned(out)
}

/// go-yaml v2's `keyList.Less` for two string keys (Go's `unicode.IsLetter` approximated by
/// alphabetic-and-not-numeric, `IsDigit` by ASCII digits).
fn key_less(a: &[char], b: &[char]) -> bool {
    let letter = |c: char| c.is_alphabetic() && !c.is_numeric();
    for i in 0..a.len().min(b.len()) {
        if a[i] == b[i] {
            continue;
        }
        let (al, bl) = (letter(a[i]), letter(b[i]));
        if al && bl {
            return a[i] < b[i];
        }
        if al || bl {
            return bl;
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if a[i] == '0' || b[i] == '0' {
            let before = a[..i].iter().rev().take_while(|c| c.is_ascii_digit());
            if before.into_iter().any(|&c| c != '0') {
                (an, bn) = (1, 1);
            }
        }
        let run = |s: &[char], mut n: i64| {
            let len = s[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            for c in &s[i..i + len] {
                n = n.wrapping_mul(10).wrapping_add(i64::from(*c as u8 - b'0'));
            }
            (n, len)
        };
        let ((an, al), (bn, bl)) = (run(a, an), run(b, bn));
        if an != bn {
            return an < bn;
        }
        if al != bl {
            return al < bl;
        }
        return a[i] < b[i];
    }
    a.len() < b.len()
}

/// The entries of a map whose keys the JSON round trip folds (`json_round_trip`) into
/// equal ones: Go's JSON encoder writes the keys sorted by their bytes, go-yaml v2 reads
/// them back into a map where the last of equal keys wins.
fn fold_duplicates(m: &Map) -> Vec<(Vec<char>, &Value)> {
    let mut sorted: Vec<(&String, &Value)> = m.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut out: Vec<(Vec<char>, &Value)> = Vec::with_capacity(sorted.len());
    for (k, v) in sorted {
        let k = json_round_trip(k).into_owned();
        match seen.get(&k) {
            Some(&i) => out[i].1 = v,
            None => {
                seen.insert(k.clone(), out.len());
                out.push((k.chars().collect(), v));
            }
        }
    }
    out
}

/// A stable merge sort on `less`. Unlike `slice::sort_by` it cannot panic when `less` is not
/// a total order, and go-yaml's key order is not always transitive (`01.5`, `0x1F`, `1.5`);
/// kubectl's own order is random then, as it sorts Go map keys in iteration order.
fn merge_sort<T>(mut items: Vec<T>, less: &impl Fn(&T, &T) -> bool) -> Vec<T> {
    if items.len() <= 1 {
        return items;
    }
    let right = items.split_off(items.len() / 2);
    let (left, right) = (merge_sort(items, less), merge_sort(right, less));
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut l, mut r) = (left.into_iter().peekable(), right.into_iter().peekable());
    while let (Some(a), Some(b)) = (l.peek(), r.peek()) {
        let next = if less(b, a) { r.next() } else { l.next() };
        out.extend(next);
    }
    out.extend(l);
    out.extend(r);
    out
}

struct Emitter {
    out: String,
    column: usize,
    indent: i64,
    indents: Vec<i64>,
    whitespace: bool,
    indention: bool,
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn write_indent(&mut self) {
        let indent = usize::try_from(self.indent).unwrap_or(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        indicator.chars().for_each(|c| self.put(c));
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { 2 } else { 0 };
        } else if !indentless {
            self.indent += 2;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn node(&mut self, value: &Value, ctx: Ctx) {
        match value {
            Value::Map(m) if !m.is_empty() => {
                let mut folded = false;
                let mut entries: Vec<(Vec<char>, &Value)> = m
                    .iter()
                    .map(|(k, v)| {
                        let k = json_round_trip(k);
                        folded |= matches!(k, Cow::Owned(_));
                        (k.chars().collect(), v)
                    })
                    .collect();
                if folded {
                    entries = fold_duplicates(m);
                }
                let entries = merge_sort(entries, &|(a, _), (b, _)| key_less(a, b));
                self.increase_indent(false, false);
                for (key, value) in entries {
                    self.write_indent();
                    let text: String = key.iter().collect();
                    // A plain `<<` key would read back as a merge; objects never hold one
                    // (the reader drops it, as kubectl does), values files may.
                    let style = if text == "<<" {
                        Style::Double
                    } else {
                        string_style(&text)
                    };
                    if !analyze(&key).multiline && text.len() <= 128 {
                        self.scalar(&key, style, Ctx::KEY);
                        self.write_indicator(":", false, false, false);
                    } else {
                        self.write_indicator("?", true, false, true);
                        self.scalar(&key, style, Ctx::IN_MAP);
                        self.write_indent();
                        self.write_indicator(":", true, false, true);
                    }
                    self.node(value, Ctx::IN_MAP);
                }
                self.pop_indent();
            }
            Value::Seq(items) if !items.is_empty() => {
                self.increase_indent(false, ctx.mapping && !self.indention);
                for item in items {
                    self.write_indent();
                    self.write_indicator("-", true, false, true);
                    self.node(item, Ctx::default());
                }
                self.pop_indent();
            }
            Value::Map(_) => self.empty_flow("{", "}"),
            Value::Seq(_) => self.empty_flow("[", "]"),
            Value::Str(s) => {
                let s = json_round_trip(s);
                let chars: Vec<char> = s.chars().collect();
                self.scalar(&chars, string_style(&s), ctx);
            }
            Value::Null => self.scalar(&['n', 'u', 'l', 'l'], Style::Plain, ctx),
            other => {
                let text = match other {
                    Value::Bool(b) => b.to_string(),
                    Value::Int(i) => i.to_string(),
                    Value::UInt(u) => u.to_string(),
                    Value::Float(f) => format_float(*f),
                    _ => String::new(),
                };
                self.scalar(&text.chars().collect::<Vec<_>>(), Style::Plain, ctx);
            }
        }
    }

    fn empty_flow(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.increase_indent(true, false);
        self.pop_indent();
        self.write_indicator(close, false, false, false);
    }

    /// `yaml_emitter_select_scalar_style` and `yaml_emitter_process_scalar`.
    fn scalar(&mut self, s: &[char], requested: Style, ctx: Ctx) {
        let a = analyze(s);
        let mut style = requested;
        if ctx.simple_key && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain && (!a.block_plain || (s.is_empty() && ctx.simple_key)) {
            style = Style::Single;
        }
        if style == Style::Single && !a.single_quoted {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block || ctx.simple_key) {
            style = Style::Double;
        }
        self.increase_indent(true, false);
        let allow_breaks = !ctx.simple_key;
        match style {
            Style::Plain => self.write_plain(s, allow_breaks),
            Style::Single => self.write_single(s, allow_breaks),
            Style::Double => self.write_double(s, allow_breaks),
            Style::Literal => self.write_literal(s),
        }
        self.pop_indent();
    }

    /// Whether a space at `i` is where the emitter folds the line.
    fn folds_at(&self, s: &[char], i: usize, allow_breaks: bool, spaces: bool) -> bool {
        allow_breaks && !spaces && self.column > BEST_WIDTH && s.get(i + 1) != Some(&' ')
    }

    fn write_plain(&mut self, s: &[char], allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        self.write_folded_text(s, allow_breaks, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single(&mut self, s: &[char], allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        self.write_folded_text(s, allow_breaks, true);
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    /// The shared loop of the plain and single-quoted writers.
    fn write_folded_text(&mut self, s: &[char], allow_breaks: bool, quoted: bool) {
        let (mut spaces, mut breaks) = (false, false);
        for (i, &c) in s.iter().enumerate() {
            if c == ' ' {
                let inner = !quoted || (i > 0 && i + 1 < s.len());
                if inner && self.folds_at(s, i, allow_breaks, spaces) {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if quoted && c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                (spaces, breaks) = (false, false);
            }
        }
    }

    fn write_double(&mut self, s: &[char], allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let mut spaces = false;
        // go-yaml's `is_bom` looks at the start of the value, not at `i`: a leading BOM
        // escapes every character.
        let bom = s.first() == Some(&'\u{FEFF}');
        for (i, &c) in s.iter().enumerate() {
            if bom || !is_printable(c) || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                let short = ESCAPED.chars().position(|k| k == c);
                let short = short.and_then(|n| ESCAPES.chars().nth(n));
                match short {
                    Some(e) => self.put(e),
                    None => {
                        let v = c as u32;
                        let hex = match v {
                            0..=0xFF => format!("x{v:02X}"),
                            0x100..=0xFFFF => format!("u{v:04X}"),
                            _ => format!("U{v:08X}"),
                        };
                        hex.chars().for_each(|h| self.put(h));
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i > 0 && i + 1 < s.len() {
                    self.write_indent();
                    if s.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, s: &[char]) {
        self.write_indicator("|", true, false, false);
        if s.first().is_some_and(|&c| c == ' ' || is_break(c)) {
            self.write_indicator("2", false, false, false);
        }
        let chomp = match s {
            [] => Some("-"),
            [.., last] if !is_break(*last) => Some("-"),
            [_] => Some("+"),
            [.., prev, _] if is_break(*prev) => Some("+"),
            _ => None,
        };
        if let Some(chomp) = chomp {
            self.write_indicator(chomp, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for &c in s {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Map, parse_documents};

    fn map(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<Map>(),
        )
    }

    #[test]
    fn floats_print_like_json_then_go_yaml() {
        let cases = "1=1 1.5=1.5 0.5=0.5 1.1=1.1 0.1=0.1 -0=0 3e5=300000 123456.5=123456.5 \
            1234567.5=1.2345675e+06 -1234567.5=-1.2345675e+06 123456789.5=1.234567895e+08 \
            1e20=1e+20 1e21=1e+21 1e30=1e+30 12345678901234567890=12345678901234567000 \
            9223372036854775808=9223372036854776000 -9223372036854775808=-9.223372036854776e+18 \
            0.0001=0.0001 1e-5=1e-05 1e-7=1e-07 3.14159e-5=3.14159e-05 5e-324=5e-324 \
            1.5e300=1.5e+300 NaN=.nan inf=.inf -inf=-.inf";
        for case in cases.split_whitespace() {
            let (f, want) = case.split_once('=').unwrap_or_default();
            assert_eq!(format_float(f.parse().unwrap_or(f64::NAN)), want, "{f}");
        }
    }

    #[test]
    fn keys_sort_like_go_yaml_v2() {
        let want = [
            "$x", "-y", "_x", "1", "9", "10", "A", "Z", "a", "a.b", "a/b", "a1", "a9", "a10", "aB",
            "ab", "b", "ä",
        ];
        let mut shuffled = want.to_vec();
        shuffled.reverse();
        shuffled.swap(3, 11);
        let value = map(&shuffled
            .iter()
            .map(|k| (*k, Value::Int(1)))
            .collect::<Vec<_>>());
        let printed = to_yaml_string(&value);
        let got: Vec<&str> = printed
            .lines()
            .filter_map(|l| l.split_once(": "))
            .map(|(k, _)| k.trim_matches('"'))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn strings_pick_the_style_go_yaml_v2_picks() {
        let words = "word ".repeat(25);
        let long_tab = format!("\t{}", "word  ".repeat(25));
        let long_x = format!("{} y", "x".repeat(100));
        let cases: &[(&str, &str)] = &[
            ("plain", "plain"),
            ("yes", "\"yes\""),
            ("N", "\"N\""),
            ("off", "\"off\""),
            ("~", "\"~\""),
            ("", "\"\""),
            ("1e3", "\"1e3\""),
            ("0o17", "\"0o17\""),
            ("1_000", "\"1_000\""),
            ("+.inf", "\"+.inf\""),
            ("1:20", "\"1:20\""),
            ("1:60", "1:60"),
            ("2001-12-14T00:00:00Z", "\"2001-12-14T00:00:00Z\""),
            ("2001-02-30", "2001-02-30"),
            ("<<", "<<"),
            ("-", "'-'"),
            ("-x", "-x"),
            ("- x", "'- x'"),
            ("?x", "?x"),
            ("? x", "'? x'"),
            (":x", ":x"),
            ("x:", "'x:'"),
            ("a:b", "a:b"),
            ("key: v", "'key: v'"),
            ("a #b", "'a #b'"),
            ("a#b", "a#b"),
            ("%x", "'%x'"),
            ("---x", "'---x'"),
            ("it's", "it's"),
            ("'q'", "'''q'''"),
            (" lead", "' lead'"),
            ("trail ", "'trail '"),
            ("a\tb", "\"a\\tb\""),
            ("🙂", "\"\\U0001F642\""),
            ("é ✓", "é ✓"),
            ("\u{FEFF}x", "\"\\uFEFF\\x78\""),
            ("a\u{FEFF}b", "\"a\\uFEFFb\""),
            ("a\u{2028}b", "'a\u{2028}    b'"),
            ("a\u{85}b", "a b"),
            ("a\nb", "|-\n    a\n    b"),
            ("a\n", "|\n    a"),
            ("a\n\n", "|+\n    a\n"),
            ("\n", "|2+\n"),
            (" a\nb", "|2-\n     a\n    b"),
            ("a\n\nb\n", "|\n    a\n\n    b"),
            ("a \nb", "\"a \\nb\""),
            ("a\n ", "\"a\\n \""),
            ("a\tb\nc", "\"a\\tb\\nc\""),
            (
                &words,
                "'word word word word word word word word word word word word word word word\n    word word word word word word word word word word '",
            ),
            (
                &long_tab,
                "\"\\tword  word  word  word  word  word  word  word  word  word  word  word  word\n    \\ word  word  word  word  word  word  word  word  word  word  word  word  \"",
            ),
            (&long_x, &format!("{}\n    y", "x".repeat(100))),
        ];
        for (text, want) in cases {
            let value = map(&[("k", map(&[("s45", Value::Str(text.to_string()))]))]);
            assert_eq!(
                to_yaml_string(&value),
                format!("k:\n  s45: {want}\n"),
                "{text:?}"
            );
        }
    }

    #[test]
    fn keys_and_nesting_lay_out_like_the_emitter() {
        let long_key = "k".repeat(129);
        let text = format!(
            "{{yes: 1, '': null, \"a\\nb\": true, {long_key}: 1.5, \"a\\tb\": 18446744073709551615, \
             empty: {{m: {{}}, s: []}}, nest: [[[a], []], [{{}}], {{a: [{{b: [1, {{c: d}}]}}]}}, [{{x: 1, y: [2]}}]]}}"
        );
        let value = parse_documents(&text)
            .map(|d| d[0].value.clone())
            .unwrap_or(Value::Null);
        let want = format!(
            "\"\": null\n\"a\\tb\": 18446744073709551615\n? |-\n  a\n  b\n: true\nempty:\n  m: {{}}\n  s: []\n\
             ? {long_key}\n: 1.5\nnest:\n- - - a\n  - []\n- - {{}}\n- a:\n  - b:\n    - 1\n    - c: d\n\
             - - x: 1\n    \"y\":\n    - 2\n\"yes\": 1\n"
        );
        assert_eq!(to_yaml_string(&value), want);
        assert_eq!(to_yaml_string(&map(&[])), "{}\n");
        assert_eq!(to_yaml_string(&Value::Seq(vec![])), "[]\n");
        assert_eq!(to_yaml_string(&Value::Str("a\nb".into())), "|-\n  a\n  b\n");
    }

    /// Parses and prints every document of `text`, joined the way kubectl joins them.
    fn round_trip(text: &str) -> Result<String, String> {
        let mut docs = Vec::new();
        let mut current = String::new();
        for line in text.split_inclusive('\n') {
            if line == "---\n" {
                docs.push(std::mem::take(&mut current));
            } else {
                current.push_str(line);
            }
        }
        docs.push(current);
        let mut printed = Vec::new();
        for doc in docs.iter().filter(|d| !d.is_empty()) {
            for parsed in parse_documents(doc).map_err(|e| e.to_string())? {
                printed.push(to_yaml_string(&parsed.value));
            }
        }
        Ok(printed.join("---\n"))
    }

    const CORPUS: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/conformance/kustomize"
    );

    #[test]
    fn probe_prints_exactly_like_kubectl() {
        let case = format!("{CORPUS}/custom_output_conventions");
        let (Ok(input), Ok(expected)) = (
            std::fs::read_to_string(format!("{case}/input/probe.yaml")),
            std::fs::read_to_string(format!("{case}/expected.yaml")),
        ) else {
            eprintln!("skipping: {case} not found");
            return;
        };
        let docs = parse_documents(&input).unwrap_or_default();
        assert_eq!(docs.len(), 1);
        assert_eq!(to_yaml_string(&docs[0].value), expected);
    }

    #[test]
    fn corpus_expected_outputs_round_trip() {
        let Ok(dirs) = std::fs::read_dir(CORPUS) else {
            eprintln!("skipping: {CORPUS} not found");
            return;
        };
        let mut checked = 0;
        for dir in dirs.flatten() {
            let path = dir.path().join("expected.yaml");
            let Ok(expected) = std::fs::read_to_string(&path) else {
                continue;
            };
            assert_eq!(
                round_trip(&expected).as_deref(),
                Ok(expected.as_str()),
                "{}",
                path.display()
            );
            checked += 1;
        }
        assert!(checked > 0, "no expected.yaml under {CORPUS}");
    }
}
