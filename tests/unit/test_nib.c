/* test_nib.c — the network information base: a valid NIB (two hosts, two
 * tenants with the same private addresses), every validation error with
 * its JSON path, token look-up, the secret file's checks, filling ports
 * from OVSDB (a stand-in ovs-vsctl) and SHA-256 against known vectors. */
#include "../tap.h"

#include <jansson.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control/nib.h"

#define ALICE_TOKEN "alice-token-0123456789"
#define ALICE_SHA "965b04f03a8200d4bff70f6df635c1d4d3e9c9a1d164d415efc95b9304bfbaf2"
#define BOB_TOKEN "bob-token-0123456789"
#define BOB_SHA "0357e24c1cb1874dde0773886097863f71ac666f63fba1e9d4c623b79ffda11f"

static const char *const VALID =
    "{\"hosts\": [\n"
    "  {\"name\": \"hv1\", \"bridge\": \"br-int\", \"mirror_port\": 9,\n"
    "   \"table_server\": {\"url\": \"http://127.0.0.1:7430/\", \"secret_file\": \"hv1.secret\"}},\n"
    "  {\"name\": \"hv2\", \"bridge\": \"br-int\", \"ofctl\": \"unix:/run/openvswitch/br-int.mgmt\",\n"
    "   \"ovsdb\": \"unix:/run/openvswitch/db.sock\", \"mirror_port\": 9,\n"
    "   \"table_server\": {\"url\": \"https://hv2.example:7430\", \"secret_file\": \"/etc/vnd/hv2.secret\"}}\n"
    " ],\n"
    " \"tenants\": [\n"
    "  {\"id\": \"alice\", \"token_sha256\": \"" ALICE_SHA "\",\n"
    "   \"quota\": {\"live_diagnoses\": 4, \"rows\": 10000000, \"bytes\": 1073741824, \"retention_s\": 86400},\n"
    "   \"nodes\": [\n"
    "    {\"name\": \"client\", \"kind\": \"vm\",\n"
    "     \"ports\": [{\"name\": \"eth0\", \"host\": \"hv1\", \"ofport\": 1, \"mac\": \"02:00:00:00:01:02\", \"ip\": \"10.0.1.2\"}]},\n"
    "    {\"name\": \"ids\", \"kind\": \"appliance\", \"input\": \"in\", \"output\": \"out\",\n"
    "     \"ports\": [{\"name\": \"in\", \"host\": \"hv1\", \"ofport\": 3, \"mac\": \"02:00:00:00:01:03\"},\n"
    "               {\"name\": \"out\", \"host\": \"hv1\", \"ofport\": 4, \"mac\": \"02:00:00:00:01:04\"}]},\n"
    "    {\"name\": \"server\", \"kind\": \"vm\",\n"
    "     \"ports\": [{\"name\": \"eth0\", \"host\": \"hv2\", \"ofport\": 1, \"mac\": \"02:00:00:00:01:05\", \"ip\": \"10.0.1.3\"}]}\n"
    "   ],\n"
    "   \"links\": [{\"name\": \"l1\", \"ends\": [\"client.eth0\", \"ids.in\"]},\n"
    "             {\"name\": \"l2\", \"ends\": [\"ids.out\", \"server\"]}]},\n"
    "  {\"id\": \"bob\", \"token_sha256\": \"" BOB_SHA "\",\n"
    "   \"nodes\": [\n"
    "    {\"name\": \"client\", \"kind\": \"vm\",\n"
    "     \"ports\": [{\"name\": \"eth0\", \"host\": \"hv1\", \"ofport\": 2, \"mac\": \"02:00:00:00:02:02\", \"ip\": \"10.0.1.2\"}]},\n"
    "    {\"name\": \"server\", \"kind\": \"vm\",\n"
    "     \"ports\": [{\"name\": \"eth0\", \"host\": \"hv2\", \"ofport\": 2, \"mac\": \"02:00:00:00:02:05\", \"ip\": \"10.0.1.3\"}]}\n"
    "   ],\n"
    "   \"links\": [{\"name\": \"l1\", \"ends\": [\"client\", \"server.eth0\"]}]}\n"
    " ]}\n";

static struct vnd_nib *parse(const char *text, const char *base_dir)
{
    struct vnd_nib *nib = NULL;
    char *err = NULL;
    if (vnd_nib_parse(text, strlen(text), "t.json", base_dir, &nib, &err)) {
        printf("# %s\n", err);
        free(err);
        return NULL;
    }
    return nib;
}

static void error_is(const char *text, const char *want, const char *what)
{
    struct vnd_nib *nib = (struct vnd_nib *)1;
    char *err = NULL;
    int rc = vnd_nib_parse(text, strlen(text), "t.json", NULL, &nib, &err);
    CHECK(rc == -1 && nib == NULL, "refused: %s", what);
    CHECK_EQ_STR(err, want, "error: %s", what);
    free(err);
}

/* The valid NIB with one change: `path` is dot-separated ("tenants.1.
 * nodes.0.ports.0.mac"), numbers index arrays; v NULL deletes. */
static char *mutate(const char *path, json_t *v)
{
    json_t *root = json_loads(VALID, 0, NULL);
    json_t *cur = root;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL, *seg = strtok_r(buf, ".", &save);
    while (seg) {
        char *next = strtok_r(NULL, ".", &save);
        bool idx = seg[0] >= '0' && seg[0] <= '9';
        if (!next) {
            if (idx && !v)
                json_array_remove(cur, (size_t)atoi(seg));
            else if (idx)
                json_array_set_new(cur, (size_t)atoi(seg), v);
            else if (!v)
                json_object_del(cur, seg);
            else
                json_object_set_new(cur, seg, v);
            break;
        }
        cur = idx ? json_array_get(cur, (size_t)atoi(seg)) : json_object_get(cur, seg);
        seg = next;
    }
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return text;
}

static void mutated_error_is(const char *path, json_t *v, const char *want)
{
    char *text = mutate(path, v);
    char what[128];
    snprintf(what, sizeof what, "%s changed", path);
    error_is(text, want, what);
    free(text);
}

