/* nib.c — the network information base: load, validate, look up.
 *
 * The NIB is the one file through which the operator tells the control
 * server where tenants' ports are, so it is checked strictly: unknown keys
 * and wrong types are refused (a typo must not silently become "absent"),
 * every reference must resolve, and whatever later becomes a match in a
 * switch (a MAC, an (host, ofport) pair) belongs to exactly one port of
 * the whole NIB — tenants reuse private addresses, never ports.  Every
 * error says where: "ORIGIN: tenants[1].nodes[0].ports[0].mac: ...". */
#include "control/nib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

extern char **environ;

/* Bounds on what one NIB may hold, so a wrong or hostile file cannot make
 * the control server allocate without end. */
#define MAX_HOSTS 4096
#define MAX_TENANTS 4096
#define MAX_NODES 4096          /* per tenant */
#define MAX_PORTS 256           /* per node */
#define MAX_LINKS 16384         /* per tenant */
#define MAX_TEXT 1024           /* ofctl, ovsdb, url, secret_file */
#define MAX_IFACE_ID 255
#define MAX_SECRET 4096
#define MAX_NIB_FILE (64 << 20)
#define OFPP_MAX 65279          /* 0xfeff: the last physical OpenFlow port */

/* ---- errors ------------------------------------------------------------- */

struct dkey;

struct ctx {
    const char *origin;
    const char *base_dir;
    char *err;
    const struct dkey *hosts;   /* host names, sorted (see find_name) */
    int nhosts;
};

/* Sets "ORIGIN: PATH: message" (or "ORIGIN: message" at the top) once;
 * returns -1 so callers can `return fail(...)`. */
__attribute__((format(printf, 3, 4)))
static int fail(struct ctx *c, const char *path, const char *fmt, ...)
{
    if (c->err)
        return -1;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (path && *path)
        c->err = vnd_strdup_printf("%s: %s: %s", c->origin, path, msg);
    else
        c->err = vnd_strdup_printf("%s: %s", c->origin, msg);
    return -1;
}

/* A user's string, quoted for an error message: escaped, at most 64
 * characters shown (a UTF-8 sequence is never cut).  Each character takes
 * at most 6 bytes (\u00XX, or 4 of UTF-8). */
#define QUOTE_CHARS 64

struct quoted {
    char s[QUOTE_CHARS * 6 + 8];
};

static struct quoted quote(const char *s)
{
    struct quoted q;
    size_t o = 0, shown = 0;
    q.s[o++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool continuation = (*p & 0xc0) == 0x80;
        if ((!continuation && shown++ == QUOTE_CHARS) || o + 10 > sizeof q.s) {
            memcpy(q.s + o, "...", 3);
            o += 3;
            break;
        }
        if (*p == '"' || *p == '\\')
            o += (size_t)snprintf(q.s + o, sizeof q.s - o, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            o += (size_t)snprintf(q.s + o, sizeof q.s - o, "\\u%04x", *p);
        else
            q.s[o++] = (char)*p;
    }
    q.s[o++] = '"';
    q.s[o] = '\0';
    return q;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE: case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

/* A JSON path into buf (paths are short: names in them are ours, indexes
 * are bounded). */
__attribute__((format(printf, 3, 4)))
static const char *pathf(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return buf;
}

/* PATH.key into buf */
static const char *sub(char *buf, size_t n, const char *path, const char *key)
{
    return pathf(buf, n, "%s%s%s", path, *path ? "." : "", key);
}

/* ---- strict access to JSON ---------------------------------------------- */

/* Refuses keys not in `known` (NULL-terminated). */
static int only_keys(struct ctx *c, const char *path, json_t *obj, const char *const *known)
{
    for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
        const char *key = json_object_iter_key(it);
        bool ok = strlen(key) == json_object_iter_key_len(it);
        const char *const *k = known;
        while (ok && *k && strcmp(*k, key))
            k++;
        if (!ok || !*k) {
            char list[512];
            size_t o = 0;
            for (k = known; *k && o < sizeof list; k++)
                o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", k == known ? "" : ", ",
                                      *k);
            return fail(c, path, "unknown key %s; the keys here are %s", quote(key).s, list);
        }
    }
    return 0;
}

/* A member of type `type`, NULL when absent (an error when required). */
static json_t *member(struct ctx *c, const char *path, json_t *obj, const char *key,
                      json_type type, bool required, const char *what)
{
    json_t *v = json_object_get(obj, key);
    char p[160];
    if (!v) {
        if (required)
            fail(c, path, "missing \"%s\" (%s)", key, what);
        return NULL;
    }
    bool ok = json_typeof(v) == type
              || (type == JSON_TRUE && json_typeof(v) == JSON_FALSE);
    if (!ok) {
        const char *want = type == JSON_OBJECT ? "an object" : type == JSON_ARRAY ? "an array"
                           : type == JSON_STRING ? "a string" : type == JSON_INTEGER
                           ? "an integer" : "a boolean";
        fail(c, sub(p, sizeof p, path, key), "expected %s (%s), found %s", want, what,
             type_name(v));
        return NULL;
    }
    return v;
}

/* A string member; *out NULL when absent and optional.  Returns -1 on error. */
static int get_str(struct ctx *c, const char *path, json_t *obj, const char *key, bool required,
                   const char *what, const char **out)
{
    *out = NULL;
    json_t *v = member(c, path, obj, key, JSON_STRING, required, what);
    if (!v)
        return c->err ? -1 : 0;
    *out = json_string_value(v);
    return 0;
}

/* An integer member in [lo, hi]; *present false when absent and optional. */
static int get_int(struct ctx *c, const char *path, json_t *obj, const char *key, bool required,
                   const char *what, json_int_t lo, json_int_t hi, json_int_t *out,
                   bool *present)
{
    char p[160];
    *present = false;
    json_t *v = member(c, path, obj, key, JSON_INTEGER, required, what);
    if (!v)
        return c->err ? -1 : 0;
    json_int_t n = json_integer_value(v);
    if (n < lo || n > hi)
        return fail(c, sub(p, sizeof p, path, key), "%lld is out of range (%s: %lld to %lld)",
                    (long long)n, what, (long long)lo, (long long)hi);
    *out = n;
    *present = true;
    return 0;
}

/* ---- value checks --------------------------------------------------------- */

static bool is_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > VND_NIB_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
              || ch == '_' || ch == '-' || ch == '.'))
            return false;
    }
    return true;
}

