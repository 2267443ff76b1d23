#!/usr/bin/env python3
"""man/help2roff.py — turn `--help` texts into man-page roff.

    man/help2roff.py page TEMPLATE VND_BINARY > man/vnd.1
        TEMPLATE with its line `.\\" @COMMANDS@` replaced by one subsection
        per subcommand of `vnd --help` (and `vnd demo lb`), each made from
        that subcommand's --help text.
    man/help2roff.py splice PAGE PROGRAM
        PAGE's lines between `.\\" @OPTIONS begin@` and `.\\" @OPTIONS end@`
        replaced by the options of PROGRAM --help (vnd-tabled.8, vnd-controld.8).
    man/help2roff.py text PROGRAM [ARG...]
        PROGRAM ARG... --help as roff, to paste into a page written by hand.

The pages are committed; tests/integration/man_pages.sh checks that every
long option a --help prints is in its page (docs/packaging.md).  Run this
after changing a --help text and review the diff.
"""
import re
import subprocess
import sys

OPT = re.compile(r"^ {1,8}(-[A-Za-z0-9](?:, |/)?)?(--?[A-Za-z][\w-]*\b.*?)(?: {2,}(\S.*))?$")


def esc(s):
    s = s.replace("\\", "\\e")
    s = s.replace("-", "\\-")
    s = s.replace("'", "\\(aq")
    return "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c) for c in s)


def line_out(s):
    s = esc(s)
    if s.startswith(".") or s.startswith("\\(aq"):
        s = "\\&" + s
    return s


def convert(text):
    out = []
    lines = text.rstrip("\n").split("\n")
    i = 0
    mode = None  # None, "nf", "tp"
    opt_indent = None

    def end():
        nonlocal mode
        if mode == "nf":
            out.append(".fi")
            out.append(".RE")
        mode = None

    while i < len(lines):
        ln = lines[i]
        stripped = ln.strip()
        indent = len(ln) - len(ln.lstrip(" "))
        if not stripped:
            end()
            out.append(".PP")
            i += 1
            continue
        if ln.startswith("usage:") or (mode == "usage" and indent > 0):
            if mode != "usage":
                end()
                out.append(".nf")
                mode = "usage"
            out.append(line_out(ln))
            i += 1
            if i >= len(lines) or not lines[i].startswith(" "):
                if i < len(lines) and lines[i].startswith("usage:"):
                    continue
                out.append(".fi")
                mode = None
            continue
        if mode == "usage":
            out.append(".fi")
            mode = None
        m = OPT.match(ln)
        if m and indent <= 8 and (m.group(3) is not None or True) and stripped.startswith("-"):
            end()
            short = m.group(1) or ""
            head = (short + m.group(2)).strip()
            desc = m.group(3) or ""
            out.append(".TP")
            out.append("\\fB" + esc(head) + "\\fR")
            if desc:
                out.append(line_out(desc))
            opt_indent = indent
            i += 1
            # continuation lines: indented deeper than the option
            while i < len(lines) and lines[i].strip() and \
                    len(lines[i]) - len(lines[i].lstrip(" ")) > indent + 2 and \
                    not OPT.match(lines[i]) or \
                    (i < len(lines) and lines[i].strip() and
                     len(lines[i]) - len(lines[i].lstrip(" ")) > indent + 6):
                out.append(line_out(lines[i].strip()))
                i += 1
            continue
        if indent == 0 and stripped.endswith(":") and len(stripped) < 40:
            end()
            out.append(".SS \"" + esc(stripped[:-1]) + "\"" if False else ".PP")
            out.append("\\fI" + esc(stripped[:-1]) + "\\fR:")
            out.append(".br")
            i += 1
            continue
        if indent > 0:
            if mode != "nf":
                end()
                out.append(".RS 2")
                out.append(".nf")
                mode = "nf"
            out.append(line_out(ln[2:] if ln.startswith("  ") else ln))
            i += 1
            continue
        end()
        out.append(line_out(ln))
        i += 1
    end()
    # tidy: no .PP twice, none at the start
    tidy = []
    for l in out:
        if l == ".PP" and (not tidy or tidy[-1] in (".PP", ".TP")):
            continue
        tidy.append(l)
    while tidy and tidy[-1] == ".PP":
        tidy.pop()
    return "\n".join(tidy) + "\n"


def help_of(argv):
    r = subprocess.run(argv + ["--help"], capture_output=True, text=True)
    return r.stdout + r.stderr


def commands(vnd):
    text = help_of([vnd])
    names, on = [], False
    for ln in text.split("\n"):
        if ln.startswith("commands:"):
            on = True
            continue
        if on:
            m = re.match(r"^  ([a-z][\w-]*)\s", ln)
            if m:
                names.append(m.group(1))
            elif ln.strip() == "":
                break
    return names


def main():
    if sys.argv[1] == "page":
        template, vnd = sys.argv[2], sys.argv[3]
        body = []
        for name in commands(vnd):
            subs = [[name]] + ([["demo", "lb"]] if name == "demo" else [])
            for sub in subs:
                body.append(".SS \"vnd " + " ".join(sub) + "\"")
                body.append(convert(help_of([vnd] + sub)).rstrip("\n"))
        page = open(template).read().replace('.\\" @COMMANDS@', "\n".join(body))
        sys.stdout.write(page)
    elif sys.argv[1] == "splice":
        # the options of PROGRAM --help between the page's markers
        page, prog = sys.argv[2], sys.argv[3]
        text = open(page).read()
        b, e = '.\\" @OPTIONS begin@\n', '.\\" @OPTIONS end@\n'
        roff = convert(help_of([prog]))
        tps = roff[roff.index(".TP\n"):]
        tps = tps[:tps.index("\n.PP\n") + 1] if "\n.PP\n" in tps else tps
        head, rest = text.split(b, 1)
        _, tail = rest.split(e, 1)
        open(page, "w").write(head + b + tps + e + tail)
    elif sys.argv[1] == "text":
        sys.stdout.write(convert(help_of(sys.argv[2:])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
