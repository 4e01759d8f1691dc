"""A strict parser of the Prometheus text exposition format 0.0.4, for checking what
jwtgate's /metrics serves. It rejects what Prometheus' own parser rejects and, on top,
what a well-formed exposition must not contain: samples outside a declared family,
families split in several groups, duplicate series, TYPE after samples, counters not
ending in _total, negative counters, and histograms whose buckets are not cumulative
or whose +Inf bucket differs from _count."""

import math
import re

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]Inf|NaN")
TIMESTAMP = re.compile(r"-?[0-9]+")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
BLANKS = " \t"


class ParseError(Exception):
    pass


class Family:
    def __init__(self, name):
        self.name = name
        self.type = None
        self.help = None
        self.samples = []  # (sample name, labels dict, value)


class Exposition:
    def __init__(self, families):
        self.families = families  # name -> Family, in order of appearance

    def family(self, name):
        return self.families.get(name)

    def samples(self, name):
        """Every (labels, value) of the sample name `name` (e.g. x_bucket), any family."""
        out = []
        for f in self.families.values():
            out += [(labels, v) for n, labels, v in f.samples if n == name]
        return out

    def value(self, name, **labels):
        """The value of the series with exactly these labels, or None."""
        for got, v in self.samples(name):
            if got == labels:
                return v
        return None

    def total(self, name, **labels):
        """Sum over the series of `name` whose labels include these (0 when none)."""
        return sum(v for got, v in self.samples(name) if all(got.get(k) == x for k, x in labels.items()))


def _fail(lineno, line, msg):
    raise ParseError("line %d: %s: %r" % (lineno, msg, line[:160]))


def _unescape(s, allowed, lineno, line):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            if i + 1 >= len(s) or s[i + 1] not in allowed:
                _fail(lineno, line, "invalid escape sequence")
            out.append(allowed[s[i + 1]])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _parse_labels(line, i, lineno):
    """Parses `{name="value",...}` starting at line[i] == '{'; returns (labels, next index)."""
    labels = {}
    i += 1
    while True:
        if i < len(line) and line[i] == "}":
            return labels, i + 1
        m = LABEL_NAME.match(line, i)
        if not m:
            _fail(lineno, line, "bad label name at column %d" % i)
        name = m.group(0)
        if name.startswith("__"):
            _fail(lineno, line, "reserved label name %s" % name)
        if name in labels:
            _fail(lineno, line, "duplicate label %s" % name)
        i = m.end()
        if line[i:i + 2] != '="':
            _fail(lineno, line, "expected =\" after label name %s" % name)
        i += 2
        raw = []
        while True:
            if i >= len(line):
                _fail(lineno, line, "unterminated label value")
            c = line[i]
            if c == "\\":
                if i + 1 >= len(line) or line[i + 1] not in '\\"n':
                    _fail(lineno, line, "invalid escape in label value")
                raw.append({"\\": "\\", '"': '"', "n": "\n"}[line[i + 1]])
                i += 2
                continue
            if c == '"':
                i += 1
                break
            raw.append(c)
            i += 1
        labels[name] = "".join(raw)
        if i < len(line) and line[i] == ",":
            i += 1
            continue
        if i < len(line) and line[i] == "}":
            return labels, i + 1
        _fail(lineno, line, "expected , or } after label value")


def _parse_float(tok, lineno, line):
    if not FLOAT.fullmatch(tok):
        _fail(lineno, line, "bad value %r" % tok)
    return float(tok)


def _owner(sample, families):
    """The declared family a sample name belongs to, or None."""
    if sample in families and families[sample].type not in ("histogram",):
        return families[sample]
    for suffix, kinds in (("_bucket", ("histogram",)), ("_sum", ("histogram", "summary")),
                          ("_count", ("histogram", "summary"))):
        if sample.endswith(suffix):
            base = sample[: -len(suffix)]
            if base in families and families[base].type in kinds:
                return families[base]
    return None


