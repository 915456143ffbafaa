//! Scalars as go-yaml decodes them for `interface{}`: a plain scalar's type (`0777` is 511,
//! `yes` a string in YAML 1.2 and `true` in YAML 1.1, `2001-12-14` the RFC 3339 text Go
//! prints for it), Go's number syntax, and what a folded (`>`) scalar becomes on its way to
//! kubectl's output.

use super::Value;
use saphyr_parser::{ScalarStyle, Tag};

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

pub(super) fn folded_round_trip(v: &str) -> String {
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
pub(super) fn short_tag(tag: &Tag) -> String {
    let full = format!("{}{}", tag.handle, tag.suffix);
    match full.strip_prefix("tag:yaml.org,2002:") {
        Some(rest) => format!("!!{rest}"),
        None => full,
    }
}

/// One scalar as go-yaml v3 decodes it into `interface{}`.
pub(super) fn resolve_scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
) -> Result<Value, String> {
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
        #[allow(
            clippy::cast_precision_loss,
            reason = "`!!float 9007199254740993` is a float64, as in Go"
        )]
        ("!!float", Value::Int(i)) => Ok(Value::Float(i as f64)),
        _ => Err(format!("cannot decode {rtag} `{text}` as a {tag}")),
    }
}

/// go-yaml v3's `resolve` for a plain scalar: the value and its tag.
/// The YAML 1.1 booleans go-yaml v2 knows beyond `true` and `false`.
pub(super) fn yaml11_bool(text: &str) -> Option<bool> {
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
        b'-' => go_parse_uint(&s[1..]).and_then(|n| 0i64.checked_sub_unsigned(n)),
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
