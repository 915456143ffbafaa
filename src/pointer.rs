//! JSON pointers (RFC 6901): `/spec/template/metadata~1labels` split into its unescaped
//! tokens (`~1` is `/`, `~0` is `~`). JSON 6902 patches address documents with them, and
//! the schema validators report the place of a violation as one.

/// The tokens of `pointer`: none for the whole document (`""`), `None` when it is not a
/// pointer (it does not start with `/`).
pub fn tokens(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let rest = pointer.strip_prefix('/')?;
    Some(rest.split('/').map(unescape).collect())
}

/// One token with `~1` read as `/` and `~0` as `~`, in one pass (`~01` is `~1`).
pub fn unescape(token: &str) -> String {
    if !token.contains('~') {
        return token.to_string();
    }
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c != '~' {
            out.push(c);
            continue;
        }
        match chars.clone().next() {
            Some('1') => {
                chars.next();
                out.push('/');
            }
            Some('0') => {
                chars.next();
                out.push('~');
            }
            _ => out.push('~'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unescaped() {
        let t = |p: &str| tokens(p).map(|v| v.join("|"));
        assert_eq!(t(""), Some(String::new()));
        assert_eq!(tokens("/").as_deref(), Some(&[String::new()][..]));
        assert_eq!(t("/a~1b/c"), Some("a/b|c".into()));
        assert_eq!(t("/m~0n/~01/~10"), Some("m~n|~1|/0".into()));
        assert_eq!(t("/spec/0/-"), Some("spec|0|-".into()));
        assert_eq!(t("/x~"), Some("x~".into()));
        assert_eq!(t("spec"), None);
    }
}
