/* collectconf.c — trace collection configurations (paper Fig. 4 and 5).
 *
 * The text is read line by line.  A line starts with a keyword: a block
 * header (VM Node, Appliance [Type] Node, Virtual Appliance Link), Cap (or
 * Capture Point), a setting (Mode, Snaplen, Sampling, Flow Sampling), Flow Pattern /
 * Pattern, or a pattern field (srcIP= ...), which may be followed by more
 * fields after commas.  Everything after '#' is a comment.  Each error
 * names the line and column of the token at fault, counted in bytes from 1
 * on the tenant's own text.
 */
#include "lang/collectconf.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lang/lexer.h"
#include "util/util.h"

/* What a Cap block may set, each at most once. */
enum fld { F_SRCIP, F_DSTIP, F_PROTO, F_SRCPORT, F_DSTPORT, F_DUAL, F_MODE, F_SNAPLEN,
           F_SAMPLING, F_ACTIVE_TIMEOUT, F_MAX_FLOWS, F_FLOW_SAMPLING, F_POLLING, F_COUNT };
static const char *const fld_name[F_COUNT] = {
    "srcIP", "dstIP", "proto", "srcPort", "dstPort", "dualDirect", "Mode", "Snaplen",
    "Sampling", "ActiveTimeout", "MaxFlows", "Flow Sampling", "Polling",
};

#define BLOCK_HEADERS "\"VM Node :\", \"Appliance Node :\" or \"Virtual Appliance Link :\""
#define PATTERN_FIELDS "srcIP, dstIP, proto, srcPort, dstPort or dualDirect"

struct cc {
    const char *origin;
    char *err;
    struct vnd_collect_conf *conf;
    int cap_targets;           /* allocated entries of conf->targets */
    int cap_caps;              /* ... of the open target's caps */
    int ncaps;                 /* in the whole configuration */
    int ti;                    /* the open target, or -1 */
    int tline, tcol;           /* where its header starts */
    int ci;                    /* the open cap of the open target, or -1 */
    int seen_line[F_COUNT];    /* 0: not set in the open Cap block */
    int seen_col[F_COUNT];
    /* the line being read: text from ls, content up to le (comment and
     * trailing blanks cut) */
    const char *ls, *le;
    int line;
};

#define COL(p, q) (1 + (int)((q) - (p)->ls))

static int fail(struct cc *p, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct cc *p, int line, int col, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!p->err)
        p->err = vnd_lang_error(p->origin, line, col, "%s", msg);
    return -1;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool name_char(char c)
{
    return is_letter(c) || is_digit(c) || c == '_' || c == '-' || c == '.';
}

static bool word_is(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

/* n bytes of s as an error shows them: at most 40, bytes outside printable
 * ASCII (and '"', '\\') escaped, "..." when cut. */
static const char *show(char *buf, size_t size, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == 40 || o + 8 >= size) {
            snprintf(buf + o, size - o, "...");
            return buf;
        }
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    buf[o] = '\0';
    return buf;
}

/* The token at q (up to a blank, or one of `stop`, which alone is a token
 * of its own) as "found ..." text: end of line, or the token in double
 * quotes. */
static const char *found(struct cc *p, const char *q, const char *stop, char *buf, size_t size)
{
    if (q >= p->le)
        return "end of line";
    const char *e = q + 1;
    if (!stop || !strchr(stop, *q))
        while (e < p->le && !is_blank(*e) && (!stop || !strchr(stop, *e)))
            e++;
    char tok[200];
    snprintf(buf, size, "\"%s\"", show(tok, sizeof tok, q, (size_t)(e - q)));
    return buf;
}

static const char *skip_blanks(struct cc *p, const char *q)
{
    while (q < p->le && is_blank(*q))
        q++;
    return q;
}

/* After the last token of a line: nothing else may follow. */
static int end_of_line(struct cc *p, const char *q, const char *last, size_t nlast)
{
    q = skip_blanks(p, q);
    if (q == p->le)
        return 0;
    char f[220], l[200];
    return fail(p, p->line, COL(p, q), "expected the end of the line after \"%s\", found %s",
                show(l, sizeof l, last, nlast), found(p, q, NULL, f, sizeof f));
}

/* A run of letters at q. */
static size_t letters(struct cc *p, const char *q)
{
    size_t n = 0;
    while (q + n < p->le && is_letter(q[n]))
        n++;
    return n;
}

/* The word `want` (case-insensitive) after blanks, as in "VM Node". */
static int expect_word(struct cc *p, const char **q, const char *prev, const char *want)
{
    const char *s = skip_blanks(p, *q);
    size_t n = letters(p, s);
    if (s == *q || !word_is(s, n, want) || (s + n < p->le && name_char(s[n]))) {
        char f[220];
        return fail(p, p->line, COL(p, s), "expected \"%s\" after \"%s\", found %s", want, prev,
                    found(p, s, ":=", f, sizeof f));
    }
    *q = s + n;
    return 0;
}