static void valid_nib(void)
{
    struct vnd_nib *nib = parse(VALID, NULL);
    CHECK(nib != NULL, "the valid NIB loads");
    if (!nib)
        return;
    CHECK_EQ_INT(nib->nhosts, 2, "two hosts");
    CHECK_EQ_STR(nib->hosts[0].name, "hv1", "host name");
    CHECK_EQ_STR(nib->hosts[0].ofctl, "br-int", "ofctl defaults to the bridge");
    CHECK(nib->hosts[0].ovsdb == NULL, "no ovsdb: the default");
    CHECK_EQ_STR(nib->hosts[0].tabled_url, "http://127.0.0.1:7430", "trailing / cut");
    CHECK(nib->hosts[0].tabled_secret == NULL, "no base_dir: secret not read");
    CHECK_EQ_INT(nib->hosts[0].mirror_port, 9, "mirror port");
    CHECK_EQ_STR(nib->hosts[1].ofctl, "unix:/run/openvswitch/br-int.mgmt", "ofctl given");
    CHECK_EQ_STR(nib->hosts[1].ovsdb, "unix:/run/openvswitch/db.sock", "ovsdb given");
    CHECK_EQ_STR(nib->hosts[1].tabled_url, "https://hv2.example:7430", "https url kept");
    CHECK_EQ_INT(nib->ntenants, 2, "two tenants");

    const struct vnd_nib_tenant *a = vnd_nib_tenant_by_id(nib, "alice");
    const struct vnd_nib_tenant *b = vnd_nib_tenant_by_id(nib, "bob");
    CHECK(a == &nib->tenants[0] && b == &nib->tenants[1], "tenants by id");
    CHECK(vnd_nib_tenant_by_id(nib, "carol") == NULL, "no tenant carol");
    if (!a || !b)
        goto out;
    CHECK_EQ_INT(a->quota.live_diagnoses, 4, "quota live_diagnoses");
    CHECK_EQ_INT(a->quota.rows, 10000000, "quota rows");
    CHECK_EQ_INT(a->quota.bytes, 1073741824LL, "quota bytes");
    CHECK_EQ_INT(a->quota.retention_s, 86400, "quota retention");
    CHECK_EQ_INT(b->quota.rows, 0, "no quota: no limit");
    CHECK_EQ_INT(a->nnodes, 3, "alice has 3 nodes");
    const struct vnd_nib_node *ids = vnd_nib_node(a, "ids");
    CHECK(ids && ids->kind == VND_NIB_APPLIANCE, "ids is an appliance");
    if (ids) {
        CHECK_EQ_INT(ids->input, 0, "ids input = port in");
        CHECK_EQ_INT(ids->output, 1, "ids output = port out");
        CHECK_EQ_INT(ids->ports[1].ofport, 4, "ids.out ofport");
        CHECK(ids->ports[0].ip == NULL, "no ip given");
    }
    const struct vnd_nib_node *ac = vnd_nib_node(a, "client"), *bc = vnd_nib_node(b, "client");
    CHECK(ac && ac->kind == VND_NIB_VM && ac->input == 0 && ac->output == 0,
          "a VM with one port: input = output = 0");
    CHECK(ac && bc && !strcmp(ac->ports[0].ip, bc->ports[0].ip), "same IP in both tenants");
    CHECK(ac && bc && ac->ports[0].ofport == 1 && bc->ports[0].ofport == 2,
          "but different ports");
    CHECK(vnd_nib_node(a, "nope") == NULL, "no node nope");
    const struct vnd_nib_link *l2 = vnd_nib_link(a, "l2");
    CHECK(l2 && l2->node[0] == 1 && l2->port[0] == 1 && l2->node[1] == 2 && l2->port[1] == 0,
          "l2: ids.out - server (one port: node name alone)");
    const struct vnd_nib_link *bl = vnd_nib_link(b, "l1");
    CHECK(bl && bl->node[0] == 0 && bl->port[0] == 0 && bl->node[1] == 1 && bl->port[1] == 0,
          "bob's l1");
    CHECK(vnd_nib_link(a, "l3") == NULL, "no link l3");
out:
    vnd_nib_free(nib);
    vnd_nib_free(NULL);
}

