#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# socat EXEC target: answer one HTTP request with this real's name; a body (upload) is read and sized.
# With a second argument "peer": the client's address as this real saw it too (socat's SOCAT_PEERADDR).
name=$1 len=0
while IFS=$'\r' read -r line && [ -n "$line" ]; do
	case "${line,,}" in content-length:*) len=${line#*: };; esac
done
[ "$len" -gt 0 ] && len=$(head -c "$len" | wc -c)
body="$name $len"
[ "${2:-}" = peer ] && body="$body ${SOCAT_PEERADDR:-?}"
printf 'HTTP/1.0 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s\n' $((${#body} + 1)) "$body"
