/* ovs.c — capture rules through ovs-ofctl. */
#include "control/ovs.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/ipfix.h"
#include "util/run.h"
#include "util/util.h"

#define OFCTL_TIMEOUT 10.0

/* The copy: tagged with the trace's VLAN, out of the mirror port. */
static void copy_actions(const struct vnd_capture_rule *r, char *buf, size_t size)
{
    char out[64];
    if (r->max_len > 0)
        snprintf(out, sizeof out, "output(port=%d,max_len=%d)", r->mirror_port, r->max_len);
    else
        snprintf(out, sizeof out, "output:%d", r->mirror_port);
    snprintf(buf, size, "push_vlan:0x8100,set_field:%d->vlan_vid,%s", 4096 | r->tag, out);
}

int vnd_flow_sampling_share(int flow_sampling)
{
    if (flow_sampling <= 1)
        return VND_FLOW_HASH_VALUES;
    int s = (2 * VND_FLOW_HASH_VALUES + flow_sampling) / (2 * flow_sampling);
    return s < 1 ? 1 : s;
}

double vnd_flow_sampling_effective(int flow_sampling)
{
    return (double)VND_FLOW_HASH_VALUES / vnd_flow_sampling_share(flow_sampling);
}

int vnd_ipfix_sampling_effective(int n)
{
    if (n <= 1)
        return 1;
    int p = 65535 / (n < VND_IPFIX_SAMPLING_MAX ? n : VND_IPFIX_SAMPLING_MAX);
    /* rounded down: 65535 / that is p again, the same rule */
    return 65535 / p;
}

/* OVS_HASH_ALG_SYM_L4 (datapath/linux/compat/include/linux/openvswitch.h):
 * in selection_method_param's upper 32 bits, the basis (0) in the lower. */
#define OVS_HASH_ALG_SYM_L4 1

char *vnd_capture_group_text(const struct vnd_capture_rule *r)
{
    if (r->flow_sampling <= 1)
        return NULL;
    char copy[160];
    copy_actions(r, copy, sizeof copy);
    int s = vnd_flow_sampling_share(r->flow_sampling);
    return vnd_strdup_printf("group_id=%" PRIu32 ",type=select,selection_method=dp_hash,"
                             "selection_method_param=0x%llx,"
                             "bucket=bucket_id:0,weight:%d,actions=%s,"
                             "bucket=bucket_id:1,weight:%d,actions=drop,"
                             "bucket=bucket_id:2,weight:1,actions=drop",
                             VND_GROUP_ID(r->tag),
                             (unsigned long long)OVS_HASH_ALG_SYM_L4 << 32, s, copy,
                             VND_FLOW_HASH_VALUES - 1 - s);
}

char *vnd_capture_rule_text(const struct vnd_capture_rule *r)
{
    if (r->flow_sampling > 1)
        return vnd_strdup_printf("table=0,priority=%d,cookie=0x%016" PRIx64 ",reg7=0/0x%x,%s,"
                                 "actions=group:%" PRIu32 ",load:1->NXM_NX_REG7[%d],"
                                 "resubmit(,0)", VND_CAPTURE_PRIORITY, r->cookie, 1u << r->bit,
                                 r->match, VND_GROUP_ID(r->tag), r->bit);
    if (r->sampling > 0)
        /* OVS counts each sample as 65535/probability packets */
        return vnd_strdup_printf("table=0,priority=%d,cookie=0x%016" PRIx64 ",reg7=0/0x%x,%s,"
                                 "actions=sample(probability=%d,collector_set_id=%d,"
                                 "obs_domain_id=%d,obs_point_id=%d),"
                                 "load:1->NXM_NX_REG7[%d],resubmit(,0)",
                                 VND_CAPTURE_PRIORITY, r->cookie, 1u << r->bit, r->match,
                                 65535 / r->sampling, VND_IPFIX_SET, VND_IPFIX_OBS_DOMAIN,
                                 r->tag,
                                 r->bit);
    char out[64];
    if (r->max_len > 0)
        snprintf(out, sizeof out, "output(port=%d,max_len=%d)", r->mirror_port, r->max_len);
    else
        snprintf(out, sizeof out, "output:%d", r->mirror_port);
    return vnd_strdup_printf("table=0,priority=%d,cookie=0x%016" PRIx64 ",reg7=0/0x%x,%s,"
                             "actions=push_vlan:0x8100,set_field:%d->vlan_vid,%s,"
                             "pop_vlan,load:1->NXM_NX_REG7[%d],resubmit(,0)",
                             VND_CAPTURE_PRIORITY, r->cookie, 1u << r->bit, r->match,
                             4096 | r->tag, out, r->bit);
}

