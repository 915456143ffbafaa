#!/bin/sh
# Build the strata image for the Argo CD plugin sidecar.
#
#   deploy/argocd/build-image.sh IMAGE                  # docker build (needs a Docker daemon)
#   deploy/argocd/build-image.sh --binary-only --out DIR [--profile release|dev]
#
# --binary-only runs the steps the Dockerfile's build stage runs, without Docker: build
# strata with cargo (--locked), copy it to DIR/strata stripped of symbols, and check that
# it runs and links nothing but the C library (so it runs on the slim runtime image).
# The tests run this with the profile they were built with, so it costs no extra build.
set -eu
cd "$(dirname "$0")/../.."

binary_only= out= profile=release image=
while [ $# -gt 0 ]; do
  case "$1" in
    --binary-only) binary_only=1 ;;
    --out) out=$2; shift ;;
    --profile) profile=$2; shift ;;
    -*) echo "build-image.sh: unknown option $1" >&2; exit 2 ;;
    *) image=$1 ;;
  esac
  shift
done

if [ -z "$binary_only" ]; then
  if [ -z "$image" ]; then
    echo "usage: build-image.sh IMAGE | --binary-only --out DIR [--profile release|dev]" >&2
    exit 2
  fi
  exec docker build -f deploy/argocd/Dockerfile -t "$image" .
fi
if [ -z "$out" ]; then
  echo "build-image.sh: --binary-only needs --out DIR" >&2
  exit 2
fi
case "$profile" in
  release) dir=release ;;
  dev) dir=debug ;;
  *) echo "build-image.sh: --profile is release or dev" >&2; exit 2 ;;
esac

cargo build --locked --profile "$profile" --bin strata
target=${CARGO_TARGET_DIR:-target}
mkdir -p "$out"
strip --strip-all -o "$out/strata" "$target/$dir/strata"
"$out/strata" --version >/dev/null
# Only the C library and its parts: libc, libm, libgcc_s, the loader, the vDSO.
if ldd "$out/strata" | grep -v -E 'linux-vdso|ld-linux|lib(c|m|gcc_s|pthread|dl|rt)\.so' | grep -q '=>'; then
  echo "build-image.sh: strata links more than the C library:" >&2
  ldd "$out/strata" >&2
  exit 1
fi
echo "$out/strata"