def parse(text, require_help=True):
    if text and not text.endswith("\n"):
        raise ParseError("the exposition does not end with a newline")
    families = {}
    closed = set()  # families whose group of lines has ended
    current = None
    seen_series = set()

    def switch_to(name):
        nonlocal current
        if current is not None and current != name:
            closed.add(current)
        if name in closed:
            raise ParseError("family %s appears in more than one group" % name)
        current = name

    for lineno, line in enumerate(text.split("\n")[:-1] if text else [], 1):
        if line.strip(BLANKS) == "":
            continue
        if line.startswith("#"):
            rest = line[1:].lstrip(BLANKS)
            parts = re.split(r"[ \t]+", rest, maxsplit=2)
            if parts[0] not in ("HELP", "TYPE"):
                continue  # a plain comment
            if len(parts) < 2 or not METRIC_NAME.fullmatch(parts[1]):
                _fail(lineno, line, "%s without a valid metric name" % parts[0])
            name = parts[1]
            switch_to(name)
            fam = families.setdefault(name, Family(name))
            if parts[0] == "HELP":
                if fam.help is not None:
                    _fail(lineno, line, "second HELP for %s" % name)
                fam.help = _unescape(parts[2] if len(parts) > 2 else "", {"\\": "\\", "n": "\n"}, lineno, line)
            else:
                if fam.type is not None:
                    _fail(lineno, line, "second TYPE for %s" % name)
                if fam.samples:
                    _fail(lineno, line, "TYPE after samples of %s" % name)
                if len(parts) != 3 or parts[2] not in TYPES:
                    _fail(lineno, line, "bad TYPE")
                fam.type = parts[2]
            continue
        m = METRIC_NAME.match(line)
        if not m:
            _fail(lineno, line, "bad metric name")
        sname = m.group(0)
        i = m.end()
        labels = {}
        if i < len(line) and line[i] == "{":
            labels, i = _parse_labels(line, i, lineno)
        rest = line[i:]
        if not rest or rest[0] not in BLANKS:
            _fail(lineno, line, "expected blank before the value")
        toks = rest.strip(BLANKS).split()
        if len(toks) not in (1, 2):
            _fail(lineno, line, "expected a value and an optional timestamp")
        value = _parse_float(toks[0], lineno, line)
        if len(toks) == 2 and not TIMESTAMP.fullmatch(toks[1]):
            _fail(lineno, line, "bad timestamp")
        fam = _owner(sname, families)
        if fam is None or fam.type is None:
            _fail(lineno, line, "sample %s outside any declared (TYPE) family" % sname)
        switch_to(fam.name)
        key = (sname, tuple(sorted(labels.items())))
        if key in seen_series:
            _fail(lineno, line, "duplicate series")
        seen_series.add(key)
        fam.samples.append((sname, labels, value))

    for fam in families.values():
        _check_family(fam, require_help)
    return Exposition(families)


def _check_family(fam, require_help):
    if fam.type is None:
        raise ParseError("family %s has HELP but no TYPE" % fam.name)
    if require_help and fam.help is None:
        raise ParseError("family %s has no HELP" % fam.name)
    if fam.type == "counter":
        if not fam.name.endswith("_total"):
            raise ParseError("counter %s does not end in _total" % fam.name)
        for _, labels, v in fam.samples:
            if math.isnan(v) or v < 0:
                raise ParseError("counter %s%r has value %r" % (fam.name, labels, v))
    if fam.type == "histogram":
        _check_histogram(fam)


def _check_histogram(fam):
    groups = {}
    for sname, labels, v in fam.samples:
        suffix = sname[len(fam.name):]
        if suffix == "_bucket":
            if "le" not in labels:
                raise ParseError("%s_bucket without le" % fam.name)
            le = labels["le"]
            if not FLOAT.fullmatch(le) or le == "NaN":
                raise ParseError("%s_bucket with le=%r" % (fam.name, le))
            rest = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
            groups.setdefault(rest, {"buckets": [], "sum": None, "count": None})["buckets"].append((float(le), v))
        else:
            if "le" in labels:
                raise ParseError("%s%s carries an le label" % (fam.name, suffix))
            rest = tuple(sorted(labels.items()))
            groups.setdefault(rest, {"buckets": [], "sum": None, "count": None})[suffix[1:]] = v
    if not groups:
        raise ParseError("histogram %s has no samples" % fam.name)
    for rest, g in groups.items():
        b = g["buckets"]
        if not b or b[-1][0] != math.inf:
            raise ParseError("histogram %s%r lacks a final +Inf bucket" % (fam.name, rest))
        for (le1, c1), (le2, c2) in zip(b, b[1:]):
            if not le2 > le1:
                raise ParseError("histogram %s buckets not in increasing le order (%r, %r)" % (fam.name, le1, le2))
            if c2 < c1:
                raise ParseError("histogram %s buckets not cumulative: le=%r %r > le=%r %r"
                                 % (fam.name, le1, c1, le2, c2))
        if g["count"] is None or g["sum"] is None:
            raise ParseError("histogram %s%r lacks _sum or _count" % (fam.name, rest))
        if b[-1][1] != g["count"]:
            raise ParseError("histogram %s: +Inf bucket %r != _count %r" % (fam.name, b[-1][1], g["count"]))
        if b[0][1] < 0 or math.isnan(g["sum"]):
            raise ParseError("histogram %s has a negative bucket or a NaN sum" % fam.name)