static void normalized(void)
{
    char *text = mutate("tenants.0.nodes.0.ports.0.mac", json_string("02:AB:00:00:01:0F"));
    struct vnd_nib *nib = parse(text, NULL);
    CHECK(nib && !strcmp(nib->tenants[0].nodes[0].ports[0].mac, "02:ab:00:00:01:0f"),
          "MAC in lower case");
    vnd_nib_free(nib);
    free(text);

    text = mutate("tenants.0.nodes.0.ports.0.ip", json_string("fd00::1:2"));
    nib = parse(text, NULL);
    CHECK(nib && !strcmp(nib->tenants[0].nodes[0].ports[0].ip, "fd00::1:2"), "IPv6 kept as text");
    vnd_nib_free(nib);
    free(text);

    /* a VM with two ports: no input/output, links name the port */
    static const char two_ports[] =
        "[{\"name\": \"eth0\", \"host\": \"hv2\", \"ofport\": 1, \"mac\": \"02:00:00:00:01:05\"},"
        " {\"name\": \"eth1\", \"host\": \"hv2\", \"ofport\": 5, \"mac\": \"02:00:00:00:01:06\"}]";
    text = mutate("tenants.0.nodes.2.ports", json_loads(two_ports, 0, NULL));
    error_is(text, "t.json: tenants[0].links[1].ends[1]: node \"server\" has 2 ports; write "
             "server.PORT", "a several-port node named alone");
    json_t *root = json_loads(text, 0, NULL);
    free(text);
    json_t *t0 = json_array_get(json_object_get(root, "tenants"), 0);
    json_array_set_new(json_object_get(json_array_get(json_object_get(t0, "links"), 1), "ends"),
                       1, json_string("server.eth1"));
    text = json_dumps(root, 0);
    json_decref(root);
    nib = parse(text, NULL);
    CHECK(nib != NULL, "a VM with two ports loads");
    if (nib) {
        const struct vnd_nib_node *s = vnd_nib_node(&nib->tenants[0], "server");
        CHECK(s && s->input == -1 && s->output == -1, "a VM with several ports: -1");
        CHECK_EQ_INT(nib->tenants[0].links[1].port[1], 1, "link names server.eth1");
    }
    vnd_nib_free(nib);
    free(text);

    /* names with dots: "web.1.eth0" is node web.1, port eth0 */
    text = mutate("tenants.0.nodes.0.name", json_string("web.1"));
    char *text2 = NULL;
    {
        json_t *r = json_loads(text, 0, NULL);
        json_t *t = json_array_get(json_object_get(r, "tenants"), 0);
        json_array_set_new(json_object_get(json_array_get(json_object_get(t, "links"), 0), "ends"),
                           0, json_string("web.1.eth0"));
        text2 = json_dumps(r, 0);
        json_decref(r);
    }
    nib = parse(text2, NULL);
    CHECK(nib && nib->tenants[0].links[0].node[0] == 0 && nib->tenants[0].links[0].port[0] == 0,
          "node names with dots resolve");
    vnd_nib_free(nib);
    free(text);
    free(text2);

    /* ports given by iface_id only: ofport 0 and no MAC until OVS fills them */
    json_t *port = json_pack("{s:s, s:s, s:s}", "name", "eth0", "host", "hv1", "iface_id",
                             "3f1c6a2e-0b7d-4c1e-9a55-1d2c3b4a5f60");
    text = mutate("tenants.0.nodes.0.ports.0", port);
    nib = parse(text, NULL);
    CHECK(nib && nib->tenants[0].nodes[0].ports[0].ofport == 0
          && nib->tenants[0].nodes[0].ports[0].mac == NULL
          && !strcmp(nib->tenants[0].nodes[0].ports[0].iface_id,
                     "3f1c6a2e-0b7d-4c1e-9a55-1d2c3b4a5f60"), "iface_id alone: filled later");
    vnd_nib_free(nib);
    free(text);
}

