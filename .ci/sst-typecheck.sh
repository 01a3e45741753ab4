#!/usr/bin/env bash
# Type-checks sst.config.ts and infra/ against SST's real platform types (tsconfig.infra.json).
#
# `sst install` generates .sst/platform (config.d.ts, @pulumi/aws, the components' source). It
# needs only the npm registry: SST_SKIP_DEPENDENCY_CHECK skips the pulumi/bun downloads from
# GitHub and SST_NO_BUN makes it install providers with npm. XDG_CONFIG_HOME keeps the CLI's
# own files under .sst. About 55 s and 320 MB the first time, a few seconds once .sst exists.
# Deploying is a different matter: `sst deploy` needs GitHub downloads and AWS credentials.
set -euo pipefail
cd "$(dirname "$0")/.."

export SST_SKIP_DEPENDENCY_CHECK=1 SST_NO_BUN=1 SST_TELEMETRY_DISABLED=1
export XDG_CONFIG_HOME="$PWD/.sst/xdg"
mkdir -p "$XDG_CONFIG_HOME"

started=$SECONDS
npx --no-install sst install --stage "${SST_STAGE:-ci}"
npx --no-install tsc -p tsconfig.infra.json
echo "sst.config.ts and infra/ type-check against SST $(cat .sst/platform/version 2>/dev/null || echo '?') ($((SECONDS - started)) s)"