static bool is_tenant_id(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > VND_NIB_TENANT_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* Printable ASCII without blanks, 1..max: what is handed to ovs-* as one
 * argument. */
static bool is_word(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n < 1 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* "02:00:00:00:01:02" in any case into out[18], lower case. */
static bool parse_mac(const char *s, char out[18])
{
    if (strlen(s) != 17)
        return false;
    for (int i = 0; i < 17; i++) {
        if (i % 3 == 2) {
            if (s[i] != ':')
                return false;
            out[i] = ':';
        } else {
            int h = hexval((unsigned char)s[i]);
            if (h < 0)
                return false;
            out[i] = "0123456789abcdef"[h];
        }
    }
    out[17] = '\0';
    return true;
}

static bool parse_sha256(const char *s, uint8_t out[32])
{
    if (strlen(s) != 64)
        return false;
    for (int i = 0; i < 32; i++) {
        int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static bool is_ip(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* ---- duplicates ------------------------------------------------------------ */

/* A key (string, number) and the position of what it belongs to. */
struct dkey {
    const char *s;
    long long n;
    int idx;
};

static int dkey_cmp(const void *a, const void *b)
{
    const struct dkey *x = a, *y = b;
    int r = x->s && y->s ? strcmp(x->s, y->s) : 0;
    if (r)
        return r;
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Finds the first key (by idx) that repeats an earlier one: returns true
 * with *dup its idx and *first the earlier one's. */
static bool same_key(const struct dkey *a, const struct dkey *b)
{
    return (a->s && b->s ? !strcmp(a->s, b->s) : a->s == b->s) && a->n == b->n;
}

static bool find_dup(struct dkey *k, int n, int *first, int *dup)
{
    qsort(k, (size_t)n, sizeof *k, dkey_cmp);
    bool found = false;
    int g = 0;                          /* the first of the current group */
    for (int i = 1; i < n; i++) {
        if (!same_key(&k[i], &k[i - 1])) {
            g = i;
            continue;
        }
        if (i == g + 1 && (!found || k[i].idx < *dup)) {
            *dup = k[i].idx;
            *first = k[g].idx;
            found = true;
        }
    }
    return found;
}

static int key_str_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct dkey *)elem)->s);
}

/* The idx of `name` in keys sorted by find_dup (names known unique), or -1. */
static int find_name(const struct dkey *k, int n, const char *name)
{
    const struct dkey *f = n > 0 ? bsearch(name, k, (size_t)n, sizeof *k, key_str_cmp) : NULL;
    return f ? f->idx : -1;
}

/* ---- secrets --------------------------------------------------------------- */

static int read_secret(struct ctx *c, const char *path, const char *file, char **out)
{
    char *full = file[0] == '/' || !strcmp(c->base_dir, "")
                 ? vnd_xstrdup(file) : vnd_strdup_printf("%s/%s", c->base_dir, file);
    int rc = -1;
    int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        fail(c, path, "%s: %s", full, strerror(errno));
        goto out_free_full;
    }
    struct stat sb;
    if (fstat(fd, &sb)) {
        fail(c, path, "%s: %s", full, strerror(errno));
        goto out_close;
    }
    if (!S_ISREG(sb.st_mode)) {
        fail(c, path, "%s is not a regular file", full);
        goto out_close;
    }
    /* Like ssh with a private key: a secret others can read is no secret. */
    if (sb.st_mode & 077) {
        fail(c, path, "%s can be read or written by group or others (mode %04o); run: "
             "chmod 600 %s", full, (unsigned)(sb.st_mode & 07777), full);
        goto out_close;
    }
    if (sb.st_size > MAX_SECRET) {
        fail(c, path, "%s is longer than %d bytes; a secret is one line", full, MAX_SECRET);
        goto out_close;
    }
    char buf[MAX_SECRET + 1];
    size_t n = 0;
    for (;;) {
        ssize_t got = read(fd, buf + n, sizeof buf - 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            fail(c, path, "%s: %s", full, strerror(errno));
            goto out_close;
        }
        if (got == 0 || (n += (size_t)got) == sizeof buf - 1)
            break;
    }
    while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t' || buf[n - 1] == '\n'
                     || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    if (n == 0) {
        fail(c, path, "%s is empty; write the table server's secret in it", full);
        goto out_close;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) {
            /* It goes into an HTTP header: a line break there would be
             * another header. */
            fail(c, path, "%s holds a control character or a line break; a secret is one "
                 "line of printable text", full);
            goto out_close;
        }
    *out = vnd_xstrdup(buf);
    rc = 0;
out_close:
    close(fd);
out_free_full:
    free(full);
    return rc;
}

/* ---- hosts ----------------------------------------------------------------- */

/* table_server.postgres: where the distributed mode's coordinator finds
 * the table server's PostgreSQL (docs/distributed.md).  The conninfo holds
 * no password: that comes from password_file, like the table server's
 * secret. */
static int parse_host_postgres(struct ctx *c, const char *tp, json_t *ts, struct vnd_nib_host *h)
{
    static const char *const known[] = {"conninfo", "password_file", NULL};
    char pp[200], p[240];
    if (!json_object_get(ts, "postgres"))
        return 0;
    sub(pp, sizeof pp, tp, "postgres");
    json_t *pg = member(c, tp, ts, "postgres", JSON_OBJECT, true,
                        "{\"conninfo\": \"host=... port=5432 dbname=vnd user=vnd_fdw\", "
                        "\"password_file\": ...}");
    if (!pg || only_keys(c, pp, pg, known))
        return -1;
    const char *conninfo, *password_file;
    if (get_str(c, pp, pg, "conninfo", true, "the table server's PostgreSQL (libpq conninfo)",
                &conninfo))
        return -1;
    if (!*conninfo || strlen(conninfo) > MAX_TEXT || strpbrk(conninfo, "\n\r")
        || strstr(conninfo, "password"))
        return fail(c, sub(p, sizeof p, pp, "conninfo"), "not a conninfo without a password "
                    "(%s); write e.g. \"host=10.0.0.2 port=5432 dbname=vnd user=vnd_fdw\" and "
                    "put the password in password_file", quote(conninfo).s);
    h->pg_conninfo = vnd_xstrdup(conninfo);
    if (get_str(c, pp, pg, "password_file", false, "the file holding its password",
                &password_file))
        return -1;
    if (password_file) {
        sub(p, sizeof p, pp, "password_file");
        if (!*password_file || strlen(password_file) > MAX_TEXT || strchr(password_file, '\n'))
            return fail(c, p, "not a file name (%s)", quote(password_file).s);
        if (c->base_dir && read_secret(c, p, password_file, &h->pg_password))
            return -1;
    }
    return 0;
}

static int parse_host(struct ctx *c, const char *path, json_t *obj, struct vnd_nib_host *h)
{
    static const char *const known[] = {"name", "bridge", "ofctl", "ovsdb", "mirror_port",
                                        "table_server", "budget", NULL};
    char p[160];
    if (!json_is_object(obj))
        return fail(c, path, "expected an object (a host), found %s", type_name(obj));
    if (only_keys(c, path, obj, known))
        return -1;
    const char *name, *bridge, *ofctl, *ovsdb;
    if (get_str(c, path, obj, "name", true, "the host's name", &name))
        return -1;
    if (!is_name(name))
        return fail(c, sub(p, sizeof p, path, "name"), "not a name (%s); use 1 to 63 letters, "
                    "digits, '_', '-' or '.'", quote(name).s);
    h->name = vnd_xstrdup(name);
    if (get_str(c, path, obj, "bridge", true, "the integration bridge", &bridge))
        return -1;
    if (!is_name(bridge))
        return fail(c, sub(p, sizeof p, path, "bridge"), "not a bridge name (%s); use 1 to 63 "
                    "letters, digits, '_', '-' or '.'", quote(bridge).s);
    h->bridge = vnd_xstrdup(bridge);
    if (get_str(c, path, obj, "ofctl", false, "ovs-ofctl's switch argument", &ofctl))
        return -1;
    if (ofctl && (!is_word(ofctl, MAX_TEXT) || ofctl[0] == '-'))
        return fail(c, sub(p, sizeof p, path, "ofctl"), "not a switch for ovs-ofctl (%s); "
                    "write e.g. unix:/run/openvswitch/br-int.mgmt", quote(ofctl).s);
    h->ofctl = vnd_xstrdup(ofctl ? ofctl : bridge);
    if (get_str(c, path, obj, "ovsdb", false, "ovs-vsctl's --db", &ovsdb))
        return -1;
    if (ovsdb && !is_word(ovsdb, MAX_TEXT))
        return fail(c, sub(p, sizeof p, path, "ovsdb"), "not an OVSDB address (%s); write "
                    "e.g. unix:/run/openvswitch/db.sock", quote(ovsdb).s);
    h->ovsdb = ovsdb ? vnd_xstrdup(ovsdb) : NULL;
    json_int_t port;
    bool present;
    if (get_int(c, path, obj, "mirror_port", true, "the mirror port's OpenFlow number", 1,
                OFPP_MAX, &port, &present))
        return -1;
    h->mirror_port = (int)port;
    /* "budget": {"cpu_pct": N, "drop_pct": D}, either or both: the share
     * of one core ovs-vswitchd and the table server may take together,
     * the drop in tenant throughput copying may cost, in percent
     * (controld/host_budget.c); "copy_ns": the switch's CPU per copied
     * packet on this host (bench/cost.sh prints it), which the drop
     * estimate counts when given */
    static const char *const budget_known[] = {"cpu_pct", "drop_pct", "copy_ns", NULL};
    char bp[160];
    sub(bp, sizeof bp, path, "budget");
    json_t *budget = member(c, path, obj, "budget", JSON_OBJECT, false,
                            "{\"cpu_pct\": N} or {\"drop_pct\": D}");
    if (budget) {
        json_int_t pct = 0, drop = 0, copy_ns = 0;
        bool has_drop, has_copy;
        if (only_keys(c, bp, budget, budget_known)
            || get_int(c, bp, budget, "cpu_pct", false, "percent of one core for ovs-vswitchd "
                       "and the table server together", 1, 6400, &pct, &present)
            || get_int(c, bp, budget, "drop_pct", false, "percent of tenant throughput copying "
                       "may cost", 1, 90, &drop, &has_drop)
            || get_int(c, bp, budget, "copy_ns", false, "nanoseconds of the switch's CPU per "
                       "copied packet (bench/cost.sh)", 1, 10000000, &copy_ns, &has_copy))
            return -1;
        if (!present && !has_drop)
            return fail(c, bp, "says no budget: give \"cpu_pct\" (percent of one core for "
                        "ovs-vswitchd and the table server), \"drop_pct\" (percent of tenant "
                        "throughput copying may cost), or both");
        h->budget_cpu_pct = (int)pct;
        h->budget_drop_pct = (int)drop;
        h->budget_copy_ns = (int)copy_ns;
    } else if (c->err) {
        return -1;
    }

    static const char *const ts_known[] = {"url", "secret_file", "postgres", NULL};
    char tp[160];
    sub(tp, sizeof tp, path, "table_server");
    json_t *ts = member(c, path, obj, "table_server", JSON_OBJECT, true,
                        "{\"url\": ..., \"secret_file\": ...}");
    if (!ts || only_keys(c, tp, ts, ts_known))
        return -1;
    const char *url, *secret_file;
    if (get_str(c, tp, ts, "url", true, "the table server's base URL", &url))
        return -1;
    size_t ulen = strlen(url);
    size_t scheme = !strncmp(url, "http://", 7) ? 7 : !strncmp(url, "https://", 8) ? 8 : 0;
    if (!scheme)
        return fail(c, sub(p, sizeof p, tp, "url"), "must start with http:// or https:// (%s)",
                    quote(url).s);
    if (!is_word(url, MAX_TEXT))
        return fail(c, sub(p, sizeof p, tp, "url"), "not a URL (%s): no blanks or control "
                    "characters, at most %d bytes", quote(url).s, MAX_TEXT);
    while (ulen > scheme && url[ulen - 1] == '/')
        ulen--;
    if (ulen == scheme || url[scheme] == '/')
        return fail(c, sub(p, sizeof p, tp, "url"), "no host in %s", quote(url).s);
    h->tabled_url = vnd_xstrndup(url, ulen);
    if (get_str(c, tp, ts, "secret_file", true, "the file holding the table server's secret",
                &secret_file))
        return -1;
    sub(p, sizeof p, tp, "secret_file");
    if (!*secret_file || strlen(secret_file) > MAX_TEXT || strchr(secret_file, '\n'))
        return fail(c, p, "not a file name (%s)", quote(secret_file).s);
    if (c->base_dir && read_secret(c, p, secret_file, &h->tabled_secret))
        return -1;
    return parse_host_postgres(c, tp, ts, h);
}

/* ---- tenants --------------------------------------------------------------- */

static int parse_port(struct ctx *c, const char *path, json_t *obj, struct vnd_nib_port *pt)
{
    static const char *const known[] = {"name", "host", "ofport", "mac", "ip", "iface_id", NULL};
    char p[160];
    if (!json_is_object(obj))
        return fail(c, path, "expected an object (a port), found %s", type_name(obj));
    if (only_keys(c, path, obj, known))
        return -1;
    const char *name, *host, *mac, *ip, *iface_id;
    if (get_str(c, path, obj, "name", true, "the port's name", &name))
        return -1;
    if (!is_name(name))
        return fail(c, sub(p, sizeof p, path, "name"), "not a name (%s); use 1 to 63 letters, "
                    "digits, '_', '-' or '.'", quote(name).s);
    pt->name = vnd_xstrdup(name);
    if (get_str(c, path, obj, "host", true, "the name of the host the port is on", &host))
        return -1;
    if ((pt->host = find_name(c->hosts, c->nhosts, host)) < 0)
        return fail(c, sub(p, sizeof p, path, "host"), "no host %s in hosts", quote(host).s);
    if (get_str(c, path, obj, "iface_id", false, "OVS's external_ids:iface-id", &iface_id))
        return -1;
    if (iface_id) {
        bool ok = *iface_id && strlen(iface_id) <= MAX_IFACE_ID;
        for (const char *s = iface_id; ok && *s; s++)
            ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
                 || *s == '-' || *s == '_' || *s == '.' || *s == ':';
        if (!ok)
            return fail(c, sub(p, sizeof p, path, "iface_id"), "not an interface id (%s); use "
                        "1 to %d letters, digits, '-', '_', '.' or ':'", quote(iface_id).s,
                        MAX_IFACE_ID);
        pt->iface_id = vnd_xstrdup(iface_id);
    }
    json_int_t ofport;
    bool present;
    json_t *of = json_object_get(obj, "ofport");
    if (of && json_is_integer(of) && (json_integer_value(of) < 1
                                      || json_integer_value(of) > OFPP_MAX))
        return fail(c, sub(p, sizeof p, path, "ofport"), "%lld is not an OpenFlow port number "
                    "(1 to %d)", (long long)json_integer_value(of), OFPP_MAX);
    if (get_int(c, path, obj, "ofport", false, "the port's OpenFlow number", 1, OFPP_MAX,
                &ofport, &present))
        return -1;
    if (!present && !iface_id)
        return fail(c, path, "missing \"ofport\" (the port's OpenFlow number; or give "
                    "\"iface_id\" to read it from OVS)");
    pt->ofport = present ? (int)ofport : 0;
    if (get_str(c, path, obj, "mac", false, "the port's MAC address", &mac))
        return -1;
    if (!mac && !iface_id)
        return fail(c, path, "missing \"mac\" (the port's MAC address; or give \"iface_id\" "
                    "to read it from OVS)");
    if (mac) {
        char norm[18];
        if (!parse_mac(mac, norm))
            return fail(c, sub(p, sizeof p, path, "mac"), "not a MAC address (%s); write six "
                        "hex pairs like 02:00:00:00:00:01", quote(mac).s);
        pt->mac = vnd_xstrdup(norm);
    }
    if (get_str(c, path, obj, "ip", false, "the port's IP address", &ip))
        return -1;
    if (ip) {
        if (!is_ip(ip))
            return fail(c, sub(p, sizeof p, path, "ip"), "not an IP address (%s); write one "
                        "IPv4 or IPv6 address like 10.0.1.2 or fd00::2, without a prefix length",
                        quote(ip).s);
        pt->ip = vnd_xstrdup(ip);
    }
    return 0;
}

static int port_index(const struct vnd_nib_node *n, const char *name)
{
    for (int i = 0; i < n->nports; i++)
        if (!strcmp(n->ports[i].name, name))
            return i;
    return -1;
}

static int parse_node(struct ctx *c, const char *path, json_t *obj, struct vnd_nib_node *n)
{
    static const char *const known[] = {"name", "kind", "ports", "input", "output", NULL};
    char p[160];
    if (!json_is_object(obj))
        return fail(c, path, "expected an object (a node), found %s", type_name(obj));
    if (only_keys(c, path, obj, known))
        return -1;
    const char *name, *kind;
    if (get_str(c, path, obj, "name", true, "the node's name", &name))
        return -1;
    if (!is_name(name))
        return fail(c, sub(p, sizeof p, path, "name"), "not a name (%s); use 1 to 63 letters, "
                    "digits, '_', '-' or '.'", quote(name).s);
    n->name = vnd_xstrdup(name);
    if (get_str(c, path, obj, "kind", true, "\"vm\" or \"appliance\"", &kind))
        return -1;
    if (!strcmp(kind, "vm"))
        n->kind = VND_NIB_VM;
    else if (!strcmp(kind, "appliance"))
        n->kind = VND_NIB_APPLIANCE;
    else
        return fail(c, sub(p, sizeof p, path, "kind"), "%s is not a kind; write \"vm\" or "
                    "\"appliance\"", quote(kind).s);
    json_t *ports = member(c, path, obj, "ports", JSON_ARRAY, true, "the node's ports");
    if (!ports)
        return -1;
    sub(p, sizeof p, path, "ports");
    size_t np = json_array_size(ports);
    if (np == 0)
        return fail(c, p, "a node needs at least one port");
    if (np > MAX_PORTS)
        return fail(c, p, "%zu ports; a node may have at most %d", np, MAX_PORTS);
    n->ports = vnd_xcalloc(np, sizeof *n->ports);
    n->nports = (int)np;
    for (size_t i = 0; i < np; i++) {
        char pp[160];
        pathf(pp, sizeof pp, "%s[%zu]", p, i);
        if (parse_port(c, pp, json_array_get(ports, i), &n->ports[i]))
            return -1;
    }
    struct dkey *k = vnd_xcalloc(np, sizeof *k);
    for (size_t i = 0; i < np; i++)
        k[i] = (struct dkey){n->ports[i].name, 0, (int)i};
    int first, dup;
    bool d = find_dup(k, (int)np, &first, &dup);
    free(k);
    if (d) {
        char dp[192];
        return fail(c, pathf(dp, sizeof dp, "%s.ports[%d].name", path, dup),
                    "%s is already the name of ports[%d]", quote(n->ports[dup].name).s, first);
    }

    const char *in, *out;
    if (get_str(c, path, obj, "input", false, "the appliance's input port", &in)
        || get_str(c, path, obj, "output", false, "the appliance's output port", &out))
        return -1;
    if (n->kind == VND_NIB_VM) {
        if (in || out)
            return fail(c, sub(p, sizeof p, path, in ? "input" : "output"), "only an "
                        "appliance has input and output ports; a VM's capture points are its "
                        "ports");
        n->input = n->output = n->nports == 1 ? 0 : -1;
        return 0;
    }
    if (!in)
        return fail(c, path, "missing \"input\" (the name of the appliance's input port)");
    if (!out)
        return fail(c, path, "missing \"output\" (the name of the appliance's output port)");
    if ((n->input = port_index(n, in)) < 0)
        return fail(c, sub(p, sizeof p, path, "input"), "no port %s in this node's ports",
                    quote(in).s);
    if ((n->output = port_index(n, out)) < 0)
        return fail(c, sub(p, sizeof p, path, "output"), "no port %s in this node's ports",
                    quote(out).s);
    return 0;
}

/* A tenant's node names, sorted, while its links are read. */
struct nodes_index {
    const struct vnd_nib_tenant *t;
    const struct dkey *k;
};

static int node_index(const struct nodes_index *x, const char *name)
{
    return find_name(x->k, x->t->nnodes, name);
}

/* One end of a link: "node.port", or "node" when the node has one port.
 * Names may hold '.', so every split is tried and exactly one must fit. */
static int parse_end(struct ctx *c, const struct nodes_index *x, const char *path,
                     const char *s, int *node, int *port)
{
    const struct vnd_nib_tenant *t = x->t;
    int found = 0;
    if (strlen(s) > 2 * VND_NIB_NAME_MAX + 1)
        return fail(c, path, "no node.port %s in this tenant", quote(s).s);
    int whole = node_index(x, s);
    if (whole >= 0 && t->nodes[whole].nports == 1) {
        *node = whole;
        *port = 0;
        found++;
    }
    for (const char *dot = strchr(s, '.'); dot; dot = strchr(dot + 1, '.')) {
        char nn[2 * VND_NIB_NAME_MAX + 2];
        snprintf(nn, sizeof nn, "%.*s", (int)(dot - s), s);
        int ni = node_index(x, nn);
        int pi = ni >= 0 ? port_index(&t->nodes[ni], dot + 1) : -1;
        if (pi >= 0) {
            *node = ni;
            *port = pi;
            found++;
        }
    }
    if (found == 1)
        return 0;
    if (found > 1)
        return fail(c, path, "%s names more than one port (node and port names hold '.'); "
                    "rename one of them", quote(s).s);
    if (whole >= 0)
        return fail(c, path, "node %s has %d ports; write %s.PORT", quote(s).s,
                    t->nodes[whole].nports, s);
    const char *dot = strrchr(s, '.');
    if (dot) {
        char nn[2 * VND_NIB_NAME_MAX + 2];
        snprintf(nn, sizeof nn, "%.*s", (int)(dot - s), s);
        if (node_index(x, nn) >= 0)
            return fail(c, path, "node %s has no port %s", quote(nn).s, quote(dot + 1).s);
        return fail(c, path, "no node %s in this tenant", quote(nn).s);
    }
    return fail(c, path, "no node %s in this tenant", quote(s).s);
}

static int parse_link(struct ctx *c, const struct nodes_index *x, const char *path,
                      json_t *obj, struct vnd_nib_link *l)
{
    const struct vnd_nib_tenant *t = x->t;
    static const char *const known[] = {"name", "ends", NULL};
    char p[160];
    if (!json_is_object(obj))
        return fail(c, path, "expected an object (a link), found %s", type_name(obj));
    if (only_keys(c, path, obj, known))
        return -1;
    const char *name;
    if (get_str(c, path, obj, "name", true, "the link's name", &name))
        return -1;
    if (!is_name(name))
        return fail(c, sub(p, sizeof p, path, "name"), "not a name (%s); use 1 to 63 letters, "
                    "digits, '_', '-' or '.'", quote(name).s);
    l->name = vnd_xstrdup(name);
    json_t *ends = member(c, path, obj, "ends", JSON_ARRAY, true,
                          "[\"node.port\", \"node.port\"]");
    if (!ends)
        return -1;
    sub(p, sizeof p, path, "ends");
    if (json_array_size(ends) != 2)
        return fail(c, p, "a link has 2 ends, found %zu", json_array_size(ends));
    for (int i = 0; i < 2; i++) {
        char ep[160];
        pathf(ep, sizeof ep, "%s[%d]", p, i);
        json_t *e = json_array_get(ends, (size_t)i);
        if (!json_is_string(e))
            return fail(c, ep, "expected a string (\"node.port\"), found %s", type_name(e));
        if (parse_end(c, x, ep, json_string_value(e), &l->node[i], &l->port[i]))
            return -1;
    }
    if (l->node[0] == l->node[1] && l->port[0] == l->port[1])
        return fail(c, p, "both ends are %s.%s", t->nodes[l->node[0]].name,
                    t->nodes[l->node[0]].ports[l->port[0]].name);
    return 0;
}

static int parse_quota(struct ctx *c, const char *path, json_t *obj, struct vnd_nib_quota *q)
{
    static const char *const known[] = {"live_diagnoses", "rows", "bytes", "retention_s", NULL};
    static const char *const what[] = {"diagnoses running at once", "rows stored",
                                       "bytes stored", "seconds traces are kept"};
    if (only_keys(c, path, obj, known))
        return -1;
    for (int i = 0; i < 4; i++) {
        json_t *v = json_object_get(obj, known[i]);
        char p[160];
        if (!v)
            continue;
        sub(p, sizeof p, path, known[i]);
        if (!json_is_integer(v))
            return fail(c, p, "expected an integer (%s; 0: no limit), found %s", what[i],
                        type_name(v));
        json_int_t n = json_integer_value(v);
        json_int_t hi = i == 0 ? INT_MAX : INT64_MAX;
        if (n < 0 || n > hi)
            return fail(c, p, "must be from 0 (no limit) to %lld, not %lld", (long long)hi,
                        (long long)n);
        if (i == 0)
            q->live_diagnoses = (int)n;
        else if (i == 1)
            q->rows = n;
        else if (i == 2)
            q->bytes = n;
        else
            q->retention_s = n;
    }
    return 0;
}

static int parse_tenant(struct ctx *c, const char *path, json_t *obj, struct vnd_nib_tenant *t)
{
    static const char *const known[] = {"id", "token_sha256", "quota", "nodes", "links", NULL};
    char p[160];
    if (!json_is_object(obj))
        return fail(c, path, "expected an object (a tenant), found %s", type_name(obj));
    if (only_keys(c, path, obj, known))
        return -1;
    const char *id, *tok;
    if (get_str(c, path, obj, "id", true, "the tenant's id", &id))
        return -1;
    if (!is_tenant_id(id))
        return fail(c, sub(p, sizeof p, path, "id"), "not a tenant id (%s); use 1 to 32 of "
                    "a-z, 0-9 and _", quote(id).s);
    t->id = vnd_xstrdup(id);
    if (get_str(c, path, obj, "token_sha256", true, "the SHA-256 of the tenant's API token",
                &tok))
        return -1;
    if (!parse_sha256(tok, t->token_sha256))
        return fail(c, sub(p, sizeof p, path, "token_sha256"), "not a SHA-256 (%s); write 64 "
                    "hex digits, made with: printf %%s \"$TOKEN\" | sha256sum", quote(tok).s);
    json_t *q = member(c, path, obj, "quota", JSON_OBJECT, false, "the tenant's limits");
    if (c->err || (q && parse_quota(c, sub(p, sizeof p, path, "quota"), q, &t->quota)))
        return -1;

    json_t *nodes = member(c, path, obj, "nodes", JSON_ARRAY, true, "the tenant's VMs and "
                           "appliances");
    if (!nodes)
        return -1;
    sub(p, sizeof p, path, "nodes");
    size_t nn = json_array_size(nodes);
    if (nn > MAX_NODES)
        return fail(c, p, "%zu nodes; a tenant may have at most %d", nn, MAX_NODES);
    t->nodes = vnd_xcalloc(nn ? nn : 1, sizeof *t->nodes);
    t->nnodes = (int)nn;
    for (size_t i = 0; i < nn; i++) {
        char np[160];
        pathf(np, sizeof np, "%s[%zu]", p, i);
        if (parse_node(c, np, json_array_get(nodes, i), &t->nodes[i]))
            return -1;
    }
    struct dkey *k = vnd_xcalloc(nn ? nn : 1, sizeof *k);
    for (size_t i = 0; i < nn; i++)
        k[i] = (struct dkey){t->nodes[i].name, 0, (int)i};
    int first, dup;
    bool d = find_dup(k, (int)nn, &first, &dup);
    if (d) {
        free(k);
        char dp[192];
        return fail(c, pathf(dp, sizeof dp, "%s.nodes[%d].name", path, dup),
                    "%s is already the name of nodes[%d]", quote(t->nodes[dup].name).s, first);
    }
    struct nodes_index x = {t, k};

    json_t *links = member(c, path, obj, "links", JSON_ARRAY, false, "the tenant's links");
    sub(p, sizeof p, path, "links");
    size_t nl = links ? json_array_size(links) : 0;
    if (!c->err && nl > MAX_LINKS)
        fail(c, p, "%zu links; a tenant may have at most %d", nl, MAX_LINKS);
    if (c->err) {
        free(k);
        return -1;
    }
    t->links = vnd_xcalloc(nl ? nl : 1, sizeof *t->links);
    t->nlinks = (int)nl;
    for (size_t i = 0; i < nl; i++) {
        char lp[160];
        pathf(lp, sizeof lp, "%s[%zu]", p, i);
        if (parse_link(c, &x, lp, json_array_get(links, i), &t->links[i])) {
            free(k);
            return -1;
        }
    }
    free(k);
    k = vnd_xcalloc(nl ? nl : 1, sizeof *k);
    for (size_t i = 0; i < nl; i++)
        k[i] = (struct dkey){t->links[i].name, 0, (int)i};
    d = find_dup(k, (int)nl, &first, &dup);
    free(k);
    if (d) {
        char dp[192];
        return fail(c, pathf(dp, sizeof dp, "%s.links[%d].name", path, dup),
                    "%s is already the name of links[%d]", quote(t->links[dup].name).s, first);
    }
    return 0;
}

/* ---- what must be unique in the whole NIB ------------------------------------ */

struct portref {
    int t, n, p;
};

/* tenants[T].nodes[N].ports[P], and ".key" when key is not NULL */
static void port_path(const struct portref *r, const char *key, char *buf, size_t n)
{
    pathf(buf, n, "tenants[%d].nodes[%d].ports[%d]%s%s", r->t, r->n, r->p, key ? "." : "",
          key ? key : "");
}

/* MACs, (host, ofport) pairs (mirror ports included) and iface ids belong
 * to one port each.  Ports not yet filled from OVS are left out. */
static int check_ports_unique(struct ctx *c, const struct vnd_nib *nib)
{
    size_t total = 0;
    for (int t = 0; t < nib->ntenants; t++)
        for (int n = 0; n < nib->tenants[t].nnodes; n++)
            total += (size_t)nib->tenants[t].nodes[n].nports;
    struct portref *refs = vnd_xcalloc(total + 1, sizeof *refs);
    struct dkey *k = vnd_xcalloc(total + (size_t)nib->nhosts + 1, sizeof *k);
    size_t nr = 0;
    for (int t = 0; t < nib->ntenants; t++)
        for (int n = 0; n < nib->tenants[t].nnodes; n++)
            for (int p = 0; p < nib->tenants[t].nodes[n].nports; p++)
                refs[nr++] = (struct portref){t, n, p};
#define PORT(r) (&nib->tenants[(r).t].nodes[(r).n].ports[(r).p])
    char a[160], b[160];
    int first, dup, nk = 0, rc = -1;

    for (size_t i = 0; i < nr; i++)
        if (PORT(refs[i])->mac)
            k[nk++] = (struct dkey){PORT(refs[i])->mac, 0, (int)i};
    if (find_dup(k, nk, &first, &dup)) {
        port_path(&refs[dup], "mac", a, sizeof a);
        port_path(&refs[first], NULL, b, sizeof b);
        fail(c, a, "%s is already the MAC of %s", PORT(refs[dup])->mac, b);
        goto out_free;
    }

    /* (host, ofport): mirror ports first, as idx -1 - host, so a port that
     * takes a mirror port's number is the one named. */
    nk = 0;
    for (int h = 0; h < nib->nhosts; h++)
        k[nk++] = (struct dkey){NULL, (long long)h << 17 | nib->hosts[h].mirror_port, -1 - h};
    for (size_t i = 0; i < nr; i++)
        if (PORT(refs[i])->ofport > 0)
            k[nk++] = (struct dkey){NULL, (long long)PORT(refs[i])->host << 17
                                          | PORT(refs[i])->ofport, (int)i};
    if (find_dup(k, nk, &first, &dup)) {
        /* dup >= 0: two mirror ports never share a host entry */
        const struct vnd_nib_port *pt = PORT(refs[dup]);
        port_path(&refs[dup], "ofport", a, sizeof a);
        if (first < 0)
            pathf(b, sizeof b, "hosts[%d].mirror_port", -1 - first);
        else
            port_path(&refs[first], NULL, b, sizeof b);
        fail(c, a, "port %d of host %s is already %s", pt->ofport,
             nib->hosts[pt->host].name, b);
        goto out_free;
    }

    nk = 0;
    for (size_t i = 0; i < nr; i++)
        if (PORT(refs[i])->iface_id)
            k[nk++] = (struct dkey){PORT(refs[i])->iface_id, 0, (int)i};
    if (find_dup(k, nk, &first, &dup)) {
        port_path(&refs[dup], "iface_id", a, sizeof a);
        port_path(&refs[first], NULL, b, sizeof b);
        fail(c, a, "%s is already the iface_id of %s",
             quote(PORT(refs[dup])->iface_id).s, b);
        goto out_free;
    }
#undef PORT
    rc = 0;
out_free:
    free(k);
    free(refs);
    return rc;
}

/* ---- the NIB ------------------------------------------------------------------ */

static int parse_nib(struct ctx *c, json_t *root, struct vnd_nib *nib)
{
    static const char *const known[] = {"hosts", "tenants", NULL};
    if (!json_is_object(root))
        return fail(c, "", "expected an object with \"hosts\" and \"tenants\", found %s",
                    type_name(root));
    if (only_keys(c, "", root, known))
        return -1;
    json_t *hosts = member(c, "", root, "hosts", JSON_ARRAY, true, "the hypervisors");
    if (!hosts)
        return -1;
    size_t nh = json_array_size(hosts);
    if (nh > MAX_HOSTS)
        return fail(c, "hosts", "%zu hosts; a NIB may have at most %d", nh, MAX_HOSTS);
    nib->hosts = vnd_xcalloc(nh ? nh : 1, sizeof *nib->hosts);
    nib->nhosts = (int)nh;
    for (size_t i = 0; i < nh; i++) {
        char p[160];
        pathf(p, sizeof p, "hosts[%zu]", i);
        if (parse_host(c, p, json_array_get(hosts, i), &nib->hosts[i]))
            return -1;
    }
    struct dkey *k = vnd_xcalloc(nh ? nh : 1, sizeof *k);
    for (size_t i = 0; i < nh; i++)
        k[i] = (struct dkey){nib->hosts[i].name, 0, (int)i};
    int first, dup;
    bool d = find_dup(k, (int)nh, &first, &dup);
    c->hosts = k;               /* sorted: ports find their host in it */
    c->nhosts = (int)nh;
    if (d) {
        char p[160];
        pathf(p, sizeof p, "hosts[%d].name", dup);
        return fail(c, p, "%s is already the name of hosts[%d]", quote(nib->hosts[dup].name).s,
                    first);
    }

    json_t *tenants = member(c, "", root, "tenants", JSON_ARRAY, true, "the tenants");
    if (!tenants)
        return -1;
    size_t nt = json_array_size(tenants);
    if (nt > MAX_TENANTS)
        return fail(c, "tenants", "%zu tenants; a NIB may have at most %d", nt, MAX_TENANTS);
    nib->tenants = vnd_xcalloc(nt ? nt : 1, sizeof *nib->tenants);
    nib->ntenants = (int)nt;
    for (size_t i = 0; i < nt; i++) {
        char p[160];
        pathf(p, sizeof p, "tenants[%zu]", i);
        if (parse_tenant(c, p, json_array_get(tenants, i), &nib->tenants[i]))
            return -1;
    }
    k = vnd_xcalloc(nt ? nt : 1, sizeof *k);
    for (size_t i = 0; i < nt; i++)
        k[i] = (struct dkey){nib->tenants[i].id, 0, (int)i};
    d = find_dup(k, (int)nt, &first, &dup);
    if (d) {
        free(k);
        char p[160];
        pathf(p, sizeof p, "tenants[%d].id", dup);
        return fail(c, p, "%s is already the id of tenants[%d]", quote(nib->tenants[dup].id).s,
                    first);
    }
    /* One token, one tenant: otherwise a token would let its holder in as
     * whichever tenant the lookup happened to find. */
    char (*th)[65] = vnd_xcalloc(nt ? nt : 1, sizeof *th);
    for (size_t i = 0; i < nt; i++) {
        for (int j = 0; j < 32; j++)
            snprintf(th[i] + 2 * j, 3, "%02x", nib->tenants[i].token_sha256[j]);
        k[i] = (struct dkey){th[i], 0, (int)i};
    }
    d = find_dup(k, (int)nt, &first, &dup);
    free(th);
    free(k);
    if (d) {
        char p[160];
        pathf(p, sizeof p, "tenants[%d].token_sha256", dup);
        return fail(c, p, "the same as tenants[%d]'s; every tenant needs a token of its own",
                    first);
    }
    return check_ports_unique(c, nib);
}

int vnd_nib_parse(const char *text, size_t len, const char *origin, const char *base_dir,
                  struct vnd_nib **out, char **err)
{
    struct ctx c = {origin ? origin : "nib", base_dir, NULL, NULL, 0};
    *out = NULL;
    *err = NULL;
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (je.line > 0)
            *err = vnd_strdup_printf("%s:%d:%d: %s", c.origin, je.line, je.column, je.text);
        else
            *err = vnd_strdup_printf("%s: %s", c.origin, je.text);
        return -1;
    }
    struct vnd_nib *nib = vnd_xcalloc(1, sizeof *nib);
    nib->origin = vnd_xstrdup(c.origin);
    int rc = parse_nib(&c, root, nib);
    free((void *)c.hosts);
    json_decref(root);
    if (rc) {
        vnd_nib_free(nib);
        *err = c.err ? c.err : vnd_strdup_printf("%s: invalid", c.origin);
        return -1;
    }
    *out = nib;
    return 0;
}

