#!/bin/sh
# A stand-in for `sendmail -t -i`: appends the message on stdin to $FAKE_SENDMAIL_OUT
# (or to the file named by the first argument), followed by a line `--end--`.
out="${1:-$FAKE_SENDMAIL_OUT}"
cat >> "$out"
echo "--end--" >> "$out"
