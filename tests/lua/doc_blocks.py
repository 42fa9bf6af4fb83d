#!/usr/bin/env python3
"""doc_blocks.py - run the examples of ringlab's README.md and docs/*.md.

  doc_blocks.py RINGLAB SRCDIR [FILE.md...]            run every marked block
  doc_blocks.py --coverage RINGLAB SRCDIR              every command and Lua
                                                       function documented

A fenced block directly under a line `<!-- run [words] -->` is run (the
convention is in docs/README.md, "Runnable examples"):

  ringlab  a prompt session typed into one ringlab (standard input): a line
           `ringlab> CMD` or `ringlab[NAME]> CMD` is typed, the lines under
           it are expected output; with no such line, every line is typed
  lua      a script: ringlab FILE
  console  `$ CMD` lines run one by one (argument vectors, no shell; the
           word ringlab is the program under test, sudo is dropped); the
           lines under each are expected output

Expected lines must appear in the output in order; the lines under one
command, between two `...` markers, must be consecutive there. Whitespace runs compare equal; with the
word `loose` every number matches any number. A block fails when it exits
non-zero, prints an `error:` line (or `ringlab: ...` on stderr), or its
expected output is not found. Words: root (skipped visibly unless root),
dpdk (skipped visibly when the dpdk engine cannot open here), loose,
testbed (root, and the afxdp engine; rl, rl-lab, rl-peer, rl0, rl1 stand for a testbed of this
run's own name, made by the block's `testbed up` and always taken down after).
"""
import glob
import os
import shutil
import re
import shlex
import subprocess
import sys
import tempfile

MARK = re.compile(r"^<!--\s*run\b(.*?)-->\s*$")
FENCE = re.compile(r"^(```+|~~~+)\s*([\w-]*)")
PROMPT = re.compile(r"^ringlab(\[[^\]]*\])?>\s?(.*)$")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
ERROR = re.compile(r"^(error: |ringlab: |.*stack traceback:)")
TIMEOUT = 120


def blocks_of(path):
    """(line, kind, options, text lines) for every marked block of a file."""
    out = []
    lines = open(path, encoding="utf-8").read().split("\n")
    i, last = 0, None  # last: the previous non-blank line outside blocks
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            if lines[i].strip():
                last = lines[i]
            i += 1
            continue
        fence, kind = m.group(1), m.group(2)
        start = i
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith(fence):
            body.append(lines[i])
            i += 1
        i += 1
        mark = MARK.match(last or "")
        if mark:
            out.append((start + 1, kind, mark.group(1).split(), body))
        last = None
    return out


def norm(s):
    return " ".join(ANSI.sub("", s).split())


def pattern(line, loose):
    parts = re.split(r"(\d+)", norm(line)) if loose else [norm(line)]
    rx = "".join(r"\d+" if loose and p.isdigit() else re.escape(p) for p in parts)
    return re.compile("^" + rx + "$")


def find_expected(expected, output, loose, pos=0):
    """Expected lines in order in output from pos; '...' separates groups
    whose lines must be consecutive. Returns (new pos, None) or (pos, why)."""
    groups, texts, cur, txt = [], [], [], []
    for e in expected:
        if e.strip() == "...":
            if cur:
                groups.append(cur)
                texts.append(txt)
            cur, txt = [], []
        elif e.strip():
            cur.append(pattern(e, loose))
            txt.append(norm(e))
    if cur:
        groups.append(cur)
        texts.append(txt)
    out = [norm(o) for o in output]
    for g, t in zip(groups, texts):
        at = None
        for k in range(pos, len(out) - len(g) + 1):
            if all(g[j].match(out[k + j]) for j in range(len(g))):
                at = k
                break
        if at is None:
            return pos, "expected output not found (in order, these lines together):\n    " + \
                "\n    ".join(t)
        pos = at + len(g)
    return pos, None


def error_lines(stdout, stderr):
    bad = [l for l in stdout.split("\n") if ERROR.match(ANSI.sub("", l)) and not l.startswith("ringlab: ")]
    bad += [l for l in stderr.split("\n") if l.strip()]
    return bad


