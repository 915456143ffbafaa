#!/usr/bin/env python3
"""Benchmark strata against `kubectl kustomize`, side by side, on this machine.

usage: python3 benches/bench.py [--apps 100,1000] [--runs 5] [--kubectl-runs 3]
                                [--no-kubectl-over N] [--bin target/release/strata]
                                [--registry HOST:PORT]

Cases:
  small       one small overlay (the repository's overlays/prod)
  envN        one environment of N generated apps (5 objects per app), `strata build` vs kubectl
  renderN     all 3 environments of N apps with `strata render --out` (kubectl: 3 builds)
  validateN   `strata render --validate --out` (the cost validation adds to renderN)
  templatedN  renderN with every Deployment templated (`deployment.yaml.j2` + values.yaml)
  validate    `strata validate` over one environment's output (5 objects per app)
  argocdN     `strata argocd generate` for one environment of N apps, with the environment
              Argo CD gives the plugin (parameter `env`, KUBE_VERSION, KUBE_API_VERSIONS):
              render, validation for the cluster's version and the empty-stream check
  diffN       `strata diff --rev HEAD~1 prod` on a git repository of the tree whose last commit
              changes one app's prod image tag (two renders of prod, one object differs)
  affectedN   `strata affected --since HEAD~1` on the same repository (3 plans), and with
              `--exact` (the affected environment rendered on both sides)
  push        `strata artifact push --tag-per-env` of the sample's 3 environments to a local
              plain-HTTP registry (--registry HOST:PORT or $STRATA_TEST_REGISTRY; skipped
              without one), each run to a fresh repository so every blob is uploaded
The generated trees come from ../shared/bench/gen_tree.py. Reports medians, ratios and peak
memory (/usr/bin/time -v), checks that strata's output is byte-identical to kubectl's, and
prints a Markdown table for the README. Timings are not assertions: this is a benchmark.
"""
import argparse, json, os, platform, re, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN = os.path.join(ROOT, '..', 'shared', 'bench', 'gen_tree.py')


def run(cmd, cwd=None, out=None, env=None):
    """Wall seconds and peak RSS (KiB) of one run; stdout to `out` (a path) or discarded."""
    with open(out or os.devnull, 'wb') as sink:
        t = time.perf_counter()
        p = subprocess.run(['/usr/bin/time', '-v'] + cmd, cwd=cwd, stdout=sink, stderr=subprocess.PIPE,
                           env=dict(os.environ, **env) if env else None)
        wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit('failed: %s\n%s' % (' '.join(cmd), p.stderr.decode()[-2000:]))
    rss = int(re.search(rb'Maximum resident set size \(kbytes\): (\d+)', p.stderr).group(1))
    return wall, rss


