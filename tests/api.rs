//! The library as a program uses it: `strata::build` and friends, and the kind of each
//! error, so that a caller can tell a missing file from a refused one without reading
//! messages.

use std::path::Path;
use strata::{BuildOptions, ErrorKind, Loader};

/// A tree of `files` (path, text) in a temporary directory.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    for (path, text) in files {
        let p = t.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    t
}

fn kind_of(dir: &Path) -> ErrorKind {
    strata::build(dir, &BuildOptions::default(), &Loader::default())
        .map(|_| ())
        .expect_err("the build fails")
        .kind
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  k: v\n";

/// What a case is, the files of its tree, the kind of its error (a tree with `app/` is
/// built there).
type Case = (
    &'static str,
    &'static [(&'static str, &'static str)],
    ErrorKind,
);

const CASES: &[Case] = &[
    (
        "a missing resource",
        &[("kustomization.yaml", "resources:\n- gone.yaml\n")],
        ErrorKind::NotFound,
    ),
    (
        "a missing patch file",
        &[
            (
                "kustomization.yaml",
                "resources:\n- cm.yaml\npatches:\n- path: p.yaml\n",
            ),
            ("cm.yaml", CM),
        ],
        ErrorKind::NotFound,
    ),
    (
        "bad YAML in a resource",
        &[
            ("kustomization.yaml", "resources:\n- cm.yaml\n"),
            ("cm.yaml", "a: [1\n"),
        ],
        ErrorKind::Yaml,
    ),
    (
        "bad YAML in the kustomization",
        &[("kustomization.yaml", "resources:\n\t- cm.yaml\n")],
        ErrorKind::Yaml,
    ),
    (
        "an unknown kustomization field",
        &[("kustomization.yaml", "resource:\n- cm.yaml\n")],
        ErrorKind::Kustomization,
    ),
    (
        "a file outside the root",
        &[
            ("app/kustomization.yaml", "resources:\n- ../cm.yaml\n"),
            ("cm.yaml", CM),
        ],
        ErrorKind::Restricted,
    ),
    (
        "a directory with no kustomization",
        &[("app/readme.txt", "not a layer\n")],
        ErrorKind::NotFound,
    ),
    (
        "a plugin that would run code",
        &[
            ("kustomization.yaml", "transformers:\n- t.yaml\n"),
            (
                "t.yaml",
                "apiVersion: someteam.example.com/v1\nkind: Exec\nmetadata:\n  name: x\n",
            ),
        ],
        ErrorKind::Restricted,
    ),
    (
        "a cycle",
        &[
            ("app/kustomization.yaml", "resources:\n- ../b\n"),
            ("b/kustomization.yaml", "resources:\n- ../app\n"),
        ],
        ErrorKind::Cycle,
    ),
    (
        "a template that does not render",
        &[
            ("app/kustomization.yaml", "resources:\n- cm.yaml.j2\n"),
            ("app/cm.yaml.j2", "a: {{ values.nope.deeper }}\n"),
        ],
        ErrorKind::Template,
    ),
    (
        "a template that renders bad YAML",
        &[
            ("app/kustomization.yaml", "resources:\n- cm.yaml.j2\n"),
            ("app/cm.yaml.j2", "a: [{{ 1 }}\n"),
        ],
        ErrorKind::Yaml,
    ),
    (
        "values that fail their schema",
        &[
            ("app/kustomization.yaml", "resources:\n- cm.yaml\n"),
            ("app/cm.yaml", CM),
            ("app/values.yaml", "replicas: many\n"),
            (
                "app/values.schema.json",
                r#"{"type": "object", "properties": {"replicas": {"type": "integer"}}}"#,
            ),
        ],
        ErrorKind::Values,
    ),
    (
        "a patch that does not apply",
        &[
            (
                "kustomization.yaml",
                "resources:\n- cm.yaml\npatches:\n- target: {kind: ConfigMap}\n  patch: |-\n    - op: replace\n      path: /nope/deeper\n      value: x\n",
            ),
            ("cm.yaml", CM),
        ],
        ErrorKind::Patch,
    ),
];

#[test]
fn errors_say_their_kind() {
    for (what, files, want) in CASES {
        let t = tree(files);
        let dir = if t.path().join("app").is_dir() {
            t.path().join("app")
        } else {
            t.path().to_path_buf()
        };
        assert_eq!(kind_of(&dir), *want, "{what}");
    }
}

#[test]
fn nesting_beyond_the_budget_is_a_limit() {
    let t = tree(&[
        ("a/kustomization.yaml", "resources:\n- ../b\n"),
        ("b/kustomization.yaml", "resources:\n- ../c\n"),
        ("c/kustomization.yaml", "resources:\n- cm.yaml\n"),
        ("c/cm.yaml", CM),
    ]);
    let options = BuildOptions {
        limits: strata::Limits { max_depth: 2 },
        ..BuildOptions::default()
    };
    let e = strata::build(&t.path().join("a"), &options, &Loader::default())
        .map(|_| ())
        .expect_err("too deep");
    assert_eq!(e.kind, ErrorKind::Limit, "{e}");
}

#[test]
fn a_build_through_the_api_is_what_the_command_prints() {
    let t = tree(&[
        (
            "kustomization.yaml",
            "namePrefix: p-\nresources:\n- cm.yaml\n",
        ),
        ("cm.yaml", CM),
    ]);
    let out =
        strata::build(t.path(), &BuildOptions::default(), &Loader::default()).expect("builds");
    let printed = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("build")
        .arg(t.path())
        .output()
        .expect("strata runs");
    assert_eq!(out.yaml().as_bytes(), printed.stdout.as_slice());
    let names: Vec<&str> = out
        .objects()
        .filter_map(|o| o.str_at(&["metadata", "name"]))
        .collect();
    assert_eq!(names, ["p-app"]);
}
