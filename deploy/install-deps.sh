#!/usr/bin/env bash
# Installs townhall's build, run and test dependencies from Debian bookworm
# packages (and buf from npm). Safe to run repeatedly: it installs only what
# is missing, so a warm machine pays nothing.
set -euo pipefail

DEBIAN_PACKAGES=(
  build-essential cmake pkg-config git ca-certificates openssl
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libhiredis-dev libevent-dev redis-server redis-tools
  libgtest-dev libgmock-dev googletest
  libical-dev libssl-dev libjwt-dev libutf8proc-dev libicu-dev
  python3-grpcio python3-protobuf python3-icalendar python3-dateutil
  # PyYAML: tests/deploy reads the rendered manifests, e2e_townhallctl -o yaml
  python3-yaml
  libncurses-dev
  # the linker the build prefers (cmake/BuildSpeed.cmake)
  lld
  nghttp2-client curl procps tzdata tmux
  # the docs' examples pick ids out of JSON answers with jq (e2e_docs_examples)
  jq
  # deploy/local/up.sh --replicas=N: the local HTTP/2 (gRPC) load balancer
  haproxy
  # e2e_townhallctl: the zsh completion script is checked by zsh itself
  zsh
  # metrics: prometheus-cpp (registry, Exposer) for --metrics_listen;
  # Prometheus itself (and promtool) for the metrics, rules and e2e tests
  prometheus-cpp-dev prometheus
  # tests/run.sh --fuzz: clang with libFuzzer and its sanitizer runtimes
  clang-14 libclang-rt-14-dev libfuzzer-14-dev
)
# Node.js (for buf from npm) may already come from elsewhere; only use Debian's
# when there is none, since Debian's npm conflicts with other Node builds.
command -v npm >/dev/null 2>&1 || DEBIAN_PACKAGES+=(nodejs npm)
# kubectl (`kubectl kustomize` renders deploy/k8s in tests/deploy): Debian's
# kubernetes-client, unless a kubectl is already there (Google's `kubectl`
# package owns /usr/bin/kubectl too, and the two cannot both be installed).
command -v kubectl >/dev/null 2>&1 || DEBIAN_PACKAGES+=(kubernetes-client)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$pkg")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# buf (lint and `buf curl`) is only published on npm.
if ! command -v buf >/dev/null 2>&1; then
  echo "install-deps: installing @bufbuild/buf from npm" >&2
  npm install -g --silent @bufbuild/buf >/dev/null 2>&1 ||
    echo "install-deps: warning: could not install buf; lint and buf curl tests will be skipped" >&2
fi