/* An optional ':' (or '=' too with `eq`) between a keyword and its value. */
static const char *separator(struct cc *p, const char *q, bool eq)
{
    q = skip_blanks(p, q);
    if (q < p->le && (*q == ':' || (eq && *q == '=')))
        q = skip_blanks(p, q + 1);
    return q;
}

/* A name: letters, digits, '_', '-', '.', 1 to VND_CC_NAME_MAX of them,
 * followed by a blank or the end of the line.  `what` is "a node name"
 * etc., `after` the keyword it follows. */
static int read_name(struct cc *p, const char **q, const char *what, const char *after,
                     const char **name, size_t *n)
{
    const char *s = *q, *e = s;
    char f[220], t[200];
    while (e < p->le && name_char(*e))
        e++;
    if (e < p->le && !is_blank(*e)) {
        if (e == s)
            return fail(p, p->line, COL(p, s), "expected %s after \"%s\", found %s", what, after,
                        found(p, s, NULL, f, sizeof f));
        if (*e == ',')
            return fail(p, p->line, COL(p, e), "unexpected \",\" after \"%s\": one %s per line",
                        show(t, sizeof t, s, (size_t)(e - s)), what + 2);
        return fail(p, p->line, COL(p, e), "unexpected character \"%s\" in %s: names are "
                    "letters, digits, '_', '-' and '.'", show(t, sizeof t, e, 1), what + 2);
    }
    if (e == s)
        return fail(p, p->line, COL(p, s), "expected %s after \"%s\", found end of line", what,
                    after);
    if (e - s > VND_CC_NAME_MAX)
        return fail(p, p->line, COL(p, s), "%s \"%s\" is too long: %d characters, at most %d",
                    what + 2, show(t, sizeof t, s, (size_t)(e - s)), (int)(e - s),
                    VND_CC_NAME_MAX);
    *name = s;
    *n = (size_t)(e - s);
    *q = e;
    return 0;
}

static struct vnd_cc_target *target(struct cc *p)
{
    return p->ti >= 0 ? &p->conf->targets[p->ti] : NULL;
}

static struct vnd_cc_cap *cap(struct cc *p)
{
    return p->ci >= 0 ? &p->conf->targets[p->ti].caps[p->ci] : NULL;
}

static const char *kind_name(enum vnd_cc_kind k)
{
    return k == VND_CC_VM ? "VM Node" : k == VND_CC_APPLIANCE ? "Appliance Node"
                                                               : "Virtual Appliance Link";
}

static bool tcp_or_udp(const struct vnd_cc_pattern *pt)
{
    return pt->proto_kind == VND_CC_IPPROTO && (pt->proto == 6 || pt->proto == 17);
}

static const char *proto_text(const struct vnd_cc_pattern *pt, char *buf, size_t size)
{
    switch (pt->proto_kind) {
    case VND_CC_ANY:
        return "*";
    case VND_CC_ARP:
        return "ARP";
    case VND_CC_IPPROTO:
        break;
    }
    switch (pt->proto) {
    case 6: return "TCP";
    case 17: return "UDP";
    case 1: return "ICMP";
    default:
        snprintf(buf, size, "%d", pt->proto);
        return buf;
    }
}

/* Ends the open Cap block: a port needs its proto. */
static int close_cap(struct cc *p)
{
    struct vnd_cc_cap *c = cap(p);
    if (!c)
        return 0;
    for (int f = F_SRCPORT; f <= F_DSTPORT; f++) {
        int v = f == F_SRCPORT ? c->pattern.src_port : c->pattern.dst_port;
        if (v >= 0 && !p->seen_line[F_PROTO])
            return fail(p, p->seen_line[f], p->seen_col[f], "%s=%d needs proto=TCP or "
                        "proto=UDP in its Cap block", fld_name[f], v);
    }
    p->ci = -1;
    return 0;
}

static int close_target(struct cc *p)
{
    if (close_cap(p))
        return -1;
    struct vnd_cc_target *t = target(p);
    if (!t)
        return 0;
    if (t->ncaps == 0) {
        if (t->kind == VND_CC_LINK)
            return fail(p, p->tline, p->tcol, "%s %s has no Cap line: add one naming the "
                        "node at one of its ends (\"Cap NODE\")", kind_name(t->kind), t->name);
        return fail(p, p->tline, p->tcol, "%s %s has no Cap line: add one such as "
                    "\"Cap input\"", kind_name(t->kind), t->name);
    }
    p->ti = -1;
    return 0;
}

static int open_target(struct cc *p, enum vnd_cc_kind kind, int kcol, const char *name,
                       size_t n, int ncol)
{
    struct vnd_collect_conf *c = p->conf;
    for (int i = 0; i < c->ntargets; i++) {
        const struct vnd_cc_target *o = &c->targets[i];
        if ((o->kind == VND_CC_LINK) == (kind == VND_CC_LINK) && strlen(o->name) == n
            && strncmp(o->name, name, n) == 0)
            return fail(p, p->line, ncol, "%s %s already has a block (%s, line %d): put all "
                        "its Cap lines under one header", kind == VND_CC_LINK ? "link" : "node",
                        o->name, kind_name(o->kind), o->line);
    }
    if (c->ntargets == p->cap_targets) {
        p->cap_targets = p->cap_targets ? 2 * p->cap_targets : 4;
        c->targets = vnd_xrealloc(c->targets, (size_t)p->cap_targets * sizeof *c->targets);
    }
    struct vnd_cc_target *t = &c->targets[c->ntargets];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->name = vnd_xstrndup(name, n);
    t->line = p->line;
    t->col = ncol;
    p->ti = c->ntargets++;
    p->ci = -1;
    p->cap_caps = 0;
    p->tline = p->line;
    p->tcol = kcol;
    return 0;
}

