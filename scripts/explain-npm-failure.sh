#!/usr/bin/env bash
# npm prints only "A complete log of this run can be found in ..." at
# --loglevel=error for some failures (ENOSPC while unpacking, for one), and a
# CI machine's log is gone with it: show the log's warnings and errors, and the
# free disk space, where the failure is read.
log=$(ls -t "${npm_config_cache:-$HOME/.npm}"/_logs/*-debug-0.log 2>/dev/null | head -n 1)
if [ -n "$log" ]; then
	echo "[plugin] npm failed; the warnings and errors of $log:" >&2
	grep -E '^[0-9]+ (warn|error) ' "$log" | tail -n 20 >&2
fi
echo "[plugin] free disk space where the plugin installs:" >&2
df -h . >&2