int vnd_nib_load(const char *path, struct vnd_nib **out, char **err)
{
    *out = NULL;
    *err = NULL;
    struct stat sb;
    if (stat(path, &sb) == 0 && sb.st_size > MAX_NIB_FILE) {
        *err = vnd_strdup_printf("%s: larger than %d MiB", path, MAX_NIB_FILE >> 20);
        return -1;
    }
    char *text = NULL;
    size_t len = 0;
    int e = vnd_read_file(path, &text, &len);
    if (e) {
        *err = vnd_strdup_printf("%s: %s", path, strerror(e));
        return -1;
    }
    const char *slash = strrchr(path, '/');
    char *dir = !slash ? vnd_xstrdup(".") : slash == path ? vnd_xstrdup("/")
                : vnd_xstrndup(path, (size_t)(slash - path));
    int rc = vnd_nib_parse(text, len, path, dir, out, err);
    free(dir);
    free(text);
    return rc;
}

void vnd_nib_free(struct vnd_nib *nib)
{
    if (!nib)
        return;
    for (int i = 0; i < nib->nhosts; i++) {
        struct vnd_nib_host *h = &nib->hosts[i];
        free(h->name);
        free(h->bridge);
        free(h->ofctl);
        free(h->ovsdb);
        free(h->tabled_url);
        free(h->pg_conninfo);
        if (h->pg_password) {
            OPENSSL_cleanse(h->pg_password, strlen(h->pg_password));
            free(h->pg_password);
        }
        if (h->tabled_secret) {
            OPENSSL_cleanse(h->tabled_secret, strlen(h->tabled_secret));
            free(h->tabled_secret);
        }
    }
    free(nib->hosts);
    for (int i = 0; i < nib->ntenants; i++) {
        struct vnd_nib_tenant *t = &nib->tenants[i];
        free(t->id);
        for (int n = 0; n < t->nnodes; n++) {
            struct vnd_nib_node *nd = &t->nodes[n];
            free(nd->name);
            for (int p = 0; p < nd->nports; p++) {
                free(nd->ports[p].name);
                free(nd->ports[p].mac);
                free(nd->ports[p].ip);
                free(nd->ports[p].iface_id);
            }
            free(nd->ports);
        }
        free(t->nodes);
        for (int l = 0; l < t->nlinks; l++)
            free(t->links[l].name);
        free(t->links);
    }
    free(nib->tenants);
    free(nib->origin);
    free(nib);
}