/* VM Node : NAME, Appliance [Type] Node : NAME, Virtual Appliance Link : NAME;
 * q is past the keywords. */
static int header_line(struct cc *p, enum vnd_cc_kind kind, int kcol, const char *q)
{
    if (close_target(p))
        return -1;
    const char *name;
    size_t n;
    q = separator(p, q, true);
    int ncol = COL(p, q);
    char after[40];
    snprintf(after, sizeof after, "%s :", kind_name(kind));
    if (read_name(p, &q, kind == VND_CC_LINK ? "a link name" : "a node name", after, &name, &n)
        || end_of_line(p, q, name, n))
        return -1;
    return open_target(p, kind, kcol, name, n, ncol);
}

static int cap_line(struct cc *p, int kcol, const char *kw, const char *q)
{
    struct vnd_cc_target *t = target(p);
    if (!t)
        return fail(p, p->line, kcol, "\"%s\" before any block: a Cap belongs to a "
                    BLOCK_HEADERS " line above it", kw);
    if (close_cap(p))
        return -1;
    if (p->ncaps == VND_CC_MAX_CAPS)
        return fail(p, p->line, kcol, "too many Cap blocks: a configuration holds at most %d",
                    VND_CC_MAX_CAPS);
    q = separator(p, q, true);
    int pcol = COL(p, q);
    const char *name;
    size_t n;
    bool node = t->kind != VND_CC_LINK;
    if (read_name(p, &q, node ? "a capture point" : "a node name", kw, &name, &n))
        return -1;
    char buf[VND_CC_NAME_MAX + 1], sh[200];
    if (node) {
        if (!word_is(name, n, "input") && !word_is(name, n, "output"))
            return fail(p, p->line, pcol, "unknown capture point \"%s\" (a node's capture "
                        "points are input and output)", show(sh, sizeof sh, name, n));
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)(name[i] | 0x20);
    } else {
        memcpy(buf, name, n);
    }
    buf[n] = '\0';
    if (end_of_line(p, q, name, n))
        return -1;

    if (t->ncaps == p->cap_caps) {
        p->cap_caps = p->cap_caps ? 2 * p->cap_caps : 2;
        t->caps = vnd_xrealloc(t->caps, (size_t)p->cap_caps * sizeof *t->caps);
    }
    struct vnd_cc_cap *c = &t->caps[t->ncaps];
    memset(c, 0, sizeof *c);
    c->point = vnd_xstrdup(buf);
    c->pattern.proto_kind = VND_CC_ANY;
    c->pattern.proto = -1;
    c->pattern.src_port = c->pattern.dst_port = -1;
    c->mode = VND_CC_MIRROR;
    c->snaplen = 0;
    c->sampling = 1;
    c->active_timeout = c->max_flows = c->polling = -1;
    c->flow_sampling = 1;
    c->line = p->line;
    c->col = pcol;
    p->ci = t->ncaps++;
    p->ncaps++;
    memset(p->seen_line, 0, sizeof p->seen_line);
    memset(p->seen_col, 0, sizeof p->seen_col);
    return 0;
}

/* A field or setting may only be inside a Cap block. */
static int need_cap(struct cc *p, int kcol, const char *kw)
{
    const struct vnd_cc_target *t = target(p);
    if (!t)
        return fail(p, p->line, kcol, "\"%s\" before any block: start with a " BLOCK_HEADERS
                    " line and a Cap line", kw);
    if (!cap(p))
        return fail(p, p->line, kcol, "\"%s\" before the first Cap of %s %s: patterns and "
                    "settings belong to the Cap line above them", kw, kind_name(t->kind),
                    t->name);
    return 0;
}

/* Marks field f as set at line:col; a second time is an error. */
static int mark(struct cc *p, enum fld f, int col)
{
    if (p->seen_line[f])
        return fail(p, p->line, col, "%s given twice in one Cap block (first at line %d)",
                    fld_name[f], p->seen_line[f]);
    p->seen_line[f] = p->line;
    p->seen_col[f] = col;
    return 0;
}

/* A decimal of at most 9 digits; -1 when v is no number, -2 when longer. */
static long decimal(const char *v, size_t n)
{
    if (n == 0)
        return -1;
    long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(v[i]))
            return -1;
        if (i == 9)
            return -2;
        x = x * 10 + (v[i] - '0');
    }
    return x;
}

/* Flow Sampling is a select group in the switch (control/ovs.h): only
 * Mode mirror copies through the switch, and OVS runs no truncating
 * output in a group's bucket, so no Snaplen with it.  f was just set at
 * p->line:col; the settings may come in any order. */
