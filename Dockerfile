# One image for the controller and the agents (different subcommands:
# `netboot controller`, `netboot agent`). Node 24 runs the TypeScript sources
# directly (type stripping), so there is no compile step: the build stage only
# installs the production dependencies.
#
# test/install/dockerfile.test.ts replays the COPY and npm steps of this file
# without Docker, so a COPY of a path that does not exist fails the tests.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only, exactly as locked. The dev dependencies
# (TypeScript, the helm test binary, a pinned Node for scripts) are never
# installed here, so there is nothing to prune afterwards.
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
# - ipxe: the first-stage loaders agents serve over TFTP (undionly.kpxe,
#   ipxe.efi, snponly.efi), from /usr/lib/ipxe.
# - iputils-ping: the agent's ICMP TTL heuristic (is the OS up, or only AMT?)
#   runs the system ping; without it the heuristic is reported as skipped.
# - libcap2-bin, only for setcap, then removed again. Agents bind UDP 67, 69
#   and 4011 as uid 65532. Kubernetes sets no ambient capabilities, so a
#   non-root process only gets CAP_NET_BIND_SERVICE from a file capability on
#   the binary it executes: cap_net_bind_service=+ep on node. The agent
#   DaemonSet therefore keeps allowPrivilegeEscalation: true (no_new_privs
#   would stop exec from granting file capabilities) and drops every other
#   capability. The controller runs with allowPrivilegeEscalation: false,
#   so exec grants it nothing beyond what the runtime gave it; it still keeps
#   NET_BIND_SERVICE in its bounding set, because the kernel refuses to exec a
#   binary whose file-permitted capabilities the bounding set lacks (EPERM).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ipxe iputils-ping libcap2-bin \
 && setcap cap_net_bind_service=+ep /usr/local/bin/node \
 && apt-get purge -y libcap2-bin \
 && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY crds ./crds
# The distroless "nonroot" ids; the chart and the agent DaemonSet run as them.
USER 65532:65532
ENTRYPOINT ["node", "bin/netboot.js"]
CMD ["version"]
