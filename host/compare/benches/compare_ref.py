#!/usr/bin/env python3
"""Reference implementation of `cutover compare OLD NEW` in plain Python.

Straightforward on purpose: json.load of each Alertmanager /api/v2/alerts dump,
dicts and tuples, no numpy. Same semantics as host/compare (parse, sort,
normalise, greedy episode matching within the tolerance, delay statistics,
breakdowns, missing/extra/matched lists, risk and verdict), written as compact
JSON to stdout. Not implemented: the rename/ignore-label hints among the
recommendations (quadratic in missing x extra).

Usage: compare_ref.py OLD NEW [--ignore-label L]... [--rename A=B]...
       [--rename-label A=B]... [--rename-value L:A=B]... [--tolerance-ms N]
"""

import argparse
import datetime
import functools
import json
import os
import sys
import time

GO_ZERO_MS = -62_135_596_800_000
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
BUCKETS = [0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0]


@functools.lru_cache(maxsize=1 << 16)
def parse_time(v):
    """RFC 3339 string (or integer ms) -> unix ms, sub-ms truncated toward the past."""
    if isinstance(v, int):
        return v
    s = v
    frac_ms = 0
    dot = s.find(".", 19)
    if dot != -1:
        end = dot + 1
        while end < len(s) and s[end].isdigit():
            end += 1
        frac_ms = int(s[dot + 1:end][:3].ljust(3, "0"))
        s = s[:dot] + s[end:]
    dt = datetime.datetime.fromisoformat(s)
    secs = (dt - EPOCH) // datetime.timedelta(seconds=1)
    return secs * 1000 + frac_ms


def format_ms(ms):
    """Unix ms -> RFC 3339 UTC with the fraction's trailing zeros trimmed."""
    secs, frac = divmod(ms, 1000)
    dt = EPOCH + datetime.timedelta(seconds=secs)
    s = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        s += "." + ("%03d" % frac).rstrip("0")
    return s + "Z"


def format_opt(ms):
    return format_ms(ms) if ms is not None else None


def label_fingerprint(labels):
    h = 0xCBF29CE484222325
    for k, v in sorted(labels.items()):
        for b in k.encode() + b"\xff" + v.encode() + b"\xfe":
            h ^= b
            h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def load_alertmanager(path):
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)
    if os.environ.get("CUTOVER_REF_TIMING"):
        print(f"json.load {path}: done", file=sys.stderr)
    if not isinstance(raw, list):
        sys.exit(f"{path}: expected an Alertmanager /api/v2/alerts array")
    updated = [parse_time(a["updatedAt"]) for a in raw if a.get("updatedAt") is not None]
    reference = max(updated) if updated else None
    alerts = []
    for a in raw:
        labels = a["labels"]
        start = parse_time(a["startsAt"])
        state = a["status"]["state"]
        state = "suppressed" if state == "suppressed" else "active"
        ends = a.get("endsAt")
        ends = parse_time(ends) if ends is not None else None
        if ends is not None and (ends <= GO_ZERO_MS or ends < start):
            ends = None
        if ends is not None and (reference is None or ends > reference):
            ends = None
        if ends is not None:
            state = "resolved"
        fp = a.get("fingerprint") or label_fingerprint(labels)
        alerts.append(
            {"labels": labels, "starts_at": start, "ends_at": ends, "state": state, "fingerprint": fp}
        )
    alerts.sort(key=lambda a: (a["starts_at"], sorted(a["labels"].items()), a["fingerprint"]))
    return alerts


def rust_debug_str(s):
    if s.isprintable() and '"' not in s and "\\" not in s:
        return '"' + s + '"'
    out = ['"']
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append("\\u{%x}" % ord(c))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def key_string(alertname, rest):
    if not rest:
        return alertname
    return alertname + "{" + ",".join(k + "=" + rust_debug_str(v) for k, v in rest) + "}"


class Normalizer:
    def __init__(self, opts):
        self.rename_label = dict(reversed(opts.rename_label))  # first rename wins
        self.rename = opts.rename
        self.rename_value = opts.rename_value
        self.ignore = [l for l in opts.ignore_label if l != "alertname"]

    def old_labels(self, labels):
        if self.rename_label or self.rename or self.rename_value:
            out = {}
            for k in sorted(labels):
                out[self.rename_label.get(k, k)] = labels[k]
            if "alertname" in out:
                for frm, to in self.rename:
                    if out["alertname"] == frm:
                        out["alertname"] = to
                        break
            for label, frm, to in self.rename_value:
                if out.get(label) == frm:
                    out[label] = to
            return self.drop_ignored(out)
        return self.drop_ignored(labels)

    def new_labels(self, labels):
        return self.drop_ignored(labels)

    def drop_ignored(self, labels):
        if self.ignore:
            labels = {k: v for k, v in labels.items() if k not in self.ignore}
        return labels

    @staticmethod
    def key(labels):
        rest = tuple(sorted([(k, v) for k, v in labels.items() if k != "alertname"]))
        return (labels.get("alertname", ""), rest)