static int flow_sampling_agrees(struct cc *p, enum fld f, int col)
{
    const struct vnd_cc_cap *c = cap(p);
    /* hash sampling is the table server's, on the packets it receives:
     * sflow and ipfix records come sampled by the switch */
    if (c->sampling_hash && c->mode != VND_CC_MIRROR && c->mode != VND_CC_TAP)
        return f == F_MODE
            ? fail(p, p->line, col, "Mode %s cannot take \"Sampling N hash\" (line %d): the "
                   "switch samples %s; hash sampling is for Mode mirror or tap",
                   vnd_cc_mode_name(c->mode), p->seen_line[F_SAMPLING],
                   vnd_cc_mode_name(c->mode))
            : fail(p, p->line, col, "\"Sampling N hash\" needs Mode mirror or tap, but Mode "
                   "is %s (line %d): the switch samples %s", vnd_cc_mode_name(c->mode),
                   p->seen_line[F_MODE], vnd_cc_mode_name(c->mode));
    if (c->flow_sampling <= 1)
        return 0;
    if (c->mode != VND_CC_MIRROR)
        return f == F_MODE
            ? fail(p, p->line, col, "Mode %s cannot take Flow Sampling (line %d): flows are "
                   "picked in the switch for Mode mirror only (use Sampling for %s)",
                   vnd_cc_mode_name(c->mode), p->seen_line[F_FLOW_SAMPLING],
                   vnd_cc_mode_name(c->mode))
            : fail(p, p->line, col, "Flow Sampling needs Mode mirror, but Mode is %s (line "
                   "%d): use Sampling for %s", vnd_cc_mode_name(c->mode),
                   p->seen_line[F_MODE], vnd_cc_mode_name(c->mode));
    if (c->snaplen > 0)
        return f == F_SNAPLEN
            ? fail(p, p->line, col, "Snaplen cannot go with Flow Sampling (line %d): the "
                   "switch cannot cut the copies of sampled flows; drop one of them",
                   p->seen_line[F_FLOW_SAMPLING])
            : fail(p, p->line, col, "Flow Sampling cannot go with Snaplen (line %d): the "
                   "switch cannot cut the copies of sampled flows; drop one of them",
                   p->seen_line[F_SNAPLEN]);
    return 0;
}

/* Mode, Snaplen, Sampling, ActiveTimeout, MaxFlows, Flow Sampling, Polling;
 * q is past the keyword. */
static int setting_line(struct cc *p, enum fld f, int kcol, const char *q)
{
    char sh[200], fb[220];
    if (need_cap(p, kcol, fld_name[f]) || mark(p, f, kcol))
        return -1;
    struct vnd_cc_cap *c = cap(p);
    q = separator(p, q, true);
    const char *v = q;
    while (q < p->le && !is_blank(*q))
        q++;
    size_t n = (size_t)(q - v);
    int vcol = COL(p, v);
    if (f == F_MODE) {
        if (n == 0)
            return fail(p, p->line, vcol, "expected a mode after \"Mode\" (mirror, sflow, "
                        "ipfix or tap), found end of line");
        if (word_is(v, n, "mirror"))
            c->mode = VND_CC_MIRROR;
        else if (word_is(v, n, "sflow"))
            c->mode = VND_CC_SFLOW;
        else if (word_is(v, n, "ipfix"))
            c->mode = VND_CC_IPFIX;
        else if (word_is(v, n, "tap"))
            c->mode = VND_CC_TAP;
        else
            return fail(p, p->line, vcol, "unknown mode \"%s\" (expected mirror, sflow, "
                        "ipfix or tap)", show(sh, sizeof sh, v, n));
        return end_of_line(p, q, v, n) || flow_sampling_agrees(p, f, kcol);
    }
    long lo = f == F_SNAPLEN || f == F_ACTIVE_TIMEOUT ? 0 : 1;
    long hi = f == F_SNAPLEN ? VND_CC_SNAPLEN_MAX
              : f == F_ACTIVE_TIMEOUT ? VND_CC_ACTIVE_TIMEOUT_MAX
              : f == F_MAX_FLOWS ? VND_CC_MAX_FLOWS_MAX
              : f == F_POLLING ? VND_CC_POLLING_MAX
              : f == F_FLOW_SAMPLING ? VND_CC_FLOW_SAMPLING_MAX : VND_CC_SAMPLING_MAX;
    const char *meaning = f == F_SNAPLEN ? "bytes kept of each packet, 0: whole packets"
                          : f == F_ACTIVE_TIMEOUT ? "seconds the switch aggregates a flow "
                                                    "before exporting it, 0: no cache"
                          : f == F_MAX_FLOWS ? "flows the switch's IPFIX cache holds"
                          : f == F_POLLING ? "seconds between the sFlow agent's interface "
                                             "counters"
                          : f == F_FLOW_SAMPLING ? "1 flow in N picked in the switch, 1: every "
                                                   "flow"
                                             : "1 packet in N, 1: every packet";
    long x = decimal(v, n);
    if (x == -1)
        return fail(p, p->line, vcol, "expected a number %ld..%ld after \"%s\" (%s), found %s",
                    lo, hi, fld_name[f], meaning, found(p, v, NULL, fb, sizeof fb));
    if (x < lo || x > hi)
        return fail(p, p->line, vcol, "%s %s is out of range (expected %ld..%ld: %s)",
                    fld_name[f], show(sh, sizeof sh, v, n), lo, hi, meaning);
    if (f == F_SNAPLEN)
        c->snaplen = (int)x;
    else if (f == F_FLOW_SAMPLING)
        c->flow_sampling = (int)x;
    else if (f == F_ACTIVE_TIMEOUT)
        c->active_timeout = (int)x;
    else if (f == F_MAX_FLOWS)
        c->max_flows = (int)x;
    else if (f == F_POLLING)
        c->polling = (int)x;
    else
        c->sampling = (int)x;
    if (f == F_SAMPLING) {
        /* an optional method: count (every Nth) or hash (by packet ID) */
        const char *m = skip_blanks(p, q);
        size_t mn = letters(p, m);
        if (m > q && mn > 0) {
            if (word_is(m, mn, "hash"))
                c->sampling_hash = true;
            else if (!word_is(m, mn, "count"))
                return fail(p, p->line, COL(p, m), "unknown sampling method \"%s\" (expected "
                            "count, every Nth packet, or hash, by packet ID)",
                            show(sh, sizeof sh, m, mn));
            return end_of_line(p, m + mn, m, mn) || flow_sampling_agrees(p, f, kcol);
        }
    }
    return end_of_line(p, q, v, n) || flow_sampling_agrees(p, f, kcol);
}

