#!/usr/bin/env bash
# Quickstart, command 1: set up, then import sample_data/ into the bundled local Pinpoint-compatible service.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
exec .venv/bin/pinpoint-etl import sample_data/endpoints.csv sample_data/endpoints.ndjson \
  --segment-name quickstart --report out/quickstart-report.json "$@"