static void errors(void)
{
    error_is("{\"hosts\": [,]}", "t.json:1:12: unexpected token near ','", "syntax error");
    error_is("{\"hosts\": [],\n \"hosts\": []}",
             "t.json:2:8: duplicate object key near '\"hosts\"'", "duplicate key");
    error_is("[]", "t.json: expected an object with \"hosts\" and \"tenants\", found an array",
             "not an object");
    error_is("{\"hosts\": [], \"tenants\": [], \"host\": 1}", "t.json: unknown key \"host\"; the "
             "keys here are hosts, tenants", "unknown top key");
    error_is("{\"hosts\": []}", "t.json: missing \"tenants\" (the tenants)", "no tenants");
    error_is("{\"hosts\": {}, \"tenants\": []}", "t.json: hosts: expected an array (the "
             "hypervisors), found an object", "hosts not an array");
    error_is("{\"hosts\": [], \"tenants\": []}{}", "t.json:1:29: end of file expected near '{'",
             "trailing text");

    mutated_error_is("hosts.0", json_integer(5),
                     "t.json: hosts[0]: expected an object (a host), found an integer");
    mutated_error_is("hosts.0.brige", json_string("x"), "t.json: hosts[0]: unknown key \"brige\"; "
                     "the keys here are name, bridge, ofctl, ovsdb, mirror_port, table_server, "
                     "budget");
    mutated_error_is("hosts.0.budget", json_integer(30),
                     "t.json: hosts[0].budget: expected an object ({\"cpu_pct\": N} or "
                     "{\"drop_pct\": D}), found an integer");
    mutated_error_is("hosts.0.budget", json_pack("{s:i}", "cpu_pct", 0),
                     "t.json: hosts[0].budget.cpu_pct: 0 is out of range (percent of one core for "
                     "ovs-vswitchd and the table server together: 1 to 6400)");
    mutated_error_is("hosts.0.budget", json_pack("{s:i}", "cpus", 30),
                     "t.json: hosts[0].budget: unknown key \"cpus\"; the keys here are cpu_pct, "
                     "drop_pct, copy_ns");
    mutated_error_is("hosts.0.budget", json_pack("{s:i}", "copy_ns", 2800),
                     "t.json: hosts[0].budget: says no budget: give \"cpu_pct\" (percent of one "
                     "core for ovs-vswitchd and the table server), \"drop_pct\" (percent of tenant "
                     "throughput copying may cost), or both");
    mutated_error_is("hosts.0.budget", json_pack("{s:i, s:i}", "drop_pct", 10, "copy_ns", 0),
                     "t.json: hosts[0].budget.copy_ns: 0 is out of range (nanoseconds of the "
                     "switch's CPU per copied packet (bench/cost.sh): 1 to 10000000)");
    {
        char *text = mutate("hosts.0.budget", json_pack("{s:i, s:i}", "drop_pct", 10,
                                                        "copy_ns", 2800));
        struct vnd_nib *nib = parse(text, NULL);
        CHECK(nib && nib->hosts[0].budget_drop_pct == 10 && nib->hosts[0].budget_copy_ns == 2800
                  && nib->hosts[1].budget_copy_ns == 0,
              "the switch's CPU per copy is read with a budget (2800 ns); unknown elsewhere");
        vnd_nib_free(nib);
        free(text);
    }
    mutated_error_is("hosts.0.budget", json_object(),
                     "t.json: hosts[0].budget: says no budget: give \"cpu_pct\" (percent of one "
                     "core for ovs-vswitchd and the table server), \"drop_pct\" (percent of tenant "
                     "throughput copying may cost), or both");
    mutated_error_is("hosts.0.budget", json_pack("{s:i}", "drop_pct", 95),
                     "t.json: hosts[0].budget.drop_pct: 95 is out of range (percent of tenant "
                     "throughput copying may cost: 1 to 90)");
    /* {key: value} -> (cpu, drop) of hosts[0]; hosts[1] has none */
    static const struct { const char *key; int value, cpu, drop; const char *what; } budgets[] = {
        {"cpu_pct", 40, 40, 0, "a host's budget is read; a host without one has none"},
        {"drop_pct", 5, 0, 5, "a tolerated drop alone is a budget"},
    };
    for (size_t i = 0; i < sizeof budgets / sizeof *budgets; i++) {
        char *text = mutate("hosts.0.budget", json_pack("{s:i}", budgets[i].key,
                                                        budgets[i].value));
        struct vnd_nib *nib = parse(text, NULL);
        CHECK(nib && nib->hosts[0].budget_cpu_pct == budgets[i].cpu
                  && nib->hosts[0].budget_drop_pct == budgets[i].drop
                  && nib->hosts[1].budget_cpu_pct == 0 && nib->hosts[1].budget_drop_pct == 0,
              "%s", budgets[i].what);
        vnd_nib_free(nib);
        free(text);
    }
    mutated_error_is("hosts.0.bridge", NULL,
                     "t.json: hosts[0]: missing \"bridge\" (the integration bridge)");
    mutated_error_is("hosts.0.name", json_string("hv 1"), "t.json: hosts[0].name: not a name "
                     "(\"hv 1\"); use 1 to 63 letters, digits, '_', '-' or '.'");
    mutated_error_is("hosts.1.name", json_string("hv1"),
                     "t.json: hosts[1].name: \"hv1\" is already the name of hosts[0]");
    mutated_error_is("hosts.0.mirror_port", json_string("9"), "t.json: hosts[0].mirror_port: "
                     "expected an integer (the mirror port's OpenFlow number), found a string");
    mutated_error_is("hosts.0.mirror_port", json_integer(65280), "t.json: hosts[0].mirror_port: "
                     "65280 is out of range (the mirror port's OpenFlow number: 1 to 65279)");
    mutated_error_is("hosts.0.mirror_port", json_real(9.0), "t.json: hosts[0].mirror_port: "
                     "expected an integer (the mirror port's OpenFlow number), found a real number");
    mutated_error_is("hosts.0.ofctl", json_string("--help"), "t.json: hosts[0].ofctl: not a "
                     "switch for ovs-ofctl (\"--help\"); write e.g. unix:/run/openvswitch/br-int.mgmt");
    mutated_error_is("hosts.0.table_server.url", json_string("ftp://x"), "t.json: hosts[0]."
                     "table_server.url: must start with http:// or https:// (\"ftp://x\")");
    mutated_error_is("hosts.0.table_server.url", json_string("http:///"),
                     "t.json: hosts[0].table_server.url: no host in \"http:///\"");
    mutated_error_is("hosts.0.table_server.url", json_string("http://a b"), "t.json: hosts[0]."
                     "table_server.url: not a URL (\"http://a b\"): no blanks or control "
                     "characters, at most 1024 bytes");
    mutated_error_is("hosts.0.table_server.secret_file", NULL, "t.json: hosts[0].table_server: "
                     "missing \"secret_file\" (the file holding the table server's secret)");
    mutated_error_is("hosts.0.table_server", NULL, "t.json: hosts[0]: missing \"table_server\" "
                     "({\"url\": ..., \"secret_file\": ...})");

    mutated_error_is("tenants.0.id", json_string("Alice"), "t.json: tenants[0].id: not a tenant "
                     "id (\"Alice\"); use 1 to 32 of a-z, 0-9 and _");
    mutated_error_is("tenants.0.id", json_string("abcdefghijklmnopqrstuvwxyz0123456"),
                     "t.json: tenants[0].id: not a tenant id (\"abcdefghijklmnopqrstuvwxyz0123456\"); "
                     "use 1 to 32 of a-z, 0-9 and _");
    mutated_error_is("tenants.1.id", json_string("alice"),
                     "t.json: tenants[1].id: \"alice\" is already the id of tenants[0]");
    mutated_error_is("tenants.0.token_sha256", json_string("abc"), "t.json: tenants[0]."
                     "token_sha256: not a SHA-256 (\"abc\"); write 64 hex digits, made with: "
                     "printf %s \"$TOKEN\" | sha256sum");
    mutated_error_is("tenants.1.token_sha256", json_string(ALICE_SHA), "t.json: tenants[1]."
                     "token_sha256: the same as tenants[0]'s; every tenant needs a token of its own");
    mutated_error_is("tenants.0.quota.rows", json_integer(-1), "t.json: tenants[0].quota.rows: "
                     "must be from 0 (no limit) to 9223372036854775807, not -1");
    mutated_error_is("tenants.0.quota.cpu", json_integer(1), "t.json: tenants[0].quota: unknown "
                     "key \"cpu\"; the keys here are live_diagnoses, rows, bytes, retention_s");
    mutated_error_is("tenants.0.quota", json_integer(1), "t.json: tenants[0].quota: expected an "
                     "object (the tenant's limits), found an integer");

    mutated_error_is("tenants.0.nodes.1.name", json_string("a/b"), "t.json: tenants[0].nodes[1]."
                     "name: not a name (\"a/b\"); use 1 to 63 letters, digits, '_', '-' or '.'");
    mutated_error_is("tenants.0.nodes.2.name", json_string("client"), "t.json: tenants[0]."
                     "nodes[2].name: \"client\" is already the name of nodes[0]");
    mutated_error_is("tenants.0.nodes.1.kind", json_string("router"), "t.json: tenants[0]."
                     "nodes[1].kind: \"router\" is not a kind; write \"vm\" or \"appliance\"");
    mutated_error_is("tenants.0.nodes.1.input", NULL, "t.json: tenants[0].nodes[1]: missing "
                     "\"input\" (the name of the appliance's input port)");
    mutated_error_is("tenants.0.nodes.1.output", json_string("eth9"), "t.json: tenants[0]."
                     "nodes[1].output: no port \"eth9\" in this node's ports");
    mutated_error_is("tenants.0.nodes.0.input", json_string("eth0"), "t.json: tenants[0]."
                     "nodes[0].input: only an appliance has input and output ports; a VM's "
                     "capture points are its ports");
    mutated_error_is("tenants.0.nodes.0.ports", json_array(),
                     "t.json: tenants[0].nodes[0].ports: a node needs at least one port");
    mutated_error_is("tenants.0.nodes.1.ports.1.name", json_string("in"), "t.json: tenants[0]."
                     "nodes[1].ports[1].name: \"in\" is already the name of ports[0]");

    mutated_error_is("tenants.1.nodes.0.ports.0.mac", json_string("02:00:00:00:00:0g"),
                     "t.json: tenants[1].nodes[0].ports[0].mac: not a MAC address "
                     "(\"02:00:00:00:00:0g\"); write six hex pairs like 02:00:00:00:00:01");
    mutated_error_is("tenants.1.nodes.0.ports.0.mac", json_string("02-00-00-00-02-02"),
                     "t.json: tenants[1].nodes[0].ports[0].mac: not a MAC address "
                     "(\"02-00-00-00-02-02\"); write six hex pairs like 02:00:00:00:00:01");
    mutated_error_is("tenants.1.nodes.0.ports.0.mac", json_string("02:00:00:00:01:04"),
                     "t.json: tenants[1].nodes[0].ports[0].mac: 02:00:00:00:01:04 is already the "
                     "MAC of tenants[0].nodes[1].ports[1]");
    mutated_error_is("tenants.1.nodes.0.ports.0.mac", json_string("02:00:00:00:01:04"),
                     "t.json: tenants[1].nodes[0].ports[0].mac: 02:00:00:00:01:04 is already the "
                     "MAC of tenants[0].nodes[1].ports[1]");
    mutated_error_is("tenants.1.nodes.0.ports.0.ofport", json_integer(3),
                     "t.json: tenants[1].nodes[0].ports[0].ofport: port 3 of host hv1 is already "
                     "tenants[0].nodes[1].ports[0]");
    mutated_error_is("tenants.1.nodes.0.ports.0.ofport", json_integer(9),
                     "t.json: tenants[1].nodes[0].ports[0].ofport: port 9 of host hv1 is already "
                     "hosts[0].mirror_port");
    mutated_error_is("tenants.0.nodes.0.ports.0.ofport", json_integer(70000),
                     "t.json: tenants[0].nodes[0].ports[0].ofport: 70000 is not an OpenFlow port "
                     "number (1 to 65279)");
    mutated_error_is("tenants.0.nodes.0.ports.0.ofport", json_integer(0),
                     "t.json: tenants[0].nodes[0].ports[0].ofport: 0 is not an OpenFlow port "
                     "number (1 to 65279)");
    mutated_error_is("tenants.0.nodes.0.ports.0.ofport", NULL,
                     "t.json: tenants[0].nodes[0].ports[0]: missing \"ofport\" (the port's "
                     "OpenFlow number; or give \"iface_id\" to read it from OVS)");
    mutated_error_is("tenants.0.nodes.0.ports.0.mac", NULL,
                     "t.json: tenants[0].nodes[0].ports[0]: missing \"mac\" (the port's MAC "
                     "address; or give \"iface_id\" to read it from OVS)");
    mutated_error_is("tenants.0.nodes.0.ports.0.host", json_string("hv3"),
                     "t.json: tenants[0].nodes[0].ports[0].host: no host \"hv3\" in hosts");
    mutated_error_is("tenants.0.nodes.0.ports.0.ip", json_string("10.0.1.300"),
                     "t.json: tenants[0].nodes[0].ports[0].ip: not an IP address (\"10.0.1.300\"); "
                     "write one IPv4 or IPv6 address like 10.0.1.2 or fd00::2, without a prefix "
                     "length");
    mutated_error_is("tenants.0.nodes.0.ports.0.ip", json_string("10.0.1.0/24"),
                     "t.json: tenants[0].nodes[0].ports[0].ip: not an IP address (\"10.0.1.0/24\"); "
                     "write one IPv4 or IPv6 address like 10.0.1.2 or fd00::2, without a prefix "
                     "length");
    mutated_error_is("tenants.0.nodes.0.ports.0.iface_id", json_string("a b"),
                     "t.json: tenants[0].nodes[0].ports[0].iface_id: not an interface id "
                     "(\"a b\"); use 1 to 255 letters, digits, '-', '_', '.' or ':'");
    mutated_error_is("tenants.0.nodes.0.ports.0.vlan", json_integer(5),
                     "t.json: tenants[0].nodes[0].ports[0]: unknown key \"vlan\"; the keys here "
                     "are name, host, ofport, mac, ip, iface_id");

    mutated_error_is("tenants.0.links.0.ends", json_pack("[sss]", "client", "ids.in", "server"),
                     "t.json: tenants[0].links[0].ends: a link has 2 ends, found 3");
    mutated_error_is("tenants.0.links.0.ends.0", json_string("nosuch.eth0"),
                     "t.json: tenants[0].links[0].ends[0]: no node \"nosuch\" in this tenant");
    mutated_error_is("tenants.0.links.0.ends.0", json_string("client.eth9"),
                     "t.json: tenants[0].links[0].ends[0]: node \"client\" has no port \"eth9\"");
    mutated_error_is("tenants.0.links.0.ends.1", json_string("ids"),
                     "t.json: tenants[0].links[0].ends[1]: node \"ids\" has 2 ports; write ids.PORT");
    mutated_error_is("tenants.0.links.0.ends.1", json_string("client"),
                     "t.json: tenants[0].links[0].ends: both ends are client.eth0");
    mutated_error_is("tenants.0.links.0.ends.1", json_integer(1), "t.json: tenants[0].links[0]."
                     "ends[1]: expected a string (\"node.port\"), found an integer");
    /* a link cannot reach another tenant's node */
    mutated_error_is("tenants.1.links.0.ends.1", json_string("ids.in"),
                     "t.json: tenants[1].links[0].ends[1]: no node \"ids\" in this tenant");
    mutated_error_is("tenants.0.links.1.name", json_string("l1"), "t.json: tenants[0]."
                     "links[1].name: \"l1\" is already the name of links[0]");

    /* bounds */
    json_t *many = json_array();
    for (int i = 0; i < 4097; i++)
        json_array_append_new(many, json_null());
    mutated_error_is("hosts", many, "t.json: hosts: 4097 hosts; a NIB may have at most 4096");
    many = json_array();
    for (int i = 0; i < 4097; i++)
        json_array_append_new(many, json_null());
    mutated_error_is("tenants", many,
                     "t.json: tenants: 4097 tenants; a NIB may have at most 4096");
    many = json_array();
    for (int i = 0; i < 4097; i++)
        json_array_append_new(many, json_null());
    mutated_error_is("tenants.0.nodes", many,
                     "t.json: tenants[0].nodes: 4097 nodes; a tenant may have at most 4096");
    /* what the user wrote is quoted, escaped and cut in errors */
    char longname[200];
    memset(longname, '\n', 199);
    longname[199] = '\0';
    char want[1024] = "t.json: hosts[0].name: not a name (\"";
    for (int i = 0; i < 64; i++)
        strcat(want, "\\u000a");
    strcat(want, "...\"); use 1 to 63 letters, digits, '_', '-' or '.'");
    mutated_error_is("hosts.0.name", json_string(longname), want);
    memset(longname, 0, sizeof longname);
    for (int i = 0; i < 66; i++)
        strcat(longname, "\xc3\xa9");             /* é */
    snprintf(want, sizeof want, "t.json: hosts[0].name: not a name (\"%.*s...\"); use 1 to 63 "
             "letters, digits, '_', '-' or '.'", 128, longname);
    mutated_error_is("hosts.0.name", json_string(longname), want);
    mutated_error_is("hosts.0.name", json_string("a\n\"b"), "t.json: hosts[0].name: not a name "
                     "(\"a\\u000a\\\"b\"); use 1 to 63 letters, digits, '_', '-' or '.'");
}

