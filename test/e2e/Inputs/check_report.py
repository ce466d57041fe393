#!/usr/bin/env python3
"""Checks a run's report.html: well-formed, self-contained, with real plots.

Parses the HTML with the standard library, checks that every element that
is opened is closed, that there is no script and no external reference, that
each chart's polyline has points inside its viewBox, and that the sections a
user looks for are there.
"""
import html.parser
import sys

VOID = {"meta", "br", "img", "line", "input", "hr", "link"}


class Checker(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.errors = [], []
        self.polylines, self.headings, self.rows = [], [], 0
        self.in_h2 = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.errors.append("report has a script")
        for key in ("src", "href"):
            if key in a:
                self.errors.append(f"external reference {key}={a[key]}")
        if tag == "polyline":
            pts = [tuple(map(float, p.split(","))) for p in a["points"].split()]
            self.polylines.append(pts)
        if tag == "tr":
            self.rows += 1
        self.in_h2 = tag == "h2"
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
        else:
            self.stack.pop()

    def handle_data(self, data):
        if self.in_h2:
            self.headings.append(data.strip())
            self.in_h2 = False


c = Checker()
c.feed(open(sys.argv[1], encoding="utf-8").read())
if c.stack:
    c.errors.append(f"unclosed elements: {c.stack}")
for want in ("Summary", "Training", "Evaluation", "Trainable set", "Data", "Memory plan", "Resolved spec"):
    if want not in c.headings:
        c.errors.append(f"no '{want}' section (sections: {c.headings})")
if len(c.polylines) < 3:
    c.errors.append(f"expected at least 3 curves, got {len(c.polylines)}")
for pts in c.polylines:
    if len(pts) < 2 or not all(0 <= x <= 540 and 0 <= y <= 220 for x, y in pts):
        c.errors.append(f"a curve with too few or out-of-range points: {pts[:3]}")
if c.errors:
    sys.exit("check_report: " + "; ".join(c.errors))
print(f"report ok: {len(c.polylines)} curves, {c.rows} table rows")
