/* sim.h — the data-center scalability model of the VND paper (§5.4,
 * Table 4), as a library: how many tenants' virtual networks can be
 * captured and queried when every tenant diagnoses all of its traffic.
 *
 * The model, in the paper's words and ours (docs/simulator.md says why):
 *
 *  - One big switch joins `servers` servers; each NIC carries `nic_kbps`
 *    in each direction (full duplex).  Link utilization is the mean over
 *    all 2·servers NIC directions: sum(tx) / (servers · nic).  A flow
 *    between VMs on two servers uses the sender's tx and the receiver's
 *    rx; a flow between co-located VMs uses no link at all.
 *  - A tenant has vms_min..vms_max VMs (uniform).  Its flows follow
 *    `flows` (see enum vnd_sim_flows); each flow's rate is uniform in
 *    [flow_min_kbps, flow_max_kbps].
 *  - Tenants arrive one at a time.  Each VM goes to the server with the
 *    most free resources (enum vnd_sim_place; ties go to the lowest server
 *    id) among those it fits on: its sent and received rates within the
 *    NIC and the virtual switch even if no peer ends up beside it (filter,
 *    then weigh, as cloud schedulers do; the first 256
 *    servers by rank are tried).  A tenant with a VM that fits nowhere, or
 *    placed at random onto a server it overloads, is not placed and ends
 *    the allocation ("full").  Otherwise allocation ends as soon as link
 *    utilization reaches the target; the tenant that crosses it stays.
 *  - Diagnosing a tenant captures all of its traffic once: every VM's
 *    output port is a capture point, so each flow is mirrored by the
 *    virtual switch on its sender's server, into the table server on
 *    that same server, whose query executor runs the tenant's throughput
 *    query.  On each of its servers, the tenant needs `c` (its captured
 *    rate there) of spare switch capacity (switch_kbps minus forwarding
 *    minus earlier mirrors) and, for a query, `c` of spare executor
 *    capacity (executor_kbps minus earlier queries).  All or nothing.
 *  - Requests come in `order`; with VND_SIM_STOP_FIRST (the paper) the
 *    first rejection ends them, with VND_SIM_STOP_ALL every tenant tries.
 *
 * All rates are integer kbit/s, so results are exact and identical on
 * every machine for a seed.  Functions return 0 or a positive errno. */
#ifndef VND_SIM_SIM_H
#define VND_SIM_SIM_H

#include <stdint.h>

#include "sim/rng.h"

/* How a tenant's VMs talk.  n = the tenant's VM count. */
enum vnd_sim_flows {
    VND_SIM_FLOWS_RANDOM, /* each VM sends one flow to a random other VM: n flows */
    VND_SIM_FLOWS_RING,   /* VM i sends to VM i+1 mod n: n flows */
    VND_SIM_FLOWS_CHAIN,  /* VM i sends to VM i+1, a multi-tier pipeline: n-1 flows */
    VND_SIM_FLOWS_PAIRS,  /* one flow per pair of VMs, lower to higher: n(n-1)/2 */
};

/* What "the server with the most available resources" means. */
enum vnd_sim_place {
    VND_SIM_PLACE_TRAFFIC, /* least traffic terminated there: sum over its
                            * VMs of (sent + received) */
    VND_SIM_PLACE_SENT,    /* least traffic sent by its VMs: what its switch
                            * forwards and mirrors, its executor queries */
    VND_SIM_PLACE_MAX,     /* least of max(sent, received): both NIC directions */
    VND_SIM_PLACE_VMS,     /* fewest VMs (a slot-counting scheduler) */
    VND_SIM_PLACE_RANDOM,  /* any server, uniformly: no balancing at all */
};

/* Which traffic the virtual switch's capacity must forward. */
enum vnd_sim_switch {
    VND_SIM_SWITCH_SENDER, /* each flow once, on its sender's server (the
                            * accounting the paper's Table 4 implies) */
    VND_SIM_SWITCH_BOTH,   /* on both ends: tx + rx + co-located */
};

enum vnd_sim_order {
    VND_SIM_ORDER_RANDOM,  /* tenants diagnose in a seeded random order */
    VND_SIM_ORDER_ARRIVAL, /* in the order they were placed (the paper's
                            * numbers come out this way) */
};

enum vnd_sim_stop {
    VND_SIM_STOP_FIRST, /* stop at the first rejected request (the paper) */
    VND_SIM_STOP_ALL,   /* let every tenant try */
};

/* What turned a request down. */
enum vnd_sim_limit {
    VND_SIM_LIMIT_NONE,     /* nothing was rejected */
    VND_SIM_LIMIT_SWITCH,   /* no spare mirroring capacity in a virtual switch */
    VND_SIM_LIMIT_EXECUTOR, /* no spare query capacity in an executor */
    VND_SIM_LIMIT_BOTH,     /* both, on the servers the tenant needed */
};

/* "none", "switch", "executor" or "switch+executor". */
const char *vnd_sim_limit_name(enum vnd_sim_limit l);

