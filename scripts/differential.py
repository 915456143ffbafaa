#!/usr/bin/env python3
"""Differential testing against kubectl: random kustomization trees, built by both tools.

usage: python3 scripts/differential.py --bin target/release/strata [--trees N] [--seed S]
                                        [--jobs J] [--keep DIR]

Each tree is a base, an optional component and an overlay, drawn from the features Kustomize
has: resources with nulls, empty maps, block and flow scalars, lists of every merge strategy
(containers, ports with and without protocol, env, volumes, finalizers, plain lists);
namespace, prefix/suffix, labels/commonLabels, annotations, images, replicas; strategic
merge, JSON 6902 and patchesStrategicMerge patches, inline and in files, with and without
targets; config map and secret generators with every source form and option; replacements
and vars with every path form; components. `strata build` and `kubectl kustomize` run on
each; the outputs (or both failing) must agree. Every difference is copied to DIR (default
`target/differential/`) as a fixture: `input/`, `run`, kubectl's `expected.yaml` or
`expected_error.txt`, and strata's output beside it. The last line is
`differential: N trees, D differences`; exit 1 when D > 0.
"""
import argparse, concurrent.futures, os, random, shutil, subprocess, sys, tempfile

WORDS = ['alpha', 'beta', 'gamma', 'delta', 'web', 'api', 'db', 'cache', 'prod', 'dev']
SCALARS = ['1', '"1"', '1.10', '0x1F', 'true', 'yes', '"yes"', 'null', '~', '', '2001-12-14',
           '"a: b"', "'single'", 'plain text', '"x\\ty"', '1e3', '-0', '0777', 'on']


