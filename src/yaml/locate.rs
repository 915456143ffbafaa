//! Where a node lives in a YAML text, for error messages: the text is read again, event by
//! event, until the path is reached.

use super::parse::Positions;
use saphyr_parser::{Event, Parser, Span};

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
