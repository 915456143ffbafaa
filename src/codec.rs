//! base64 in the three forms strata reads and writes, all through the `base64` crate:
//! Kustomize's Secret data (standard alphabet, padded, a line break every 70 characters),
//! YAML `!!binary` scalars (decoded as Go's `base64.StdEncoding` does: padding required,
//! line breaks ignored, stray low bits accepted), and the template filters (`b64encode`
//! writes the standard form; `b64decode` also accepts the URL-safe alphabet, missing
//! padding and white space, and requires the bytes to be UTF-8).

use base64::Engine;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Go's `base64.StdEncoding`: canonical padding, non-zero trailing bits accepted.
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_allow_trailing_bits(true)
    .with_decode_padding_mode(DecodePaddingMode::Indifferent);
const LENIENT_STD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const LENIENT_URL: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Kustomize wraps Secret values at this many characters.
const LINE: usize = 70;

/// Standard base64; with `wrap`, Kustomize's Secret layout: a line break after every 70
/// characters, and after the last line too, when the text is longer than one line.
pub fn encode(bytes: &[u8], wrap: bool) -> String {
    let s = STANDARD.encode(bytes);
    if !wrap || s.len() < LINE {
        return s;
    }
    let mut out = String::with_capacity(s.len() + s.len() / LINE + 1);
    // base64 text is ASCII, so every chunk boundary is a character boundary.
    for chunk in s.as_bytes().chunks(LINE) {
        out.extend(chunk.iter().map(|&b| char::from(b)));
        out.push('\n');
    }
    out
}

/// A YAML `!!binary` scalar as go-yaml decodes it (`base64.StdEncoding.DecodeString`, line
/// breaks ignored), the bytes as text.
pub fn decode_yaml_binary(s: &str) -> Option<String> {
    let digits: Vec<u8> = s.bytes().filter(|&c| c != b'\r' && c != b'\n').collect();
    let bytes = GO_STD.decode(digits).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The template filter `b64decode`: either alphabet, padding optional, white space
/// ignored; `None` when the text is not base64 or the bytes are not UTF-8.
pub fn decode_lenient(s: &str) -> Option<String> {
    let digits: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let engine = if digits.iter().any(|&c| c == b'-' || c == b'_') {
        &LENIENT_URL
    } else {
        &LENIENT_STD
    };
    String::from_utf8(engine.decode(digits).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_wraps_like_kustomize() {
        assert_eq!(encode(b"apple", true), "YXBwbGU=");
        assert_eq!(encode(b"", false), "");
        assert_eq!(encode(b"", true), "");
        let long = encode(&[b'x'; 60], true);
        assert_eq!(long.lines().map(str::len).collect::<Vec<_>>(), [70, 10]);
        assert!(long.ends_with('\n'));
        // 51 bytes are 68 characters, one line; 52 are 72, two.
        assert!(!encode(&[b'x'; 51], true).contains('\n'));
        let seventy = encode(&[0u8; 52], true);
        assert_eq!(seventy.lines().map(str::len).collect::<Vec<_>>(), [70, 2]);
        assert_eq!(encode(&[b'x'; 60], false).len(), 80);
    }

    #[test]
    fn yaml_binary_follows_go() {
        for (input, want) in [
            ("aGVsbG8=", Some("hello")),
            ("aGVs\nbG8=", Some("hello")),
            ("aGVs\r\nbG8=\n", Some("hello")),
            ("", Some("")),
            ("aGVsbG8", None),   // padding required
            ("aGVsbG8==", None), // too much padding
            ("aG=sbG8=", None),  // padding inside
            ("a?==", None),
            ("aGVs bG8=", None), // spaces are not line breaks
            ("YR==", Some("a")), // stray low bits, as Go accepts
        ] {
            assert_eq!(decode_yaml_binary(input).as_deref(), want, "{input:?}");
        }
    }

    #[test]
    fn lenient_decoding_for_templates() {
        for (input, want) in [
            ("aGk=", Some("hi")),
            ("aGk", Some("hi")),
            (" aG\nk= ", Some("hi")),
            ("-_8", None), // URL-safe, but 0xfb 0xff is not UTF-8
            ("Pz8_", Some("???")),
            ("Pz8/", Some("???")),
            ("a?", None),
            ("/w==", None), // 0xff is not UTF-8
        ] {
            assert_eq!(decode_lenient(input).as_deref(), want, "{input:?}");
        }
    }
}