static bool has_v6(const struct vnd_cc_pattern *pt, int *which)
{
    for (int i = 0; i < 2; i++) {
        const struct vnd_cc_prefix *a = i == 0 ? &pt->src : &pt->dst;
        if (a->set && a->family == AF_INET6) {
            *which = i == 0 ? F_SRCIP : F_DSTIP;
            return true;
        }
    }
    return false;
}

/* The fields of one Cap block that only make sense together; f was just
 * set at p->line:col, so it is the one at fault. */
static int agree(struct cc *p, enum fld f, int col)
{
    const struct vnd_cc_pattern *pt = &cap(p)->pattern;
    char pb[16];
    if ((f == F_SRCIP || f == F_DSTIP) && pt->src.set && pt->dst.set
        && pt->src.family != pt->dst.family) {
        enum fld o = f == F_SRCIP ? F_DSTIP : F_SRCIP;
        const struct vnd_cc_prefix *a = f == F_SRCIP ? &pt->src : &pt->dst;
        return fail(p, p->line, col, "%s is %s but %s (line %d) is %s: one Cap matches one "
                    "address family", fld_name[f], a->family == AF_INET ? "IPv4" : "IPv6",
                    fld_name[o], p->seen_line[o], a->family == AF_INET ? "IPv6" : "IPv4");
    }
    int v6;
    bool v4only = pt->proto_kind == VND_CC_ARP
                  || (pt->proto_kind == VND_CC_IPPROTO && pt->proto == 1);
    if ((f == F_SRCIP || f == F_DSTIP || f == F_PROTO) && v4only && has_v6(pt, &v6)) {
        const char *pn = proto_text(pt, pb, sizeof pb);
        if (f == F_PROTO)
            return fail(p, p->line, col, "proto=%s goes with IPv4 only, but %s (line %d) is "
                        "IPv6%s", pn, fld_name[v6], p->seen_line[v6],
                        pt->proto_kind == VND_CC_ARP ? "" : ": ICMPv6 is proto=58");
        return fail(p, p->line, col, "%s is IPv6 but proto=%s (line %d) goes with IPv4 "
                    "only%s", fld_name[f], pn, p->seen_line[F_PROTO],
                    pt->proto_kind == VND_CC_ARP ? "" : ": ICMPv6 is proto=58");
    }
    if ((f == F_SRCPORT || f == F_DSTPORT)
        && (f == F_SRCPORT ? pt->src_port : pt->dst_port) >= 0 && p->seen_line[F_PROTO]
        && !tcp_or_udp(pt))
        return fail(p, p->line, col, "%s needs proto=TCP or proto=UDP, but proto is %s "
                    "(line %d)", fld_name[f], proto_text(pt, pb, sizeof pb),
                    p->seen_line[F_PROTO]);
    if (f == F_PROTO && !tcp_or_udp(pt)) {
        for (int g = F_SRCPORT; g <= F_DSTPORT; g++) {
            int port = g == F_SRCPORT ? pt->src_port : pt->dst_port;
            if (port >= 0)
                return fail(p, p->line, col, "proto=%s does not go with %s=%d (line %d): "
                            "ports need proto=TCP or proto=UDP", proto_text(pt, pb, sizeof pb),
                            fld_name[g], port, p->seen_line[g]);
        }
    }
    return 0;
}

