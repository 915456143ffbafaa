#!/usr/bin/env bash
# Fill fuzz/corpus/<target>/ with seed inputs from the shared corpora (../shared beside the
# checkout): resource files, kustomization files and patches of the conformance and
# real-world cases, and the repository's own templates. The corpus is not committed.
set -euo pipefail
cd "$(dirname "$0")"
shared=../../shared
[ -d "$shared" ] || { echo "no $shared: seeds come from the shared corpora" >&2; exit 1; }
for t in yaml_reader yaml_round_trip kustomization strategic_merge json_patch template; do
  mkdir -p "corpus/$t"
done
n=0
while IFS= read -r -d '' f; do
  n=$((n + 1))
  name=$(printf '%06d' "$n")
  case "$(basename "$f")" in
    kustomization.yaml|kustomization.yml|Kustomization) cp "$f" "corpus/kustomization/$name" ;;
    *) cp "$f" "corpus/yaml_reader/$name"; cp "$f" "corpus/yaml_round_trip/$name" ;;
  esac
done < <(find "$shared/conformance/kustomize" "$shared/realworld/trees" "$shared/realworld/classes" \
           -type f \( -name '*.yaml' -o -name '*.yml' -o -name Kustomization \) -size -64k -print0 | sort -z)
# Patches: a resource and a patch document, `---` between them.
i=0
for d in "$shared"/conformance/kustomize/*/input; do
  for p in "$d"/*patch*.yaml; do
    [ -f "$p" ] || continue
    r=$(find "$d" -maxdepth 1 -name '*.yaml' ! -name 'kustomization.yaml' ! -name '*patch*' | sort | head -1)
    [ -n "$r" ] || continue
    i=$((i + 1))
    { cat "$r"; printf '\n---\n'; cat "$p"; } > "corpus/strategic_merge/$(printf '%05d' $i)"
    { cat "$r"; printf '\n---\n'; cat "$p"; } > "corpus/json_patch/$(printf '%05d' $i)"
  done
done
printf -- '- op: add\n  path: /metadata/labels/a\n  value: b\n' > corpus/json_patch/ops-only
find ../examples ../overlays ../base -name '*.j2' -exec cp {} corpus/template/ \; 2>/dev/null || true
printf 'name: {{ values.name | quote }}\nreplicas: {{ values.replicas }}\n{%% for x in values.list %%}- {{ x | toyaml | indent(2) }}\n{%% endfor %%}\n' > corpus/template/seed
echo "seeded $(find corpus -type f | wc -l) inputs"