/* ---- filling ports from OVSDB ------------------------------------------------ */

#define OVS_OUTPUT_MAX (1 << 20)
#define OVS_DEADLINE_S 10       /* ovs-vsctl gives up after 5 s itself */

/* Runs argv (no shell), collecting stdout and stderr (each at most
 * OVS_OUTPUT_MAX).  Returns the exit status (>= 0), or -1 with *why. */
static int run_capture(char *const argv[], char **out, char **errout, char **why)
{
    int po[2], pe[2];
    *out = *errout = NULL;
    if (pipe2(po, O_CLOEXEC)) {
        *why = vnd_strdup_printf("pipe: %s", strerror(errno));
        return -1;
    }
    if (pipe2(pe, O_CLOEXEC)) {
        *why = vnd_strdup_printf("pipe: %s", strerror(errno));
        close(po[0]);
        close(po[1]);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    pid_t pid;
    int e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(po[1]);
    close(pe[1]);
    if (e) {
        *why = vnd_strdup_printf("cannot run %s: %s", argv[0], strerror(e));
        close(po[0]);
        close(pe[0]);
        return -1;
    }
    char *buf[2] = {vnd_xmalloc(1), vnd_xmalloc(1)};
    size_t len[2] = {0, 0};
    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    int open_fds = 2;
    bool timed_out = false;
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (open_fds > 0) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left = OVS_DEADLINE_S * 1000L - ((now.tv_sec - t0.tv_sec) * 1000L
                                              + (now.tv_nsec - t0.tv_nsec) / 1000000L);
        if (left <= 0) {
            timed_out = true;
            break;
        }
        int r = poll(fds, 2, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            timed_out = r == 0;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !fds[i].revents)
                continue;
            char chunk[4096];
            ssize_t got = read(fds[i].fd, chunk, sizeof chunk);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
                continue;
            }
            if (len[i] + (size_t)got <= OVS_OUTPUT_MAX) {
                buf[i] = vnd_xrealloc(buf[i], len[i] + (size_t)got + 1);
                memcpy(buf[i] + len[i], chunk, (size_t)got);
                len[i] += (size_t)got;
            }
        }
    }
    for (int i = 0; i < 2; i++) {
        if (fds[i].fd >= 0)
            close(fds[i].fd);
        buf[i][len[i]] = '\0';
    }
    if (timed_out)
        kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (timed_out) {
        *why = vnd_strdup_printf("%s did not answer in %d s", argv[0], OVS_DEADLINE_S);
        free(buf[0]);
        free(buf[1]);
        return -1;
    }
    *out = buf[0];
    *errout = buf[1];
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status)
                                                            ? WTERMSIG(status) : 0);
}

