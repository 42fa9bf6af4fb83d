#!/bin/sh
# engine_loading.sh RINGLAB PLANTED_SO - what ringlab loads as an engine.
#
#   listing      `engines` / lab.engines() does not load a .so it does not
#                know by name (a planted one's constructor never runs); it
#                is listed by name, and lab.open("planted") loads it
#   writable     an engine file writable by others, or in a directory
#                writable by its group, is refused with one line, not loaded
#   owner        (as root) a file owned by another user is refused
#   installed    a copy of ringlab outside the build tree does not search
#                the build tree for engines
set -u
RINGLAB=$1 PLANTED=$2
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
mkdir "$T/eng" && chmod 755 "$T/eng"
cp "$PLANTED" "$T/eng/ringlab-engine-planted.so" && chmod 644 "$T/eng/ringlab-engine-planted.so"
export RINGLAB_ENGINE_PATH="$T/eng" RINGLAB_TEST_PLANTED_MARK="$T/mark"

# listing: by name only
out=$("$RINGLAB" -e 'for _, x in ipairs(lab.engines()) do print(x.name, x.why or "") end') ||
	fail "lab.engines() failed: $out"
echo "$out"
[ -e "$T/mark" ] && fail "listing the engines ran the planted .so's constructor"
echo "$out" | grep -q "^planted	not loaded just to list it" || fail "planted is not listed by name"
out=$("$RINGLAB" -c engines 2>&1) || fail "engines at the prompt: $out"
[ -e "$T/mark" ] && fail "the engines command ran the planted .so's constructor"
echo "$out" | grep -q planted || fail "the engines command does not name planted: $out"
echo "listing: planted named, not loaded"

# asked for by name: loaded (it is no engine: one line says so)
out=$("$RINGLAB" -e 'lab.open("planted")' 2>&1) && fail "planted opened"
echo "$out"
[ -e "$T/mark" ] || fail "lab.open(\"planted\") did not load it"
[ "$(echo "$out" | wc -l)" = 1 ] || fail "want one line"
rm "$T/mark"

# writable by others: refused before loading
chmod 666 "$T/eng/ringlab-engine-planted.so"
out=$("$RINGLAB" -e 'lab.open("planted")' 2>&1) && fail "opened a world-writable engine"
echo "$out"
[ -e "$T/mark" ] && fail "a world-writable engine file was loaded"
echo "$out" | grep -q "refused: the engine file .* is writable by everyone (mode 0666) - chmod go-w it" ||
	fail "want the refusal"
[ "$(echo "$out" | wc -l)" = 1 ] || fail "want one line"
chmod 644 "$T/eng/ringlab-engine-planted.so"
chmod 775 "$T/eng"
out=$("$RINGLAB" -e 'lab.open("planted")' 2>&1) && fail "opened from a group-writable directory"
echo "$out"
[ -e "$T/mark" ] && fail "an engine in a group-writable directory was loaded"
echo "$out" | grep -q "refused: the engine directory .* is writable by its group" || fail "want the refusal"
chmod 755 "$T/eng"

# owned by someone else (root can make such a file)
if [ "$(id -u)" = 0 ]; then
	chown 65534 "$T/eng/ringlab-engine-planted.so"
	out=$("$RINGLAB" -e 'lab.open("planted")' 2>&1) && fail "opened another user's engine"
	echo "$out"
	[ -e "$T/mark" ] && fail "another user's engine file was loaded"
	echo "$out" | grep -q "belongs to uid 65534, neither root nor you" || fail "want the refusal"
	chown 0 "$T/eng/ringlab-engine-planted.so"
fi

# an installed copy does not search the build tree
unset RINGLAB_ENGINE_PATH
cp "$RINGLAB" "$T/ringlab-installed"
in_tree=$("$RINGLAB" -e 'for _, x in ipairs(lab.engines()) do print(x.name, x.path) end')
echo "build tree's ringlab:"; echo "$in_tree"
installed=$("$T/ringlab-installed" -e 'for _, x in ipairs(lab.engines()) do print(x.name, x.path) end') ||
	fail "the copy does not run"
echo "copy outside the build tree:"; echo "$installed"
build_engines=$(dirname "$(dirname "$RINGLAB")")/engines
echo "$installed" | grep -qF "$build_engines" && fail "the copy loaded engines from the build tree"
echo "$installed" | grep -q "^sim	built in" || fail "the copy lost sim"
echo "PASS"
