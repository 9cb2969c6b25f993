#!/usr/bin/env bash
# Makes examples/speech/sN.wav from examples/speech/sentences.txt: each sentence spoken whole
# by flite (Debian's flite 2.2, the libflite FreeSWITCH 1.10.12's mod_flite speaks with),
# voices slt and kal16 in turn (mod_flite's "slt" and "kal"), as 8 kHz mono 16-bit WAV
# (sox's high-quality resampler). Needs: apt-get install flite sox.
set -euo pipefail
here=$(cd "$(dirname "$0")/../examples/speech" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
while IFS= read -r line; do
  [ -n "$line" ] || continue
  n=$((n + 1))
  if [ $((n % 2)) = 1 ]; then voice=slt; else voice=kal16; fi
  flite -voice "$voice" -t "$line" -o "$tmp/raw.wav"
  sox "$tmp/raw.wav" -r 8000 -c 1 -b 16 "$here/s$n.wav" rate -v
  echo "s$n.wav ($voice, $(soxi -D "$here/s$n.wav") s): $line"
done < "$here/sentences.txt"
