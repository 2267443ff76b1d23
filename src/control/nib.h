/* nib.h — the network information base: the control server's view of the
 * cloud (paper §3.2.1), a JSON file the operator writes.
 *
 *   {
 *     "hosts": [
 *       {"name": "hv1",
 *        "bridge": "br-int",
 *        "ofctl": "unix:/run/openvswitch/br-int.mgmt",   (optional; default:
 *                                                         the bridge name)
 *        "ovsdb": "unix:/run/openvswitch/db.sock",       (optional; for
 *                                                         external_ids)
 *        "mirror_port": 9,                 (OpenFlow port number)
 *        "table_server": {"url": "http://127.0.0.1:7430",
 *                         "secret_file": "/etc/vnd/hv1.secret",
 *                         "postgres": {"conninfo": "host=10.0.0.2 dbname=vnd user=vnd_fdw",
 *                                      "password_file": "/etc/vnd/hv1.pgpass"}}}
 *                         (postgres: optional; the distributed mode's
 *                          coordinator reads its trace tables there)
 *     ],
 *     "tenants": [
 *       {"id": "alice",                    ([a-z0-9_], 1..32: it names the
 *                                           tenant's databases on table servers)
 *        "token_sha256": "<64 hex>",       (SHA-256 of the API token)
 *        "quota": {"live_diagnoses": 4, "rows": 10000000,
 *                  "bytes": 1073741824, "retention_s": 86400},   (optional)
 *        "nodes": [
 *          {"name": "client", "kind": "vm",
 *           "ports": [{"name": "eth0", "host": "hv1", "ofport": 1,
 *                      "mac": "02:00:00:00:01:02", "ip": "10.0.1.2"}]},
 *          {"name": "ids", "kind": "appliance",
 *           "input": "in", "output": "out",
 *           "ports": [{"name": "in", "host": "hv1", "ofport": 3, "mac": ...},
 *                     {"name": "out", "host": "hv1", "ofport": 4, "mac": ...}]}
 *        ],
 *        "links": [{"name": "l1", "ends": ["client.eth0", "ids.in"]}]}
 *     ]
 *   }
 *
 * A port may give "iface_id" (OpenStack's external_ids:iface-id) instead
 * of "ofport" and/or "mac": vnd_nib_fill_from_ovs asks the host's OVSDB.
 * Relative secret_file paths are relative to the NIB file's folder.
 *
 * Validation errors give the JSON path: "nib.json: tenants[1].nodes[0].
 * ports[0].mac: not a MAC address (02:00:00:00:00:01)".  Names must be
 * unique where they are looked up (hosts; tenants; a tenant's nodes and
 * links; a node's ports), a MAC belongs to one port of the whole NIB, and
 * an (host, ofport) pair to one port. */
#ifndef VND_CONTROL_NIB_H
#define VND_CONTROL_NIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VND_NIB_TENANT_ID_MAX 32
#define VND_NIB_NAME_MAX 63

struct vnd_nib_host {
    char *name;
    char *bridge;
    char *ofctl;            /* ovs-ofctl's switch argument */
    char *ovsdb;            /* ovs-vsctl --db= (NULL: the default) */
    int mirror_port;        /* OpenFlow port number */
    int budget_cpu_pct;     /* "budget": ovs-vswitchd + table server, % of a core; 0: none */
    int budget_drop_pct;    /* "budget": tenant throughput copying may cost, %; 0: none */
    int budget_copy_ns;     /* "budget": the switch's CPU per copied packet, ns; 0: unknown */
    char *tabled_url;       /* without a trailing '/' */
    char *tabled_secret;    /* read from secret_file, trailing blanks cut */
    /* table_server.postgres (distributed mode): NULL when not given */
    char *pg_conninfo;      /* libpq conninfo of its PostgreSQL, no password */
    char *pg_password;      /* read from password_file (NULL: none) */
};

struct vnd_nib_port {
    char *name;
    int host;               /* index into nib->hosts */
    int ofport;             /* 0 until filled from OVS */
    char *mac;              /* "02:00:00:00:01:02", lower case; NULL until filled */
    char *ip;               /* NULL when not given */
    char *iface_id;         /* NULL when not given */
};

enum vnd_nib_kind { VND_NIB_VM, VND_NIB_APPLIANCE };

struct vnd_nib_node {
    char *name;
    enum vnd_nib_kind kind;
    struct vnd_nib_port *ports;
    int nports;
    int input, output;      /* port indexes; a VM with one port: both 0;
                               a VM with several: -1 (links name its ports) */
};

struct vnd_nib_link {
    char *name;
    int node[2], port[2];   /* the two ends */
};

struct vnd_nib_quota {      /* 0: no limit */
    int live_diagnoses;
    int64_t rows;
    int64_t bytes;
    int64_t retention_s;
};

struct vnd_nib_tenant {
    char *id;
    uint8_t token_sha256[32];
    struct vnd_nib_quota quota;
    struct vnd_nib_node *nodes;
    int nnodes;
    struct vnd_nib_link *links;
    int nlinks;
};

struct vnd_nib {
    struct vnd_nib_host *hosts;
    int nhosts;
    struct vnd_nib_tenant *tenants;
    int ntenants;
    char *origin;           /* the `origin` it was parsed with, for errors
                               of vnd_nib_fill_from_ovs */
};

/* Parses and validates the NIB in `text` (len bytes; `origin` names it in
 * errors; secret files are read relative to `base_dir`, NULL: not read,
 * for tests and fuzzing).  Returns 0 and *out, or -1 and *err (malloc'd). */
int vnd_nib_parse(const char *text, size_t len, const char *origin, const char *base_dir,
                  struct vnd_nib **out, char **err);
/* vnd_nib_parse of a file. */
int vnd_nib_load(const char *path, struct vnd_nib **out, char **err);
void vnd_nib_free(struct vnd_nib *nib);

/* Ports with "iface_id" get their ofport and MAC from the host's OVSDB
 * (`ovs-vsctl --db=... find Interface external_ids:iface-id=...`, fields
 * ofport and external_ids:attached-mac, else mac_in_use).  Returns 0, or
 * -1 and *err naming the port's JSON path. */
int vnd_nib_fill_from_ovs(struct vnd_nib *nib, char **err);

/* The tenant whose token hashes to a stored hash, or NULL.  Compares with
 * every tenant in constant time, so the answer's timing tells nothing. */
const struct vnd_nib_tenant *vnd_nib_tenant_by_token(const struct vnd_nib *nib,
                                                     const char *token);
const struct vnd_nib_tenant *vnd_nib_tenant_by_id(const struct vnd_nib *nib, const char *id);
const struct vnd_nib_node *vnd_nib_node(const struct vnd_nib_tenant *t, const char *name);
const struct vnd_nib_link *vnd_nib_link(const struct vnd_nib_tenant *t, const char *name);

/* SHA-256 of `token` as 64 lower-case hex digits into hex[65]. */
void vnd_token_sha256_hex(const char *token, char hex[65]);

#endif
