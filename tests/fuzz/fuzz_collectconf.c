/* fuzz_collectconf.c — the trace collection configuration parser on
 * arbitrary bytes, read with their length (no NUL added: reading past the
 * end is a sanitizer error).  An accepted configuration must keep its
 * promises (names, points, ranges, ports only with TCP/UDP, host bits
 * clear, one address family per Cap) and each pattern's text must read
 * back as the same pattern, reversed twice too; a refused one must say
 * where. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/collectconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "inconsistent configuration: %s\n", what);
        abort();
    }
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > VND_CC_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.", s[i]))
            return 0;
    return 1;
}

static void check_prefix(const struct vnd_cc_prefix *a)
{
    if (!a->set)
        return;
    int bits = a->family == AF_INET ? 32 : 128;
    check(a->family == AF_INET || a->family == AF_INET6, "address family");
    check(a->len >= 0 && a->len <= bits, "prefix length");
    for (int b = a->len; b < 128; b++)
        check(!(a->addr[b / 8] & (0x80 >> (b % 8))), "host bits clear");
}

static int same_prefix(const struct vnd_cc_prefix *a, const struct vnd_cc_prefix *b)
{
    return a->set == b->set && (!a->set || (a->family == b->family && a->len == b->len
                                            && memcmp(a->addr, b->addr, 16) == 0));
}

static int same_pattern(const struct vnd_cc_pattern *a, const struct vnd_cc_pattern *b)
{
    return same_prefix(&a->src, &b->src) && same_prefix(&a->dst, &b->dst)
           && a->proto_kind == b->proto_kind && a->proto == b->proto
           && a->src_port == b->src_port && a->dst_port == b->dst_port;
}

/* The pattern's text, as a Pattern line, parses to the same pattern. */
static void check_text(const struct vnd_cc_pattern *pt)
{
    char *fwd = vnd_cc_pattern_text(pt, false), *rev = vnd_cc_pattern_text(pt, true);
    check(fwd && rev, "pattern text");
    char text[400];
    snprintf(text, sizeof text, "VM Node : a\nCap input\nPattern %s\n", fwd);
    struct vnd_collect_conf *c = NULL;
    char *err = NULL;
    if (vnd_collectconf_parse(text, "text", &c, &err)) {
        fprintf(stderr, "%s\n", err);
        check(0, "the pattern's text parses");
    }
    check(same_pattern(&c->targets[0].caps[0].pattern, pt), "the text reads back the same");
    vnd_collectconf_free(c);
    snprintf(text, sizeof text, "VM Node : a\nCap input\nPattern %s\n", rev);
    if (vnd_collectconf_parse(text, "text", &c, &err)) {
        fprintf(stderr, "%s\n", err);
        check(0, "the reversed text parses");
    }
    char *back = vnd_cc_pattern_text(&c->targets[0].caps[0].pattern, true);
    check(strcmp(back, fwd) == 0, "reversed twice is the original");
    free(back);
    vnd_collectconf_free(c);
    free(fwd);
    free(rev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    /* a copy of exactly `size` bytes, so the sanitizer sees any read past
     * the end even when libFuzzer's buffer is larger */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);

    struct vnd_collect_conf *c = NULL;
    char *err = NULL;
    if (vnd_collectconf_parse_n(text, size, "fuzz", &c, &err)) {
        check(c == NULL, "no configuration on error");
        check(err && strncmp(err, "fuzz:", 5) == 0, "error carries origin:line:col");
        int line = 0, col = 0;
        check(sscanf(err, "fuzz:%d:%d: ", &line, &col) == 2 && line >= 1 && col >= 1,
              "line and column");
        free(err);
        free(text);
        return 0;
    }
    check(c && c->ntargets > 0, "at least one block");
    int ncaps = 0;
    for (int i = 0; i < c->ntargets; i++) {
        const struct vnd_cc_target *t = &c->targets[i];
        check(t->kind == VND_CC_VM || t->kind == VND_CC_APPLIANCE || t->kind == VND_CC_LINK,
              "kind");
        check(valid_name(t->name), "block name");
        check(t->ncaps > 0, "every block has a Cap");
        for (int j = 0; j < i; j++)
            check((c->targets[j].kind == VND_CC_LINK) != (t->kind == VND_CC_LINK)
                  || strcmp(c->targets[j].name, t->name) != 0, "one block per name");
        ncaps += t->ncaps;
        for (int k = 0; k < t->ncaps; k++) {
            const struct vnd_cc_cap *cp = &t->caps[k];
            const struct vnd_cc_pattern *pt = &cp->pattern;
            if (t->kind == VND_CC_LINK)
                check(valid_name(cp->point), "link point is a name");
            else
                check(!strcmp(cp->point, "input") || !strcmp(cp->point, "output"), "node point");
            check(cp->line >= t->line && cp->col >= 1, "point position");
            check(cp->snaplen >= 0 && cp->snaplen <= VND_CC_SNAPLEN_MAX, "snaplen");
            check(cp->sampling >= 1 && cp->sampling <= VND_CC_SAMPLING_MAX, "sampling");
            check(cp->mode == VND_CC_MIRROR || cp->mode == VND_CC_SFLOW
                  || cp->mode == VND_CC_IPFIX || cp->mode == VND_CC_TAP, "mode");
            check(cp->flow_sampling <= 1 || cp->mode == VND_CC_MIRROR,
                  "flow sampling (the switch's) with Mode mirror only");
            check(!cp->sampling_hash || cp->mode == VND_CC_MIRROR || cp->mode == VND_CC_TAP,
                  "hash sampling (the table server's) with Mode mirror or tap only");
            check_prefix(&pt->src);
            check_prefix(&pt->dst);
            check(!pt->src.set || !pt->dst.set || pt->src.family == pt->dst.family,
                  "one family");
            check(pt->proto_kind == VND_CC_IPPROTO ? pt->proto >= 0 && pt->proto <= 255
                                                   : pt->proto == -1, "proto");
            check(pt->src_port >= -1 && pt->src_port <= 65535 && pt->dst_port >= -1
                  && pt->dst_port <= 65535, "port range");
            if (pt->src_port >= 0 || pt->dst_port >= 0)
                check(pt->proto_kind == VND_CC_IPPROTO && (pt->proto == 6 || pt->proto == 17),
                      "ports only with TCP or UDP");
            check_text(pt);
        }
    }
    check(ncaps <= VND_CC_MAX_CAPS, "Cap limit");
    vnd_collectconf_free(c);
    free(text);
    return 0;
}