def match(old, new, opts):
    norm = Normalizer(opts)
    old_labels = [norm.old_labels(a["labels"]) for a in old]
    new_labels = [norm.new_labels(a["labels"]) for a in new]
    old_keys = [Normalizer.key(l) for l in old_labels]
    new_keys = [Normalizer.key(l) for l in new_labels]
    groups = {}
    for i, k in enumerate(old_keys):
        groups.setdefault(k, ([], []))[0].append(i)
    for j, k in enumerate(new_keys):
        groups.setdefault(k, ([], []))[1].append(j)
    tol = opts.tolerance_ms
    pairs, missing, extra = [], [], []
    for olds, news in groups.values():
        olds.sort(key=lambda i: (old[i]["starts_at"], i))
        news.sort(key=lambda j: (new[j]["starts_at"], j))
        taken = [False] * len(news)
        for i in olds:
            start = old[i]["starts_at"]
            found = None
            for n, j in enumerate(news):
                if not taken[n] and abs(new[j]["starts_at"] - start) <= tol:
                    found = n
                    break
            if found is None:
                missing.append(i)
            else:
                taken[found] = True
                pairs.append((i, news[found]))
        extra.extend(j for n, j in enumerate(news) if not taken[n])
    pairs.sort(key=lambda p: (old[p[0]]["starts_at"], p[0], p[1]))
    missing.sort(key=lambda i: (old[i]["starts_at"], i))
    extra.sort(key=lambda j: (new[j]["starts_at"], j))
    return pairs, missing, extra, old_labels, new_labels, old_keys, new_keys


def round_ms(v):
    x = v * 1000.0
    r = float(int(abs(x) + 0.5))
    return (r if x >= 0 else -r) / 1000.0


