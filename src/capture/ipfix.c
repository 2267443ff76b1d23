/* ipfix.c — reading IPFIX messages and NetFlow v9 packets against a
 * template cache (see ipfix.h).  Every read goes through `struct rd`,
 * which never moves past its end and remembers that it tried. */
#include "capture/ipfix.h"

#include <arpa/inet.h>
#include <endian.h>
#include <stddef.h>

#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* ---- bounded reads ---- */

struct rd {
    const uint8_t *p, *end;
    int bad;
};

static size_t left(const struct rd *r)
{
    return (size_t)(r->end - r->p);
}

static inline __attribute__((always_inline)) uint64_t be(const uint8_t *p, size_t n)
{
    /* the usual widths in one load each: the loop was a quarter of the
     * parser's time at 2.4 M records/s */
    uint16_t v16;
    uint32_t v32;
    uint64_t v = 0;
    switch (n) {
    case 1: return p[0];
    case 2: memcpy(&v16, p, 2); return ntohs(v16);
    case 4: memcpy(&v32, p, 4); return ntohl(v32);
    case 8: memcpy(&v, p, 8); return be64toh(v);
    default:
        for (size_t i = 0; i < n; i++)
            v = v << 8 | p[i];
        return v;
    }
}

/* unaligned loads, in the wire's byte order */
static inline uint16_t load16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t load32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t load64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static uint32_t rd_n(struct rd *r, size_t n)
{
    if (r->bad || left(r) < n) {
        r->bad = 1;
        return 0;
    }
    uint32_t v = (uint32_t)be(r->p, n);
    r->p += n;
    return v;
}

/* A sub-reader over the next `n` bytes. */
static struct rd sub(struct rd *r, size_t n)
{
    struct rd s = {r->p, r->p, 1};
    if (r->bad || left(r) < n) {
        r->bad = 1;
        return s;
    }
    s.end = r->p + n;
    s.bad = 0;
    r->p += n;
    return s;
}

/* ---- the template cache ---- */

/* A field of a template as it came. */
struct fspec {
    uint16_t ie, len;            /* len 65535: variable */
    uint32_t pen;                /* enterprise number; 0: IANA */
};

/* A template compiled, when it comes, into the steps that read one of
 * its records (a loop over its fields, each checked for a variable
 * length, for the bytes left and dispatched by its op, was 40
 * instructions a field, most of the collector's parsing):
 *   OP_SEG    a run of fixed-length fields, `len` bytes: checked once,
 *             the bits `has` of its fields that always set one (counters,
 *             ports, MACs) set at once, its `unknown` fields (an
 *             enterprise's, IEs VND does not know) counted, not visited;
 *             the steps after it read at `off` bytes into it;
 *   OP_VAR    a variable-length field (RFC 7011 §7: 1 or 3 bytes of
 *             length first), through field() when `ie` is one it knows;
 *   OP_N11 .. OP_N48  an unsigned number of `len` bytes into a member
 *             `dw` bytes wide at `dst` (the digits: one byte protocol, two
 *             byte ports, four byte interfaces, eight byte counters, a
 *             four byte observation point in eight): a load, a byte swap
 *             and a store; OP_NUM the other widths;
 *   OP_MAC    6 bytes copied to `dst`;
 *   OP_ADDR4/6  an address copied to `dst` unless the record's addresses
 *             are of the other version (its bit `has` set then);
 *   OP_FLAGS2, OP_START/END_DELTA4  what field() does with OVS's
 *             tcpControlBits (2 bytes) and flowStart/EndDeltaMicroseconds
 *             (4), without its call (a sixth of the parser's time);
 *   OP_FIELD  through field(), the reference for what each IE means. */
enum { OP_SEG, OP_VAR, OP_FIELD, OP_NUM, OP_MAC, OP_ADDR4, OP_ADDR6, OP_FLAGS2,
       OP_START_DELTA4, OP_END_DELTA4, OP_N11, OP_N22, OP_N44, OP_N88, OP_N48 };

struct step {
    uint8_t op, dw;
    uint16_t dst;                /* offset in struct vnd_ipfix_flow */
    uint16_t ie;                 /* OP_VAR, OP_FIELD (OP_VAR: 0 when not read) */
    uint16_t unknown;            /* OP_SEG */
    uint32_t off, len;           /* in the segment; the field's (OP_SEG: the segment's) */
    uint32_t has;
};

/* The IEs field() decodes (the rest are skipped without a call). */
static bool known_ie(uint16_t ie)
{
    static const uint16_t ies[] = {1, 2, 4, 6, 7, 8, 10, 11, 12, 14, 21, 22, 27, 28, 32, 34,
                                   56, 58, 60, 61, 80, 85, 86, 136, 138, 139, 150, 151, 152,
                                   153, 154, 155, 156, 157, 158, 159, 160, 176, 177, 178, 179,
                                   198, 199, 243, 256, 305, 352};
    for (size_t i = 0; i < sizeof ies / sizeof *ies; i++)
        if (ies[i] == ie)
            return true;
    return false;
}

#define NUM(ie_, member, bit) \
    case ie_: \
        s->dst = (uint16_t)offsetof(struct vnd_ipfix_flow, member); \
        s->dw = (uint8_t)sizeof(((struct vnd_ipfix_flow *)0)->member); \
        s->has = bit; \
        break

#define BYTES(ie_, op_, want, member, bit) \
    case ie_: \
        if (s->len != want) \
            return true; \
        s->dst = (uint16_t)offsetof(struct vnd_ipfix_flow, member); \
        s->has = bit; \
        s->op = op_; \
        return true