class Runner:
    def __init__(self, ringlab, src):
        self.ringlab, self.src = ringlab, src
        self.home = tempfile.mkdtemp(prefix="ringlab-docs-")
        # HOME and TMPDIR in one private directory, removed at the end:
        # lab.tempdir() (lesson 5's picture) lands there, not in /tmp
        self.env = dict(os.environ, NO_COLOR="1", HOME=self.home, TMPDIR=self.home, TERM="dumb")
        self.env.pop("RINGLAB_DEBUG", None)
        self.root = os.geteuid() == 0
        self.names = {}
        self._avail = {}

    def available(self, name):
        """The engine opens here (lab.engines() says available)."""
        if name not in self._avail:
            r = subprocess.run([self.ringlab, "-e", "for _, x in ipairs(lab.engines()) do "
                                "if x.name == '%s' and x.available then return end end "
                                "error('no %s', 0)" % (name, name)], env=self.env, capture_output=True)
            self._avail[name] = r.returncode == 0
        return self._avail[name]

    def run(self, argv, stdin=None):
        r = subprocess.run(argv, input=stdin if stdin is not None else "", cwd=self.src, env=self.env,
                           capture_output=True, text=True, timeout=TIMEOUT)
        return r.returncode, r.stdout, r.stderr

    def testbed_words(self, text):
        n = self.names
        for a, b in (("rl-lab", n["lab"]), ("rl-peer", n["peer"]), ("rl0", n["if0"]), ("rl1", n["if1"]),
                     ("rl", n["name"])):
            text = re.sub(r"(?<![\w-])" + re.escape(a) + r"(?![\w-])", b, text)
        if re.search(r"\btestbed (up|down|status|shell)\b", text) and "name=" not in text:
            text = re.sub(r"\b(testbed (up|down|status|shell))\b", r"\1 name=" + n["name"], text)
        return text

    def ringlab_block(self, body, loose):
        cmds, expected = [], []
        prompted = any(PROMPT.match(l) for l in body)
        for l in body:
            m = PROMPT.match(l)
            if prompted and m:
                if m.group(2).strip():
                    cmds.append(m.group(2))
                expected.append("...")  # a command's output starts a new group
            elif prompted:
                expected.append(l)
            elif l.strip():
                cmds.append(l)
        rc, out, err = self.run([self.ringlab], "\n".join(cmds) + "\n")
        return rc, out, err, expected

    def console_block(self, body, loose):
        steps, joined = [], []
        for l in body:  # a line ending in a backslash goes on on the next
            if joined and joined[-1].endswith("\\"):
                joined[-1] = joined[-1][:-1] + " " + l.strip()
            else:
                joined.append(l)
        for l in joined:
            if l.startswith("$ "):
                steps.append((l[2:], []))
            elif steps:
                steps[-1][1].append(l)
        allout, allerr = "", ""
        for cmd, expected in steps:
            words = shlex.split(cmd)
            env = {}
            while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
                k, v = words.pop(0).split("=", 1)
                env[k] = v
            if words and words[0] == "sudo":
                words.pop(0)
            if words and words[0] == "ringlab":
                words[0] = self.ringlab
            saved = self.env
            self.env = dict(self.env, **env)
            try:
                rc, out, err = self.run(words)
            finally:
                self.env = saved
            allout += out
            allerr += err
            if rc != 0:
                return rc, allout, allerr, "`%s` exited %d" % (cmd, rc)
            _, why = find_expected(expected, out.split("\n"), loose)
            if why:
                return rc, allout, allerr, "`%s`: %s" % (cmd, why)
        return 0, allout, allerr, None

    def block(self, path, line, kind, opts, body):
        where = "%s:%d" % (os.path.relpath(path, self.src), line)
        loose = "loose" in opts
        if ("root" in opts or "testbed" in opts) and not self.root:
            print("SKIP: needs root: %s (%s block)" % (where, kind))
            return "skip"
        if "dpdk" in opts and not self.available("dpdk"):
            print("SKIP: the dpdk engine cannot open here: %s" % where)
            return "skip"
        if "testbed" in opts and not self.available("afxdp"):
            print("SKIP: the afxdp engine cannot open here (a testbed block): %s" % where)
            return "skip"
        if "testbed" in opts:
            name = "rld%d" % (os.getpid() % 100000)
            self.names = {"name": name, "lab": name + "-lab", "peer": name + "-peer",
                          "if0": name + "0", "if1": name + "1"}
            body = [self.testbed_words(l) for l in body]
        try:
            why = None
            if kind == "ringlab":
                rc, out, err, expected = self.ringlab_block(body, loose)
                if rc == 0:
                    _, why = find_expected(expected, out.split("\n"), loose)
                else:
                    why = "ringlab exited %d" % rc
            elif kind == "lua":
                fd, tmp = tempfile.mkstemp(suffix=".lua", dir=self.home)
                with os.fdopen(fd, "w") as f:
                    f.write("\n".join(body) + "\n")
                rc, out, err = self.run([self.ringlab, tmp])
                os.unlink(tmp)
                if rc != 0:
                    why = "the script exited %d" % rc
            elif kind in ("console", "sh"):
                rc, out, err, why = self.console_block(body, loose)
            else:
                print("FAIL: %s: a runnable block must be ringlab, lua or console, not '%s'" % (where, kind))
                return "fail"
        except subprocess.TimeoutExpired:
            out, err, why = "", "", "still running after %d s" % TIMEOUT
        finally:
            if "testbed" in opts:
                subprocess.run([self.ringlab, "testbed", "down", "name=" + self.names["name"]],
                               env=self.env, capture_output=True)
        bad = error_lines(out, err)
        if not why and bad:
            why = "an error line: " + bad[0]
        if why:
            print("FAIL: %s (%s block): %s" % (where, kind, why))
            print("  --- its output ---")
            for l in (out + err).rstrip("\n").split("\n")[-40:]:
                print("  | " + l)
            return "fail"
        print("ok: %s (%s block)" % (where, kind))
        return "ok"