static int address_value(struct cc *p, enum fld f, const char *v, size_t n, int vcol)
{
    struct vnd_cc_prefix *a = f == F_SRCIP ? &cap(p)->pattern.src : &cap(p)->pattern.dst;
    char sh[200];
    if (n == 1 && v[0] == '*')
        return 0;
    uint8_t addr[16];
    int plen;
    int alen = vnd_parse_prefix(v, n, addr, &plen);
    if (!alen) {
        const char *slash = memchr(v, '/', n);
        int al2, pl2;
        if (slash && (al2 = vnd_parse_prefix(v, (size_t)(slash - v), addr, &pl2)) != 0)
            return fail(p, p->line, vcol + (int)(slash - v) + 1, "bad prefix length \"%s\" "
                        "for an %s address (expected 0..%d)",
                        show(sh, sizeof sh, slash + 1, n - (size_t)(slash - v) - 1),
                        al2 == 4 ? "IPv4" : "IPv6", al2 * 8);
        return fail(p, p->line, vcol, "malformed address \"%s\" after %s= (expected an IPv4 or "
                    "IPv6 address with an optional /prefix, like 10.0.0.6/32 or fe80::/64, "
                    "or *)", show(sh, sizeof sh, v, n), fld_name[f]);
    }
    if (plen < 0)
        plen = alen * 8;
    uint8_t net[16];
    memcpy(net, addr, sizeof net);
    vnd_mask_prefix(net, alen, plen);
    if (memcmp(net, addr, (size_t)alen) != 0) {
        char nb[INET6_ADDRSTRLEN];
        inet_ntop(alen == 4 ? AF_INET : AF_INET6, net, nb, sizeof nb);
        char ab[INET6_ADDRSTRLEN];
        inet_ntop(alen == 4 ? AF_INET : AF_INET6, addr, ab, sizeof ab);
        return fail(p, p->line, vcol, "%s %s has host bits set: write the network %s/%d, or "
                    "%s/%d for the one address", fld_name[f], show(sh, sizeof sh, v, n), nb, plen,
                    ab, alen * 8);
    }
    a->set = true;
    a->family = alen == 4 ? AF_INET : AF_INET6;
    memset(a->addr, 0, sizeof a->addr);
    memcpy(a->addr, addr, (size_t)alen);
    a->len = plen;
    return 0;
}

static int field_value(struct cc *p, enum fld f, const char *v, size_t n, int vcol)
{
    struct vnd_cc_cap *c = cap(p);
    char sh[200];
    switch (f) {
    case F_SRCIP:
    case F_DSTIP:
        return address_value(p, f, v, n, vcol);
    case F_PROTO: {
        struct vnd_cc_pattern *pt = &c->pattern;
        long x = decimal(v, n);
        if (n == 1 && v[0] == '*') {
            pt->proto_kind = VND_CC_ANY;
        } else if (word_is(v, n, "arp")) {
            pt->proto_kind = VND_CC_ARP;
        } else if (word_is(v, n, "tcp") || word_is(v, n, "udp") || word_is(v, n, "icmp")) {
            pt->proto_kind = VND_CC_IPPROTO;
            pt->proto = (v[0] | 0x20) == 't' ? 6 : (v[0] | 0x20) == 'u' ? 17 : 1;
        } else if (x >= 0 && x <= 255) {
            pt->proto_kind = VND_CC_IPPROTO;
            pt->proto = (int)x;
        } else {
            return fail(p, p->line, vcol, "unknown protocol \"%s\" (expected TCP, UDP, ICMP, "
                        "ARP or a number 0..255)", show(sh, sizeof sh, v, n));
        }
        return 0;
    }
    case F_SRCPORT:
    case F_DSTPORT: {
        int *port = f == F_SRCPORT ? &c->pattern.src_port : &c->pattern.dst_port;
        if (n == 1 && v[0] == '*')
            return 0;
        long x = decimal(v, n);
        if (x == -1)
            return fail(p, p->line, vcol, "%s \"%s\" is not a port number (expected 0..65535 "
                        "or *)", fld_name[f], show(sh, sizeof sh, v, n));
        if (x < 0 || x > 65535)
            return fail(p, p->line, vcol, "%s %s is out of range (expected 0..65535 or *)",
                        fld_name[f], show(sh, sizeof sh, v, n));
        *port = (int)x;
        return 0;
    }
    case F_DUAL:
        if (word_is(v, n, "true"))
            c->dual = true;
        else if (word_is(v, n, "false"))
            c->dual = false;
        else
            return fail(p, p->line, vcol, "expected True or False after dualDirect=, found "
                        "\"%s\"", show(sh, sizeof sh, v, n));
        return 0;
    default:
        return 0;
    }
}

static enum fld field_word(const char *s, size_t n)
{
    for (int f = F_SRCIP; f <= F_DUAL; f++)
        if (word_is(s, n, fld_name[f]))
            return (enum fld)f;
    return F_COUNT;
}

