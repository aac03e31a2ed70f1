# syntax=docker/dockerfile:1
# Build stage: installs dependencies (better-sqlite3 and sharp ship prebuilt binaries for
# linux x64/arm64, glibc and musl, inside their npm packages) and builds the app.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

# Run stage: only the built app and production dependencies, as an unprivileged user.
FROM node:24-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATABASE_URL=/app/data/beem.db STORAGE_DIR=/app/storage
WORKDIR /app
# ffmpeg (Debian's package, with ffprobe): video posters and marketplace exports. Without it Beem
# still serves the original videos, and says so once in its log.
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg \
  && rm -rf /var/lib/apt/lists/*
RUN groupadd --system beem && useradd --system --gid beem --home /app beem \
  && mkdir -p /app/data /app/storage && chown beem:beem /app/data /app/storage
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/content ./content
USER beem
VOLUME ["/app/data", "/app/storage"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM reaches node directly (no npm wrapper), so shutdown is clean.
CMD ["node", "dist/server/main.mjs"]
