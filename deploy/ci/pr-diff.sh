#!/bin/sh
# strata in any CI (GitLab, Jenkins, Buildkite, …): render and validate only the
# environments a change affects, and write the Markdown diff to post on the review.
#
#   deploy/ci/pr-diff.sh BASE_REV [OUT_DIR]     e.g. deploy/ci/pr-diff.sh origin/main
#
# Writes OUT_DIR/<env>.yaml for each affected environment and OUT_DIR/diff.md; exits
# non-zero when an environment fails to render or validate.
set -eu
base="${1:?usage: pr-diff.sh BASE_REV [OUT_DIR]}"
out="${2:-rendered}"
envs=$(strata affected --since "$base")
if [ -z "$envs" ]; then
  echo "no environment affected since $base"
  exit 0
fi
echo "affected: $envs"
mkdir -p "$out"
# One word per environment (environment names are directory paths without spaces).
# shellcheck disable=SC2086
strata render $envs --validate --out "$out"
# shellcheck disable=SC2086
strata diff --rev "$base" --output markdown --exit-zero $envs > "$out/diff.md"
echo "diff: $out/diff.md"