/* The step of fixed-length field `f` of a data template into *s (off
 * and len set): false when it is not read at all.  OP_NUM only for 1 to
 * 8 bytes, the copies only at their exact length (field() refuses
 * others).  A total count (octetTotalCount, ...) beside its delta in a
 * fixed-length field is not read: the delta is the record's, in any
 * order (its bit is set with its segment's, before the total's step). */
static bool compile_field(struct step *s, const struct fspec *f, uint32_t deltas)
{
    s->op = OP_FIELD;
    s->ie = f->ie;
    if (f->pen || !known_ie(f->ie))
        return false;
    switch (f->ie) {
    BYTES(56, OP_MAC, 6, src_mac, VND_IPFIX_HAS_SRC_MAC);
    BYTES(80, OP_MAC, 6, dst_mac, VND_IPFIX_HAS_DST_MAC);
    BYTES(8, OP_ADDR4, 4, src, VND_IPFIX_HAS_SRC);
    BYTES(12, OP_ADDR4, 4, dst, VND_IPFIX_HAS_DST);
    BYTES(27, OP_ADDR6, 16, src, VND_IPFIX_HAS_SRC);
    BYTES(28, OP_ADDR6, 16, dst, VND_IPFIX_HAS_DST);
    case 6:
        if (s->len == 2) {
            s->op = OP_FLAGS2;
            s->has = VND_IPFIX_HAS_TCP_FLAGS;
        }
        return true;
    case 158:
    case 159:
        if (s->len == 4)
            s->op = f->ie == 158 ? OP_START_DELTA4 : OP_END_DELTA4;
        return true;
    case 85:
        return !(deltas & VND_IPFIX_HAS_OCTETS);
    case 86:
        return !(deltas & VND_IPFIX_HAS_PACKETS);
    case 199:
        return !(deltas & VND_IPFIX_HAS_OCTETS_SQ);
    default:
        break;
    }
    if (s->len < 1 || s->len > 8)
        return true;
    switch (f->ie) {
    NUM(1, octets, VND_IPFIX_HAS_OCTETS);
    NUM(2, packets, VND_IPFIX_HAS_PACKETS);
    NUM(352, l2_octets, VND_IPFIX_HAS_L2_OCTETS);
    NUM(198, octets_sq, VND_IPFIX_HAS_OCTETS_SQ);
    NUM(4, proto, VND_IPFIX_HAS_PROTO);
    NUM(7, sport, VND_IPFIX_HAS_SPORT);
    NUM(11, dport, VND_IPFIX_HAS_DPORT);
    NUM(10, in_if, VND_IPFIX_HAS_IN_IF);
    NUM(14, out_if, VND_IPFIX_HAS_OUT_IF);
    NUM(256, eth_type, VND_IPFIX_HAS_ETH_TYPE);
    NUM(61, direction, VND_IPFIX_HAS_DIRECTION);
    NUM(136, end_reason, VND_IPFIX_HAS_END_REASON);
    NUM(138, obs_point, VND_IPFIX_HAS_OBS_POINT);
    NUM(34, sampling, VND_IPFIX_HAS_SAMPLING);
    NUM(305, sampling, VND_IPFIX_HAS_SAMPLING);
    default:
        return true;
    }
    s->op = s->len == 1 && s->dw == 1   ? OP_N11
            : s->len == 2 && s->dw == 2 ? OP_N22
            : s->len == 4 && s->dw == 4 ? OP_N44
            : s->len == 8 && s->dw == 8 ? OP_N88
            : s->len == 4 && s->dw == 8 ? OP_N48
                                        : OP_NUM;
    return true;
}
#undef NUM
#undef BYTES

/* True when step s always sets its bit (its segment's then). */
static bool sets_always(const struct step *s)
{
    return s->op == OP_MAC || s->op == OP_NUM || s->op == OP_FLAGS2 || s->op >= OP_N11;
}

/* The steps of a template's `n` fields into `out` (room for 2n + 1):
 * how many.  An options template's records are read for their lengths
 * only: its fields are all unknown. */
static uint16_t compile(const struct fspec *f, uint16_t n, bool options, struct step *out)
{
    uint32_t deltas = 0;        /* the deltas read from fixed-length fields */
    for (uint16_t i = 0; i < n && !options; i++)
        if (f[i].len >= 1 && f[i].len <= 8 && !f[i].pen)
            deltas |= f[i].ie == 1     ? VND_IPFIX_HAS_OCTETS
                       : f[i].ie == 2   ? VND_IPFIX_HAS_PACKETS
                       : f[i].ie == 198 ? VND_IPFIX_HAS_OCTETS_SQ
                                        : 0;
    uint16_t k = 0;
    struct step *seg = NULL;
    for (uint16_t i = 0; i < n; i++) {
        if (f[i].len == 65535) {
            bool read = !options && !f[i].pen && known_ie(f[i].ie);
            out[k++] = (struct step){.op = OP_VAR, .ie = read ? f[i].ie : 0};
            seg = NULL;
            continue;
        }
        if (!seg) {
            seg = &out[k++];
            *seg = (struct step){.op = OP_SEG};
        }
        struct step *s = &out[k];
        *s = (struct step){.off = seg->len, .len = f[i].len};
        seg->len += f[i].len;
        if (options || !compile_field(s, &f[i], deltas)) {
            seg->unknown++;
            continue;
        }
        if (sets_always(s))
            seg->has |= s->has;
        k++;
    }
    return k;
}

