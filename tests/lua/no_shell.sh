#!/bin/sh
# no_shell.sh RINGLAB - no shell command is built from what a user gives.
#
#   testbed_bin   `testbed shell` builds `BIN --netns NAME-lab`: a
#                 RINGLAB_BIN with characters a shell reads is refused in one
#                 line and nothing runs (the name is checked already)
#   lessons       the lesson list comes from lab.files (readdir), not `ls`:
#                 a directory whose name has a quote, $( ) and ; is listed
#                 and nothing in its name runs
set -u
RINGLAB=$1
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

out=$(RINGLAB_BIN="x;touch\${IFS}$T/mark;#" "$RINGLAB" testbed shell name=rlI4y 2>&1) &&
	fail "testbed shell ran: $out"
echo "$out"
[ -e "$T/mark" ] && fail "RINGLAB_BIN's command ran"
echo "$out" | grep -q "has characters a shell would read - give RINGLAB_BIN as a plain path" ||
	fail "want the refusal"
[ "$(echo "$out" | wc -l)" = 1 ] || fail "want one line"

D="$T/it's \$(id>&2);\`id\`;x"
mkdir "$D" || exit 1
printf -- '-- 01: a first lesson\n-- what it shows\n' >"$D/01-first.lua"
printf -- '-- 02: a second\n-- more\n' >"$D/02-second_one.lua"
: >"$D/notes.txt"
out=$(NO_SHELL_DIR="$D" "$RINGLAB" -e '
local dir = os.getenv("NO_SHELL_DIR")
local L = require "ringlab.lesson"
for _, l in ipairs(L.lessons(dir)) do print(l.n, l.file, l.title) end
local f = lab.files(dir)
print(#f, table.concat(f, ","))
print(lab.files(dir .. "/none"))' 2>&1) || fail "lessons: $out"
echo "$out"
echo "$out" | grep -q "uid=" && fail "a command in the directory's name ran"
echo "$out" | grep -q "^1	01-first.lua	01: a first lesson$" || fail "lesson 1 not listed"
echo "$out" | grep -q "^2	02-second_one.lua	02: a second$" || fail "lesson 2 not listed"
echo "$out" | grep -q "^3	01-first.lua,02-second_one.lua,notes.txt$" || fail "lab.files: every name, sorted"
echo "$out" | grep -q "^nil	.*/none: No such file or directory$" || fail "lab.files of a missing dir: nil, why"
echo "PASS"
