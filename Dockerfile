# The AgentTrail services image (gateway, ingester, detector, alerter): one image, the service
# is chosen by the command, e.g. `node --import tsx services/gateway/main.ts` (docker-compose.services.yml).
# TypeScript runs through tsx, a runtime dependency, so there is no build step.
#
# NOT verified on the machine this was written on (no Docker engine there): the build and
# container start are untested; `test/compose.int.test.ts` checks only the compose file and the
# services' settings in it. Checked by hand there: `npm ci --omit=dev` without @chdb plus the
# three directories below (tests removed) is enough for all four main.ts to load.
FROM node:20-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first, so code changes do not re-run the install.
# @chdb/lib-linux-x64-gnu (~540 MB) is the local stack's ClickHouse engine, never loaded by
# the services: removed from the image. Its package.json declares cpu x64, os linux, libc glibc,
# so the install needs linux/amd64 on a glibc base (bookworm is).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev \
  && rm -rf node_modules/@chdb \
  && npm cache clean --force

# What the services load at run time, nothing else (tests excluded by .dockerignore).
COPY schemas/ schemas/
COPY rules/ rules/
COPY services/ services/

# State lives on volumes mounted here (docker-compose.services.yml); created owned by the runtime user so
# a fresh named volume takes that ownership.
RUN mkdir -p /var/lib/agenttrail/gateway /var/lib/agenttrail/api /var/lib/agenttrail/detector \
  && chown -R node:node /var/lib/agenttrail

# No secrets in the image: every secret comes from the environment at run time.
USER node

CMD ["node", "--import", "tsx", "services/gateway/main.ts"]
