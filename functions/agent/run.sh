#!/bin/sh
# StreamFunction's handler. The Lambda Web Adapter layer (/opt/bootstrap, via
# AWS_LAMBDA_EXEC_WRAPPER) runs this file, waits for GET /health on $PORT to answer, then
# forwards every function URL request to uvicorn and streams the response back.
#
# Start-up work is only what uvicorn needs: no installs, no bytecode compile (/opt and
# /var/task are read-only), one process (`exec`, so signals reach uvicorn directly).
#
# The python3.13 runtime keeps its interpreter in /var/lang/bin; the dependency layer is
# unpacked at /opt/python and this package at $LAMBDA_TASK_ROOT (/var/task). Both are put on
# PYTHONPATH explicitly rather than trusting what the runtime's bootstrap exports to a wrapper.
set -eu

task_root="${LAMBDA_TASK_ROOT:-$(cd "$(dirname "$0")" && pwd)}"
export PYTHONPATH="${task_root}:/opt/python${PYTHONPATH:+:${PYTHONPATH}}"
# The read-only file system makes every .pyc write fail; skip the attempts.
export PYTHONDONTWRITEBYTECODE=1

if [ -x /var/lang/bin/python3 ]; then
    python=/var/lang/bin/python3
else
    python="$(command -v python3)"
fi

# 127.0.0.1: the adapter is the only client, in the same sandbox. Access lines are left to
# the app's Powertools logger.
exec "$python" -m uvicorn --factory wayfarer.api:create_app \
    --host 127.0.0.1 --port "${PORT:-8080}" \
    --no-access-log --timeout-graceful-shutdown 5