/* field=value [, field=value ...] from q to the end of the line. */
static int pattern_list(struct cc *p, const char *q)
{
    char fb[220], sh[200];
    for (;;) {
        const char *w = q;
        size_t n = letters(p, w);
        enum fld f = n && !(w + n < p->le && name_char(w[n])) ? field_word(w, n) : F_COUNT;
        int kcol = COL(p, w);
        if (f == F_COUNT)
            return fail(p, p->line, kcol, "unknown pattern field %s (expected " PATTERN_FIELDS
                        ")", found(p, w, ",=", fb, sizeof fb));
        if (mark(p, f, kcol))
            return -1;
        q = skip_blanks(p, w + n);
        if (q == p->le || *q != '=')
            return fail(p, p->line, COL(p, q), "expected \"=\" after %s, found %s", fld_name[f],
                        found(p, q, NULL, fb, sizeof fb));
        q = skip_blanks(p, q + 1);
        const char *v = q;
        while (q < p->le && !is_blank(*q) && *q != ',')
            q++;
        size_t vn = (size_t)(q - v);
        int vcol = COL(p, v);
        if (vn == 0)
            return fail(p, p->line, vcol, "expected a value after \"%s=\", found %s", fld_name[f],
                        found(p, v, NULL, fb, sizeof fb));
        if (field_value(p, f, v, vn, vcol) || agree(p, f, kcol))
            return -1;
        q = skip_blanks(p, q);
        if (q == p->le)
            return 0;
        if (*q != ',')
            return fail(p, p->line, COL(p, q), "expected \",\" or the end of the line after "
                        "\"%s=%s\", found %s", fld_name[f], show(sh, sizeof sh, v, vn),
                        found(p, q, NULL, fb, sizeof fb));
        q = skip_blanks(p, q + 1);
        if (q == p->le)
            return fail(p, p->line, COL(p, q), "expected a pattern field after \",\", found "
                        "end of line");
    }
}

/* Flow Pattern / Pattern: "any", "*" or a field list. */
static int pattern_line(struct cc *p, int kcol, const char *kw, const char *q)
{
    if (need_cap(p, kcol, kw))
        return -1;
    q = separator(p, q, false);
    if (q == p->le)
        return fail(p, p->line, COL(p, q), "expected a pattern after \"%s\" (like "
                    "srcIP=10.0.0.6/32, proto=TCP, or any), found end of line", kw);
    const char *e = q;
    while (e < p->le && !is_blank(*e) && *e != ',')
        e++;
    if (word_is(q, (size_t)(e - q), "any") || (e - q == 1 && *q == '*'))
        return end_of_line(p, e, q, (size_t)(e - q));
    return pattern_list(p, q);
}

static int unknown_keyword(struct cc *p, const char *q, int kcol)
{
    char fb[220];
    return fail(p, p->line, kcol, "unknown keyword %s (expected " BLOCK_HEADERS ", Cap, a "
                "pattern field such as srcIP=, Mode, Snaplen, Sampling, ActiveTimeout, MaxFlows, "
                "Polling or Flow Sampling)",
                found(p, q, ":=", fb, sizeof fb));
}

static int handle_line(struct cc *p)
{
    const char *q = skip_blanks(p, p->ls);
    if (q == p->le)
        return 0;
    int kcol = COL(p, q);
    size_t n = letters(p, q);
    const char *w = q, *after = q + n;
    /* a keyword ends at a blank, a separator or the end of the line */
    bool whole = n && (after == p->le || is_blank(*after) || *after == ':' || *after == '=');
    enum fld f = F_COUNT;
    char kwbuf[32];
    if (!whole)
        return unknown_keyword(p, q, kcol);
    if (word_is(w, n, "vm")) {
        if (expect_word(p, &after, "VM", "Node"))
            return -1;
        return header_line(p, VND_CC_VM, kcol, after);
    }
    if (word_is(w, n, "appliance")) {
        const char *s = skip_blanks(p, after);
        size_t m = letters(p, s);
        if (s > after && word_is(s, m, "type") && !(s + m < p->le && name_char(s[m])))
            after = s + m;
        if (expect_word(p, &after, "Appliance", "Node"))
            return -1;
        return header_line(p, VND_CC_APPLIANCE, kcol, after);
    }
    if (word_is(w, n, "virtual")) {
        if (expect_word(p, &after, "Virtual", "Appliance")
            || expect_word(p, &after, "Virtual Appliance", "Link"))
            return -1;
        return header_line(p, VND_CC_LINK, kcol, after);
    }
    if (word_is(w, n, "cap"))
        return cap_line(p, kcol, "Cap", after);
    if (word_is(w, n, "capture")) {
        if (expect_word(p, &after, "Capture", "Point"))
            return -1;
        return cap_line(p, kcol, "Capture Point", after);
    }
    if (word_is(w, n, "flow")) {
        const char *s2 = skip_blanks(p, after);
        size_t m = letters(p, s2);
        if (s2 > after && word_is(s2, m, "sampling")
            && !(s2 + m < p->le && name_char(s2[m])))
            return setting_line(p, F_FLOW_SAMPLING, kcol, s2 + m);
        if (expect_word(p, &after, "Flow", "Pattern"))
            return -1;
        return pattern_line(p, kcol, "Flow Pattern", after);
    }
    if (word_is(w, n, "pattern"))
        return pattern_line(p, kcol, "Pattern", after);
    if (word_is(w, n, "mode"))
        f = F_MODE;
    else if (word_is(w, n, "snaplen"))
        f = F_SNAPLEN;
    else if (word_is(w, n, "sampling"))
        f = F_SAMPLING;
    else if (word_is(w, n, "activetimeout"))
        f = F_ACTIVE_TIMEOUT;
    else if (word_is(w, n, "maxflows"))
        f = F_MAX_FLOWS;
    else if (word_is(w, n, "polling"))
        f = F_POLLING;
    if (f != F_COUNT)
        return setting_line(p, f, kcol, after);
    f = field_word(w, n);
    if (f != F_COUNT) {
        snprintf(kwbuf, sizeof kwbuf, "%s=", fld_name[f]);
        if (need_cap(p, kcol, kwbuf))
            return -1;
        return pattern_list(p, q);
    }
    return unknown_keyword(p, q, kcol);
}