class Tree:
    def __init__(self, rng):
        self.r = rng
        self.files = {}

    def pick(self, *xs):
        return self.r.choice(xs)

    def maybe(self, p=0.5):
        return self.r.random() < p

    def word(self):
        return self.r.choice(WORDS)

    def scalar(self):
        return self.r.choice(SCALARS)

    def block(self, indent):
        pad = ' ' * indent
        style = self.pick('|', '|-', '|+', '>', '>-', '>+')
        lines = [self.word() + ' ' + self.word() for _ in range(self.r.randint(1, 3))]
        if self.maybe(0.3):
            lines.insert(1, '  indented ' + self.word())
        body = ''.join(f'{pad}  {l}\n' for l in lines)
        if style.endswith('+') and self.maybe():
            body += '\n'
        return f'{style}\n{body}'

    def labels(self, indent, n=None):
        pad = ' ' * indent
        n = n if n is not None else self.r.randint(0, 3)
        if n == 0:
            return self.pick(' {}\n', '\n', ' null\n')
        return '\n' + ''.join(f'{pad}{self.word()}{i}: {self.pick(self.word(), self.scalar(), "v1.0")}\n'
                              for i in range(n))

    def container(self, name, indent):
        pad = ' ' * indent
        out = f'{pad}- name: {name}\n{pad}  image: {self.pick("nginx", "nginx:1.2", "gcr.io/x/app:v1", "busybox")}\n'
        if self.maybe():
            out += f'{pad}  ports:\n'
            for _ in range(self.r.randint(1, 3)):
                out += f'{pad}  - containerPort: {self.pick(80, 443, 8080, 53, 9090)}\n'
                if self.maybe():
                    out += f'{pad}    protocol: {self.pick("TCP", "UDP")}\n'
                if self.maybe(0.3):
                    out += f'{pad}    name: {self.word()}\n'
        if self.maybe():
            out += f'{pad}  env:\n'
            for i in range(self.r.randint(1, 3)):
                out += f'{pad}  - name: {self.pick("A", "B", "C", "LOG")}\n'
                if self.maybe(0.8):
                    out += f'{pad}    value: {self.scalar() or "x"}\n'
        if self.maybe(0.3):
            out += f'{pad}  args: [{", ".join(self.pick("--a", "--b", "$(VAR)", "--c") for _ in range(2))}]\n'
        if self.maybe(0.3):
            out += f'{pad}  resources:{self.pick(" {}", "")}\n'
        return out

    def deployment(self, name):
        doc = f'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n'
        if self.maybe():
            doc += '  labels:' + self.labels(4)
        if self.maybe(0.3):
            doc += '  annotations:' + self.labels(4)
        doc += f'spec:\n  replicas: {self.pick(1, 3, 0, 5)}\n  selector:\n    matchLabels:\n      app: {name}\n'
        doc += f'  template:\n    metadata:\n      labels:\n        app: {name}\n'
        if self.maybe(0.3):
            doc += '      annotations:\n'
        doc += '    spec:\n      containers:\n'
        for i in range(self.r.randint(1, 2)):
            doc += self.container(self.pick('app', 'side', 'main') + str(i), 6)
        if self.maybe(0.3):
            doc += '      volumes:\n      - name: data\n        emptyDir: {}\n'
        if self.maybe(0.2):
            doc += '      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n'
        return doc

    def configmap(self, name):
        doc = f'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n'
        if self.maybe(0.3):
            doc += '  annotations:' + self.labels(4)
        doc += 'data:\n'
        for i in range(self.r.randint(0, 3)):
            if self.maybe(0.3):
                doc += f'  k{i}: ' + self.block(2)
            else:
                doc += f'  k{i}: {self.pick(self.scalar(), self.word(), chr(34) + self.word() + chr(34))}\n'
        if self.maybe(0.2):
            doc += f'  flow: {{a: {self.scalar() or "1"}, b: {self.word()}}}\n'
        return doc

    def service(self, name):
        doc = f'apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector:\n    app: {name}\n  ports:\n'
        for _ in range(self.r.randint(1, 2)):
            doc += f'  - port: {self.pick(80, 443)}\n'
            if self.maybe():
                doc += f'    targetPort: {self.pick(8080, "http")}\n'
            if self.maybe(0.3):
                doc += f'    protocol: {self.pick("TCP", "UDP")}\n'
        return doc

    def crd_object(self, name):
        doc = f'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: {name}\n'
        doc += 'spec:\n  list: [a, b]\n  map:\n    x: 1\n  empty:\n  items:\n  - name: one\n    v: 1\n'
        if self.maybe(0.3):
            doc += '  finalizers: [a, b]\n'
        return doc

    def resources(self, prefix):
        kinds = [self.deployment, self.configmap, self.service, self.crd_object]
        names = []
        docs = []
        for i in range(self.r.randint(1, 4)):
            make = self.r.choice(kinds)
            name = f'{prefix}{self.word()}{i}'
            names.append((make.__name__, name))
            docs.append(make(name))
        return names, docs

    def smp(self, kind_name):
        kind, name = kind_name
        api = {'deployment': ('apps/v1', 'Deployment'), 'configmap': ('v1', 'ConfigMap'),
               'service': ('v1', 'Service'), 'crd_object': ('example.com/v1', 'Widget')}[kind]
        p = f'apiVersion: {api[0]}\nkind: {api[1]}\nmetadata:\n  name: {name}\n'
        if self.maybe(0.3):
            p += '  labels:' + self.labels(4, self.r.randint(1, 2))
        if self.maybe(0.3):
            p += f'  annotations:\n    p: {self.scalar() or "x"}\n'
        if kind == 'deployment':
            p += f'spec:\n  replicas: {self.pick(2, 4)}\n'
            if self.maybe():
                p += '  template:\n    spec:\n      containers:\n' + self.container(self.pick('app0', 'side1', 'new'), 6)
            if self.maybe(0.2):
                p += '      $setElementOrder/containers:\n      - name: app0\n'
        elif kind == 'configmap':
            p += 'data:\n'
            p += f'  k0: {self.pick("null", "patched", self.scalar() or "x")}\n'
            if self.maybe(0.3):
                p += '  new: ' + self.block(2)
        elif kind == 'service':
            p += f'spec:\n  ports:\n  - port: {self.pick(80, 8443)}\n    targetPort: {self.pick(9090, 8080)}\n'
        else:
            p += f'spec:\n  list: [{self.word()}]\n  map:\n    y: {self.scalar() or "2"}\n'
            if self.maybe(0.3):
                p += '  empty: {}\n'
        if self.maybe(0.1):
            p += '$patch: delete\n'
        return p

    def json_ops(self, kind):
        ops = []
        for _ in range(self.r.randint(1, 3)):
            op = self.pick('add', 'replace', 'remove', 'copy', 'test')
            path = self.pick('/metadata/labels/x', '/metadata/annotations/a', '/spec/replicas', '/data/k0',
                             '/metadata/name', '/spec/list/0', '/spec/list/-', '/data/new', '/metadata/annotations')
            line = f'- op: {op}\n  path: {path}\n'
            if op in ('add', 'replace', 'test'):
                line += f'  value: {self.pick(self.scalar() or "v", "[1, 2]", "{a: b}", self.word())}\n'
            if op == 'copy':
                line += '  from: /metadata/name\n'
            ops.append(line)
        return ''.join(ops)

    def target(self, kinds):
        t = '  target:\n'
        if self.maybe(0.8):
            t += f'    kind: {self.pick("Deployment", "ConfigMap", "Service", "Widget")}\n'
        if self.maybe(0.4):
            t += f'    name: {self.pick(".*", kinds[0][1], "nomatch", kinds[0][1][:3] + ".*")}\n'
        if self.maybe(0.1):
            t += '    labelSelector: app\n'
        return t

    def generator(self, kind):
        g = f'- name: {self.word()}{kind[0]}\n'
        if self.maybe(0.2):
            g += f'  behavior: {self.pick("create", "merge", "replace")}\n'
        if self.maybe():
            g += '  literals:\n' + ''.join(
                f'  - {self.pick("K", "key", "a.b", "x_y")}{i}={self.pick("v", chr(34) + "q" + chr(34), "", "a=b", self.word())}\n'
                for i in range(self.r.randint(1, 3)))
        if self.maybe(0.4):
            fname = f'f{self.r.randint(0, 99)}.txt'
            self.files[f'base/{fname}'] = self.pick('text\n', 'a\nb\n', '', 'x' * 100 + '\n')
            g += f'  files:\n  - {self.pick("", "key=")}{fname}\n'
        if self.maybe(0.3):
            ename = f'e{self.r.randint(0, 99)}.env'
            self.files[f'base/{ename}'] = self.pick('A=1\nB=2\n', '# c\nK=v\n', 'K = v\n', 'ONLY\n', '=skip\nX=y\n')
            g += f'  envs:\n  - {ename}\n'
        if self.maybe(0.3):
            g += '  options:\n'
            if self.maybe():
                g += f'    disableNameSuffixHash: {self.pick("true", "false")}\n'
            if self.maybe():
                g += f'    labels:\n      gen: {self.word()}\n'
            if self.maybe(0.3):
                g += '    immutable: true\n'
        if kind == 'secret' and self.maybe(0.3):
            g += f'  type: {self.pick("Opaque", "kubernetes.io/tls")}\n'
        return g

    def kustomization(self, where, resources, objects, component=False):
        k = 'kind: Component\n' if component else ''
        if resources:
            k += 'resources:\n' + ''.join(f'- {r}\n' for r in resources)
        if self.maybe(0.3):
            k += f'namespace: {self.pick("shop", "prod-ns", "")}\n'
        if self.maybe(0.3):
            k += f'namePrefix: {self.pick("p-", "team-", "")}\n'
        if self.maybe(0.2):
            k += f'nameSuffix: {self.pick("-s", "-v2")}\n'
        if self.maybe(0.3):
            k += 'commonLabels:' + self.labels(2, self.r.randint(1, 2))
        if self.maybe(0.3):
            k += f'labels:\n- pairs:\n    {self.word()}: {self.word()}\n'
            if self.maybe():
                k += f'  includeSelectors: {self.pick("true", "false")}\n'
            if self.maybe():
                k += f'  includeTemplates: {self.pick("true", "false")}\n'
        if self.maybe(0.3):
            k += f'commonAnnotations:\n  note: {self.pick(self.word(), chr(34) + "1" + chr(34), "x y")}\n'
        if self.maybe(0.2):
            k += f'images:\n- name: nginx\n  newTag: {self.pick(chr(34) + "1.0" + chr(34), "latest", "v2")}\n'
            if self.maybe(0.3):
                k += '  newName: registry.example/nginx\n'
        if self.maybe(0.2) and objects:
            k += f'replicas:\n- name: {objects[0][1]}\n  count: {self.pick(2, 7)}\n'
        patches = []
        if objects and self.maybe(0.6):
            for _ in range(self.r.randint(1, 2)):
                form = self.pick('inline-smp', 'file-smp', 'inline-json', 'file-json', 'targeted-smp')
                obj = self.r.choice(objects)
                if form == 'inline-smp':
                    patches.append('- patch: |-\n' + ''.join('    ' + l + '\n' for l in self.smp(obj).splitlines()))
                elif form == 'file-smp':
                    name = f'p{self.r.randint(0, 999)}.yaml'
                    self.files[f'{where}/{name}'] = self.smp(obj)
                    patches.append(f'- path: {name}\n')
                elif form == 'targeted-smp':
                    body = self.smp(obj)
                    patches.append('- patch: |-\n' + ''.join('    ' + l + '\n' for l in body.splitlines()) + self.target(objects))
                else:
                    ops = self.json_ops(obj[0])
                    if form == 'inline-json':
                        patches.append('- patch: |-\n' + ''.join('    ' + l + '\n' for l in ops.splitlines()) + self.target(objects))
                    else:
                        name = f'j{self.r.randint(0, 999)}.yaml'
                        self.files[f'{where}/{name}'] = ops
                        patches.append(f'- path: {name}\n' + self.target(objects))
        if patches:
            k += 'patches:\n' + ''.join(patches)
        if objects and self.maybe(0.15):
            obj = self.r.choice(objects)
            name = f'sm{self.r.randint(0, 999)}.yaml'
            self.files[f'{where}/{name}'] = self.smp(obj)
            k += f'patchesStrategicMerge:\n- {name}\n'
        if where == 'base' and self.maybe(0.4):
            k += 'configMapGenerator:\n' + self.generator('cm')
        if where == 'base' and self.maybe(0.3):
            k += 'secretGenerator:\n' + self.generator('secret')
        if objects and self.maybe(0.2):
            src = self.r.choice(objects)
            path = self.pick('metadata.name', '.metadata.name', 'spec.replicas', 'data.k0',
                             'spec.template.spec.containers.0.image', 'spec.template.spec.containers.[name=app0].image')
            k += f'replacements:\n- source:\n    kind: {self.pick("Deployment", "ConfigMap", "Service")}\n    name: {src[1]}\n    fieldPath: {path}\n'
            if self.maybe(0.3):
                k += "    options:\n      delimiter: ':'\n      index: 1\n"
            k += f'  targets:\n  - select:\n      kind: {self.pick("ConfigMap", "Deployment")}\n    fieldPaths:\n    - {self.pick("data.copied", "metadata.annotations.from", ".metadata.labels.l", "spec.replicas")}\n'
            if self.maybe():
                k += '    options:\n      create: true\n'
        if objects and self.maybe(0.1):
            src = self.r.choice(objects)
            k += f'vars:\n- name: VAR\n  objref:\n    kind: {self.pick("Deployment", "ConfigMap", "Service")}\n    name: {src[1]}\n    apiVersion: {self.pick("v1", "apps/v1")}\n'
            if self.maybe():
                k += f'  fieldref:\n    fieldpath: {self.pick("metadata.name", "metadata.namespace", "spec.replicas")}\n'
        if self.maybe(0.1):
            k += 'sortOptions:\n  order: fifo\n'
        if not k.strip() or k.strip() == 'kind: Component':
            k += 'commonLabels:\n  filler: x\n'
        return k

    def build(self):
        names, docs = self.resources('')
        self.files['base/res.yaml'] = '---\n'.join(docs)
        self.files['base/kustomization.yaml'] = self.kustomization('base', ['res.yaml'], names)
        components = []
        if self.maybe(0.25):
            self.files['components/c/kustomization.yaml'] = self.kustomization('components/c', [], names, component=True)
            components = ['../../components/c']
        extra_names, extra = ([], [])
        if self.maybe(0.3):
            extra_names, extra = self.resources('o')
            self.files['overlays/x/more.yaml'] = '---\n'.join(extra)
        res = ['../../base'] + (['more.yaml'] if extra else [])
        k = self.kustomization('overlays/x', res, names + extra_names)
        if components:
            k += 'components:\n' + ''.join(f'- {c}\n' for c in components)
        self.files['overlays/x/kustomization.yaml'] = k
        return 'overlays/x'


