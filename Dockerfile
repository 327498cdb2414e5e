# Image for both the API (default CMD) and the worker (docker-compose.yml overrides the command).
# The TypeScript sources run directly through tsx (loaded into node with --import), a runtime dependency, so there is no build step.
FROM node:20-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first so source edits keep this layer cached. .npmrc sets ignore-scripts=true:
# nothing needs an install script (the Temporal core bridge, swc and esbuild ship their native
# binaries inside registry packages).
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev && npm cache clean --force

COPY tsconfig.json worker.ts server.ts ./
COPY lang ./lang
COPY common ./common
COPY models ./models
COPY mail ./mail
COPY definitions ./definitions
COPY calendars ./calendars
COPY activities ./activities
COPY workflows ./workflows
COPY services ./services
COPY api ./api
COPY console ./console

# Code and dependencies stay root-owned and read-only to the process.
USER node

EXPOSE 3000
CMD ["node", "--import", "tsx", "server.ts"]