int vnd_collectconf_parse_n(const char *text, size_t len, const char *origin,
                            struct vnd_collect_conf **out, char **err)
{
    struct cc p;
    memset(&p, 0, sizeof p);
    p.origin = origin ? origin : "<input>";
    p.ti = p.ci = -1;
    *out = NULL;
    p.conf = vnd_xcalloc(1, sizeof *p.conf);
    if (!text) {
        text = "";
        len = 0;
    }

    const char *end = text + len, *ls = text;
    int line = 1;
    for (;;) {
        const char *nl = memchr(ls, '\n', (size_t)(end - ls));
        const char *le = nl ? nl : end;
        p.ls = ls;
        p.line = line;
        const char *nul = memchr(ls, '\0', (size_t)(le - ls));
        if (nul) {
            fail(&p, line, COL(&p, nul), "NUL byte in the configuration (expected text)");
            goto out_fail;
        }
        const char *hash = memchr(ls, '#', (size_t)(le - ls));
        p.le = hash ? hash : le;
        while (p.le > ls && is_blank(p.le[-1]))
            p.le--;
        if (handle_line(&p))
            goto out_fail;
        if (!nl)
            break;
        ls = nl + 1;
        line++;
    }
    if (close_target(&p))
        goto out_fail;
    if (p.conf->ntargets == 0) {
        fail(&p, line, 1 + (int)(end - ls), "empty collection configuration: expected a "
             BLOCK_HEADERS " line, found end of input");
        goto out_fail;
    }
    *out = p.conf;
    return 0;

out_fail:
    vnd_collectconf_free(p.conf);
    if (err)
        *err = p.err;
    else
        free(p.err);
    return -1;
}

int vnd_collectconf_parse(const char *text, const char *origin, struct vnd_collect_conf **out,
                          char **err)
{
    return vnd_collectconf_parse_n(text, text ? strlen(text) : 0, origin, out, err);
}

void vnd_collectconf_free(struct vnd_collect_conf *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->ntargets; i++) {
        struct vnd_cc_target *t = &c->targets[i];
        for (int k = 0; k < t->ncaps; k++)
            free(t->caps[k].point);
        free(t->caps);
        free(t->name);
    }
    free(c->targets);
    free(c);
}

const char *vnd_cc_mode_name(enum vnd_cc_mode m)
{
    return m == VND_CC_SFLOW ? "sflow" : m == VND_CC_IPFIX ? "ipfix"
           : m == VND_CC_TAP ? "tap" : "mirror";
}

static void add_prefix(char *buf, size_t size, size_t *o, const char *name,
                       const struct vnd_cc_prefix *a)
{
    char ab[INET6_ADDRSTRLEN];
    if (!a->set || *o >= size)
        return;
    if (!inet_ntop(a->family == AF_INET6 ? AF_INET6 : AF_INET, a->addr, ab, sizeof ab))
        snprintf(ab, sizeof ab, "?");
    *o += (size_t)snprintf(buf + *o, size - *o, "%s%s=%s/%d", *o ? ", " : "", name, ab, a->len);
}

static void add_port(char *buf, size_t size, size_t *o, const char *name, int port)
{
    if (port < 0 || *o >= size)
        return;
    *o += (size_t)snprintf(buf + *o, size - *o, "%s%s=%d", *o ? ", " : "", name, port);
}

char *vnd_cc_pattern_text(const struct vnd_cc_pattern *p, bool reverse)
{
    char buf[256], pb[16];
    size_t o = 0;
    buf[0] = '\0';
    add_prefix(buf, sizeof buf, &o, "srcIP", reverse ? &p->dst : &p->src);
    add_prefix(buf, sizeof buf, &o, "dstIP", reverse ? &p->src : &p->dst);
    if (p->proto_kind != VND_CC_ANY && o < sizeof buf)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%sproto=%s", o ? ", " : "",
                              proto_text(p, pb, sizeof pb));
    add_port(buf, sizeof buf, &o, "srcPort", reverse ? p->dst_port : p->src_port);
    add_port(buf, sizeof buf, &o, "dstPort", reverse ? p->src_port : p->dst_port);
    return vnd_xstrdup(o ? buf : "any");
}