def measure(cmd, runs, cwd=None, env=None):
    results = [run(cmd, cwd, env=env) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def templated(tree, n):
    """Turn every app's Deployment into a template fed by a values.yaml per app and one per
    environment overlay (replicas and image tag from values)."""
    for i in range(n):
        app = os.path.join(tree, 'apps', 'app-%04d' % i)
        base = os.path.join(app, 'base')
        text = open(os.path.join(base, 'deployment.yaml')).read()
        text = re.sub(r'replicas: \d+', 'replicas: {{ values.replicas }}', text)
        text = re.sub(r'(image: [^:\n]+):[^\n]+', r'\1:{{ values.tag }}', text)
        with open(os.path.join(base, 'deployment.yaml.j2'), 'w') as f:
            f.write(text)
        os.remove(os.path.join(base, 'deployment.yaml'))
        k = open(os.path.join(base, 'kustomization.yaml')).read().replace('- deployment.yaml', '- deployment.yaml.j2')
        with open(os.path.join(base, 'kustomization.yaml'), 'w') as f:
            f.write(k)
        with open(os.path.join(base, 'values.yaml'), 'w') as f:
            f.write('replicas: 1\ntag: base\n')
        for env, reps in (('dev', 1), ('staging', 2), ('prod', 5)):
            with open(os.path.join(app, 'overlays', env, 'values.yaml'), 'w') as f:
                f.write('replicas: %d\ntag: %s\n' % (reps, env))


def git_cases(tree, n, strata, runs, rows):
    """The CI commands on a git repository of the tree: a commit changing one app's prod image
    tag, then `diff --rev HEAD~1 prod` and `affected --since HEAD~1` (plain and --exact)."""
    if shutil.which('git') is None:
        print('git cases skipped: no git', flush=True)
        return

    def git(*args):
        subprocess.run(['git', '-c', 'user.email=bench@example.com', '-c', 'user.name=bench',
                        '-c', 'commit.gpgsign=false'] + list(args), cwd=tree, check=True,
                       stdout=subprocess.DEVNULL)
    git('init', '-q')
    git('add', '-A')
    git('commit', '-q', '-m', 'tree')
    k = os.path.join(tree, 'apps', 'app-%04d' % (n // 2), 'overlays', 'prod', 'kustomization.yaml')
    text = open(k).read()
    with open(k, 'w') as f:
        f.write(text.replace('newTag: 1.0.0\n', 'newTag: 1.0.1\n'))
    git('commit', '-q', '-am', 'one app')
    check = subprocess.run([strata, 'diff', '--rev', 'HEAD~1', 'prod', '--output', 'json'], cwd=tree,
                           capture_output=True, text=True)
    changes = json.loads(check.stdout)['environments'][0]['changes'] if check.returncode == 1 else None
    if not changes or len(changes) != 1:
        sys.exit('diff --rev: expected one changed object, got %r (%s)' % (changes, check.stderr[-500:]))
    for name, cmd in (('`diff --rev HEAD~1 prod`, one changed app, %d apps' % n,
                       [strata, 'diff', '--rev', 'HEAD~1', 'prod', '--exit-zero']),
                      ('`affected --since HEAD~1`, 3 environments, %d apps' % n,
                       [strata, 'affected', '--since', 'HEAD~1']),
                      ('`affected --since HEAD~1 --exact`, %d apps' % n,
                       [strata, 'affected', '--since', 'HEAD~1', '--exact'])):
        t, m = measure(cmd, runs, tree)
        rows.append((name, t, m, None, None, ''))
        print('%-28s strata %8.3f s %7.0f MiB' % (name[:28], t, m / 1024), flush=True)
    shutil.rmtree(os.path.join(tree, '.git'))


def machine():
    cpu = ''
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    mem = ''
    try:
        kb = int(open('/proc/meminfo').readline().split()[1])
        mem = '%.0f GiB' % (kb / 1024 / 1024)
    except (OSError, ValueError):
        pass
    kubectl = subprocess.run(['kubectl', 'version', '--client'], capture_output=True, text=True).stdout.strip().splitlines()
    return '%s, %d cores, %s, %s; %s' % (cpu or platform.processor(), os.cpu_count(), mem, platform.platform(),
                                        kubectl[0] if kubectl else 'no kubectl')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--apps', default='100,1000')
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--kubectl-runs', type=int, default=3)
    ap.add_argument('--no-kubectl-over', type=int, default=10**9,
                    help='skip kubectl for trees with more apps than this (it takes minutes)')
    ap.add_argument('--bin', default=os.path.join(ROOT, 'target', 'release', 'strata'))
    ap.add_argument('--registry', default=os.environ.get('STRATA_TEST_REGISTRY', ''),
                    help='a plain-HTTP OCI registry for the push case (HOST:PORT)')
    args = ap.parse_args()
    strata = os.path.abspath(args.bin)
    if not os.path.exists(strata):
        sys.exit('build first: cargo build --release')
    have_kubectl = shutil.which('kubectl') is not None
    rows = []
    work = tempfile.mkdtemp(prefix='strata-bench-')

    def compare(name, s_cmd, k_cmd, cwd=None, kubectl_runs=args.kubectl_runs, check=None):
        s_t, s_m = measure(s_cmd, args.runs, cwd)
        k_t = k_m = None
        if have_kubectl and k_cmd and kubectl_runs > 0:
            k_t, k_m = measure(k_cmd, kubectl_runs, cwd)
        identical = ''
        if check and have_kubectl and k_cmd and kubectl_runs > 0:
            a, b = os.path.join(work, 'a.yaml'), os.path.join(work, 'b.yaml')
            run(s_cmd, cwd, a)
            run(k_cmd, cwd, b)
            identical = 'yes' if open(a, 'rb').read() == open(b, 'rb').read() else 'NO'
        rows.append((name, s_t, s_m, k_t, k_m, identical))
        ratio = ('%.0fx' % (k_t / s_t)) if k_t else '-'
        print('%-28s strata %8.3f s %7.0f MiB   kubectl %s   ratio %s %s' % (
            name, s_t, s_m / 1024, ('%8.3f s %7.0f MiB' % (k_t, k_m / 1024)) if k_t else '   (skipped)', ratio,
            ('identical=' + identical) if identical else ''), flush=True)

    compare('small overlay (overlays/prod)', [strata, 'build', 'overlays/prod'],
            ['kubectl', 'kustomize', 'overlays/prod'], cwd=ROOT, kubectl_runs=args.runs, check=True)
    if args.registry:
        stamp = '%d-%d' % (os.getpid(), int(time.time()))
        results = [run([strata, 'artifact', 'push', 'oci://%s/bench/sample-%s-%d' % (args.registry, stamp, i),
                        '--tag-per-env', '--insecure', '--source', 'bench', '--revision', 'bench@sha1:0'], ROOT)
                   for i in range(args.runs)]
        p_t, p_m = statistics.median(r[0] for r in results), max(r[1] for r in results)
        rows.append(('`artifact push`, 3 sample environments, local registry', p_t, p_m, None, None, ''))
        print('%-28s strata %8.3f s %7.0f MiB' % ('artifact push, 3 envs', p_t, p_m / 1024), flush=True)
    for n in [int(x) for x in args.apps.split(',') if x]:
        tree = os.path.join(work, 'apps%d' % n)
        subprocess.run([sys.executable, GEN, '--apps', str(n), '--out', tree], check=True, stdout=subprocess.DEVNULL)
        os.symlink('envs', os.path.join(tree, 'overlays'))
        kr = args.kubectl_runs if n <= args.no_kubectl_over else 0
        compare('one environment, %d apps' % n, [strata, 'build', 'envs/dev'],
                ['kubectl', 'kustomize', 'envs/dev'], cwd=tree, kubectl_runs=min(kr, 1 if n >= 1000 else kr), check=True)
        s_t, s_m = measure([strata, 'render', '--out', os.path.join(work, 'out%d' % n)], args.runs, tree)
        one = [r for r in rows if r[0] == 'one environment, %d apps' % n][0]
        k3 = one[3] * 3 if one[3] else None
        rows.append(('render 3 environments, %d apps' % n, s_t, s_m, k3, one[4], ''))
        print('%-28s strata %8.3f s %7.0f MiB   kubectl (3 builds) %s' % (
            'render 3 envs, %d apps' % n, s_t, s_m / 1024, ('%.1f s' % k3) if k3 else '(skipped)'), flush=True)
        v_t, v_m = measure([strata, 'render', '--validate', '--out', os.path.join(work, 'outv%d' % n)], args.runs, tree)
        rows.append(('render --validate, %d apps (+%.0f%%)' % (n, 100 * (v_t / s_t - 1)), v_t, v_m, None, None, ''))
        print('%-28s strata %8.3f s %7.0f MiB   (+%.0f%% over render)' % ('render --validate, %d' % n, v_t, v_m / 1024, 100 * (v_t / s_t - 1)), flush=True)
        out = os.path.join(work, 'out%d' % n, 'dev.yaml')
        c_t, c_m = measure([strata, 'validate', '--missing-schemas', 'ignore', out], args.runs, tree)
        rows.append(('validate %d objects' % (5 * n), c_t, c_m, None, None, ''))
        print('%-28s strata %8.3f s %7.0f MiB' % ('validate %d objects' % (5 * n), c_t, c_m / 1024), flush=True)
        argo_env = {
            'ARGOCD_APP_NAME': 'bench', 'ARGOCD_APP_NAMESPACE': 'bench', 'ARGOCD_APP_SOURCE_PATH': '.',
            'ARGOCD_APP_REVISION': '0123456789abcdef0123456789abcdef01234567',
            'ARGOCD_APP_PARAMETERS': '[{"name":"env","string":"dev"}]',
            'KUBE_VERSION': '1.32.4', 'KUBE_API_VERSIONS': 'apps/v1,autoscaling/v2,v1',
        }
        a_t, a_m = measure([strata, 'argocd', 'generate'], args.runs, tree, env=argo_env)
        rows.append(('`argocd generate`, one environment, %d apps' % n, a_t, a_m, None, None, ''))
        print('%-28s strata %8.3f s %7.0f MiB' % ('argocd generate, %d' % n, a_t, a_m / 1024), flush=True)
        git_cases(tree, n, strata, args.runs, rows)
        templated(tree, n)
        t_t, t_m = measure([strata, 'render', '--out', os.path.join(work, 'outt%d' % n)], args.runs, tree)
        rows.append(('render 3 environments, %d apps, templated (+%.0f%%)' % (n, 100 * (t_t / s_t - 1)), t_t, t_m, None, None, ''))
        print('%-28s strata %8.3f s %7.0f MiB   (+%.0f%% over plain)' % ('templated render, %d' % n, t_t, t_m / 1024, 100 * (t_t / s_t - 1)), flush=True)
    shutil.rmtree(work, ignore_errors=True)

    print('\nMachine: ' + machine())
    print('\n| case | strata | kubectl kustomize | speed-up | strata peak RSS | kubectl peak RSS | identical |')
    print('|---|---|---|---|---|---|---|')
    for name, s_t, s_m, k_t, k_m, ident in rows:
        print('| %s | %.3f s | %s | %s | %.0f MiB | %s | %s |' % (
            name, s_t, ('%.2f s' % k_t) if k_t else '-', ('%.0fx' % (k_t / s_t)) if k_t else '-',
            s_m / 1024, ('%.0f MiB' % (k_m / 1024)) if k_m else '-', ident or '-'))


if __name__ == '__main__':
    main()
