//! The certificate authorities HTTPS trusts: the system's, found where Go's `crypto/x509`
//! finds them on Linux (so a private CA that works for kubectl, kustomize, Helm and flux
//! works for strata), with Mozilla's roots only when the system has none.
//!
//! `SSL_CERT_FILE` names the bundle to read instead of the distributions' usual ones (the
//! first of which that exists is read); `SSL_CERT_DIR` (`:`-separated) names the
//! directories whose every file is read instead of `/etc/ssl/certs` and
//! `/etc/pki/tls/certs`. Files that are no PEM, or PEM without certificates, are skipped,
//! as Go skips them. The store is read once per process, the first time it is needed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use ureq::tls::{Certificate, PemItem, RootCerts};

/// Go's `certFiles` for Linux, in its order.
const BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// Go's `certDirectories` for Linux.
const DIRECTORIES: &[&str] = &["/etc/ssl/certs", "/etc/pki/tls/certs"];

/// The roots every client of this process uses.
pub fn roots() -> RootCerts {
    static ROOTS: OnceLock<RootCerts> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let certs = system(
                std::env::var_os("SSL_CERT_FILE"),
                std::env::var_os("SSL_CERT_DIR"),
            );
            if certs.is_empty() {
                RootCerts::WebPki
            } else {
                RootCerts::new_with_certs(&certs)
            }
        })
        .clone()
}

/// The certificates of the system store, given the two variables' values.
pub fn system(
    cert_file: Option<OsString>,
    cert_dir: Option<OsString>,
) -> Vec<Certificate<'static>> {
    let files: Vec<PathBuf> = match cert_file.filter(|f| !f.is_empty()) {
        Some(f) => vec![PathBuf::from(f)],
        None => BUNDLES.iter().map(PathBuf::from).collect(),
    };
    let mut certs = Vec::new();
    // The first bundle that can be read, as Go reads it.
    if let Some(data) = files.iter().find_map(|f| std::fs::read(f).ok()) {
        certs.extend(parse(&data));
    }
    let dirs: Vec<PathBuf> = match cert_dir.filter(|d| !d.is_empty()) {
        Some(d) => std::env::split_paths(&d).collect(),
        None => DIRECTORIES.iter().map(PathBuf::from).collect(),
    };
    for dir in &dirs {
        certs.extend(directory(dir));
    }
    // A directory usually holds the bundle's certificates again, one per file.
    let mut seen = std::collections::HashSet::new();
    certs.retain(|c| seen.insert(c.der().to_vec()));
    certs
}

/// Every certificate in the files of `dir`, in the order of their names.
fn directory(dir: &Path) -> Vec<Certificate<'static>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    names
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .flat_map(|data| parse(&data))
        .collect()
}

/// The certificates of a PEM text; anything else in it is skipped.
fn parse(data: &[u8]) -> Vec<Certificate<'static>> {
    ureq::tls::parse_pem(data)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = include_str!("../tests/tls/cert.pem");

    #[test]
    fn the_named_bundle_is_read_instead_of_the_systems() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bundle.pem");
        std::fs::write(&file, format!("junk before\n{CERT}{CERT}")).unwrap();
        let empty = tempfile::tempdir().unwrap();
        let certs = system(
            Some(file.into_os_string()),
            Some(empty.path().as_os_str().to_owned()),
        );
        assert_eq!(certs.len(), 1, "read once, duplicates dropped");
    }

    #[test]
    fn directories_are_read_file_by_file_and_bad_files_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.pem"), CERT).unwrap();
        std::fs::write(dir.path().join("b.txt"), "not a certificate").unwrap();
        let missing = dir.path().join("no-such-bundle.pem");
        let certs = system(
            Some(missing.into_os_string()),
            Some(dir.path().as_os_str().to_owned()),
        );
        assert_eq!(certs.len(), 1);
    }

    #[test]
    fn no_certificate_anywhere_gives_none() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.pem");
        let certs = system(
            Some(missing.into_os_string()),
            Some(dir.path().as_os_str().to_owned()),
        );
        assert!(certs.is_empty());
    }
}