struct session;

struct tmpl {
    struct tmpl *next;           /* in its bucket */
    struct tmpl *older, *newer;  /* in its list's order of arrival (used or not) */
    struct tmpl *s_older, *s_newer;     /* in its session's */
    struct session *sess;
    uint8_t session[VND_IPFIX_SESSION_MAX];
    uint8_t slen, version;
    bool options;
    bool used;                   /* a data set has been read with it */
    uint32_t domain;
    uint16_t id, nsteps, nscope;
    uint32_t min_len;            /* bytes of the shortest record */
    double refreshed;
    struct step prog[];          /* compile() */
};

/* An exporter's transport session and the templates it holds, oldest
 * first: what it may keep is capped apart from the others' (the cache's
 * max / VND_IPFIX_SESSION_SHARE), so that one exporter sending ever new
 * templates evicts its own, not another's. */
struct session {
    struct session *next;        /* in its bucket */
    uint8_t key[VND_IPFIX_SESSION_MAX];
    uint8_t slen;
    uint32_t n;
    struct tmpl *oldest, *newest;
};

#define NBUCKETS 1024
#define SBUCKETS 256

struct vnd_ipfix_cache {
    struct tmpl *b[NBUCKETS];
    struct session *sb[SBUCKETS];
    /* templates in the order they came (a redefinition or a resend comes
     * again), in two lists: [0] those no data set has used yet, [1] the
     * others.  A full cache evicts the oldest unused one, else the oldest
     * used, in O(1) (a scan of the whole cache for the oldest, at every
     * template once the cache was full, let a flood of new templates at
     * 2,000 messages/s take a core and starve the other exporters: 80 of
     * 16,000 records stored).  Templates in use go last: a flood from
     * many ports, each within its share, evicts its own unused ones, not
     * an exporter's whose data keeps coming. */
    struct tmpl *oldest[2], *newest[2];
    uint32_t n, max, per_session;
    uint64_t evicted;            /* to make room */
    double timeout;
};

struct vnd_ipfix_cache *vnd_ipfix_cache_new(uint32_t max_templates, uint32_t template_timeout)
{
    struct vnd_ipfix_cache *c = vnd_xcalloc(1, sizeof *c);
    c->max = max_templates ? max_templates : 4096;
    /* a session's share, but room for an exporter's few dozen however
     * small the cache */
    c->per_session = c->max / VND_IPFIX_SESSION_SHARE;
    if (c->per_session < 64)
        c->per_session = c->max < 64 ? c->max : 64;
    c->timeout = template_timeout ? template_timeout : 1800;
    return c;
}

void vnd_ipfix_cache_free(struct vnd_ipfix_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < NBUCKETS; i++)
        for (struct tmpl *t = c->b[i], *nx; t; t = nx) {
            nx = t->next;
            free(t);
        }
    for (int i = 0; i < SBUCKETS; i++)
        for (struct session *e = c->sb[i], *nx; e; e = nx) {
            nx = e->next;
            free(e);
        }
    free(c);
}

uint32_t vnd_ipfix_cache_size(const struct vnd_ipfix_cache *c)
{
    return c->n;
}

uint64_t vnd_ipfix_cache_evicted(const struct vnd_ipfix_cache *c)
{
    return c->evicted;
}

/* What names a template: the session, the version (a v9 and an IPFIX
 * exporter on one port are two sessions), the domain and the id. */
struct key {
    const uint8_t *session;
    size_t slen;
    uint8_t version;
    uint32_t domain;
};