def doc_files(src, given):
    if given:
        return given
    return [os.path.join(src, "README.md")] + sorted(glob.glob(os.path.join(src, "docs", "*.md")))


def run_blocks(ringlab, src, files):
    r = Runner(ringlab, src)
    counts = {"ok": 0, "skip": 0, "fail": 0}
    try:
        for path in doc_files(src, files):
            for line, kind, opts, body in blocks_of(path):
                counts[r.block(path, line, kind, opts, body)] += 1
    finally:
        shutil.rmtree(r.home, ignore_errors=True)
    print("doc_blocks: %d blocks ran, %d skipped, %d failed" % (counts["ok"], counts["skip"], counts["fail"]))
    if counts["ok"] == 0:
        print("FAIL: no runnable block found")
        return 1
    return 1 if counts["fail"] else 0


def slug(heading):
    """A heading's anchor, as GitHub makes it."""
    h = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return h.replace(" ", "-")


def broken_links(src):
    """Links between README.md and docs/*.md: the file exists, and so does
    the #anchor (a heading of that file)."""
    fails = []
    files = doc_files(src, [])
    for f in files:
        text = open(f, encoding="utf-8").read()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(f), path)) if path else f
            where = os.path.relpath(f, src)
            if not os.path.exists(dest):
                fails.append("%s links to %s, which does not exist" % (where, target))
                continue
            if anchor and dest.endswith(".md"):
                heads = re.findall(r"^#+\s+(.*)$", open(dest, encoding="utf-8").read(), re.M)
                if anchor not in [slug(h) for h in heads]:
                    fails.append("%s links to %s: no such heading" % (where, target))
    return fails


