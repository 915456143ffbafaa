//! Printing resources as one YAML stream, exactly as `kubectl kustomize` does.
//!
//! Each resource is printed on its own by `yaml::to_yaml_string` (sorted keys, Kustomize's
//! quoting and folding) and the documents are joined with `---`; an empty build prints
//! nothing. `to_files` is the `-o DIR` form: one file per resource, named as Kustomize
//! names them.

use crate::resource::Resource;
use crate::yaml::to_yaml_string;
use rayon::prelude::*;

/// How many documents are printed in parallel before they are written out: large enough to
/// keep every core busy, small enough that the printed text never sits in memory whole.
const CHUNK: usize = 256;

/// Write the stream to `out` as it is printed, a chunk of documents at a time, so a large
/// build never holds its whole text in memory. Bytes are those of `to_yaml`.
pub fn write_yaml(resources: &[Resource], out: &mut impl std::io::Write) -> std::io::Result<()> {
    for (c, chunk) in resources.chunks(CHUNK).enumerate() {
        let docs: Vec<String> = chunk.par_iter().map(|r| to_yaml_string(&r.doc)).collect();
        for (i, d) in docs.iter().enumerate() {
            if c > 0 || i > 0 {
                out.write_all(b"---\n")?;
            }
            out.write_all(d.as_bytes())?;
        }
    }
    Ok(())
}

/// The whole stream as one string (for `-o FILE` and `render --out`).
pub fn to_yaml(resources: &[Resource]) -> String {
    let mut out = Vec::new();
    write_yaml(resources, &mut out).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("the printer writes UTF-8")
}

/// `-o DIR`: (file name, content) for each resource, as `kubectl kustomize -o DIR` names
/// them (`group_version_kind_name.yaml`, lower case). Names come from the resources, so
/// any character that could leave the directory or confuse a shell (`/`, `\`, control
/// characters) becomes `_`; two resources landing on one file name is an error rather than
/// one silently replacing the other.
pub fn to_files(resources: &[Resource]) -> crate::Result<Vec<(String, String)>> {
    let mut seen = rustc_hash::FxHashMap::default();
    let mut out = Vec::with_capacity(resources.len());
    for r in resources {
        let id = r.id();
        let mut parts = Vec::new();
        if !id.gvk.group.is_empty() {
            parts.push(id.gvk.group.clone());
        }
        parts.push(id.gvk.version.clone());
        parts.push(id.gvk.kind.clone());
        parts.push(id.name.clone());
        let name = format!("{}.yaml", file_safe(&parts.join("_").to_lowercase()));
        if let Some(first) = seen.insert(name.clone(), id.to_string()) {
            return Err(crate::Error::new(format!(
                "`{first}` and `{id}` would both be written to `{name}`"
            ))
            .with_help("write the stream to one file (`-o FILE`) instead"));
        }
        out.push((name, to_yaml_string(&r.doc)));
    }
    Ok(out)
}

/// `name` with every character that is not safe in a file name replaced by `_`.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '/' | '\\' | ':' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Origin;
    use crate::yaml::parse_documents;

    #[test]
    fn streaming_writes_the_same_bytes_across_chunk_boundaries() {
        let text: String = (0..CHUNK * 2 + 3)
            .map(|i| format!("---\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  k: v{i}\n"))
            .collect();
        let resources: Vec<Resource> = parse_documents(&text)
            .unwrap()
            .into_iter()
            .map(|d| Resource::new(d.value, Origin::default()))
            .collect();
        let mut streamed = Vec::new();
        write_yaml(&resources, &mut streamed).unwrap();
        // The reference: every document printed on its own, joined with `---`.
        let whole = resources
            .iter()
            .map(|r| to_yaml_string(&r.doc))
            .collect::<Vec<_>>()
            .join("---\n");
        assert_eq!(String::from_utf8(streamed).unwrap(), whole);
        assert_eq!(to_yaml(&resources), whole);
        assert_eq!(whole.matches("---\n").count(), CHUNK * 2 + 2);
        assert!(whole.ends_with("  k: v514\nkind: ConfigMap\nmetadata:\n  name: c514\n"));
    }

    #[test]
    fn file_names_from_resources_stay_in_the_directory() {
        let text = "kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: x/../../../tmp/evil\n---\nkind: Role\napiVersion: a/../../b/v1\nmetadata:\n  name: r\n";
        let resources: Vec<Resource> = parse_documents(text)
            .unwrap()
            .into_iter()
            .map(|d| Resource::new(d.value, Origin::default()))
            .collect();
        let names: Vec<String> = to_files(&resources)
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            names,
            [
                "v1_configmap_x_.._.._.._tmp_evil.yaml",
                "a_.._.._b_v1_role_r.yaml"
            ]
        );
        assert!(names.iter().all(|n| !n.contains('/')));
    }
}