def percentile(sorted_vals, q):
    if not sorted_vals:
        return None
    rank = q * (len(sorted_vals) - 1)
    lo, hi = int(rank // 1), int(-(-rank // 1))
    a, b = sorted_vals[lo], sorted_vals[hi]
    return a + (b - a) * (rank - lo)


def delay_stats(delays):
    s = sorted(delays)
    n = len(s)
    hist = [{"le": le, "count": sum(1 for d in s if d <= le)} for le in BUCKETS]
    hist.append({"le": "+Inf", "count": n})
    total = 0.0
    for d in s:
        total += d
    p50, p95 = percentile(s, 0.5), percentile(s, 0.95)
    return {
        "count": n,
        "p50": round_ms(p50) if p50 is not None else None,
        "p95": round_ms(p95) if p95 is not None else None,
        "max": s[-1] if s else None,
        "min": s[0] if s else None,
        "mean": round_ms(total / n) if n else None,
        "histogram": hist,
    }


def breakdown(pairs, missing, extra, old_labels, new_labels, label):
    out = {}

    def entry(labels):
        name = labels.get(label, "(none)")
        if name not in out:
            out[name] = {"old": 0, "new": 0, "matched": 0, "missing": 0, "extra": 0, "match_rate": None}
        return out[name]

    for l in old_labels:
        entry(l)["old"] += 1
    for l in new_labels:
        entry(l)["new"] += 1
    for i, _ in pairs:
        entry(old_labels[i])["matched"] += 1
    for i in missing:
        entry(old_labels[i])["missing"] += 1
    for j in extra:
        entry(new_labels[j])["extra"] += 1
    for b in out.values():
        b["match_rate"] = b["matched"] / b["old"] if b["old"] else None
    return dict(sorted(out.items()))


def pct(rate):
    return "%.1f%%" % (rate * 100.0)


def list_keys(keys):
    distinct = sorted(set(keys))
    s = ", ".join(distinct[:5])
    if len(distinct) > 5:
        s += ", ... and %d more" % (len(distinct) - 5)
    return s


def compare(old, new, opts):
    pairs, missing, extra, old_labels, new_labels, old_keys, new_keys = match(old, new, opts)
    total_old, total_new = len(old), len(new)
    match_rate = len(pairs) / total_old if total_old else None
    matched_alerts = []
    for i, j in pairs:
        k = old_keys[i]
        matched_alerts.append(
            {
                "key": key_string(*k),
                "alertname": k[0],
                "labels": old_labels[i],
                "starts_at": format_ms(old[i]["starts_at"]),
                "new_starts_at": format_ms(new[j]["starts_at"]),
                "delay_seconds": (new[j]["starts_at"] - old[i]["starts_at"]) / 1000.0,
                "ends_at": format_opt(old[i]["ends_at"]),
                "new_ends_at": format_opt(new[j]["ends_at"]),
            }
        )

    def unmatched(alerts, idx, keys):
        return [
            {
                "key": key_string(*keys[i]),
                "alertname": keys[i][0],
                "labels": dict(sorted(alerts[i]["labels"].items())),
                "starts_at": format_ms(alerts[i]["starts_at"]),
                "ends_at": format_opt(alerts[i]["ends_at"]),
                "fingerprint": alerts[i]["fingerprint"],
            }
            for i in idx
        ]

    missing_alerts = unmatched(old, missing, old_keys)
    extra_alerts = unmatched(new, extra, new_keys)
    delays = delay_stats([m["delay_seconds"] for m in matched_alerts])
    if match_rate is None:
        risk = "high"
    elif match_rate < opts.high_below or missing:
        risk = "high"
    elif match_rate < opts.medium_below:
        risk = "medium"
    elif extra:
        risk = "medium"
    else:
        risk = "low"
    if total_old == 0 or total_new == 0:
        verdict = "no-data"
    else:
        verdict = {"high": "fail", "medium": "inconclusive", "low": "pass"}[risk]
    recs = []
    if match_rate is not None:
        bar = opts.high_below if match_rate < opts.high_below else (
            opts.medium_below if match_rate < opts.medium_below else None)
        if bar is not None:
            recs.append("Match rate %s is below %s: review rule translations before proceeding"
                        % (pct(match_rate), pct(bar)))
    if missing:
        recs.append("%d alert(s) fired by the old system were not fired by the new one: %s"
                    % (len(missing), list_keys(a["key"] for a in missing_alerts)))
    if extra and total_old:
        recs.append("%d alert(s) fired only by the new system (possible false alerts): %s"
                    % (len(extra), list_keys(a["key"] for a in extra_alerts)))
    starts = [a["starts_at"] for a in old] + [a["starts_at"] for a in new]
    ends = [a["ends_at"] for a in old + new if a["ends_at"] is not None]
    time_range = None
    if starts:
        time_range = {"from": format_ms(min(starts)), "to": format_ms(max(starts + ends))}
    return {
        "schema": "cutover.compare.report/v1",
        "total_old": total_old,
        "total_new": total_new,
        "matched": len(pairs),
        "missing": len(missing),
        "extra": len(extra),
        "match_rate": match_rate,
        "risk_level": risk,
        "verdict": verdict,
        "delay_seconds": delays,
        "recommendations": recs,
        "noise_floor": None,
        "inputs": None,
        "missing_alerts": missing_alerts,
        "extra_alerts": extra_alerts,
        "matched_alerts": matched_alerts,
        "by_alertname": breakdown(pairs, missing, extra, old_labels, new_labels, "alertname"),
        "by_severity": breakdown(pairs, missing, extra, old_labels, new_labels, "severity"),
        "by_label": None,
        "time_range": time_range,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--ignore-label", action="append", default=[])
    p.add_argument("--rename", action="append", default=[], type=lambda s: tuple(s.split("=", 1)))
    p.add_argument("--rename-label", action="append", default=[], type=lambda s: tuple(s.split("=", 1)))
    p.add_argument("--rename-value", action="append", default=[],
                   type=lambda s: (s.split(":", 1)[0], *s.split(":", 1)[1].split("=", 1)))
    p.add_argument("--tolerance-ms", type=int, default=60_000)
    p.add_argument("--high-below", type=float, default=0.8)
    p.add_argument("--medium-below", type=float, default=0.95)
    opts = p.parse_args()
    timing = os.environ.get("CUTOVER_REF_TIMING")
    last = [time.monotonic()]

    def phase(name):
        if timing:
            now = time.monotonic()
            print(f"{name}: {now - last[0]:.1f} s", file=sys.stderr)
            last[0] = now

    old = load_alertmanager(opts.old)
    phase("load old")
    new = load_alertmanager(opts.new)
    phase("load new")
    report = compare(old, new, opts)
    phase("compare")
    sys.stdout.write(json.dumps(report))
    sys.stdout.write("\n")
    phase("write")


if __name__ == "__main__":
    main()
