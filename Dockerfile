# Patchbay image: one image for every role. The command picks the role:
#   serve               API + worker in one process (single machine)
#   serve --no-worker   API node: HTTP, SSE/WebSocket, schedules; takes no runs
#   worker              takes runs from the shared queue (PATCHBAY_QUEUE_URL)
# docker-compose.yml starts api + 2 workers + PostgreSQL + Redis; docs/scaling.md explains it.
# test/tooling/deploy.test.ts lints this file (no Docker engine runs in CI).

# ---- build: native addons, TypeScript, the bundle ---------------------------------------
FROM node:20-bookworm-slim AS build

# better-sqlite3 (and the optional node-pty) compile from source when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so a source change does not reinstall them. `npm install`, as the CI
# does (.ci/run), not `npm ci`. --ignore-scripts skips our own `prepare` (the build, which
# needs src/ below); `npm rebuild` then runs the dependencies' install scripts (native builds).
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund --ignore-scripts \
 && npm rebuild

COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY bin ./bin
# tsc to dist/, then esbuild's one-file bundle dist/patchbay.mjs (scripts/bundle.ts); the
# packages the bundle leaves external stay in node_modules, so only dev dependencies go.
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime ----------------------------------------------------------------------------
FROM node:20-bookworm-slim AS runtime

# git: repositories, worktrees and diffs. bubblewrap: PATCHBAY_SANDBOX=bwrap. tini: PID 1
# that forwards SIGTERM (a worker drains on it) and reaps the orphans agents leave behind.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git bubblewrap tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# A fixed uid/gid, so volumes and Kubernetes' runAsUser/fsGroup can name it.
RUN groupadd --gid 10001 patchbay \
 && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/patchbay --shell /usr/sbin/nologin patchbay \
 && mkdir -p /data \
 && chown 10001:10001 /data

WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/node_modules ./node_modules

ENV NODE_ENV=production \
    PATCHBAY_DATA_DIR=/data \
    PATCHBAY_LOG_FORMAT=json

# Workspaces, clones and (without PATCHBAY_DATABASE_URL) the SQLite store.
VOLUME ["/data"]
EXPOSE 7070

USER 10001:10001

# /health answers 401 without a token once PATCHBAY_API_TOKENS is set, so the probe sends the
# first one. No curl in the image: node's fetch. The port is the first argument, else
# PATCHBAY_PORT; docker-compose.yml points the workers' probe at their health port.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const t=(process.env.PATCHBAY_API_TOKENS||'').split(',')[0].trim();fetch('http://127.0.0.1:'+(process.argv[1]||process.env.PATCHBAY_PORT||7070)+'/health',{headers:t?{authorization:'Bearer '+t}:{}}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# bin/patchbay.js is run through its own shebang (`env -S node <memory flags>`), which keeps
# the flags that hold a server under 100 MB (docs/architecture.md, "Memory").
ENTRYPOINT ["/usr/bin/tini", "--", "/app/bin/patchbay.js"]
CMD ["serve"]
