# One image for the controller and the agent (different subcommands).
# Node 24 runs the TypeScript sources directly, so there is no build step:
# the build stage only installs production dependencies.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
# iPXE first-stage loaders (undionly.kpxe, ipxe.efi, snponly.efi) from Debian.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ipxe \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY crds ./crds
# Non-root. The agent binds UDP 67/69/4011, below 1024, which needs
# CAP_NET_BIND_SERVICE: the DaemonSet grants only that capability.
USER 65532:65532
ENTRYPOINT ["node", "bin/netboot.js"]
CMD ["version"]
