//! The OCI image manifest and the Flux config blob that describe one artifact.
//!
//! Input is a packed layer and the annotations; output is the config JSON, the manifest
//! JSON and its digest, byte-stable (annotations sorted by key), in the format
//! `flux push artifact` writes and source-controller reads: one layer of media type
//! `application/vnd.cncf.flux.content.v1.tar+gzip`, a config of media type
//! `application/vnd.cncf.flux.config.v1+json` with `created` and `rootfs.diff_ids`, and the
//! `org.opencontainers.image.{created,source,revision}` annotations.

use super::pack::{Layer, sha256};
use crate::error::{Error, Result};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.flux.config.v1+json";
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.cncf.flux.content.v1.tar+gzip";

pub const CREATED: &str = "org.opencontainers.image.created";
pub const SOURCE: &str = "org.opencontainers.image.source";
pub const REVISION: &str = "org.opencontainers.image.revision";

/// The time a reproducible artifact claims to be created at.
pub const EPOCH: &str = "1970-01-01T00:00:00Z";

/// What an artifact says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Meta {
    /// RFC 3339, UTC (`EPOCH` for a reproducible artifact).
    pub created: String,
    /// `org.opencontainers.image.source`: where the configuration lives (a repository URL).
    pub source: String,
    /// `org.opencontainers.image.revision`: Flux's convention is `<branch>@sha1:<commit>`.
    pub revision: String,
    /// More annotations (`--annotation k=v`), which may not set the three above.
    pub annotations: Vec<(String, String)>,
}

/// The blobs and manifest of one artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub layer: Layer,
    pub config: Vec<u8>,
    pub config_digest: String,
    pub manifest: Vec<u8>,
    pub digest: String,
}

/// Parse `--annotation key=value`.
pub fn parse_annotation(arg: &str) -> Result<(String, String)> {
    let Some((k, v)) = arg.split_once('=') else {
        return Err(Error::new(format!("annotation `{arg}` has no `=`"))
            .with_help("write `--annotation key=value`"));
    };
    if k.is_empty() || k.chars().any(char::is_whitespace) {
        return Err(Error::new(format!("annotation key `{k}` is not valid"))
            .with_help("an annotation key is a non-empty word such as `org.example.team`"));
    }
    if [CREATED, SOURCE, REVISION].contains(&k) {
        return Err(Error::new(format!("annotation `{k}` is set by strata"))
            .with_help("use `--source`, `--revision` and `--reproducible` instead"));
    }
    Ok((k.to_string(), v.to_string()))
}

/// Build the config and manifest for `layer`.
pub fn artifact(layer: Layer, meta: &Meta) -> Artifact {
    let config = json!({
        "created": meta.created,
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]},
    });
    let config = to_bytes(&config);
    let config_digest = sha256(&config);
    let mut annotations: BTreeMap<&str, &str> = BTreeMap::new();
    annotations.insert(CREATED, &meta.created);
    annotations.insert(SOURCE, &meta.source);
    annotations.insert(REVISION, &meta.revision);
    for (k, v) in &meta.annotations {
        annotations.insert(k, v);
    }
    let annotations: serde_json::Map<String, Value> = annotations
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": {
            "mediaType": CONFIG_MEDIA_TYPE,
            "digest": config_digest,
            "size": config.len(),
        },
        "layers": [{
            "mediaType": LAYER_MEDIA_TYPE,
            "digest": layer.digest,
            "size": layer.bytes.len(),
        }],
        "annotations": annotations,
    });
    let manifest = to_bytes(&manifest);
    Artifact {
        digest: sha256(&manifest),
        layer,
        config,
        config_digest,
        manifest,
    }
}

fn to_bytes(v: &Value) -> Vec<u8> {
    // Serialising a `Value` cannot fail.
    serde_json::to_vec(v).unwrap_or_default()
}

/// `secs` since the Unix epoch as RFC 3339 UTC (`2024-05-01T12:00:00Z`).
pub fn rfc3339(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX);
    let rem = secs % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Now, or `$SOURCE_DATE_EPOCH` when set, as RFC 3339.
pub fn now() -> String {
    if let Some(s) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
    {
        return rfc3339(s);
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::pack;

    #[test]
    fn timestamps() {
        for (secs, want) in [
            (0, EPOCH),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_714_564_800, "2024-05-01T12:00:00Z"),
            (4_102_444_799, "2099-12-31T23:59:59Z"),
        ] {
            assert_eq!(rfc3339(secs), want);
        }
    }

    #[test]
    fn manifest_shape() {
        let layer =
            pack::layer(&pack::from_files(&[("a.yaml".into(), b"a: 1\n".to_vec())]).unwrap())
                .unwrap();
        let meta = Meta {
            created: EPOCH.into(),
            source: "https://example.com/repo".into(),
            revision: "main@sha1:abc".into(),
            annotations: vec![("team".into(), "web".into())],
        };
        let a = artifact(layer.clone(), &meta);
        let m: Value = serde_json::from_slice(&a.manifest).unwrap();
        assert_eq!(m["schemaVersion"], 2);
        assert_eq!(m["mediaType"], MANIFEST_MEDIA_TYPE);
        assert_eq!(m["config"]["mediaType"], CONFIG_MEDIA_TYPE);
        assert_eq!(m["config"]["digest"], a.config_digest.as_str());
        assert_eq!(m["config"]["size"], a.config.len());
        assert_eq!(m["layers"][0]["mediaType"], LAYER_MEDIA_TYPE);
        assert_eq!(m["layers"][0]["digest"], layer.digest.as_str());
        assert_eq!(m["layers"][0]["size"], layer.bytes.len());
        assert_eq!(m["annotations"][CREATED], EPOCH);
        assert_eq!(m["annotations"][REVISION], "main@sha1:abc");
        assert_eq!(m["annotations"]["team"], "web");
        let c: Value = serde_json::from_slice(&a.config).unwrap();
        assert_eq!(c["rootfs"]["diff_ids"][0], layer.diff_id.as_str());
        assert_eq!(c["created"], EPOCH);
        assert_eq!(a.digest, sha256(&a.manifest));
        assert_eq!(artifact(layer, &meta), a);
    }

    #[test]
    fn annotations() {
        assert_eq!(
            parse_annotation("a=b=c").unwrap(),
            ("a".to_string(), "b=c".to_string())
        );
        for bad in [
            "novalue",
            "=x",
            "a b=c",
            "org.opencontainers.image.source=x",
        ] {
            assert!(parse_annotation(bad).is_err(), "{bad}");
        }
    }
}
