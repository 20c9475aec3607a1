#!/bin/sh
# Regenerates the `gcc -g -O0 -S` output of the C examples here; never edit those .s files by hand.
# -fdebug-prefix-map keeps this checkout's directory out of the output, so it is the same anywhere.
# With --check, regenerates into a temporary directory and fails if a checked-in .s differs.
set -eu
cd "$(dirname "$0")"
out=.
if [ "${1:-}" = "--check" ]; then
	out=$(mktemp -d)
	trap 'rm -rf "$out"' EXIT
fi
status=0
for c in rseq-addv-loop.c; do
	s="${c%.c}.s"
	gcc -g -O0 -S -fdebug-prefix-map="$(pwd)"=. -o "$out/$s" "$c"
	if [ "$out" != . ] && ! cmp -s "$out/$s" "$s"; then
		echo "$s differs from what gcc makes of $c now; run examples/programs/regenerate.sh" >&2
		status=1
	fi
done
exit $status
