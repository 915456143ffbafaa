//! The YAML path of every line of a printed object (`spec.template.spec.containers.0.image`),
//! for the headers of diff hunks.
//!
//! The text is what strata's printer writes (Kustomize's style: block collections, two
//! spaces of indentation, sequence dashes at the indentation of their key), so a line is a
//! key (`name: web`, `- name: web`), a sequence item (`- web`), or the continuation of the
//! scalar on an earlier line (a block scalar's body, a folded long string), which belongs
//! to that line's path. One pass with a stack of open keys and items.

/// One open key or sequence item.
struct Frame {
    /// The column where the key or the item's dash starts.
    indent: usize,
    seg: String,
    item: bool,
    /// How many items of a sequence directly under this node were seen.
    items: usize,
}

/// The path of each line of `text` (segments: keys, and indices of sequence items).
pub fn line_paths(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut root_items = 0usize;
    // While set: lines indented deeper than this column continue the scalar whose path
    // is given.
    let mut scalar: Option<(usize, Vec<String>)> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = &line[indent..];
        if let Some((col, path)) = &scalar {
            if rest.is_empty() || indent > *col {
                out.push(path.clone());
                continue;
            }
            scalar = None;
        }
        let mut col = indent;
        let mut rest = rest;
        while let Some(after) = rest
            .strip_prefix("- ")
            .or_else(|| (rest == "-").then_some(""))
        {
            while stack
                .last()
                .is_some_and(|f| f.indent > col || (f.indent == col && f.item))
            {
                stack.pop();
            }
            let counter = match stack.last_mut() {
                Some(f) => &mut f.items,
                None => &mut root_items,
            };
            let index = *counter;
            *counter += 1;
            stack.push(Frame {
                indent: col,
                seg: index.to_string(),
                item: true,
                items: 0,
            });
            col += 2;
            rest = after;
        }
        match key(rest) {
            Some((k, value)) => {
                while stack.last().is_some_and(|f| f.indent >= col) {
                    stack.pop();
                }
                stack.push(Frame {
                    indent: col,
                    seg: k,
                    item: false,
                    items: 0,
                });
                let path = segments(&stack);
                if !value.is_empty() {
                    scalar = Some((col, path.clone()));
                }
                out.push(path);
            }
            None => {
                let path = segments(&stack);
                if !rest.is_empty() {
                    // A scalar item: deeper lines continue it.
                    scalar = Some((col.saturating_sub(2), path.clone()));
                }
                out.push(path);
            }
        }
    }
    out
}

fn segments(stack: &[Frame]) -> Vec<String> {
    stack.iter().map(|f| f.seg.clone()).collect()
}

/// A path as hunk headers show it: segments joined by `.`.
pub fn shown(path: &[String]) -> String {
    path.join(".")
}

/// `key: value` or `key:` (the key unquoted) and the rest after the colon, trimmed.
fn key(s: &str) -> Option<(String, &str)> {
    let (k, after) = match s.chars().next()? {
        '"' => {
            let mut escaped = false;
            let end = s[1..].char_indices().find_map(|(i, c)| {
                let close = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                close.then_some(i + 1)
            })?;
            let inner = &s[1..end];
            let k =
                serde_json::from_str::<String>(&s[..=end]).unwrap_or_else(|_| inner.to_string());
            (k, &s[end + 1..])
        }
        '\'' => {
            let b = s.as_bytes();
            let mut i = 1;
            loop {
                match b.get(i)? {
                    b'\'' if b.get(i + 1) == Some(&b'\'') => i += 2,
                    b'\'' => break,
                    _ => i += 1,
                }
            }
            (s[1..i].replace("''", "'"), &s[i + 1..])
        }
        '{' | '[' | '|' | '>' | '&' | '*' | '!' => return None,
        _ => {
            let end = s.find(": ").or_else(|| s.strip_suffix(':').map(str::len))?;
            (s[..end].to_string(), &s[end..])
        }
    };
    let value = after.strip_prefix(':')?;
    if !(value.is_empty() || value.starts_with(' ')) {
        return None;
    }
    Some((k, value.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_keys_items_and_scalars() {
        let text = "\
apiVersion: v1
data:
  app.yaml: |
    server:
      port: 8080

    x: y
  owner: team
kind: ConfigMap
metadata:
  annotations:
    \"a: b\": x
    'it''s': y
  name: web
spec:
  containers:
  - args:
    - --port=8080
    - --config
    image: web:1
  - name: side
    ports:
    - containerPort: 1
  long: this is a long string
    folded: onto two lines
  after: 1
";
        let want = [
            "apiVersion",
            "data",
            "data.app.yaml",
            "data.app.yaml",
            "data.app.yaml",
            "data.app.yaml",
            "data.app.yaml",
            "data.owner",
            "kind",
            "metadata",
            "metadata.annotations",
            "metadata.annotations.a: b",
            "metadata.annotations.it's",
            "metadata.name",
            "spec",
            "spec.containers",
            "spec.containers.0.args",
            "spec.containers.0.args.0",
            "spec.containers.0.args.1",
            "spec.containers.0.image",
            "spec.containers.1.name",
            "spec.containers.1.ports",
            "spec.containers.1.ports.0.containerPort",
            "spec.long",
            "spec.long",
            "spec.after",
        ];
        let got: Vec<String> = line_paths(text).iter().map(|p| shown(p)).collect();
        assert_eq!(got, want);
    }
}