def coverage(ringlab, src):
    """Every prompt command in docs/commands.md and `help`; every lab
    function and handle method of the C bindings, and every lab.* name, in
    docs/lua.md; every lesson in README.md's list and docs/lessons.md, with
    as many parts as it runs."""
    fails = []
    cmds_md = open(os.path.join(src, "docs", "commands.md"), encoding="utf-8").read()
    lua_md = open(os.path.join(src, "docs", "lua.md"), encoding="utf-8").read()
    env = dict(os.environ, NO_COLOR="1")
    help_text = subprocess.run([ringlab, "-c", "help"], capture_output=True, text=True, env=env).stdout
    names = set()
    for f in glob.glob(os.path.join(src, "shell", "ui", "*.lua")):
        names |= set(re.findall(r'\bdef\("([^"]+)"', open(f, encoding="utf-8").read()))
    for n in sorted(names):
        if not re.search(r"`%s\b" % re.escape(n), cmds_md):
            fails.append("command %s is not in docs/commands.md (as `%s ...`)" % (n, n))
        if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(n), help_text):
            fails.append("command %s is not in help" % n)
    # lab.* as the program has it (C and Lua alike)
    r = subprocess.run([ringlab, "-e", "local out = {} for k, v in pairs(lab) do "
                        "if type(v) == 'function' then out[#out + 1] = 'lab.' .. k "
                        "elseif type(v) == 'table' and getmetatable(v) == nil then "
                        "for k2, v2 in pairs(v) do if type(v2) == 'function' then "
                        "out[#out + 1] = 'lab.' .. k .. '.' .. k2 end end end end "
                        "table.sort(out) print(table.concat(out, ' '))"],
                       capture_output=True, text=True, env=env)
    for n in r.stdout.split():
        if not re.search(r"%s\b" % re.escape(n), lua_md):
            fails.append("%s is not in docs/lua.md" % n)
    # the handles' methods, from the C tables (shell/lab/*.c): :NAME or #x for len
    for f in glob.glob(os.path.join(src, "shell", "lab", "*.c")):
        text = open(f, encoding="utf-8").read()
        for table, body in re.findall(r"luaL_Reg\s+(\w+)\[\]\s*=\s*\{(.*?)\};", text, re.S):
            if not table.endswith("methods"):
                continue
            for n in re.findall(r'\{\s*"(\w+)"\s*,', body):
                if n == "len":
                    continue  # #x, documented as such
                if not re.search(r":%s\b" % n, lua_md):
                    fails.append("method :%s (%s, %s) is not in docs/lua.md"
                                 % (n, table, os.path.basename(f)))
    # every lesson in the README's list and in docs/lessons.md
    readme = open(os.path.join(src, "README.md"), encoding="utf-8").read()
    lessons_md = open(os.path.join(src, "docs", "lessons.md"), encoding="utf-8").read()
    for f in sorted(glob.glob(os.path.join(src, "scripts", "lessons", "[0-9]*.lua"))):
        n = int(re.match(r"(\d+)", os.path.basename(f)).group(1))
        if not re.search(r"^\| %d \|" % n, readme, re.M):
            fails.append("lesson %d (%s) is not in README.md's lessons table" % (n, os.path.basename(f)))
        if not re.search(r"^\| %d \|" % n, lessons_md, re.M) or \
                not re.search(r"^### %d\. " % n, lessons_md, re.M):
            fails.append("lesson %d (%s) has no row and section (### %d. ...) in docs/lessons.md"
                         % (n, os.path.basename(f), n))
    # the parts column of docs/lessons.md's table, counted on a run
    for n, parts in re.findall(r"^\| (\d+) \| [^|]+ \| (\d+) \|", lessons_md, re.M):
        files = glob.glob(os.path.join(src, "scripts", "lessons", "%02d-*.lua" % int(n)))
        if not files:
            fails.append("docs/lessons.md lists lesson %s, which scripts/lessons does not have" % n)
            continue
        args = [ringlab, files[0]]
        out = subprocess.run(args, capture_output=True, text=True, env=env, cwd=src, timeout=120).stdout
        if not re.search(r"^Part \d+\.", out, re.M):  # not on sim: its engine, if it opens here
            out = subprocess.run(args + ["dpdk"], capture_output=True, text=True, env=env, cwd=src,
                                 timeout=120).stdout
        got = len(re.findall(r"^Part \d+\.", out, re.M))
        if got and got != int(parts):
            fails.append("docs/lessons.md says lesson %s has %s parts; it ran %d" % (n, parts, got))
    fails += broken_links(src)
    # the README: a first page, read in an 80-column terminal
    lines = readme.split("\n")
    if len(lines) > 251:
        fails.append("README.md has %d lines: at most 250 (the reference is in docs/)" % (len(lines) - 1))
    for i, l in enumerate(lines, 1):
        if len(l) > 80:
            fails.append("README.md:%d is %d columns wide: at most 80" % (i, len(l)))
    for x in fails:
        print("FAIL: " + x)
    print("doc coverage: %d commands, %d lab names checked, %d missing"
          % (len(names), len(r.stdout.split()), len(fails)))
    return 1 if fails or not names else 0


def main(argv):
    if len(argv) >= 3 and argv[0] == "--coverage":
        return coverage(os.path.abspath(argv[1]), os.path.abspath(argv[2]))
    if len(argv) < 2:
        print(__doc__)
        return 2
    return run_blocks(os.path.abspath(argv[0]), os.path.abspath(argv[1]), argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