/* An OVSDB atom that may be empty (["set", []]): the value or NULL. */
static json_t *ovs_atom(json_t *v)
{
    if (json_is_array(v) && json_array_size(v) == 2
        && json_is_string(json_array_get(v, 0))
        && !strcmp(json_string_value(json_array_get(v, 0)), "set")) {
        json_t *set = json_array_get(v, 1);
        return json_is_array(set) && json_array_size(set) == 1 ? json_array_get(set, 0) : NULL;
    }
    return v;
}

/* external_ids ["map", [[k, v], ...]]: the value of key k or NULL. */
static const char *ovs_map_get(json_t *map, const char *key)
{
    if (!json_is_array(map) || json_array_size(map) != 2)
        return NULL;
    json_t *pairs = json_array_get(map, 1);
    size_t i;
    json_t *kv;
    json_array_foreach(pairs, i, kv) {
        if (json_is_array(kv) && json_array_size(kv) == 2
            && json_is_string(json_array_get(kv, 0))
            && !strcmp(json_string_value(json_array_get(kv, 0)), key)
            && json_is_string(json_array_get(kv, 1)))
            return json_string_value(json_array_get(kv, 1));
    }
    return NULL;
}

/* One port from `ovs-vsctl find Interface external_ids:iface-id=ID`. */
static int fill_port(struct ctx *c, const struct vnd_nib_host *h, const char *path,
                     struct vnd_nib_port *pt)
{
    char *db = h->ovsdb ? vnd_strdup_printf("--db=%s", h->ovsdb) : NULL;
    char *match = vnd_strdup_printf("external_ids:iface-id=%s", pt->iface_id);
    char *argv[12];
    int a = 0;
    argv[a++] = (char *)"ovs-vsctl";
    if (db)
        argv[a++] = db;
    argv[a++] = (char *)"--timeout=5";
    argv[a++] = (char *)"--format=json";
    argv[a++] = (char *)"--columns=ofport,mac_in_use,external_ids";
    argv[a++] = (char *)"find";
    argv[a++] = (char *)"Interface";
    argv[a++] = match;
    argv[a] = NULL;
    const char *where = h->ovsdb ? h->ovsdb : "the default OVSDB";
    char *out = NULL, *errout = NULL, *why = NULL;
    json_t *root = NULL;
    int rc = -1;
    int st = run_capture(argv, &out, &errout, &why);
    if (st < 0) {
        fail(c, path, "%s", why);
        goto out_free;
    }
    if (st != 0) {
        size_t n = strlen(errout);
        while (n > 0 && (errout[n - 1] == '\n' || errout[n - 1] == '\r'))
            errout[--n] = '\0';
        fail(c, path, "ovs-vsctl on host %s (%s) failed: %.300s", h->name, where,
             *errout ? errout : "no message");
        goto out_free;
    }
    json_error_t je;
    root = json_loads(out, 0, &je);
    json_t *data = root ? json_object_get(root, "data") : NULL;
    json_t *head = root ? json_object_get(root, "headings") : NULL;
    if (!json_is_array(data) || !json_is_array(head)) {
        fail(c, path, "ovs-vsctl on host %s gave no JSON table", h->name);
        goto out_free;
    }
    if (json_array_size(data) == 0) {
        fail(c, path, "no interface with external_ids:iface-id=%s on host %s (%s)",
             pt->iface_id, h->name, where);
        goto out_free;
    }
    if (json_array_size(data) > 1) {
        fail(c, path, "%zu interfaces on host %s carry it; there must be one",
             json_array_size(data), h->name);
        goto out_free;
    }
    json_t *row = json_array_get(data, 0);
    json_t *ofport = NULL, *mac_in_use = NULL, *ext = NULL;
    for (size_t i = 0; i < json_array_size(head); i++) {
        const char *col = json_string_value(json_array_get(head, i));
        json_t *v = json_array_get(row, i);
        if (!col || !v)
            continue;
        if (!strcmp(col, "ofport"))
            ofport = ovs_atom(v);
        else if (!strcmp(col, "mac_in_use"))
            mac_in_use = ovs_atom(v);
        else if (!strcmp(col, "external_ids"))
            ext = v;
    }
    if (pt->ofport == 0) {
        if (!json_is_integer(ofport)) {
            fail(c, path, "the interface on host %s has no OpenFlow port number yet",
                 h->name);
            goto out_free;
        }
        json_int_t n = json_integer_value(ofport);
        if (n < 1 || n > OFPP_MAX) {
            fail(c, path, "the interface on host %s has ofport %lld (OVS could not "
                 "add it to the bridge)", h->name, (long long)n);
            goto out_free;
        }
        pt->ofport = (int)n;
    }
    if (!pt->mac) {
        const char *m = ovs_map_get(ext, "attached-mac");
        if (!m && json_is_string(mac_in_use))
            m = json_string_value(mac_in_use);
        char norm[18];
        if (!m) {
            fail(c, path, "the interface on host %s has neither external_ids:attached-mac "
                 "nor mac_in_use; give \"mac\"", h->name);
            goto out_free;
        }
        if (!parse_mac(m, norm)) {
            fail(c, path, "OVS gave %s, not a MAC address", quote(m).s);
            goto out_free;
        }
        pt->mac = vnd_xstrdup(norm);
    }
    rc = 0;
out_free:
    json_decref(root);
    free(out);
    free(errout);
    free(why);
    free(match);
    free(db);
    return rc;
}

