# The cte-operator image: built with the repository's own scripts on Debian 12, shipping only the
# binary and the Debian packages of the shared libraries it links, running as UID 65532.
#
# No Docker engine runs on the development machines; build it where one does:
#   docker build --build-arg GIT_COMMIT=$(git rev-parse --short HEAD) -t cte-operator:0.1.0 .

FROM debian:bookworm-slim AS build
WORKDIR /src
# The package list alone first, so a source change does not re-run apt-get.
COPY hack/setup-deps.sh hack/setup-deps.sh
RUN ./hack/setup-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
ARG GIT_COMMIT=unknown
RUN cmake --preset release -DCTE_GIT_COMMIT="${GIT_COMMIT}" >/dev/null \
 && ./hack/build.sh release cte-operator \
 && install -D -m 0755 build-release/bin/cte-operator /out/cte-operator \
 && ./hack/runtime-packages.sh build-release/bin/cte-operator >/out/runtime-packages.txt

FROM debian:bookworm-slim
# ca-certificates: the operator verifies the Netskope tenants' and the API server's TLS.
COPY --from=build /out/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
 && xargs -a /tmp/runtime-packages.txt apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
 && groupadd --gid 65532 cte-operator \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin cte-operator \
 && install -d -o 65532 -g 65532 -m 0750 /data
COPY --from=build /out/cte-operator /usr/local/bin/cte-operator
USER 65532:65532
# metrics, probes (/healthz, /readyz), ingest (HTTPS)
EXPOSE 8080 8081 8443
ENTRYPOINT ["/usr/local/bin/cte-operator"]
