#!/usr/bin/env bash
# Build Garage (the pinned version, with cargo: 7 to 15 minutes on 2 cores the
# first time, a lookup after) and its node image, then run the tests marked
# `garage`, which skip without the binary. Extra arguments go to pytest.
#   bash bench/garage.sh            # build if needed, then the garage tests
#   bash bench/garage.sh -x -v      # the same, stopping at the first failure
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
python -m harness image build --system garage
echo "== garage image ready ($((SECONDS - started)) s)"
python -m pytest -q -m garage "$@" tests/systems/
echo "== done ($((SECONDS - started)) s)"