int vnd_nib_fill_from_ovs(struct vnd_nib *nib, char **err)
{
    struct ctx c = {nib->origin ? nib->origin : "nib", NULL, NULL, NULL, 0};
    *err = NULL;
    for (int t = 0; t < nib->ntenants; t++)
        for (int n = 0; n < nib->tenants[t].nnodes; n++)
            for (int p = 0; p < nib->tenants[t].nodes[n].nports; p++) {
                struct vnd_nib_port *pt = &nib->tenants[t].nodes[n].ports[p];
                if (!pt->iface_id || (pt->ofport > 0 && pt->mac))
                    continue;
                char path[160];
                pathf(path, sizeof path, "tenants[%d].nodes[%d].ports[%d].iface_id", t, n, p);
                if (fill_port(&c, &nib->hosts[pt->host], path, pt)) {
                    *err = c.err;
                    return -1;
                }
            }
    if (check_ports_unique(&c, nib)) {
        *err = c.err;
        return -1;
    }
    return 0;
}

/* ---- look-ups ------------------------------------------------------------------ */

static void sha256(const char *s, uint8_t md[32])
{
    unsigned int n = 0;
    if (!EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL) || n != 32)
        abort();        /* libcrypto without SHA-256: nothing sensible to do */
}

void vnd_token_sha256_hex(const char *token, char hex[65])
{
    uint8_t md[32];
    sha256(token, md);
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = "0123456789abcdef"[md[i] >> 4];
        hex[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
    }
    hex[64] = '\0';
}

