//! `images:` — change container image names, tags and digests.
//!
//! Like Kustomize, every `containers` and `initContainers` list anywhere in an object is
//! visited (so custom resources with pod templates work too), and an entry's `name` is a
//! regular expression anchored at the start and followed by an optional tag or digest.

use super::Transformer;
use super::fieldspec::{FieldSpec, walk};
use crate::error::{Error, Result};
use crate::resource::ResMap;
use crate::yaml::Value;
use regex::Regex;

#[derive(Debug, Clone, Default)]
pub struct ImageSpec {
    pub name: String,
    pub new_name: String,
    pub new_tag: String,
    pub digest: String,
    pub tag_suffix: String,
}

impl ImageSpec {
    /// An `images:` entry or an ImageTagTransformer's `imageTag:`, its types already
    /// checked (`load::field_types`): the same fields either way.
    pub fn from_entry(entry: Option<&Value>) -> ImageSpec {
        let text = |f: &str| {
            entry
                .and_then(|e| e.get(f))
                .and_then(Value::scalar_text)
                .unwrap_or_default()
        };
        ImageSpec {
            name: text("name"),
            new_name: text("newName"),
            new_tag: text("newTag"),
            digest: text("digest"),
            tag_suffix: text("tagSuffix"),
        }
    }
}

pub struct Images {
    spec: ImageSpec,
    pattern: Regex,
    /// Image fields beyond `containers`/`initContainers` (from `configurations:`).
    extra: Vec<FieldSpec>,
}

impl Images {
    pub fn new(spec: ImageSpec, specs: Vec<FieldSpec>) -> Result<Images> {
        let pattern = Regex::new(&format!("^{}(@sha256)?(:[a-zA-Z0-9_.{{}}-]*)?$", spec.name))
            .map_err(|_| {
                Error::new(format!("image name `{}` is not a valid pattern", spec.name)).with_help(
                    "image names are matched as regular expressions; escape characters such as `[`",
                )
            })?;
        let extra = specs
            .into_iter()
            .filter(|s| {
                !s.path
                    .iter()
                    .any(|p| p.starts_with("containers") || p.starts_with("initContainers"))
            })
            .collect();
        Ok(Images {
            spec,
            pattern,
            extra,
        })
    }

    fn update(&self, image: &str) -> Option<String> {
        if !self.pattern.is_match(image) {
            return None;
        }
        let (mut name, mut tag, mut digest) = split(image);
        let s = &self.spec;
        if !s.new_name.is_empty() {
            name = s.new_name.clone();
        }
        if !s.new_tag.is_empty() && !s.digest.is_empty() {
            tag = s.new_tag.clone();
            digest = s.digest.clone();
        } else if !s.new_tag.is_empty() {
            tag = s.new_tag.clone();
            digest.clear();
        } else if !s.digest.is_empty() {
            tag.clear();
            digest = s.digest.clone();
        } else if !s.tag_suffix.is_empty() {
            tag.push_str(&s.tag_suffix);
        }
        if !tag.is_empty() {
            name = format!("{name}:{tag}");
        }
        if !digest.is_empty() {
            name = format!("{name}@{digest}");
        }
        Some(name)
    }

    fn visit(&self, node: &mut Value) {
        match node {
            Value::Map(m) => {
                for (k, v) in m.iter_mut() {
                    if (k == "containers" || k == "initContainers") && matches!(v, Value::Seq(_)) {
                        if let Value::Seq(items) = v {
                            for c in items {
                                if let Some(Value::Str(img)) = c.get_mut("image")
                                    && let Some(new) = self.update(img)
                                {
                                    *img = new;
                                }
                            }
                        }
                    } else {
                        self.visit(v);
                    }
                }
            }
            Value::Seq(items) => items.iter_mut().for_each(|i| self.visit(i)),
            _ => {}
        }
    }
}

/// Split an image reference into name, tag and digest (a registry port is not a tag).
pub fn split(image: &str) -> (String, String, String) {
    let slash = image.find('/').filter(|&i| i > 0).unwrap_or(0);
    let search = &image[slash..];
    let at = search.find('@');
    let colon = search.find(':');
    match (at, colon) {
        (None, None) => (image.to_string(), String::new(), String::new()),
        (Some(a), Some(c)) if c < a => {
            let (a, c) = (a + slash, c + slash);
            (
                image[..c].to_string(),
                image[c + 1..a].to_string(),
                image[a + 1..].to_string(),
            )
        }
        (Some(a), _) => {
            let a = a + slash;
            (
                image[..a].to_string(),
                String::new(),
                image[a + 1..].to_string(),
            )
        }
        (None, Some(c)) => {
            let c = c + slash;
            (
                image[..c].to_string(),
                image[c + 1..].to_string(),
                String::new(),
            )
        }
    }
}

impl Transformer for Images {
    fn kind(&self) -> &'static str {
        "ImageTagTransformer"
    }

    fn transform(
        &self,
        rm: &mut ResMap,
        _warnings: &mut Vec<crate::warning::Warning>,
    ) -> Result<()> {
        for r in &mut rm.items {
            self.visit(&mut r.doc);
            let gvk = r.gvk();
            for spec in self.extra.iter().filter(|s| s.selects(&gvk)) {
                walk(&mut r.doc, &spec.path, None, &mut |node| {
                    if let Value::Str(img) = node
                        && let Some(new) = self.update(img)
                    {
                        *img = new;
                    }
                    Ok(())
                })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_images() {
        for (img, want) in [
            ("nginx", ("nginx", "", "")),
            ("nginx:1.25", ("nginx", "1.25", "")),
            (
                "my.registry:5000/tools/busybox",
                ("my.registry:5000/tools/busybox", "", ""),
            ),
            (
                "my.registry:5000/tools/busybox:1",
                ("my.registry:5000/tools/busybox", "1", ""),
            ),
            ("alpine@sha256:abc", ("alpine", "", "sha256:abc")),
            ("alpine:3@sha256:abc", ("alpine", "3", "sha256:abc")),
        ] {
            let (n, t, d) = split(img);
            assert_eq!((n.as_str(), t.as_str(), d.as_str()), want, "{img}");
        }
    }

    #[test]
    fn update_rules() {
        let spec = |name: &str, new_name: &str, tag: &str, digest: &str| ImageSpec {
            name: name.into(),
            new_name: new_name.into(),
            new_tag: tag.into(),
            digest: digest.into(),
            tag_suffix: String::new(),
        };
        for (s, img, want) in [
            (
                spec("nginx", "", "1.25", ""),
                "nginx:1.0",
                Some("nginx:1.25"),
            ),
            (spec("nginx", "", "1.25", ""), "nginx-extra:1.0", None),
            (
                spec("postgres", "reg/pg", "15", ""),
                "postgres",
                Some("reg/pg:15"),
            ),
            (
                spec("alpine", "", "", "sha256:x"),
                "alpine:3",
                Some("alpine@sha256:x"),
            ),
            (
                spec("busybox", "r:5000/b", "", ""),
                "busybox:1",
                Some("r:5000/b:1"),
            ),
        ] {
            let t = Images::new(s, Vec::new()).expect("valid");
            assert_eq!(t.update(img).as_deref(), want, "{img}");
        }
        assert!(Images::new(spec("[", "", "v2", ""), Vec::new()).is_err());
    }
}