static void tokens(void)
{
    char hex[65];
    vnd_token_sha256_hex("abc", hex);
    CHECK_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                 "sha256(\"abc\")");
    vnd_token_sha256_hex("", hex);
    CHECK_EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                 "sha256(\"\")");
    vnd_token_sha256_hex(ALICE_TOKEN, hex);
    CHECK_EQ_STR(hex, ALICE_SHA, "alice's token hash (as sha256sum makes it)");

    /* upper-case hex in the NIB is accepted */
    char *text = mutate("tenants.1.token_sha256", json_string(
        "0357E24C1CB1874DDE0773886097863F71AC666F63FBA1E9D4C623B79FFDA11F"));
    struct vnd_nib *nib = parse(text, NULL);
    free(text);
    CHECK(nib != NULL, "NIB for tokens");
    if (!nib)
        return;
    CHECK(vnd_nib_tenant_by_token(nib, ALICE_TOKEN) == &nib->tenants[0], "alice's token: alice");
    CHECK(vnd_nib_tenant_by_token(nib, BOB_TOKEN) == &nib->tenants[1], "bob's token: bob");
    CHECK(vnd_nib_tenant_by_token(nib, "alice-token-012345678") == NULL, "a wrong token: none");
    CHECK(vnd_nib_tenant_by_token(nib, ALICE_SHA) == NULL, "the hash itself is no token");
    CHECK(vnd_nib_tenant_by_token(nib, "") == NULL, "empty token: none");
    CHECK(vnd_nib_tenant_by_token(nib, NULL) == NULL, "no token: none");
    CHECK(vnd_nib_tenant_by_token(NULL, ALICE_TOKEN) == NULL, "no NIB: none");
    vnd_nib_free(nib);
}