/* Runs argv (an OVS tool) with `input` on stdin; on failure *err is
 * "LABEL: what it printed". */
static int tool(char *const *argv, const char *label, const char *input, char **out, char **err)
{
    char *o = NULL, *e = NULL;
    int st = vnd_run(argv, input, OFCTL_TIMEOUT, &o, &e);
    if (st != 0) {
        size_t n = e ? strlen(e) : 0;
        while (n && (e[n - 1] == '\n' || e[n - 1] == ' '))
            e[--n] = 0;
        *err = vnd_strdup_printf("%s: %s", label, e && *e ? e : "failed");
        free(o);
        free(e);
        return -1;
    }
    free(e);
    if (out)
        *out = o;
    else
        free(o);
    return 0;
}

/* Runs ovs-ofctl with OpenFlow `version` and `input` on stdin. */
static int ofctl_v(const char *version, char *const *args, int nargs, const char *input,
                   char **out, char **err)
{
    char *argv[12] = {"ovs-ofctl", "-O", (char *)version, "--timeout=10"};
    int k = 4;
    for (int i = 0; i < nargs && k < 11; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    char label[64];
    snprintf(label, sizeof label, "ovs-ofctl %s", args[0]);
    return tool(argv, label, input, out, err);
}

/* ... with OpenFlow 1.4 (bundles). */
static int ofctl(char *const *args, int nargs, const char *input, char **out, char **err)
{
    return ofctl_v("OpenFlow14", args, nargs, input, out, err);
}

/* Appends "PREFIX TEXT\n" to the growing buffer *in (len, cap). */
static void append_line(char **in, size_t *len, size_t *cap, const char *prefix,
                        const char *text)
{
    size_t need = *len + strlen(prefix) + strlen(text) + 3;
    if (need > *cap) {
        *cap = need * 2;
        *in = vnd_xrealloc(*in, *cap);
    }
    *len += (size_t)sprintf(*in + *len, "%s %s\n", prefix, text);
}

/* Groups and flows in one OpenFlow 1.5 bundle (selection_method needs 1.5). */
static int add_with_groups(const char *target, const struct vnd_capture_rule *rules, int n,
                           char **err)
{
    size_t len = 0, cap = 1024;
    char *in = vnd_xmalloc(cap);
    in[0] = 0;
    for (int i = 0; i < n; i++) {
        char *g = vnd_capture_group_text(&rules[i]);
        if (g)
            append_line(&in, &len, &cap, "group add_or_mod", g);
        free(g);
    }
    for (int i = 0; i < n; i++) {
        char *t = vnd_capture_rule_text(&rules[i]);
        append_line(&in, &len, &cap, "flow add", t);
        free(t);
    }
    char *args[] = {"bundle", (char *)target, "-"};
    int rc = ofctl_v("OpenFlow15", args, 3, in, NULL, err);
    free(in);
    return rc;
}

int vnd_ovs_add(const char *target, const struct vnd_capture_rule *rules, int n, char **err)
{
    if (n <= 0)
        return 0;
    for (int i = 0; i < n; i++)
        if (rules[i].flow_sampling > 1)
            return add_with_groups(target, rules, n, err);
    size_t len = 0, cap = 1024;
    char *in = vnd_xmalloc(cap);
    in[0] = 0;
    for (int i = 0; i < n; i++) {
        char *t = vnd_capture_rule_text(&rules[i]);
        size_t tl = strlen(t);
        if (len + tl + 6 > cap) {
            cap = (len + tl + 6) * 2;
            in = vnd_xrealloc(in, cap);
        }
        len += (size_t)sprintf(in + len, "add %s\n", t);
        free(t);
    }
    char *args[] = {"--bundle", "add-flows", (char *)target, "-"};
    int rc = ofctl(args, 4, in, NULL, err);
    free(in);
    return rc;
}

int vnd_ovs_delete(const char *target, uint64_t cookie, uint64_t mask, char **err)
{
    char spec[96];
    snprintf(spec, sizeof spec, "table=0,cookie=0x%016" PRIx64 "/0x%016" PRIx64, cookie, mask);
    char *args[] = {"del-flows", (char *)target, spec};
    return ofctl(args, 3, NULL, NULL, err);
}

int vnd_ovs_delete_groups(const char *target, const int *tags, int n, char **err)
{
    if (n <= 0)
        return 0;
    char *in = vnd_xmalloc((size_t)n * 32 + 1);
    size_t len = 0;
    in[0] = 0;
    for (int i = 0; i < n; i++)
        len += (size_t)sprintf(in + len, "group_id=%" PRIu32 "\n", VND_GROUP_ID(tags[i]));
    char *args[] = {"del-groups", (char *)target, "-"};
    int rc = ofctl_v("OpenFlow15", args, 3, in, NULL, err);
    free(in);
    return rc;
}

int vnd_ovs_group_tags(const char *target, int **tags, int *n, char **err)
{
    char *args[] = {"dump-groups", (char *)target};
    char *out = NULL;
    *tags = NULL;
    *n = 0;
    if (ofctl_v("OpenFlow15", args, 2, NULL, &out, err))
        return -1;
    for (char *p = out; (p = strstr(p, "group_id=")); ) {
        p += 9;
        unsigned long id = strtoul(p, &p, 10);
        if ((id & VND_GROUP_MASK) != VND_GROUP_ID(0))
            continue;
        *tags = vnd_xrealloc(*tags, (size_t)(*n + 1) * sizeof **tags);
        (*tags)[(*n)++] = (int)(id & 0xffff);
    }
    free(out);
    return 0;
}

int vnd_ovs_cookies(const char *target, uint64_t **cookies, int *n, char **err)
{
    char spec[96];
    snprintf(spec, sizeof spec, "table=0,cookie=0x%016" PRIx64 "/0x%016" PRIx64,
             VND_COOKIE_MAGIC << 48, VND_COOKIE_MAGIC_MASK);
    char *args[] = {"dump-flows", (char *)target, spec};
    char *out = NULL;
    *cookies = NULL;
    *n = 0;
    if (ofctl(args, 3, NULL, &out, err))
        return -1;
    for (char *p = out; (p = strstr(p, "cookie=0x")); ) {
        p += 9;
        uint64_t c = strtoull(p, &p, 16);
        *cookies = vnd_xrealloc(*cookies, (size_t)(*n + 1) * sizeof **cookies);
        (*cookies)[(*n)++] = c;
    }
    free(out);
    return 0;
}

int vnd_ovs_ensure_layout(const char *target, int *added, char **err)
{
    char *args[] = {"dump-flows", (char *)target, "table=0"};
    char *out = NULL;
    *added = 0;
    if (ofctl(args, 3, NULL, &out, err))
        return -1;
    bool present = false;
    for (char *line = strtok(out, "\n"); line && !present; line = strtok(NULL, "\n"))
        present = (strstr(line, "priority=0 ") || strstr(line, "priority=0,"))
                  && strstr(line, "goto_table:1");
    free(out);
    if (present)
        return 0;
    char *add[] = {"add-flow", (char *)target, "table=0,priority=0,actions=goto_table:1"};
    if (ofctl(add, 3, NULL, NULL, err))
        return -1;
    *added = 1;
    return 0;
}

/* Runs ovs-vsctl (with --db when given) on `args`. */
static int vsctl(const char *ovsdb, char *const *args, int nargs, char **out, char **err)
{
    char *argv[32];
    int k = 0;
    char *db = ovsdb ? vnd_strdup_printf("--db=%s", ovsdb) : NULL;
    argv[k++] = "ovs-vsctl";
    if (db)
        argv[k++] = db;
    argv[k++] = "--timeout=10";
    for (int i = 0; i < nargs && k < 31; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    int rc = tool(argv, "ovs-vsctl", NULL, out, err);
    free(db);
    return rc;
}

int vnd_ovs_sflow_set(const char *ovsdb, const char *bridge, const struct vnd_sflow_conf *c,
                      char **err)
{
    if (!c || !c->target) {
        char *args[] = {"clear", "bridge", (char *)bridge, "sflow"};
        return vsctl(ovsdb, args, 4, NULL, err);
    }
    char *targets = vnd_strdup_printf("targets=\"%s\"", c->target);
    char *header = vnd_strdup_printf("header=%d", c->header > 0 ? c->header : 128);
    char *sampling = vnd_strdup_printf("sampling=%d", c->sampling > 0 ? c->sampling : 1);
    char *polling = vnd_strdup_printf("polling=%d", c->polling > 0 ? c->polling : 10);
    char *agent = c->agent ? vnd_strdup_printf("agent=%s", c->agent) : NULL;
    char *set = vnd_strdup_printf("sflow=@s");
    char *args[16];
    int k = 0;
    args[k++] = "--";
    args[k++] = "--id=@s";
    args[k++] = "create";
    args[k++] = "sflow";
    args[k++] = targets;
    args[k++] = header;
    args[k++] = sampling;
    args[k++] = polling;
    if (agent)
        args[k++] = agent;
    args[k++] = "--";
    args[k++] = "set";
    args[k++] = "bridge";
    args[k++] = (char *)bridge;
    args[k++] = set;
    int rc = vsctl(ovsdb, args, k, NULL, err);
    free(targets);
    free(header);
    free(sampling);
    free(polling);
    free(agent);
    free(set);
    return rc;
}

/* An integer column as ovs-vsctl prints it: "10", or "[]" when empty (0). */
static int int_column(const char *line)
{
    return line && *line >= '0' && *line <= '9' ? atoi(line) : 0;
}

int vnd_ovs_sflow_get(const char *ovsdb, const char *bridge, struct vnd_sflow_state *s,
                      char **err)
{
    memset(s, 0, sizeof *s);
    char *args[] = {"get", "bridge", (char *)bridge, "sflow"};
    char *out = NULL;
    if (vsctl(ovsdb, args, 4, &out, err))
        return -1;
    char uuid[64];
    size_t n = strspn(out, "0123456789abcdef-");
    bool has = n >= 36 && n < sizeof uuid;
    if (has)
        snprintf(uuid, sizeof uuid, "%.*s", (int)n, out);
    free(out);
    if (!has)
        return 0;
    char *cols[] = {"get", "sflow", uuid, "sampling", "header", "polling", "targets"};
    out = NULL;
    if (vsctl(ovsdb, cols, 7, &out, err))
        return -1;
    char *line[4] = {NULL};
    char *save = NULL;
    line[0] = strtok_r(out, "\n", &save);
    for (int i = 1; i < 4 && line[i - 1]; i++)
        line[i] = strtok_r(NULL, "\n", &save);
    s->set = true;
    s->sampling = int_column(line[0]);
    s->header = int_column(line[1]);
    s->polling = int_column(line[2]);
    /* targets: ["127.0.0.1:6343"] or ["a", "b"] */
    for (const char *p = line[3]; p && (p = strchr(p, '"')); ) {
        const char *e = strchr(++p, '"');
        if (!e)
            break;
        if (s->ntargets++ == 0)
            snprintf(s->target, sizeof s->target, "%.*s", (int)(e - p), p);
        p = e + 1;
    }
    free(out);
    return 0;
}

int vnd_ovs_ipfix_set(const char *ovsdb, const char *bridge, const struct vnd_ipfix_conf *c,
                      char **err)
{
    /* the bridge's set, if any: sets are found by id and bridge (no name) */
    char *get[] = {"--bare", "get", "bridge", (char *)bridge, "_uuid"};
    char *br = NULL, *found = NULL;
    if (vsctl(ovsdb, get, 5, &br, err))
        return -1;
    br[strcspn(br, "\r\n")] = 0;
    char *id = vnd_strdup_printf("id=%d", VND_IPFIX_SET);
    char *on = vnd_strdup_printf("bridge=%s", br);
    char *find[] = {"--bare", "--columns=_uuid", "find", "flow_sample_collector_set", id, on};
    int rc = vsctl(ovsdb, find, 6, &found, err);
    if (!rc)
        found[strcspn(found, "\r\n")] = 0;
    if (!rc && !c) {
        if (*found) {
            char *destroy[] = {"destroy", "flow_sample_collector_set", found};
            rc = vsctl(ovsdb, destroy, 3, NULL, err);
        }
    } else if (!rc) {
        char *targets = vnd_strdup_printf("targets=\"%s\"", c->target);
        char *timeout = vnd_strdup_printf("cache_active_timeout=%d", c->active_timeout);
        char *flows = vnd_strdup_printf("cache_max_flows=%d", c->max_flows);
        char *set_br = vnd_strdup_printf("bridge=%s", br);
        char *args[16];
        int k = 0;
        args[k++] = "--";
        args[k++] = "--id=@i";
        args[k++] = "create";
        args[k++] = "ipfix";
        args[k++] = targets;
        args[k++] = timeout;
        args[k++] = flows;
        args[k++] = "--";
        if (*found) {
            args[k++] = "set";
            args[k++] = "flow_sample_collector_set";
            args[k++] = found;
        } else {
            args[k++] = "create";
            args[k++] = "flow_sample_collector_set";
            args[k++] = id;
            args[k++] = set_br;
        }
        args[k++] = "ipfix=@i";
        rc = vsctl(ovsdb, args, k, NULL, err);
        free(targets);
        free(timeout);
        free(flows);
        free(set_br);
    }
    free(id);
    free(on);
    free(br);
    free(found);
    return rc;
}

int vnd_ovs_ifindex(const char *ovsdb, const char *bridge, int ofport, uint32_t *ifindex,
                    char **err)
{
    /* the bridge's interfaces, then every interface's number and ifindex:
     * OpenFlow port numbers are per bridge */
    char *args[] = {"--format=csv", "--no-headings", "list-ifaces", (char *)bridge, "--",
                    "--columns=name,ofport,ifindex", "list", "Interface"};
    char *out = NULL;
    if (vsctl(ovsdb, args, 8, &out, err))
        return -1;
    *ifindex = 0;
    char **names = NULL;
    int nnames = 0, rows = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char *c1 = strchr(line, ',');
        if (!c1) {
            names = vnd_xrealloc(names, (size_t)(nnames + 1) * sizeof *names);
            names[nnames++] = line;
            continue;
        }
        *c1 = 0;
        char *name = line;
        if (*name == '"') {
            name++;
            name[strcspn(name, "\"")] = 0;
        }
        bool ours = false;
        for (int i = 0; i < nnames && !ours; i++)
            ours = !strcmp(names[i], name);
        char *c2 = strchr(c1 + 1, ',');
        if (!ours || !c2 || atoi(c1 + 1) != ofport)
            continue;
        rows++;
        *ifindex = (uint32_t)strtoul(c2 + 1, NULL, 10);
    }
    free(names);
    free(out);
    if (rows != 1 || !*ifindex) {
        *err = vnd_strdup_printf("%s port %d: %s", bridge, ofport,
                                 rows == 0 ? "no such interface"
                                 : rows > 1 ? "several interfaces have this number"
                                            : "its interface has no ifindex (sFlow cannot "
                                              "name it)");
        return -1;
    }
    return 0;
}