static uint32_t fnv(uint32_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static unsigned bucket_of(const uint8_t *session, size_t slen, uint8_t version, uint32_t domain,
                          uint16_t id)
{
    uint32_t h = fnv(2166136261u, session, slen);
    h = (h ^ version) * 16777619u;
    h = (h ^ domain) * 16777619u;
    h = (h ^ id) * 16777619u;
    return h % NBUCKETS;
}

static unsigned bucket(const struct key *k, uint16_t id)
{
    return bucket_of(k->session, k->slen, k->version, k->domain, id);
}

static bool same_domain(const struct tmpl *t, const struct key *k)
{
    return t->slen == k->slen && t->version == k->version && t->domain == k->domain
           && memcmp(t->session, k->session, k->slen) == 0;
}

/* The session `key`, made when `make` (else NULL when it holds none). */
static struct session *session_of(struct vnd_ipfix_cache *c, const uint8_t *key, size_t slen,
                                  bool make)
{
    struct session **at = &c->sb[fnv(2166136261u, key, slen) % SBUCKETS];
    for (struct session *e = *at; e; e = e->next)
        if (e->slen == slen && memcmp(e->key, key, slen) == 0)
            return e;
    if (!make)
        return NULL;
    struct session *e = vnd_xcalloc(1, sizeof *e);
    memcpy(e->key, key, slen);
    e->slen = (uint8_t)slen;
    e->next = *at;
    *at = e;
    return e;
}

static void forget_session(struct vnd_ipfix_cache *c, struct session *e)
{
    for (struct session **at = &c->sb[fnv(2166136261u, e->key, e->slen) % SBUCKETS]; *at;
         at = &(*at)->next)
        if (*at == e) {
            *at = e->next;
            free(e);
            return;
        }
}

/* Template t out of its list of the cache, and in at its newest end. */
static void list_unlink(struct vnd_ipfix_cache *c, struct tmpl *t)
{
    *(t->older ? &t->older->newer : &c->oldest[t->used]) = t->newer;
    *(t->newer ? &t->newer->older : &c->newest[t->used]) = t->older;
}

static void list_append(struct vnd_ipfix_cache *c, struct tmpl *t)
{
    t->newer = NULL;
    t->older = c->newest[t->used];
    *(t->older ? &t->older->newer : &c->oldest[t->used]) = t;
    c->newest[t->used] = t;
}

/* Takes template *at (in its bucket) out of the cache. */
static void unlink_at(struct vnd_ipfix_cache *c, struct tmpl **at)
{
    struct tmpl *t = *at;
    *at = t->next;
    list_unlink(c, t);
    struct session *e = t->sess;
    *(t->s_older ? &t->s_older->s_newer : &e->oldest) = t->s_newer;
    *(t->s_newer ? &t->s_newer->s_older : &e->newest) = t->s_older;
    if (--e->n == 0)
        forget_session(c, e);
    free(t);
    c->n--;
}

/* Takes template t out of the cache (found in its bucket). */
static void evict(struct vnd_ipfix_cache *c, struct tmpl *t)
{
    for (struct tmpl **at = &c->b[bucket_of(t->session, t->slen, t->version, t->domain, t->id)];
         *at; at = &(*at)->next)
        if (*at == t) {
            unlink_at(c, at);
            return;
        }
}

/* The live template `id`; an expired one is dropped on the way. */
static const struct tmpl *find(struct vnd_ipfix_cache *c, const struct key *k, uint16_t id,
                               double now)
{
    for (struct tmpl **at = &c->b[bucket(k, id)]; *at; at = &(*at)->next) {
        struct tmpl *t = *at;
        if (t->id != id || !same_domain(t, k))
            continue;
        if (now - t->refreshed > c->timeout) {
            unlink_at(c, at);
            return NULL;
        }
        if (!t->used) {
            list_unlink(c, t);
            t->used = true;
            list_append(c, t);
        }
        return t;
    }
    return NULL;
}

/* Takes template `id` out: whether a data set had used it. */
static bool withdraw(struct vnd_ipfix_cache *c, const struct key *k, uint16_t id)
{
    for (struct tmpl **at = &c->b[bucket(k, id)]; *at; at = &(*at)->next)
        if ((*at)->id == id && same_domain(*at, k)) {
            bool used = (*at)->used;
            unlink_at(c, at);
            return used;
        }
    return false;
}

/* Every template (options: of options templates) of the domain: the
 * session's, read in its own list. */
static void withdraw_all(struct vnd_ipfix_cache *c, const struct key *k, bool options)
{
    struct session *e = session_of(c, k->session, k->slen, false);
    for (struct tmpl *t = e ? e->oldest : NULL, *nx; t; t = nx) {
        nx = t->s_newer;
        bool last = !nx;
        if (t->options == options && same_domain(t, k))
            evict(c, t);        /* may free e with its last template */
        if (last)
            break;
    }
}

/* Room for one more template of key k's session: its own oldest goes
 * when it holds its share, the cache's oldest unused (else oldest) when
 * the cache is full.  The session (perhaps freed with its last template
 * on the way, or new). */
static struct session *make_room(struct vnd_ipfix_cache *c, const struct key *k)
{
    struct session *e = session_of(c, k->session, k->slen, false);
    if (e && e->n >= c->per_session) {
        evict(c, e->oldest);
        c->evicted++;
    }
    while (c->n >= c->max && (c->oldest[0] || c->oldest[1])) {
        evict(c, c->oldest[0] ? c->oldest[0] : c->oldest[1]);
        c->evicted++;
    }
    return session_of(c, k->session, k->slen, true);
}

static void store(struct vnd_ipfix_cache *c, const struct key *k, uint16_t id, bool options,
                  const struct fspec *f, uint16_t nfields, uint16_t nscope, double now)
{
    /* a redefinition replaces; a resend stays a template in use */
    bool used = withdraw(c, k, id);
    struct session *e = make_room(c, k);
    struct tmpl *t = vnd_xmalloc(sizeof *t + (2 * (size_t)nfields + 1) * sizeof *t->prog);
    memset(t, 0, sizeof *t);
    memcpy(t->session, k->session, k->slen);
    t->slen = (uint8_t)k->slen;
    t->version = k->version;
    t->domain = k->domain;
    t->id = id;
    t->options = options;
    t->nscope = nscope;
    t->refreshed = now;
    t->used = used;
    t->nsteps = compile(f, nfields, options, t->prog);
    for (uint16_t i = 0; i < nfields; i++)
        t->min_len += f[i].len == 65535 ? 1 : f[i].len;
    unsigned b = bucket(k, id);
    t->next = c->b[b];
    c->b[b] = t;
    list_append(c, t);
    t->sess = e;
    t->s_older = e->newest;
    *(e->newest ? &e->newest->s_newer : &e->oldest) = t;
    e->newest = t;
    e->n++;
    c->n++;
}

/* ---- data records ---- */

/* The state of one message, what records are resolved against. */
struct msg {
    struct vnd_ipfix_cache *c;
    struct key k;
    double now;
    uint32_t version, export_time, sys_uptime_ms;
    vnd_ipfix_flow_fn fn;
    void *ctx;
    struct vnd_ipfix_counts *counts;
};

/* Times as the record sent them, resolved once all its fields are read. */
struct times {
    int64_t start_abs, end_abs;                 /* ns; INT64_MIN: not sent */
    uint64_t start_delta_us, end_delta_us;      /* from the export time */
    uint64_t start_up, end_up, init_ms;         /* system up time */
    bool has_sd, has_ed, has_su, has_eu, has_init;
};

#define NTP_UNIX_OFFSET 2208988800ULL          /* 1900 to 1970, seconds */

static int64_t ntp_ns(uint64_t v)
{
    uint64_t sec = v >> 32, frac = v & 0xffffffffu;
    if (sec < NTP_UNIX_OFFSET)
        return 0;
    return (int64_t)(sec - NTP_UNIX_OFFSET) * 1000000000LL
           + (int64_t)((frac * 1000000000ULL) >> 32);
}

/* One IANA field into `f`: false when not decoded. */
static bool field(struct vnd_ipfix_flow *f, struct times *tm, uint16_t ie, const uint8_t *p,
                  size_t n)
{
    bool num = n >= 1 && n <= 8;
    uint64_t v = num ? be(p, n) : 0;
    switch (ie) {
    case 1:  case 85:            /* octetDeltaCount, octetTotalCount */
        if (!num || (f->has & VND_IPFIX_HAS_OCTETS && ie == 85))
            return false;
        f->octets = v;
        f->has |= VND_IPFIX_HAS_OCTETS;
        return true;
    case 198:  case 199:         /* octetDelta/TotalSumOfSquares */
        if (!num || (f->has & VND_IPFIX_HAS_OCTETS_SQ && ie == 199))
            return false;
        f->octets_sq = v;
        f->has |= VND_IPFIX_HAS_OCTETS_SQ;
        return true;
    case 352:                    /* layer2OctetDeltaCount */
        if (!num)
            return false;
        f->l2_octets = v;
        f->has |= VND_IPFIX_HAS_L2_OCTETS;
        return true;
    case 2:  case 86:            /* packetDeltaCount, packetTotalCount */
        if (!num || (f->has & VND_IPFIX_HAS_PACKETS && ie == 86))
            return false;
        f->packets = v;
        f->has |= VND_IPFIX_HAS_PACKETS;
        return true;
    case 4:                      /* protocolIdentifier */
        if (!num)
            return false;
        f->proto = (uint8_t)v;
        f->has |= VND_IPFIX_HAS_PROTO;
        return true;
    case 6:                      /* tcpControlBits */
        if (!num)
            return false;
        f->tcp_flags = (uint16_t)(v & 0x1ff);
        f->has |= VND_IPFIX_HAS_TCP_FLAGS;
        return true;
    case 7:  case 11:            /* source/destinationTransportPort */
        if (!num)
            return false;
        if (ie == 7)
            f->sport = (uint16_t)v;
        else
            f->dport = (uint16_t)v;
        f->has |= ie == 7 ? VND_IPFIX_HAS_SPORT : VND_IPFIX_HAS_DPORT;
        return true;
    case 8:  case 12:  case 27:  case 28: {     /* addresses */
        size_t want = ie == 8 || ie == 12 ? 4 : 16;
        if (n != want || (f->has & VND_IPFIX_HAS_IP_VERSION && f->ip_version != (want == 4 ? 4 : 6)))
            return false;
        memcpy(ie == 8 || ie == 27 ? f->src : f->dst, p, n);
        f->has |= ie == 8 || ie == 27 ? VND_IPFIX_HAS_SRC : VND_IPFIX_HAS_DST;
        f->ip_version = want == 4 ? 4 : 6;
        f->has |= VND_IPFIX_HAS_IP_VERSION;
        return true;
    }
    case 60:                     /* ipVersion: the addresses say it */
        return num && (v == 4 || v == 6);
    case 10:  case 14:           /* ingressInterface, egressInterface */
        if (!num)
            return false;
        if (ie == 10)
            f->in_if = (uint32_t)v;
        else
            f->out_if = (uint32_t)v;
        f->has |= ie == 10 ? VND_IPFIX_HAS_IN_IF : VND_IPFIX_HAS_OUT_IF;
        return true;
    case 32:  case 139:          /* icmpTypeCode{IPv4,IPv6} */
        if (n != 2)
            return false;
        f->icmp_type = p[0];
        f->icmp_code = p[1];
        f->has |= VND_IPFIX_HAS_ICMP;
        return true;
    case 176:  case 178:         /* icmpType{IPv4,IPv6} */
    case 177:  case 179:         /* icmpCode{IPv4,IPv6} */
        if (n != 1)
            return false;
        if (ie == 176 || ie == 178)
            f->icmp_type = p[0];
        else
            f->icmp_code = p[0];
        f->has |= VND_IPFIX_HAS_ICMP;
        return true;
    case 34:  case 305:          /* samplingInterval, samplingPacketInterval */
        if (!num)
            return false;
        f->sampling = (uint32_t)v;
        f->has |= VND_IPFIX_HAS_SAMPLING;
        return true;
    case 56:  case 80:           /* source/destinationMacAddress */
        if (n != 6)
            return false;
        memcpy(ie == 56 ? f->src_mac : f->dst_mac, p, 6);
        f->has |= ie == 56 ? VND_IPFIX_HAS_SRC_MAC : VND_IPFIX_HAS_DST_MAC;
        return true;
    case 58:  case 243:          /* vlanId, dot1qVlanId */
        if (!num)
            return false;
        if (!(f->has & VND_IPFIX_HAS_VLAN) || v)
            f->vlan = (uint16_t)(v & 0xfff);
        f->has |= VND_IPFIX_HAS_VLAN;
        return true;
    case 256:                    /* ethernetType */
        if (!num)
            return false;
        f->eth_type = (uint16_t)v;
        f->has |= VND_IPFIX_HAS_ETH_TYPE;
        return true;
    case 61:                     /* flowDirection */
        if (!num)
            return false;
        f->direction = (uint8_t)v;
        f->has |= VND_IPFIX_HAS_DIRECTION;
        return true;
    case 136:                    /* flowEndReason */
        if (!num)
            return false;
        f->end_reason = (uint8_t)v;
        f->has |= VND_IPFIX_HAS_END_REASON;
        return true;
    case 138:                    /* observationPointId */
        if (!num)
            return false;
        f->obs_point = v;
        f->has |= VND_IPFIX_HAS_OBS_POINT;
        return true;
    case 150:  case 151:         /* flowStart/EndSeconds */
    case 152:  case 153:         /* ...Milliseconds */
        if (!num) {
            return false;
        } else {
            int64_t ns = ie <= 151 ? (int64_t)(v > 9000000000ULL ? 0 : v) * 1000000000LL
                                   : (int64_t)(v > 9000000000000ULL ? 0 : v) * 1000000LL;
            if (ie == 150 || ie == 152)
                tm->start_abs = ns;
            else
                tm->end_abs = ns;
            return true;
        }
    case 154:  case 155:         /* ...Microseconds, NTP format */
    case 156:  case 157:         /* ...Nanoseconds, NTP format */
        if (n != 8)
            return false;
        if (ie == 154 || ie == 156)
            tm->start_abs = ntp_ns(v);
        else
            tm->end_abs = ntp_ns(v);
        return true;
    case 158:  case 159:         /* flowStart/EndDeltaMicroseconds */
        if (!num)
            return false;
        if (ie == 158) {
            tm->start_delta_us = v;
            tm->has_sd = true;
        } else {
            tm->end_delta_us = v;
            tm->has_ed = true;
        }
        return true;
    case 21:  case 22:           /* flowEnd/StartSysUpTime (ms) */
        if (!num)
            return false;
        if (ie == 22) {
            tm->start_up = v;
            tm->has_su = true;
        } else {
            tm->end_up = v;
            tm->has_eu = true;
        }
        return true;
    case 160:                    /* systemInitTimeMilliseconds */
        if (!num)
            return false;
        tm->init_ms = v;
        tm->has_init = true;
        return true;
    default:
        return false;
    }
}

/* The record's times in ns since the epoch: absolute ones as sent,
 * deltas from the export time, up times from the system's start (v9: the
 * header's up time at export; IPFIX: systemInitTimeMilliseconds). */
static void resolve_times(const struct msg *m, const struct times *tm, struct vnd_ipfix_flow *f)
{
    int64_t export_ns = (int64_t)m->export_time * 1000000000LL;
    int64_t v[2] = {INT64_MIN, INT64_MIN};
    v[0] = tm->start_abs;
    v[1] = tm->end_abs;
    if (v[0] == INT64_MIN && tm->has_sd && tm->start_delta_us <= UINT32_MAX * 1000000ULL)
        v[0] = export_ns - (int64_t)tm->start_delta_us * 1000;
    if (v[1] == INT64_MIN && tm->has_ed && tm->end_delta_us <= UINT32_MAX * 1000000ULL)
        v[1] = export_ns - (int64_t)tm->end_delta_us * 1000;
    for (int i = 0; i < 2; i++) {
        bool has = i ? tm->has_eu : tm->has_su;
        uint64_t up = i ? tm->end_up : tm->start_up;
        if (v[i] != INT64_MIN || !has || up > UINT32_MAX)
            continue;
        if (m->version == 9)
            v[i] = export_ns - ((int64_t)m->sys_uptime_ms - (int64_t)up) * 1000000LL;
        else if (tm->has_init && tm->init_ms < 9000000000000ULL)
            v[i] = ((int64_t)tm->init_ms + (int64_t)up) * 1000000LL;
    }
    if (v[0] != INT64_MIN) {
        f->start_ns = v[0];
        f->has |= VND_IPFIX_HAS_START;
    }
    if (v[1] != INT64_MIN) {
        f->end_ns = v[1];
        f->has |= VND_IPFIX_HAS_END;
    }
}

/* The records of data set `r` (template `t`): its steps run for each. */
static int data_set(struct msg *m, const struct tmpl *t, struct rd *r, const char **why)
{
    /* a record starts as a copy of this one: memset() of it was a `rep
     * stos`, a tenth of the parser's time */
    static const struct vnd_ipfix_flow zero;
    const uint8_t *p = r->p, *end = r->end;
    const struct step *first = t->prog, *stop = t->prog + t->nsteps;
    while ((size_t)(end - p) >= t->min_len && end > p) {
        struct vnd_ipfix_flow f = zero;
        struct times tm = {.start_abs = INT64_MIN, .end_abs = INT64_MIN};
        f.version = m->version;
        f.domain = m->k.domain;
        f.export_time = m->export_time;
        f.template_id = t->id;
        const uint8_t *seg = p;
        for (const struct step *s = first; s < stop; s++) {
            const uint8_t *v = seg + s->off;
            uint8_t *d = (uint8_t *)&f + s->dst;
            switch (s->op) {
            case OP_SEG:
                if ((size_t)(end - p) < s->len)
                    goto past;
                seg = p;
                p += s->len;
                f.has |= s->has;
                f.unknown_fields = (uint16_t)(f.unknown_fields + s->unknown);
                break;
            case OP_VAR: {                /* RFC 7011 §7 */
                if (p == end)
                    goto past;
                size_t len = *p++;
                if (len == 255) {
                    if (end - p < 2)
                        goto past;
                    len = (size_t)p[0] << 8 | p[1];
                    p += 2;
                }
                if ((size_t)(end - p) < len)
                    goto past;
                if (!s->ie || !field(&f, &tm, s->ie, p, len))
                    f.unknown_fields++;
                p += len;
                break;
            }
            case OP_N11: *d = *v; break;
            case OP_N22: { uint16_t y = ntohs(load16(v)); memcpy(d, &y, 2); break; }
            case OP_N44: { uint32_t y = ntohl(load32(v)); memcpy(d, &y, 4); break; }
            case OP_N88: { uint64_t y = be64toh(load64(v)); memcpy(d, &y, 8); break; }
            case OP_N48: { uint64_t y = ntohl(load32(v)); memcpy(d, &y, 8); break; }
            case OP_NUM: {
                uint64_t x = be(v, s->len);
                switch (s->dw) {
                case 1: *d = (uint8_t)x; break;
                case 2: { uint16_t y = (uint16_t)x; memcpy(d, &y, 2); break; }
                case 4: { uint32_t y = (uint32_t)x; memcpy(d, &y, 4); break; }
                default: memcpy(d, &x, 8); break;
                }
                break;
            }
            case OP_MAC:
                memcpy(d, v, 6);
                break;
            case OP_FLAGS2:
                f.tcp_flags = ntohs(load16(v)) & 0x1ff;
                break;
            case OP_START_DELTA4:
                tm.start_delta_us = ntohl(load32(v));
                tm.has_sd = true;
                break;
            case OP_END_DELTA4:
                tm.end_delta_us = ntohl(load32(v));
                tm.has_ed = true;
                break;
            case OP_ADDR4:
            case OP_ADDR6: {
                /* one version a record: an address of the other is not read */
                uint8_t version = s->op == OP_ADDR4 ? 4 : 6;
                if (f.has & VND_IPFIX_HAS_IP_VERSION && f.ip_version != version) {
                    f.unknown_fields++;
                    break;
                }
                /* its exact length (compile_field): a copy of a constant
                 * size is two moves, not a call */
                if (version == 4)
                    memcpy(d, v, 4);
                else
                    memcpy(d, v, 16);
                f.has |= s->has | VND_IPFIX_HAS_IP_VERSION;
                f.ip_version = version;
                break;
            }
            default:
                if (!field(&f, &tm, s->ie, v, s->len))
                    f.unknown_fields++;
            }
        }
        if (t->options) {
            m->counts->options_records++;
            continue;
        }
        resolve_times(m, &tm, &f);
        m->counts->records++;
        if (m->fn)
            m->fn(m->ctx, &f);
    }
    r->p = p;
    return 0;          /* what is left is padding (shorter than a record) */
past:
    *why = "a record runs past its set";
    return -1;
}

/* ---- template sets ---- */

/* One template or options template record of an IPFIX set (id 2 or 3):
 * 0, 1 at the set's padding, or -1 when malformed. */
static int ipfix_template(struct msg *m, struct rd *r, bool options, uint16_t set_id,
                          const char **why)
{
    uint16_t id = (uint16_t)rd_n(r, 2), count = (uint16_t)rd_n(r, 2);
    if (r->bad) {
        *why = "a template header runs past its set";
        return -1;
    }
    if (count == 0 && id < 256 && id != set_id)
        return 1;                /* zeros: the set's padding */
    if (count == 0) {            /* withdrawal (RFC 7011 §8.1) */
        if (id == set_id)
            withdraw_all(m->c, &m->k, options);
        else
            withdraw(m->c, &m->k, id);
        m->counts->withdrawals++;
        return 0;
    }
    uint16_t scope = 0;
    if (options) {
        scope = (uint16_t)rd_n(r, 2);
        if (r->bad) {
            *why = "an options template header runs past its set";
            return -1;
        }
    }
    static _Thread_local struct fspec f[VND_IPFIX_FIELDS_MAX];
    bool usable = id >= 256 && count <= VND_IPFIX_FIELDS_MAX && (!options || (scope && scope <= count));
    for (uint32_t i = 0; i < count; i++) {
        uint16_t ie = (uint16_t)rd_n(r, 2), len = (uint16_t)rd_n(r, 2);
        uint32_t pen = ie & 0x8000 ? rd_n(r, 4) : 0;
        if (r->bad) {
            *why = "a template's fields run past its set";
            return -1;
        }
        if (len == 0)
            usable = false;      /* a field of no bytes: a length that lies */
        if (i < VND_IPFIX_FIELDS_MAX)
            f[i] = (struct fspec){.ie = (uint16_t)(ie & 0x7fff), .len = len, .pen = pen};
    }
    if (!usable) {
        m->counts->refused_templates++;
        withdraw(m->c, &m->k, id);   /* its data is of an unknown template now */
        return 0;
    }
    store(m->c, &m->k, id, options, f, count, scope, m->now);
    if (options)
        m->counts->options_templates++;
    else
        m->counts->templates++;
    return 0;
}

/* One template (flowset 0) or options template (flowset 1) of NetFlow v9. */
static int v9_template(struct msg *m, struct rd *r, bool options, const char **why)
{
    uint16_t id = (uint16_t)rd_n(r, 2), count, scope = 0;
    if (options) {
        uint16_t scope_len = (uint16_t)rd_n(r, 2), opt_len = (uint16_t)rd_n(r, 2);
        if (scope_len % 4 || opt_len % 4) {
            *why = "a v9 options template's lengths are not whole fields";
            return -1;
        }
        scope = scope_len / 4;
        count = (uint16_t)(scope + opt_len / 4);
    } else {
        count = (uint16_t)rd_n(r, 2);
    }
    if (r->bad) {
        *why = "a template header runs past its flowset";
        return -1;
    }
    if (id == 0 && count == 0)
        return 1;                /* zeros: the flowset's padding */
    static _Thread_local struct fspec f[VND_IPFIX_FIELDS_MAX];
    bool usable = id >= 256 && count > 0 && count <= VND_IPFIX_FIELDS_MAX;
    for (uint32_t i = 0; i < count; i++) {
        uint16_t type = (uint16_t)rd_n(r, 2), len = (uint16_t)rd_n(r, 2);
        if (r->bad) {
            *why = "a template's fields run past its flowset";
            return -1;
        }
        if (len == 0 || len == 65535)   /* v9 has no variable-length fields */
            usable = false;
        if (i < VND_IPFIX_FIELDS_MAX)
            f[i] = (struct fspec){.ie = type, .len = len};
    }
    if (!usable) {
        m->counts->refused_templates++;
        withdraw(m->c, &m->k, id);
        return 0;
    }
    store(m->c, &m->k, id, options, f, count, scope, m->now);
    if (options)
        m->counts->options_templates++;
    else
        m->counts->templates++;
    return 0;
}

/* ---- messages ---- */

int vnd_ipfix_parse(struct vnd_ipfix_cache *c, const void *session, size_t slen, double now,
                    const uint8_t *p, size_t n, vnd_ipfix_flow_fn fn, void *ctx,
                    struct vnd_ipfix_counts *counts, const char **why)
{
    struct vnd_ipfix_counts local;
    struct vnd_ipfix_counts *cn = counts ? counts : &local;
    memset(cn, 0, sizeof *cn);
    if (slen > VND_IPFIX_SESSION_MAX)
        slen = VND_IPFIX_SESSION_MAX;
    /* (NULL + 0 is undefined in C: an empty message may come as NULL) */
    struct rd r = {p, p ? p + n : p, 0};
    struct msg m = {.c = c, .k = {session, session ? slen : 0, 0, 0}, .now = now, .fn = fn,
                    .ctx = ctx, .counts = cn};
    m.version = rd_n(&r, 2);
    if (r.bad) {
        *why = "shorter than a header";
        return -1;
    }
    if (m.version == 10) {
        uint32_t len = rd_n(&r, 2);
        m.export_time = rd_n(&r, 4);
        rd_n(&r, 4);                       /* sequence number */
        m.k.domain = rd_n(&r, 4);
        if (r.bad) {
            *why = "ends inside the IPFIX header";
            return -1;
        }
        if (len < 16 || len > n) {
            *why = "the header's length is not the message's";
            return -1;
        }
        r.end = p + len;
    } else if (m.version == 9) {
        rd_n(&r, 2);                       /* record count: the flowsets say */
        m.sys_uptime_ms = rd_n(&r, 4);
        m.export_time = rd_n(&r, 4);
        rd_n(&r, 4);                       /* sequence */
        m.k.domain = rd_n(&r, 4);          /* source id */
        if (r.bad) {
            *why = "ends inside the NetFlow v9 header";
            return -1;
        }
    } else {
        *why = "neither IPFIX (version 10) nor NetFlow v9";
        return -1;
    }
    m.k.version = (uint8_t)m.version;
    for (int nsets = 0; left(&r) > 0; nsets++) {
        if (nsets >= VND_IPFIX_SETS_MAX) {
            *why = "more sets than a message may hold here";
            return -1;
        }
        /* v9 may pad the packet's end; IPFIX may not, but a short tail is
         * no set either way */
        if (m.version == 9 && left(&r) < 4)
            break;
        uint16_t id = (uint16_t)rd_n(&r, 2), len = (uint16_t)rd_n(&r, 2);
        if (r.bad || len < 4) {
            *why = r.bad ? "ends inside a set header" : "a set shorter than its header";
            return -1;
        }
        struct rd s = sub(&r, (size_t)len - 4);
        if (r.bad) {
            *why = "a set runs past the message";
            return -1;
        }
        bool tmpl_set = m.version == 10 ? id == 2 || id == 3 : id == 0 || id == 1;
        bool options = m.version == 10 ? id == 3 : id == 1;
        if (tmpl_set) {
            /* records until what is left cannot hold a header: padding */
            /* an IPFIX withdrawal (4 bytes) is shorter than an options
             * template's header (6) */
            int rc = 0;
            while (rc == 0 && left(&s) >= 4) {
                rc = m.version == 10 ? ipfix_template(&m, &s, options, id, why)
                                     : v9_template(&m, &s, options, why);
                if (rc < 0)
                    return -1;
            }
        } else if (id < 256) {
            cn->skipped_sets++;
        } else {
            const struct tmpl *t = find(c, &m.k, id, now);
            if (!t)
                cn->unknown_template++;
            else if (data_set(&m, t, &s, why))
                return -1;
        }
    }
    return 0;
}
