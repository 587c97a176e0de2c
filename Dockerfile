# The service alone; docker-compose.yml runs it with Neo4j 5.26 Community. Two stages: the first compiles the
# TypeScript with the dev dependencies, the second holds only the compiled code, the Cypher files and the runtime
# dependencies, and runs as the image's unprivileged `node` user.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# `npm install` rather than `npm ci`: it installs the versions package-lock.json pins all the same, and npm 11
# writes lock files its own `npm ci` refuses (see scripts/setup.mjs).
RUN npm install --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
# `maxtryx` on the PATH (package.json's bin), for `docker compose run --rm service maxtryx import /import/FILE`.
RUN chmod +x dist/src/cli/main.js && ln -s /app/dist/src/cli/main.js /usr/local/bin/maxtryx
# Loaded at start-up (src/store/cypher-files.ts); scripts/neo4j.mjs is only used when NEO4J_URI is unset.
COPY cypher ./cypher
COPY scripts ./scripts
# The Neo4j Browser room guide, which docker-compose.yml's guide container serves from this image.
COPY browser ./browser
# The signing key is generated into .data on first start: a volume keeps it across containers.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
ENV HOST=0.0.0.0 \
    PORT=8008 \
    SIGNING_KEY_PATH=/app/.data/signing.key
EXPOSE 8008
# The slim image has neither curl nor wget; node's own fetch asks /health (served on the federation port and on the
# ops listener; /ready and /metrics are on the ops listener only, OPS_PORT 9898 on the container's loopback), on
# the port the service listens on (PORT, 8008 unless the container is given another).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8008) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The service's node options (src/service/node-options.ts: a smaller young generation keeps RSS under load lower).
CMD ["node", "--max-semi-space-size=16", "--heap-growing-percent=100", "dist/src/main.js"]
