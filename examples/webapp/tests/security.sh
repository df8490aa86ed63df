#!/bin/sh
# The sample service's security checks: no private keys or credentials in what the image serves.
set -eu
cd "$(dirname "$0")/.."
if grep -rlE "PRIVATE KEY|aws_secret_access_key" www; then echo "security: secret material found" >&2; exit 1; fi
echo "security: 1 passed"