struct vnd_sim_params {
    int servers;               /* 10,000 */
    int64_t nic_kbps;          /* per direction; 10 Gbit/s */
    int64_t switch_kbps;       /* virtual switch forwarding + mirroring; 18 Gbit/s */
    int64_t executor_kbps;     /* traffic one table server queries in real time; 3 Gbit/s */
    int vms_min, vms_max;      /* VMs per tenant, uniform; 2..20 */
    int64_t flow_min_kbps;     /* flow rate, uniform; 1 Mbit/s */
    int64_t flow_max_kbps;     /* 100 Mbit/s */
    enum vnd_sim_flows flows;  /* random */
    enum vnd_sim_place place;  /* sent */
    enum vnd_sim_switch switch_load; /* sender */
    enum vnd_sim_order order;  /* arrival */
    enum vnd_sim_stop stop;    /* first */
    uint64_t seed;             /* 1 */
};

/* The paper's parameters and our defaults for what it leaves open. */
void vnd_sim_params_default(struct vnd_sim_params *p);

/* EINVAL and a static reason when p cannot be simulated, else 0. */
int vnd_sim_params_check(const struct vnd_sim_params *p, const char **why);

/* One row of Table 4. */
struct vnd_sim_result {
    double target_util;        /* the threshold asked for, a fraction */
    int64_t tenants, vms, flows;
    double link_util;          /* reached, a fraction */
    int full;                  /* allocation ended on a tenant that did not fit */
    int64_t collected;         /* tenants whose capture fit (switch only) */
    int64_t queried;           /* tenants whose capture and query fit */
    enum vnd_sim_limit collect_limit; /* what rejected the first failed capture */
    enum vnd_sim_limit query_limit;   /* ... the first failed capture + query */
    int64_t queried_kbps;      /* traffic queried in real time, all servers */
};

/* Generates tenants and places them until link utilization reaches
 * `util` (0 < util <= 1) or a tenant does not fit, then runs the
 * diagnosis requests twice: once needing only switch capacity (data
 * collection), once needing switch and executor capacity (query).
 * Every call starts from p->seed, so the tenants of a 10% run are the
 * first tenants of a 30% run.  Returns 0, EINVAL or ENOMEM. */
int vnd_sim_run(const struct vnd_sim_params *p, double util, struct vnd_sim_result *r);

/* ---- The pieces, for tests and for other generators. ---- */

/* A flow between two VMs of one tenant, by their index in the tenant. */
struct vnd_sim_flow {
    int src, dst;
    int64_t kbps;
};

/* The largest number of flows vnd_sim_make_flows writes for n VMs. */
int64_t vnd_sim_max_flows(enum vnd_sim_flows kind, int n);

/* Writes the flows of a tenant of n VMs into out (room for
 * vnd_sim_max_flows), rates drawn from r; returns how many. */
int vnd_sim_make_flows(enum vnd_sim_flows kind, int n, int64_t min_kbps, int64_t max_kbps,
                       struct vnd_rng *r, struct vnd_sim_flow *out);

/* A data center being filled. */
struct vnd_sim_dc;

/* An empty data center of p->servers servers.  Returns 0 or ENOMEM. */
int vnd_sim_dc_new(const struct vnd_sim_params *p, struct vnd_sim_dc **out);
void vnd_sim_dc_free(struct vnd_sim_dc *dc);

/* Places a tenant of n VMs with these flows by p->place (VND_SIM_PLACE_
 * RANDOM draws from r; the others ignore it and may pass NULL).
 * Returns 0; ENOSPC when it does not fit, leaving dc as it was; ENOMEM. */
int vnd_sim_dc_add_tenant(struct vnd_sim_dc *dc, int n, const struct vnd_sim_flow *flows,
                          int nflows, struct vnd_rng *r);

int64_t vnd_sim_dc_tenants(const struct vnd_sim_dc *dc);
double vnd_sim_dc_link_util(const struct vnd_sim_dc *dc);

/* Loads of one server, kbit/s. */
struct vnd_sim_server {
    int64_t tx, rx;   /* over its NIC */
    int64_t local;    /* between VMs on it */
    int64_t fwd;      /* what its virtual switch forwards (p->switch_load) */
    int vms;
};
void vnd_sim_dc_server(const struct vnd_sim_dc *dc, int s, struct vnd_sim_server *out);

/* The server VM `vm` of tenant `t` (both 0-based, in arrival order) runs on. */
int vnd_sim_dc_vm_server(const struct vnd_sim_dc *dc, int64_t t, int vm);

/* The outcome of one round of diagnosis requests. */
struct vnd_sim_diag {
    int64_t accepted;
    int64_t first_reject;      /* tenant index, or -1 */
    enum vnd_sim_limit limit;  /* why first_reject was turned down */
    int64_t captured_kbps;     /* mirrored (and, with the executor, queried) */
};

/* Runs the tenants' requests in `order` (a permutation of the tenant
 * indexes; NULL = arrival order) against fresh capacities: switch only
 * when with_executor is 0, switch and executor otherwise.  Leaves dc
 * unchanged, so it can be called again.  Returns 0 or ENOMEM. */
int vnd_sim_dc_diagnose(const struct vnd_sim_dc *dc, const int64_t *order, int with_executor,
                        enum vnd_sim_stop stop, struct vnd_sim_diag *out);

#endif