def run(cmd, cwd):
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=60)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return -1, b'', b'timeout'


def one(args, seed):
    rng = random.Random(seed)
    t = Tree(rng)
    run_dir = t.build()
    with tempfile.TemporaryDirectory() as d:
        for path, text in t.files.items():
            full = os.path.join(d, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, 'w') as f:
                f.write(text)
        kc, ko, ke = run(['kubectl', 'kustomize', run_dir], d)
        sc, so, se = run([args.bin, 'build', run_dir], d)
        same = (kc == 0 and sc == 0 and ko == so) or (kc != 0 and sc not in (0, -1) and so == b''
                                                       and b'panicked' not in se)
        if same:
            return seed, None
        out = os.path.join(args.keep, f'tree-{seed}')
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(d, os.path.join(out, 'input'))
        with open(os.path.join(out, 'run'), 'w') as f:
            f.write(run_dir + '\n')
        if kc == 0:
            open(os.path.join(out, 'expected.yaml'), 'wb').write(ko)
        else:
            open(os.path.join(out, 'expected_error.txt'), 'wb').write(ke)
        open(os.path.join(out, 'strata.out'), 'wb').write(so + b'\n--- stderr\n' + se)
        return seed, f'tree-{seed}: kubectl exit {kc}, strata exit {sc}'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', required=True)
    ap.add_argument('--trees', type=int, default=500)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--jobs', type=int, default=os.cpu_count() or 2)
    ap.add_argument('--keep', default='target/differential')
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    args.keep = os.path.abspath(args.keep)
    os.makedirs(args.keep, exist_ok=True)
    diffs = []
    seeds = range(args.seed, args.seed + args.trees)
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        for seed, diff in ex.map(lambda s: one(args, s), seeds):
            if diff:
                diffs.append(diff)
                print(diff, flush=True)
    print(f'differential: {args.trees} trees, {len(diffs)} differences (kept in {args.keep})')
    return 1 if diffs else 0


if __name__ == '__main__':
    sys.exit(main())
