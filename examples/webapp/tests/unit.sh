#!/bin/sh
# The sample service's unit tests: the pages it serves exist and the health page says ok.
set -eu
cd "$(dirname "$0")/.."
test -s www/index.html
grep -qx ok www/health
echo "unit: 2 passed"