static char tmpdir[] = "/tmp/vnd-test-nib.XXXXXX";

static void write_file(const char *name, const char *text, mode_t mode)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

/* The valid NIB with both secret files under tmpdir (hv1 relative, hv2
 * absolute). */
static char *secret_nib(void)
{
    char abs[256];
    snprintf(abs, sizeof abs, "%s/hv2.secret", tmpdir);
    json_t *root = json_loads(VALID, 0, NULL);
    json_t *ts = json_object_get(json_array_get(json_object_get(root, "hosts"), 1),
                                 "table_server");
    json_object_set_new(ts, "secret_file", json_string(abs));
    char *text = json_dumps(root, 0);
    json_decref(root);
    return text;
}

static void secret_error_is(const char *text, const char *want_fmt, const char *what)
{
    char want[1024];
    snprintf(want, sizeof want, want_fmt, tmpdir, tmpdir);
    struct vnd_nib *nib = NULL;
    char *err = NULL;
    int rc = vnd_nib_parse(text, strlen(text), "t.json", tmpdir, &nib, &err);
    CHECK(rc == -1 && !nib, "refused: %s", what);
    CHECK_EQ_STR(err, want, "error: %s", what);
    free(err);
}

static void secrets(void)
{
    char *text = secret_nib();
    write_file("hv1.secret", "s3cret-of-hv1-0123456789 \n", 0600);
    write_file("hv2.secret", "s3cret-of-hv2-0123456789", 0400);
    struct vnd_nib *nib = NULL;
    char *err = NULL;
    int rc = vnd_nib_parse(text, strlen(text), "t.json", tmpdir, &nib, &err);
    CHECK(rc == 0, "secrets 0600 and 0400 read");
    if (rc)
        printf("# %s\n", err);
    free(err);
    if (nib) {
        CHECK_EQ_STR(nib->hosts[0].tabled_secret, "s3cret-of-hv1-0123456789",
                     "relative secret file, trailing blanks cut");
        CHECK_EQ_STR(nib->hosts[1].tabled_secret, "s3cret-of-hv2-0123456789",
                     "absolute secret file");
    }
    vnd_nib_free(nib);

    write_file("hv1.secret", "s3cret-of-hv1-0123456789\n", 0644);
    secret_error_is(text, "t.json: hosts[0].table_server.secret_file: %s/hv1.secret can be read "
                    "or written by group or others (mode 0644); run: chmod 600 %s/hv1.secret",
                    "a secret others can read");
    write_file("hv1.secret", "s3cret-of-hv1-0123456789\n", 0620);
    secret_error_is(text, "t.json: hosts[0].table_server.secret_file: %s/hv1.secret can be read "
                    "or written by group or others (mode 0620); run: chmod 600 %s/hv1.secret",
                    "a secret the group can write");
    write_file("hv1.secret", " \n\n", 0600);
    secret_error_is(text, "t.json: hosts[0].table_server.secret_file: %s/hv1.secret is empty; "
                    "write the table server's secret in it", "an empty secret");
    write_file("hv1.secret", "two\nlines\n", 0600);
    secret_error_is(text, "t.json: hosts[0].table_server.secret_file: %s/hv1.secret holds a "
                    "control character or a line break; a secret is one line of printable text",
                    "a secret of two lines");
    char path[256];
    snprintf(path, sizeof path, "%s/hv1.secret", tmpdir);
    unlink(path);
    secret_error_is(text, "t.json: hosts[0].table_server.secret_file: %s/hv1.secret: No such "
                    "file or directory", "no secret file");
    mkdir(path, 0700);
    secret_error_is(text, "t.json: hosts[0].table_server.secret_file: %s/hv1.secret is not a "
                    "regular file", "a directory as secret");
    rmdir(path);

    /* vnd_nib_load: the file's folder is base_dir, its path the origin */
    write_file("hv1.secret", "s3cret-of-hv1-0123456789\n", 0600);
    write_file("nib.json", text, 0644);
    snprintf(path, sizeof path, "%s/nib.json", tmpdir);
    nib = NULL;
    err = NULL;
    rc = vnd_nib_load(path, &nib, &err);
    CHECK(rc == 0 && nib && nib->hosts[0].tabled_secret
          && !strcmp(nib->hosts[0].tabled_secret, "s3cret-of-hv1-0123456789"),
          "vnd_nib_load reads secrets next to the NIB");
    if (rc)
        printf("# %s\n", err);
    free(err);
    vnd_nib_free(nib);
    write_file("nib.json", "{\"hosts\": 1}", 0644);
    rc = vnd_nib_load(path, &nib, &err);
    char want[512];
    snprintf(want, sizeof want, "%s: hosts: expected an array (the hypervisors), found an integer",
             path);
    CHECK(rc == -1, "vnd_nib_load refuses");
    CHECK_EQ_STR(err, want, "vnd_nib_load: the path is the origin");
    free(err);
    unlink(path);
    rc = vnd_nib_load(path, &nib, &err);
    snprintf(want, sizeof want, "%s: No such file or directory", path);
    CHECK_EQ_STR(err, want, "vnd_nib_load: no file");
    free(err);
    free(text);
    snprintf(path, sizeof path, "%s/hv1.secret", tmpdir);
    unlink(path);
    snprintf(path, sizeof path, "%s/hv2.secret", tmpdir);
    unlink(path);
}

