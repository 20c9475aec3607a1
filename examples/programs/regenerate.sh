#!/bin/sh
# Regenerates the `gcc -g -O0 -S` output of the C examples here; never edit those .s files by hand.
# -fdebug-prefix-map keeps this checkout's directory out of the output, so it is the same anywhere.
set -eu
cd "$(dirname "$0")"
for c in rseq-addv-loop.c; do
	gcc -g -O0 -S -fdebug-prefix-map="$(pwd)"=. -o "${c%.c}.s" "$c"
done
