# syntax=docker/dockerfile:1
# streamrun's event pipeline (topologies/events.ts), or any topology given as the command:
#   docker build -t streamrun .
#   docker run --rm -e KAFKA_BROKERS=host.docker.internal:9092 -p 8080:8080 streamrun
#   docker run --rm -e KAFKA_BROKERS=... -v "$PWD/my-topology.js:/app/my-topology.js:ro" streamrun start my-topology.js
# Not built in CI (no Docker engine there): test/unit/docker/ checks its structure.

# Build: all dependencies, then the library, the CLI and the bundled topologies as JavaScript.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY lib lib
COPY bin bin
COPY topologies topologies
RUN npm run build

# Run: production dependencies and the build only; no compiler, no sources.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist dist
# Local state (stores, checkpoints) lives in /state, a volume the unprivileged user owns.
RUN mkdir /state && chown node:node /state
VOLUME /state
USER node
EXPOSE 8080
# node itself, not npx or a shell: SIGTERM reaches the runner, which drains before it exits.
ENTRYPOINT ["node", "dist/bin/streamrun.js"]
CMD ["start", "dist/topologies/events.js", "--port", "8080", "--host", "0.0.0.0", "--state-dir", "/state"]