/* A stand-in ovs-vsctl on PATH answers as OVSDB would. */
static const char *const FAKE_VSCTL =
    "#!/bin/sh\n"
    "echo \"$@\" >> \"$(dirname \"$0\")/args\"\n"
    "for a in \"$@\"; do last=$a; done\n"
    "case $last in\n"
    "*=id-ok) echo '{\"data\":[[7,\"02:00:00:00:00:07\",[\"map\",[[\"attached-mac\","
    "\"FA:16:3E:00:00:01\"],[\"iface-id\",\"id-ok\"]]]]],\"headings\":[\"ofport\","
    "\"mac_in_use\",\"external_ids\"]}' ;;\n"
    "*=id-inuse) echo '{\"data\":[[8,\"02:00:00:00:00:08\",[\"map\",[[\"iface-id\","
    "\"id-inuse\"]]]]],\"headings\":[\"ofport\",\"mac_in_use\",\"external_ids\"]}' ;;\n"
    "*=id-noport) echo '{\"data\":[[[\"set\",[]],[\"set\",[]],[\"map\",[[\"iface-id\","
    "\"id-noport\"]]]]],\"headings\":[\"ofport\",\"mac_in_use\",\"external_ids\"]}' ;;\n"
    "*=id-mirror) echo '{\"data\":[[9,\"02:00:00:00:00:09\",[\"map\",[]]]],\"headings\":"
    "[\"ofport\",\"mac_in_use\",\"external_ids\"]}' ;;\n"
    "*=id-fail) echo 'ovs-vsctl: unix:/nowhere: database connection failed' >&2; exit 1 ;;\n"
    "*) echo '{\"data\":[],\"headings\":[\"ofport\",\"mac_in_use\",\"external_ids\"]}' ;;\n"
    "esac\n";

/* The valid NIB with alice's client port given by iface_id only (and
 * bob's server port, on hv2 with its ovsdb, by iface_id and a MAC). */
static int fill_with(const char *id, char **err, struct vnd_nib **out)
{
    json_t *root = json_loads(VALID, 0, NULL);
    json_t *t0 = json_array_get(json_object_get(root, "tenants"), 0);
    json_t *t1 = json_array_get(json_object_get(root, "tenants"), 1);
    json_t *p = json_array_get(json_object_get(json_array_get(json_object_get(t0, "nodes"), 0),
                                               "ports"), 0);
    json_object_del(p, "ofport");
    json_object_del(p, "mac");
    json_object_set_new(p, "iface_id", json_string(id));
    p = json_array_get(json_object_get(json_array_get(json_object_get(t1, "nodes"), 1),
                                       "ports"), 0);
    json_object_del(p, "ofport");
    json_object_set_new(p, "iface_id", json_string("id-inuse"));
    char *text = json_dumps(root, 0);
    json_decref(root);
    struct vnd_nib *nib = NULL;
    *err = NULL;
    int rc = vnd_nib_parse(text, strlen(text), "t.json", NULL, &nib, err);
    free(text);
    if (rc)
        return -2;
    rc = vnd_nib_fill_from_ovs(nib, err);
    *out = nib;
    return rc;
}

