# The townhalld image that deploy/k8s runs:
#   docker build -t townhall/townhalld:dev .
#
# Two stages, both Debian bookworm: `build` compiles townhalld (and only
# it) with Debian's compilers and -dev packages; the image is
# debian:bookworm-slim with the runtime libraries townhalld links against,
# tzdata, and the binary, run as the non-root user `townhall` (uid 10001).
# No key, credential or certificate is in it: Kubernetes mounts them
# (deploy/k8s/base/deployment.yaml).
#
# This image is not built in CI (the test machines have no Docker);
# tests/deploy/test_dockerfile.py checks what can be checked without it:
# bookworm bases, the build stage's packages against
# deploy/install-deps.sh, its sources against a cmake configure, the
# runtime packages against `ldd townhalld`, the user, the entrypoint.

# ---- build -----------------------------------------------------------------
FROM debian:bookworm AS build
ARG DEBIAN_FRONTEND=noninteractive
# What cmake needs to configure the tree and build townhalld: the build
# packages of deploy/install-deps.sh, without the test runners, Redis,
# Python, clang and buf.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config ca-certificates \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
      libabsl-dev libhiredis-dev libevent-dev \
      libgtest-dev libgmock-dev googletest \
      libical-dev libssl-dev libjwt-dev libutf8proc-dev libicu-dev \
      libncurses-dev lld prometheus-cpp-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only the sources cmake reads (never .local/, where up.sh keeps keys).
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY proto/ proto/
COPY services/ services/
COPY clients/ clients/
COPY tests/ tests/
COPY bench/ bench/
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build /build -j "$(nproc)" --target townhalld \
 && strip --strip-debug -o /townhalld /build/services/townhalld/townhalld

# ---- runtime ---------------------------------------------------------------
FROM debian:bookworm-slim
ARG DEBIAN_FRONTEND=noninteractive
# The packages of every shared library `ldd townhalld` lists (dpkg -S),
# and tzdata: time zones are read from /usr/share/zoneinfo at run time.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libc6 libgcc-s1 libstdc++6 zlib1g \
      libabsl20220623 libgrpc++1.51 libgrpc29 libprotobuf32 \
      libre2-9 libc-ares2 libssl3 \
      libhiredis0.14 libevent-2.1-7 libevent-core-2.1-7 libevent-pthreads-2.1-7 \
      libical3 libicu72 libjwt0 libjansson4 libb64-0d libutf8proc2 \
      libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 libcivetweb1 \
      tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 townhall \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin townhall
COPY --from=build /townhalld /usr/local/bin/townhalld
USER 10001:10001
# gRPC (and grpc.health.v1); 9464: Prometheus metrics (--metrics_listen).
EXPOSE 50051 9464
ENTRYPOINT ["/usr/local/bin/townhalld"]
