# rtcrm: the engine (default) and the web UI in one image. Build: `docker build -t rtcrm .`
# Run, config and compose: docs/readme-container.md. Linted by `npm run lint` (scripts/lint-dockerfile.mjs).

# ---- build: the Kafka client from source, the QuickJS-to-WebAssembly engine, TypeScript
FROM node:20-bookworm AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# The build packages of scripts/setup.sh: the Kafka client's native build against the system libraries, and
# clang-19/wasi-libc for wasm/build.sh. (Its Java, Maven and Chromium serve the local broker and the tests.)
RUN apt-get update \
  && apt-get install -y --no-install-recommends \
    build-essential python3 pkg-config openssl \
    zlib1g-dev libssl-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev \
    clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32 \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# The client's prebuilt binary comes from outside the npm registry, which an air-gapped build cannot reach:
# build it from source against the libraries above, as CI does (about 2 minutes). node-gyp would download the
# Node.js headers as well; this image has them under /usr/local/include/node.
RUN CKJS_LINKING=dynamic npm_config_nodedir=/usr/local npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY wasm/ wasm/
COPY src/ src/
# After the build, drop the dev dependencies and what nothing loads at run time: the Kafka client's librdkafka
# sources, static archives and object files (the addon links build/deps/librdkafka.so.1 through its RUNPATH),
# and every Ace editor build but the one the web UI serves (src/ui/static-files.ts): node_modules from 355 MB
# to 44 MB, measured on this repository's.
RUN npm run build \
  && npm prune --omit=dev --no-audit --no-fund \
  && rm -rf node_modules/@confluentinc/kafka-javascript/deps \
    node_modules/@confluentinc/kafka-javascript/build/Release/obj.target \
    node_modules/@confluentinc/kafka-javascript/build/deps/*.a \
  && find node_modules/ace-builds -mindepth 1 -maxdepth 1 \
    ! -name package.json ! -name LICENSE ! -name src-min-noconflict -exec rm -rf {} +

# ---- runtime
FROM node:20-bookworm-slim
# The shared libraries the dynamically linked librdkafka needs (ldd of the addon and build/deps/librdkafka.so.1);
# ca-certificates for brokers reached over TLS.
RUN apt-get update \
  && apt-get install -y --no-install-recommends \
    libssl3 libsasl2-2 libzstd1 liblz4-1 zlib1g libcurl4 ca-certificates \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/dist/src/ dist/src/
COPY --from=build /app/wasm/build/rtcrm-engine.wasm wasm/build/rtcrm-engine.wasm
# The web UI's page files: tsc copies no assets, and the UI serves them from src/ui/public/.
COPY --from=build /app/src/ui/public/ src/ui/public/
# The code stays root-owned and read-only to the engine; only the compiled-filter cache is its to write
# (filters_compiled_dir defaults to filters-compiled/, relative to /app). A volume keeps it across restarts.
# The delivery rules' local store (state_dir, state/): a cache of the changelog topic, rebuilt from Kafka when empty.
RUN mkdir -p /app/filters-compiled /app/state && chown node:node /app/filters-compiled /app/state
VOLUME ["/app/filters-compiled", "/app/state"]
USER node
# /metrics, /healthz and /readyz (config key http_port)
EXPOSE 9464
# No curl in the slim image: Node's fetch asks the engine. The port follows RTCRM_HTTP_PORT; a port set only
# in a config file needs RTCRM_HTTP_PORT as well for this check to find it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.RTCRM_HTTP_PORT || 9464) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Arguments go to the engine, e.g. `--config /etc/rtcrm/config.json` with that file mounted; RTCRM_*
# variables override it. The web UI uses the same image with `--entrypoint node` and `dist/src/ui/server.js`.
ENTRYPOINT ["node", "dist/src/main.js"]