static void from_ovs(void)
{
    write_file("ovs-vsctl", FAKE_VSCTL, 0700);
    const char *old = getenv("PATH");
    char *saved = strdup(old ? old : "/usr/bin:/bin");
    char path[1024];
    snprintf(path, sizeof path, "%s:%s", tmpdir, saved);
    setenv("PATH", path, 1);

    struct vnd_nib *nib = NULL;
    char *err = NULL;
    int rc = fill_with("id-ok", &err, &nib);
    CHECK(rc == 0, "ports filled from OVS");
    if (rc)
        printf("# %s\n", err);
    if (rc == 0) {
        const struct vnd_nib_port *a = &nib->tenants[0].nodes[0].ports[0];
        const struct vnd_nib_port *b = &nib->tenants[1].nodes[1].ports[0];
        CHECK_EQ_INT(a->ofport, 7, "ofport from OVS");
        CHECK_EQ_STR(a->mac, "fa:16:3e:00:00:01", "attached-mac first, lower case");
        CHECK_EQ_INT(b->ofport, 8, "second port's ofport");
        CHECK_EQ_STR(b->mac, "02:00:00:00:02:05", "a MAC the NIB gave is kept");
    }
    free(err);
    vnd_nib_free(nib);
    char args[256], *argtext = NULL;
    snprintf(args, sizeof args, "%s/args", tmpdir);
    FILE *f = fopen(args, "r");
    if (f) {
        argtext = calloc(1, 4096);
        size_t n = fread(argtext, 1, 4095, f);
        argtext[n] = '\0';
        fclose(f);
    }
    CHECK(argtext && strstr(argtext, "--timeout=5 --format=json --columns=ofport,mac_in_use,"
                            "external_ids find Interface external_ids:iface-id=id-ok\n"),
          "ovs-vsctl's arguments (default db)");
    CHECK(argtext && strstr(argtext, "--db=unix:/run/openvswitch/db.sock --timeout=5 "
                            "--format=json --columns=ofport,mac_in_use,external_ids find "
                            "Interface external_ids:iface-id=id-inuse\n"),
          "ovs-vsctl's arguments (the host's ovsdb)");
    free(argtext);

    static const struct { const char *id, *want; } cases[] = {
        {"id-none", "t.json: tenants[0].nodes[0].ports[0].iface_id: no interface "
                    "with external_ids:iface-id=id-none on host hv1 (the default OVSDB)"},
        {"id-noport", "t.json: tenants[0].nodes[0].ports[0].iface_id: the "
                      "interface on host hv1 has no OpenFlow port number yet"},
        {"id-fail", "t.json: tenants[0].nodes[0].ports[0].iface_id: ovs-vsctl on "
                    "host hv1 (the default OVSDB) failed: ovs-vsctl: unix:/nowhere: database "
                    "connection failed"},
        {"id-mirror", "t.json: tenants[0].nodes[0].ports[0].ofport: port 9 of host hv1 is "
                      "already hosts[0].mirror_port"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nib = NULL;
        rc = fill_with(cases[i].id, &err, &nib);
        CHECK(rc == -1, "refused: %s", cases[i].id);
        CHECK_EQ_STR(err, cases[i].want, "error: %s", cases[i].id);
        free(err);
        vnd_nib_free(nib);
    }

    snprintf(path, sizeof path, "%s/ovs-vsctl", tmpdir);
    unlink(path);
    unlink(args);
    setenv("PATH", "/nonexistent", 1);
    rc = fill_with("id-ok", &err, &nib);
    CHECK_EQ_STR(err, "t.json: tenants[0].nodes[0].ports[0].iface_id: cannot run "
                 "ovs-vsctl: No such file or directory", "no ovs-vsctl");
    free(err);
    vnd_nib_free(nib);
    setenv("PATH", saved, 1);
    free(saved);
}

/* table_server.postgres: the distributed mode's conninfo, no password. */
static void postgres_field(void)
{
    char *text = mutate("hosts.0.table_server.postgres",
                        json_pack("{s:s}", "conninfo", "host=10.0.0.2 dbname=vnd user=vnd_fdw"));
    struct vnd_nib *nib = parse(text, NULL);
    free(text);
    CHECK(nib && nib->hosts[0].pg_conninfo
          && !strcmp(nib->hosts[0].pg_conninfo, "host=10.0.0.2 dbname=vnd user=vnd_fdw"),
          "postgres.conninfo kept");
    CHECK(nib && !nib->hosts[1].pg_conninfo && !nib->hosts[0].pg_password,
          "no postgres: NULL; no password_file: NULL");
    vnd_nib_free(nib);
    text = mutate("hosts.0.table_server.postgres",
                  json_pack("{s:s}", "conninfo", "host=h password=hunter2"));
    struct vnd_nib *bad = NULL;
    char *err = NULL;
    int rc = vnd_nib_parse(text, strlen(text), "t.json", NULL, &bad, &err);
    CHECK(rc != 0 && err && strstr(err, "hosts[0].table_server.postgres.conninfo: not a conninfo "
                                        "without a password")
          && strstr(err, "password_file"), "a password in the conninfo is refused");
    vnd_nib_free(bad);
    free(err);
    free(text);
    text = mutate("hosts.0.table_server.postgres",
                  json_pack("{s:s, s:s}", "conninfo", "host=h", "pasword_file", "x"));
    bad = NULL;
    err = NULL;
    rc = vnd_nib_parse(text, strlen(text), "t.json", NULL, &bad, &err);
    CHECK(rc != 0 && err && strstr(err, "pasword_file"), "a misspelt key is named");
    vnd_nib_free(bad);
    free(err);
    free(text);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    valid_nib();
    normalized();
    errors();
    tokens();
    secrets();
    postgres_field();
    from_ovs();
    rmdir(tmpdir);
    return tap_done();
}