const struct vnd_nib_tenant *vnd_nib_tenant_by_token(const struct vnd_nib *nib,
                                                     const char *token)
{
    if (!nib || !token || !*token)
        return NULL;
    uint8_t md[32];
    sha256(token, md);
    /* Every tenant is compared, and the match is picked without a branch,
     * so how long this takes does not depend on which tenant (if any)
     * the token belongs to. */
    uintptr_t found = 0;
    for (int i = 0; i < nib->ntenants; i++) {
        uintptr_t eq = (uintptr_t)(CRYPTO_memcmp(md, nib->tenants[i].token_sha256, 32) == 0);
        uintptr_t mask = (uintptr_t)0 - eq;
        found = (found & ~mask) | ((uintptr_t)&nib->tenants[i] & mask);
    }
    OPENSSL_cleanse(md, sizeof md);
    return (const struct vnd_nib_tenant *)found;
}

const struct vnd_nib_tenant *vnd_nib_tenant_by_id(const struct vnd_nib *nib, const char *id)
{
    if (!nib || !id)
        return NULL;
    for (int i = 0; i < nib->ntenants; i++)
        if (!strcmp(nib->tenants[i].id, id))
            return &nib->tenants[i];
    return NULL;
}

const struct vnd_nib_node *vnd_nib_node(const struct vnd_nib_tenant *t, const char *name)
{
    if (!t || !name)
        return NULL;
    for (int i = 0; i < t->nnodes; i++)
        if (!strcmp(t->nodes[i].name, name))
            return &t->nodes[i];
    return NULL;
}

const struct vnd_nib_link *vnd_nib_link(const struct vnd_nib_tenant *t, const char *name)
{
    if (!t || !name)
        return NULL;
    for (int i = 0; i < t->nlinks; i++)
        if (!strcmp(t->links[i].name, name))
            return &t->links[i];
    return NULL;
}
