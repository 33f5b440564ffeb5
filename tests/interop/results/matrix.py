#!/usr/bin/env python3
"""Plans the interop matrix and renders its results (used by matrix.sh).

  matrix.py plan   WORK   reads WORK/peers.tsv and each ready peer's
                          combos.txt, writes WORK/plan.tsv (every cell:
                          dialer, listener, combination, run | n/i | -)
  matrix.py render WORK OUT RUNS
                          reads WORK/plan.tsv and WORK/rec/*.tsv (one per
                          run), writes OUT/results.csv, results.md,
                          results.html, prints the table and the closing
                          `N passed, N failed, N skipped` line; exit 1 when
                          any run failed.

Only the standard library: it runs wherever run-pair.sh runs.
"""
import csv
import fnmatch
import html
import math
import os
import re
import statistics
import sys
import time

STANDALONE = {"quic", "quic-v1", "webtransport", "webrtc", "webrtc-direct"}
T_ORDER = ["tcp", "ws", "wss", "quic-v1", "webtransport", "webrtc-direct", "webrtc"]
S_ORDER = ["noise", "tls", "plaintext"]
M_ORDER = ["yamux", "mplex"]
IMPL_ORDER = ["ours", "js", "py", "go", "rust"]
ROLES = {"": "both", "dial-only": "dial", "listen-only": "listen"}
OURS = "ours"
ERRLIKE = re.compile(
    r"FAIL|error|panic|fatal|unsupported|refused|failed|timed? ?out|denied|"
    r"unknown|invalid|cannot|could not|abort|reset", re.I)


def rank(seq, x):
    return (seq.index(x), x) if x in seq else (len(seq), x)


def impl_key(i):
    return rank(IMPL_ORDER, i)


def combo_key(c):
    t, s, m = c
    return (rank(T_ORDER, t), rank(S_ORDER, s), rank(M_ORDER, m))


def label(c):
    t, s, m = c
    return t if s == "-" and m == "-" else f"{t}/{s}/{m}"


