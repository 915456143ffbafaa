#!/usr/bin/env python3
"""kubernetes-validate's verdicts for many files, several Kubernetes versions and both
strictness levels in one process (the oracle of tests/validation.rs).

usage: PYTHON_OF_KUBERNETES_VALIDATE kubernetes_validate_oracle.py --versions 1.32,1.37 FILE...

Prints one JSON line per file, version and strictness:
  {"file", "version", "strict", "docs": [{"kind", "name", "verdict", "path", "message"}]}
with verdict `pass`, `fail` (a schema violation; `path` and `message` say which), `none`
(no schema for the kind: kubernetes-validate warns and does not judge) or `error` (it
could not validate the document), or {"file", "error"} when the file does not parse.

The verdicts are kubernetes_validate.utils.validate's, as its command line reports them
(utils.validate_resource). Only the cost is cut: the command line re-reads and re-parses a
1.3 MB definitions file for every document and parses YAML in pure Python; here each file
is parsed once (with PyYAML's libyaml loader when present: the same SafeLoader resolution,
and the same `=` constructor and dropping of empty documents as utils.resources_from_file)
and the schema files are read once per process. Files are spread over a few processes.
"""
import argparse, functools, json, os, sys
from concurrent.futures import ProcessPoolExecutor

import yaml
import kubernetes_validate.utils as utils

utils.schema_contents = functools.lru_cache(maxsize=None)(utils.schema_contents)
LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
LOADER.add_constructor(u'tag:yaml.org,2002:value', utils.construct_value)


def verdict(resource, version, strict):
    try:
        utils.validate(resource, version, strict)
        utils.kn(resource)  # the command line names the resource: no name is an error
        return {'verdict': 'pass'}
    except utils.ValidationError as e:
        return {'verdict': 'fail', 'path': '.'.join(str(p) for p in e.path), 'message': e.message}
    except (utils.SchemaNotFoundError, utils.InvalidSchemaError):
        return {'verdict': 'none'}
    except Exception as e:  # what validate_resource reports as "could not be validated"
        return {'verdict': 'error', 'message': str(e)}


def one_file(job):
    path, versions = job
    try:
        with open(path) as f:
            docs = [d for d in yaml.load_all(f.read(), Loader=LOADER) if d]
    except Exception as e:
        return [json.dumps({'file': path, 'error': str(e)})]
    out = []
    for version in versions:
        for strict in (True, False):
            verdicts = []
            for d in docs:
                v = verdict(d, version, strict) if isinstance(d, dict) else {'verdict': 'error'}
                if isinstance(d, dict):
                    v['kind'] = d.get('kind')
                    v['name'] = (d.get('metadata') or {}).get('name') if isinstance(d.get('metadata'), dict) else None
                verdicts.append(v)
            out.append(json.dumps({'file': path, 'version': version, 'strict': strict, 'docs': verdicts}))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--versions', required=True)
    ap.add_argument('--jobs', type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument('files', nargs='+')
    args = ap.parse_args()
    versions = [v if v.count('.') == 2 else v + '.0' for v in args.versions.split(',')]
    jobs = [(f, versions) for f in args.files]
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for lines in pool.map(one_file, jobs, chunksize=4):
            for line in lines:
                print(line)


if __name__ == '__main__':
    main()