def parse_combos(path, impl):
    """{(t, s, m): role}; role is both, dial or listen."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].split()
            if not line:
                continue
            if len(line) not in (3, 4) or (len(line) == 4 and line[3] not in ROLES):
                print(f"matrix: {impl}/combos.txt:{n}: ignored, expected "
                      f"'transport security muxer [dial-only|listen-only]': {raw.strip()}",
                      file=sys.stderr)
                continue
            t, s, m = line[:3]
            if t in STANDALONE:
                s = m = "-"
            role = ROLES[line[3] if len(line) == 4 else ""]
            c = (t, s, m)
            # The same combination listed twice: the union of the roles.
            out[c] = "both" if c in out and out[c] != role else role
    return out


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def split_list(v):
    return [x for x in re.split(r"[\s,]+", v or "") if x]


def plan(work):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    peers = [r for r in read_tsv(os.path.join(work, "peers.tsv")) if r[1] == "ready"]
    impls = sorted((r[0] for r in peers), key=impl_key)
    offers = {i: parse_combos(os.path.join(root, i, "combos.txt"), i) for i in impls}
    combos = sorted({c for o in offers.values() for c in o}, key=combo_key)
    pats = split_list(os.environ.get("COMBOS"))
    if pats:
        combos = [c for c in combos if any(fnmatch.fnmatchcase(label(c), p) for p in pats)]
    dialers = split_list(os.environ.get("DIALERS")) or impls
    listeners = split_list(os.environ.get("LISTENERS")) or impls
    for name, sel in (("DIALERS", dialers), ("LISTENERS", listeners)):
        bad = [i for i in sel if i not in impls]
        if bad:
            print(f"matrix: {name} names peers that are not ready or unknown: {' '.join(bad)}",
                  file=sys.stderr)
    dialers = [i for i in impls if i in dialers]
    listeners = [i for i in impls if i in listeners]

    def can(impl, c, role):
        r = offers[impl].get(c)
        return r is not None and r in ("both", role)

    with open(os.path.join(work, "plan.tsv"), "w", encoding="utf-8") as f:
        for d in dialers:
            for l in listeners:
                for c in combos:
                    if can(d, c, "dial") and can(l, c, "listen"):
                        st = "run"
                    # Would run if ours offered it: not implemented yet in ours.
                    elif (d == OURS or can(d, c, "dial")) and (l == OURS or can(l, c, "listen")):
                        st = "n/i"
                    else:
                        st = "-"
                    f.write("\t".join([d, l, *c, st]) + "\n")


# ---------------------------------------------------------------- render

def stderr_lines(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return []
    # ANSI colours out; keep the message.
    return [re.sub(r"\x1b\[[0-9;]*m", "", l).strip() for l in text.splitlines() if l.strip()]


def first_error(lines):
    return next((l for l in lines if ERRLIKE.search(l)), "")


def failure(reason, logdir):
    """(side, line) for a failed run: which side failed, from run-pair's
    reason and both stderr logs, and that side's first error-like stderr
    line (else its first line, or run-pair's reason when that says more)."""
    d = stderr_lines(os.path.join(logdir, "dialer.err"))
    li = stderr_lines(os.path.join(logdir, "listener.err"))
    if "listener exited" in reason or "listener already gone" in reason:
        return "listener", first_error(li) or (li[0] if li else reason)
    if reason.startswith("bad dialer output"):
        return "dialer", reason
    if first_error(d):
        return "dialer", first_error(d)
    if first_error(li):
        return "listener", first_error(li)
    if "timed out" in reason or not d:
        return "dialer", reason
    return "dialer", d[0]


def fmt_ms(v):
    return f"{v:.0f}" if v >= 100 else (f"{v:.1f}" if v >= 10 else f"{v:.2f}")


def shorten(s, n):
    return s if len(s) <= n else s[: n - 1] + "…"


class Cell:
    def __init__(self, d, l, c, status):
        self.d, self.l, self.c, self.status = d, l, c, status
        self.runs = []  # (run, result, hs, ping, side, line)

    @property
    def failed(self):
        return [r for r in self.runs if r[1] != "pass"]

    def hs(self):
        v = [r[2] for r in self.runs if r[1] == "pass"]
        return statistics.median(v) if v else None

    def ping(self):
        v = [r[3] for r in self.runs if r[1] == "pass"]
        return statistics.median(v) if v else None

    def kind(self):
        if self.status != "run":
            return self.status
        if not self.runs:
            return "missing"
        return "fail" if self.failed else "pass"

    def text(self, width=None):
        k = self.kind()
        if k == "pass":
            return fmt_ms(self.hs())
        if k == "fail":
            f = self.failed[0]
            t = f"FAIL ({f[4]}): {f[5]}"
            return shorten(t, width) if width else t
        if k == "missing":
            return "FAIL (no result)"
        return k


def load(work):
    cells = {}
    order = []
    for d, l, t, s, m, st in read_tsv(os.path.join(work, "plan.tsv")):
        c = (t, s, m)
        cells[(d, l, c)] = Cell(d, l, c, st)
        order.append((d, l, c))
    recdir = os.path.join(work, "rec")
    for name in sorted(os.listdir(recdir)) if os.path.isdir(recdir) else []:
        for row in read_tsv(os.path.join(recdir, name)):
            d, l, t, s, m, run, result, hs, ping, reason, logdir = (row + [""] * 11)[:11]
            cell = cells.get((d, l, (t, s, m)))
            if cell is None:
                continue
            if result == "pass":
                cell.runs.append((int(run), "pass", float(hs), float(ping), "", ""))
            else:
                side, line = failure(reason, logdir)
                cell.runs.append((int(run), "fail", None, None, side, line))
    return cells, order


def sections(cells, order):
    """[(transport, combos, pairs)]: one table per transport; a pair row is
    left out of a section only when every one of its cells there is '-'."""
    combos = sorted({k[2] for k in order}, key=combo_key)
    pairs = []
    for d, l, _ in order:
        if (d, l) not in pairs:
            pairs.append((d, l))
    out = []
    for t in sorted({c[0] for c in combos}, key=lambda x: rank(T_ORDER, x)):
        cs = [c for c in combos if c[0] == t]
        ps = [p for p in pairs if any(cells[(p[0], p[1], c)].status != "-" for c in cs)]
        if ps:
            out.append((t, cs, ps))
    return out


def counted(c):
    """Cells that judge ours: ours on either side, and each peer against
    itself (which tells a failing cell of ours from one of theirs). Two
    other implementations against each other are shown, not counted: a
    failure there is between them."""
    return "ours" in (c.d, c.l) or c.d == c.l


def counts(cells, pick=counted):
    cs = [c for c in cells.values() if pick(c)]
    passed = sum(1 for c in cs for r in c.runs if r[1] == "pass")
    failed = sum(1 for c in cs for r in c.runs if r[1] != "pass")
    failed += sum(1 for c in cs if c.kind() == "missing")
    ni = [c for c in cs if c.status == "n/i"]
    return passed, failed, ni


def write_csv(out, cells, order):
    with open(os.path.join(out, "results.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["dialer", "listener", "transport", "security", "muxer", "run",
                    "result", "handshake_plus_one_rtt_ms", "ping_rtt_ms",
                    "failing_side", "error"])
        for k in order:
            c = cells[k]
            base = [c.d, c.l, *c.c]
            if c.status != "run":
                w.writerow(base + ["", c.status, "", "", "", ""])
                continue
            if not c.runs:
                w.writerow(base + ["", "fail", "", "", "", "no result recorded"])
            for run, res, hs, ping, side, line in sorted(c.runs):
                w.writerow(base + [run, res, "" if hs is None else f"{hs:.3f}",
                                   "" if ping is None else f"{ping:.3f}", side, line])


def print_table(secs, cells, runs):
    print(f"Interop matrix: median handshake+1RTT ms over {runs} run(s) per cell "
          f"(rows dialer -> listener; '-' a side does not offer it; "
          f"n/i not implemented yet in ours)")
    notes = []
    for t, cs, ps in secs:
        rows = [f"{d} -> {l}" for d, l in ps]
        w0 = max([len("dialer -> listener")] + [len(r) for r in rows])
        heads = [label(c) for c in cs]
        texts = []
        for d, l in ps:
            row = []
            for c in cs:
                cell = cells[(d, l, c)]
                k = cell.kind()
                if k in ("fail", "missing"):
                    notes.append(cell)
                    row.append(f"FAIL[{len(notes)}]")
                else:
                    row.append(cell.text())
            texts.append(row)
        ws = [max(len(h), *(len(r[i]) for r in texts)) for i, h in enumerate(heads)]
        print()
        print(f"{'dialer -> listener':<{w0}}  " + "  ".join(f"{h:>{w}}" for h, w in zip(heads, ws)))
        for r, row in zip(rows, texts):
            print(f"{r:<{w0}}  " + "  ".join(f"{x:>{w}}" for x, w in zip(row, ws)))
    if notes:
        print()
        for i, cell in enumerate(notes, 1):
            print(f"[{i}] {cell.d} -> {cell.l} {label(cell.c)}: {cell.text()}")


def md_escape(s):
    return s.replace("|", "\\|").replace("\n", " ")


def write_md(out, secs, cells, runs, stamp, peers, summary):
    L = [f"## Interop matrix ({stamp})", "",
         f"Median handshake+1RTT in ms over {runs} run(s) per cell; rows are "
         "dialer → listener. `-`: a side does not offer the combination; "
         "`n/i`: only ours lacks it (not implemented yet); FAIL: the first "
         "error line of the failing side's stderr.", "",
         "Peers: " + ", ".join(f"{p} ({st}{': ' + why if why else ''})" for p, st, why in peers),
         ""]
    for t, cs, ps in secs:
        L += [f"### {t}", "",
              "| dialer → listener | " + " | ".join(label(c) for c in cs) + " |",
              "|---|" + "---:|" * len(cs)]
        for d, l in ps:
            row = []
            for c in cs:
                cell = cells[(d, l, c)]
                k = cell.kind()
                txt = md_escape(cell.text(120))
                row.append(f"**{txt}**" if k in ("fail", "missing") else txt)
            L.append(f"| {d} → {l} | " + " | ".join(row) + " |")
        L.append("")
    L += [f"**{summary}**", ""]
    with open(os.path.join(out, "results.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(L))


# ---------------------------------------------------------------- html

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#fff;margin:24px 32px;max-width:1400px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#57606a;margin:0 0 14px}
.summary{display:flex;gap:12px;margin:12px 0 4px;flex-wrap:wrap}
.badge{border-radius:8px;padding:8px 14px;font-weight:600;font-size:15px}
.b-pass{background:#dafbe1;color:#116329}.b-fail{background:#ffebe9;color:#a40e26}
.b-ni{background:#fff8c5;color:#7d4e00}.b-na{background:#f6f8fa;color:#57606a}
table{border-collapse:collapse;margin:6px 0 10px}
th,td{border:1px solid #d0d7de;padding:5px 9px;text-align:right;white-space:nowrap}
th{background:#f6f8fa;font-weight:600}td.pair,th.pair{text-align:left}
td.pass{background:#dafbe1;color:#116329;font-variant-numeric:tabular-nums}
td.fail{background:#ffebe9;color:#a40e26;text-align:left;white-space:normal;max-width:260px;font-size:12px}
td.ni{background:#fff8c5;color:#7d4e00;text-align:center}
td.na{color:#8c959f;text-align:center}
.legend{color:#57606a;font-size:13px}
.peers td,.peers th{text-align:left}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
"""

TCOL = {"tcp": "#0969da", "ws": "#8250df", "wss": "#bf3989", "quic-v1": "#1a7f37",
        "webtransport": "#bc4c00", "webrtc-direct": "#9a6700"}


def marker(s, x, y, col, hollow, r=6):
    fill = "#fff" if hollow else col
    st = f'fill="{fill}" stroke="{col}" stroke-width="2"'
    if s == "tls":
        return f'<rect x="{x - r + 1:.1f}" y="{y - r + 1:.1f}" width="{2 * r - 2}" height="{2 * r - 2}" {st}/>'
    if s == "plaintext":
        return f'<path d="M{x:.1f},{y - r:.1f} L{x + r:.1f},{y + r - 1:.1f} L{x - r:.1f},{y + r - 1:.1f} Z" {st}/>'
    if s == "-":
        return f'<path d="M{x:.1f},{y - r:.1f} L{x + r:.1f},{y:.1f} L{x:.1f},{y + r:.1f} L{x - r:.1f},{y:.1f} Z" {st}/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r - 1}" {st}/>'


def chart(cells, order):
    """Dot plot, one row per dialer -> listener pair, x = median
    handshake+1RTT on a log scale; colour = transport, shape = security,
    hollow = mplex. Failed cells as a red cross at the right edge."""
    pairs = []
    for d, l, _ in order:
        if (d, l) not in pairs:
            pairs.append((d, l))
    pts = {p: [] for p in pairs}
    vals = []
    for k in order:
        c = cells[k]
        if c.kind() == "pass":
            pts[(c.d, c.l)].append(c)
            vals.append(c.hs())
        elif c.kind() in ("fail", "missing"):
            pts[(c.d, c.l)].append(c)
    pairs = [p for p in pairs if pts[p]]
    if not pairs:
        return "<p>No run produced a result.</p>"
    lo = 10 ** math.floor(math.log10(max(min(vals), 0.01))) if vals else 0.1
    hi = 10 ** math.ceil(math.log10(max(vals))) if vals else 1000
    if hi <= lo:
        hi = lo * 10
    # One lane per transport inside each pair's row, so that tcp, ws and
    # quic dots of one pair do not sit on top of each other.
    lanes = sorted({c.c[0] for p in pairs for c in pts[p]}, key=lambda x: rank(T_ORDER, x))
    lane_h = 13
    rowh = max(30, lane_h * len(lanes) + 12)
    anyfail = any(c.kind() in ("fail", "missing") for p in pairs for c in pts[p])
    left, right, top = 150, 60, 34
    plotw = 760
    W = left + plotw + right
    H = top + rowh * len(pairs) + 44

    def X(v):
        return left + plotw * (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
         f'viewBox="0 0 {W} {H}" role="img" aria-label="handshake latency per pair">']
    o.append(f'<rect x="{left}" y="{top}" width="{plotw}" height="{rowh * len(pairs)}" fill="#fbfcfd" stroke="#d0d7de"/>')
    for i in range(len(pairs)):
        if i % 2:
            o.append(f'<rect x="{left}" y="{top + i * rowh}" width="{plotw}" height="{rowh}" fill="#eef1f4" opacity="0.7"/>')
    e = math.log10(lo)
    while e <= math.log10(hi) + 1e-9:
        for mult in (1, 2, 5):
            v = mult * 10 ** e
            if v < lo - 1e-12 or v > hi + 1e-9:
                continue
            x = X(v)
            major = mult == 1
            o.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + rowh * len(pairs)}" '
                     f'stroke="{"#b8c0c8" if major else "#e3e7eb"}"/>')
            o.append(f'<text x="{x:.1f}" y="{top + rowh * len(pairs) + 16}" font-size="11" '
                     f'fill="{"#1b1f24" if major else "#8c959f"}" text-anchor="middle">{v:g}</text>')
        e += 1
    o.append(f'<text x="{left + plotw / 2}" y="{H - 8}" font-size="12" fill="#57606a" '
             f'text-anchor="middle">median handshake + 1 RTT, ms (log scale)</text>')
    if anyfail:
        o.append(f'<text x="{left + plotw + 22}" y="{top - 6}" font-size="11" fill="#a40e26" '
                 f'text-anchor="middle">FAIL</text>')
    for i, (d, l) in enumerate(pairs):
        y0 = top + i * rowh
        o.append(f'<text x="{left - 10}" y="{y0 + rowh / 2 + 4:.1f}" font-size="13" text-anchor="end">'
                 f'{html.escape(d)} → {html.escape(l)}</text>')
        nfail = 0
        for c in pts[(d, l)]:
            y = y0 + 6 + lane_h * lanes.index(c.c[0]) + lane_h / 2 + (rowh - 12 - lane_h * len(lanes)) / 2
            tip = html.escape(f"{d} → {l} {label(c.c)}: {c.text()}")
            if c.kind() == "pass":
                x = X(c.hs())
                col = TCOL.get(c.c[0], "#57606a")
                o.append(f'<g><title>{tip}</title>{marker(c.c[1], x, y, col, c.c[2] == "mplex", 5)}</g>')
            else:
                x = left + plotw + 14 + 9 * nfail  # side by side, never hidden
                nfail += 1
                o.append(f'<g><title>{tip}</title><path d="M{x - 4},{y - 4} L{x + 4},{y + 4} '
                         f'M{x + 4},{y - 4} L{x - 4},{y + 4}" stroke="#cf222e" stroke-width="2.2"/></g>')
    o.append("</svg>")
    # Legend as its own small SVG so it wraps under narrow windows.
    items = []
    for t in lanes:
        items.append((t, marker("noise", 0, 0, TCOL.get(t, "#57606a"), False)))
    secs = sorted({c.c[1] for p in pairs for c in pts[p]}, key=lambda x: rank(S_ORDER, x))
    for s in secs:
        items.append((s if s != "-" else "standalone (quic)", marker(s, 0, 0, "#57606a", False)))
    items.append(("yamux", marker("noise", 0, 0, "#57606a", False)))
    items.append(("mplex", marker("noise", 0, 0, "#57606a", True)))
    lx = 10
    leg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="26" viewBox="0 0 {W} 26">']
    for name, mk in items:
        leg.append(f'<g transform="translate({lx + 8},13)">{mk}</g>'
                   f'<text x="{lx + 20}" y="17" font-size="12" fill="#1b1f24">{html.escape(name)}</text>')
        lx += 30 + 7 * len(name)
    leg.append("</svg>")
    return "\n".join(leg + o)


def write_html(out, secs, cells, order, runs, stamp, peers, passed, failed, ni):
    cls = {"pass": "pass", "fail": "fail", "missing": "fail", "n/i": "ni", "-": "na"}
    B = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
         "<title>lp2p-interop matrix</title>", f"<style>{CSS}</style></head><body>",
         "<h1>lp2p-interop interop matrix</h1>",
         f'<p class="meta">{html.escape(stamp)} · {runs} run(s) per cell · '
         "median handshake + 1 RTT in ms · rows dialer → listener</p>",
         '<div class="summary">'
         f'<span class="badge b-pass">{passed} passed</span>'
         f'<span class="badge b-fail">{failed} failed</span>'
         f'<span class="badge b-ni">{len(ni)} not implemented yet (n/i)</span></div>',
         '<p class="legend">Green: median ms over the passing runs. Red: FAIL with the '
         "first error line of the failing side's stderr (hover for all of it). "
         "Yellow n/i: only ours lacks the combination. Grey -: a side does not offer it.</p>"]
    B.append("<h2>Handshake latency per pair</h2>")
    B.append(chart(cells, order))
    for t, cs, ps in secs:
        B.append(f"<h2>{html.escape(t)}</h2><table><tr><th class=pair>dialer → listener</th>"
                 + "".join(f"<th>{html.escape(label(c))}</th>" for c in cs) + "</tr>")
        for d, l in ps:
            row = [f"<td class=pair>{html.escape(d)} → {html.escape(l)}</td>"]
            for c in cs:
                cell = cells[(d, l, c)]
                k = cell.kind()
                full = cell.text()
                tip = full
                if k == "pass":
                    pg = cell.ping()
                    tip = (f"{d} → {l} {label(c)}: handshake+1RTT {fmt_ms(cell.hs())} ms, "
                           f"ping {fmt_ms(pg)} ms, {len(cell.runs)} run(s)")
                row.append(f'<td class="{cls[k]}" title="{html.escape(tip)}">'
                           f"{html.escape(cell.text(90) if k in ('fail', 'missing') else full)}</td>")
            B.append("<tr>" + "".join(row) + "</tr>")
        B.append("</table>")
    B.append("<h2>Peers</h2><table class=peers><tr><th>peer</th><th>status</th><th>note</th></tr>")
    for p, st, why in peers:
        B.append(f"<tr><td>{html.escape(p)}</td><td>{html.escape(st)}</td><td>{html.escape(why)}</td></tr>")
    B.append("</table>")
    if ni:
        B.append(f"<h2>Not implemented yet in ours ({len(ni)} cells)</h2><p class=legend>"
                 + html.escape(", ".join(sorted({label(c.c) for c in ni}, key=lambda s: s)))
                 + "</p>")
    B.append("<p class=meta>Data: results.csv (every run) · generated by "
             "tests/interop/matrix.sh</p></body></html>")
    with open(os.path.join(out, "results.html"), "w", encoding="utf-8") as f:
        f.write("\n".join(B) + "\n")


def render(work, out, runs):
    cells, order = load(work)
    peers = read_tsv(os.path.join(work, "peers.tsv"))
    peers = sorted(((r + ["", "", ""])[:3] for r in peers), key=lambda p: impl_key(p[0]))
    secs = sections(cells, order)
    passed, failed, ni = counts(cells)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    summary = f"{passed} passed, {failed} failed" + (f", {len(ni)} skipped" if ni else "")
    write_csv(out, cells, order)
    write_md(out, secs, cells, runs, stamp, peers, summary)
    write_html(out, secs, cells, order, runs, stamp, peers, passed, failed, ni)
    print_table(secs, cells, runs)
    print()
    skipped_peers = [p for p in peers if p[1] != "ready"]
    for p, st, why in skipped_peers:
        print(f"peer {p}: {st}: {why}")
    if ni:
        print(f"n/i (not implemented yet in ours): {len(ni)} cells: "
              + " ".join(sorted({label(c.c) for c in ni}, key=lambda s: s)))
    fp, ff, _ = counts(cells, lambda c: not counted(c))
    if fp or ff:
        print(f"between other implementations (shown, not counted): {fp} passed, {ff} failed")
    print(f"results: {os.path.join(out, 'results.csv')} results.md results.html")
    print(summary)
    return 1 if failed else 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "plan":
        plan(argv[1])
        return 0
    if len(argv) == 4 and argv[0] == "render":
        return render(argv[1], argv[2], int(argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
