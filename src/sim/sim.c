/* sim.c — the §5.4 scalability model: place tenants, then let them
 * capture and query all of their traffic.  sim.h states the model. */
#include "sim/sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/heap.h"

/* More tenants than this is a mistake in the parameters (flows of a few
 * kbit/s on terabit NICs), not a data center; refuse rather than eat RAM. */
#define VND_SIM_MAX_TENANTS 20000000LL

const char *vnd_sim_limit_name(enum vnd_sim_limit l)
{
    switch (l) {
    case VND_SIM_LIMIT_NONE: return "none";
    case VND_SIM_LIMIT_SWITCH: return "switch";
    case VND_SIM_LIMIT_EXECUTOR: return "executor";
    case VND_SIM_LIMIT_BOTH: return "switch+executor";
    }
    return "?";
}

void vnd_sim_params_default(struct vnd_sim_params *p)
{
    memset(p, 0, sizeof *p);
    p->servers = 10000;
    p->nic_kbps = 10000000;
    p->switch_kbps = 18000000;
    p->executor_kbps = 3000000;
    p->vms_min = 2;
    p->vms_max = 20;
    p->flow_min_kbps = 1000;
    p->flow_max_kbps = 100000;
    p->flows = VND_SIM_FLOWS_RANDOM;
    p->place = VND_SIM_PLACE_SENT;
    p->switch_load = VND_SIM_SWITCH_SENDER;
    p->order = VND_SIM_ORDER_ARRIVAL;
    p->stop = VND_SIM_STOP_FIRST;
    p->seed = 1;
}

int vnd_sim_params_check(const struct vnd_sim_params *p, const char **why)
{
    const char *w = NULL;
    if (p->servers < 1 || p->servers > 10000000)
        w = "servers must be 1 to 10,000,000";
    else if (p->nic_kbps < 1 || p->switch_kbps < 1 || p->executor_kbps < 1)
        w = "NIC, switch and executor capacities must be positive";
    else if (p->nic_kbps > 1000000000LL || p->switch_kbps > 1000000000LL
             || p->executor_kbps > 1000000000LL)
        w = "capacities above 1 Tbit/s per server are not supported";
    else if (p->vms_min < 2 || p->vms_max < p->vms_min || p->vms_max > 1000)
        w = "VMs per tenant must be a range within 2..1000 (a single VM has no traffic)";
    else if (p->flow_min_kbps < 1 || p->flow_max_kbps < p->flow_min_kbps)
        w = "flow rates must be a range of positive rates";
    else if (p->flow_max_kbps > p->nic_kbps)
        w = "a flow faster than the NIC could never be placed";
    if (why)
        *why = w;
    return w ? EINVAL : 0;
}

/* ---- Flows ---- */

int64_t vnd_sim_max_flows(enum vnd_sim_flows kind, int n)
{
    switch (kind) {
    case VND_SIM_FLOWS_RANDOM:
    case VND_SIM_FLOWS_RING: return n;
    case VND_SIM_FLOWS_CHAIN: return n > 0 ? n - 1 : 0;
    case VND_SIM_FLOWS_PAIRS: return (int64_t)n * (n - 1) / 2;
    }
    return 0;
}

int vnd_sim_make_flows(enum vnd_sim_flows kind, int n, int64_t min_kbps, int64_t max_kbps,
                       struct vnd_rng *r, struct vnd_sim_flow *out)
{
    int k = 0;
    if (n < 2)
        return 0;
    switch (kind) {
    case VND_SIM_FLOWS_RANDOM:
        for (int i = 0; i < n; i++) {
            /* A uniform peer other than i: draw among n-1, skip over i. */
            int j = (int)vnd_rng_range(r, 0, n - 2);
            if (j >= i)
                j++;
            out[k++] = (struct vnd_sim_flow){i, j, vnd_rng_range(r, min_kbps, max_kbps)};
        }
        break;
    case VND_SIM_FLOWS_RING:
        for (int i = 0; i < n; i++)
            out[k++] = (struct vnd_sim_flow){i, (i + 1) % n, vnd_rng_range(r, min_kbps, max_kbps)};
        break;
    case VND_SIM_FLOWS_CHAIN:
        for (int i = 0; i + 1 < n; i++)
            out[k++] = (struct vnd_sim_flow){i, i + 1, vnd_rng_range(r, min_kbps, max_kbps)};
        break;
    case VND_SIM_FLOWS_PAIRS:
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
                out[k++] = (struct vnd_sim_flow){i, j, vnd_rng_range(r, min_kbps, max_kbps)};
        break;
    }
    return k;
}

/* ---- The data center ---- */

struct vnd_sim_dc {
    struct vnd_sim_params p;
    int64_t *tx, *rx, *local;  /* per server, kbit/s */
    int *vms;                  /* per server */
    struct vnd_heap heap;      /* PLACE_TRAFFIC and PLACE_VMS */
    int64_t sum_tx;            /* = sum of rx: traffic crossing the big switch */

    int64_t ntenants;
    int64_t *t_vm0, *t_f0;     /* tenant t's VMs and flows start here; [ntenants] = end */
    int64_t cap_tvm, cap_tf;
    int *vm_server;            /* per VM, all tenants in arrival order */
    int64_t nvm, cap_vm;
    int *f_src;                /* per flow: its sender's server (= its capture point) */
    int64_t *f_kbps;
    int64_t nf, cap_fsrc, cap_fkbps;
    int64_t *ptx, *prx;        /* per server: sum of its VMs' sent / received rates */
    int64_t *wout, *win;       /* scratch: per VM of the tenant being placed */
    int64_t cap_weight, cap_win;
};

/* a, grown (doubling) to hold `need` elements of `elem` bytes; NULL when
 * memory runs out, a untouched. */
static void *grow(void *a, int64_t *cap, int64_t need, size_t elem)
{
    if (need <= *cap)
        return a;
    int64_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    void *n = realloc(a, (size_t)c * elem);
    if (n)
        *cap = c;
    return n;
}

#define GROW(dc, field, cap, need) do {                                       \
        void *g_ = grow((dc)->field, &(dc)->cap, (need), sizeof *(dc)->field); \
        if (!g_)                                                              \
            return ENOMEM;                                                    \
        (dc)->field = g_;                                                     \
    } while (0)

int vnd_sim_dc_new(const struct vnd_sim_params *p, struct vnd_sim_dc **out)
{
    *out = NULL;
    if (vnd_sim_params_check(p, NULL))
        return EINVAL;
    struct vnd_sim_dc *dc = calloc(1, sizeof *dc);
    if (!dc)
        return ENOMEM;
    dc->p = *p;
    size_t n = (size_t)p->servers;
    dc->tx = calloc(n, sizeof *dc->tx);
    dc->rx = calloc(n, sizeof *dc->rx);
    dc->local = calloc(n, sizeof *dc->local);
    dc->vms = calloc(n, sizeof *dc->vms);
    dc->ptx = calloc(n, sizeof *dc->ptx);
    dc->prx = calloc(n, sizeof *dc->prx);
    dc->t_vm0 = calloc(1, sizeof *dc->t_vm0);
    dc->t_f0 = calloc(1, sizeof *dc->t_f0);
    dc->cap_tvm = dc->cap_tf = 1; /* entry 0: where tenant 0 starts */
    if (!dc->tx || !dc->rx || !dc->local || !dc->vms || !dc->ptx || !dc->prx || !dc->t_vm0 || !dc->t_f0
        || vnd_heap_init(&dc->heap, p->servers)) {
        vnd_sim_dc_free(dc);
        return ENOMEM;
    }
    *out = dc;
    return 0;
}

void vnd_sim_dc_free(struct vnd_sim_dc *dc)
{
    if (!dc)
        return;
    free(dc->tx);
    free(dc->rx);
    free(dc->local);
    free(dc->vms);
    vnd_heap_destroy(&dc->heap);
    free(dc->t_vm0);
    free(dc->t_f0);
    free(dc->vm_server);
    free(dc->f_src);
    free(dc->f_kbps);
    free(dc->wout);
    free(dc->win);
    free(dc->ptx);
    free(dc->prx);
    free(dc);
}

static int64_t fwd_of(const struct vnd_sim_dc *dc, int s)
{
    if (dc->p.switch_load == VND_SIM_SWITCH_BOTH)
        return dc->tx[s] + dc->rx[s] + dc->local[s];
    return dc->tx[s] + dc->local[s];
}

/* Adds sign·flows of the tenant whose VMs sit at srv[] to the loads. */
static void apply_flows(struct vnd_sim_dc *dc, const int *srv, const struct vnd_sim_flow *f,
                        int nflows, int sign)
{
    for (int i = 0; i < nflows; i++) {
        int s = srv[f[i].src], d = srv[f[i].dst];
        int64_t r = sign * f[i].kbps;
        if (s == d) {
            dc->local[s] += r;
        } else {
            dc->tx[s] += r;
            dc->rx[d] += r;
            dc->sum_tx += r;
        }
    }
}

/* The placement key of server s: smaller = more available. */
static int64_t key_of(const struct vnd_sim_dc *dc, int s)
{
    switch (dc->p.place) {
    case VND_SIM_PLACE_TRAFFIC: return dc->ptx[s] + dc->prx[s];
    case VND_SIM_PLACE_SENT: return dc->ptx[s];
    case VND_SIM_PLACE_MAX: return dc->ptx[s] > dc->prx[s] ? dc->ptx[s] : dc->prx[s];
    case VND_SIM_PLACE_VMS: return dc->vms[s];
    case VND_SIM_PLACE_RANDOM: return 0;
    }
    return 0;
}

/* Puts (sign 1) or takes back (sign -1) a VM sending `out` and receiving
 * `in` kbit/s on server s. */
static void place_vm(struct vnd_sim_dc *dc, int s, int64_t out, int64_t in, int sign)
{
    dc->vms[s] += sign;
    dc->ptx[s] += sign * out;
    dc->prx[s] += sign * in;
    if (dc->p.place != VND_SIM_PLACE_RANDOM)
        vnd_heap_set(&dc->heap, s, key_of(dc, s));
}

/* A VM about to be placed, for vm_fits. */
struct vm_fit {
    const struct vnd_sim_dc *dc;
    int64_t out, in;
};

/* Can server s take the VM?  ptx and prx count every flow as if it left
 * the server, which co-location only lowers, so a yes here stays a yes. */
static int vm_fits(void *ctx, int s)
{
    const struct vm_fit *f = ctx;
    const struct vnd_sim_dc *dc = f->dc;
    int64_t tx = dc->ptx[s] + f->out, rx = dc->prx[s] + f->in;
    int64_t fwd = dc->p.switch_load == VND_SIM_SWITCH_BOTH ? tx + rx : tx;
    return tx <= dc->p.nic_kbps && rx <= dc->p.nic_kbps && fwd <= dc->p.switch_kbps;
}

int vnd_sim_dc_add_tenant(struct vnd_sim_dc *dc, int n, const struct vnd_sim_flow *flows,
                          int nflows, struct vnd_rng *r)
{
    if (n < 1 || nflows < 0)
        return EINVAL;
    for (int i = 0; i < nflows; i++)
        if (flows[i].src < 0 || flows[i].src >= n || flows[i].dst < 0 || flows[i].dst >= n
            || flows[i].kbps < 0)
            return EINVAL;
    if (dc->p.place == VND_SIM_PLACE_RANDOM && !r)
        return EINVAL;
    GROW(dc, t_vm0, cap_tvm, dc->ntenants + 2);
    GROW(dc, t_f0, cap_tf, dc->ntenants + 2);
    GROW(dc, vm_server, cap_vm, dc->nvm + n);
    GROW(dc, f_src, cap_fsrc, dc->nf + nflows);
    GROW(dc, f_kbps, cap_fkbps, dc->nf + nflows);
    GROW(dc, wout, cap_weight, n);
    GROW(dc, win, cap_win, n);

    /* Place VM by VM, each on the server whose key is smallest. */
    int64_t *wo = dc->wout, *wi = dc->win;
    memset(wo, 0, (size_t)n * sizeof *wo);
    memset(wi, 0, (size_t)n * sizeof *wi);
    for (int i = 0; i < nflows; i++) {
        wo[flows[i].src] += flows[i].kbps;
        wi[flows[i].dst] += flows[i].kbps;
    }
    int *srv = dc->vm_server + dc->nvm;
    int placed = 0;
    for (; placed < n; placed++) {
        int s;
        if (dc->p.place == VND_SIM_PLACE_RANDOM) {
            s = (int)vnd_rng_range(r, 0, dc->p.servers - 1);
        } else {
            /* Filter, then weigh: the most available server that can
             * take this VM even if none of its peers ends up beside it. */
            struct vm_fit fit = {dc, wo[placed], wi[placed]};
            s = vnd_heap_first(&dc->heap, VND_HEAP_SCAN_MAX, vm_fits, &fit);
            if (s < 0)
                break;
        }
        srv[placed] = s;
        place_vm(dc, s, wo[placed], wi[placed], 1);
    }
    if (placed < n) {
        while (placed-- > 0)
            place_vm(dc, srv[placed], wo[placed], wi[placed], -1);
        return ENOSPC;
    }
    apply_flows(dc, srv, flows, nflows, 1);

    /* Does it fit?  Only the tenant's servers changed. */
    int fits = 1;
    for (int i = 0; i < n && fits; i++) {
        int s = srv[i];
        fits = dc->tx[s] <= dc->p.nic_kbps && dc->rx[s] <= dc->p.nic_kbps
               && fwd_of(dc, s) <= dc->p.switch_kbps;
    }
    if (!fits) {
        apply_flows(dc, srv, flows, nflows, -1);
        for (int i = n - 1; i >= 0; i--)
            place_vm(dc, srv[i], wo[i], wi[i], -1);
        return ENOSPC;
    }

    for (int i = 0; i < nflows; i++) {
        dc->f_src[dc->nf + i] = srv[flows[i].src];
        dc->f_kbps[dc->nf + i] = flows[i].kbps;
    }
    dc->nvm += n;
    dc->nf += nflows;
    dc->ntenants++;
    dc->t_vm0[dc->ntenants] = dc->nvm;
    dc->t_f0[dc->ntenants] = dc->nf;
    return 0;
}

int64_t vnd_sim_dc_tenants(const struct vnd_sim_dc *dc)
{
    return dc->ntenants;
}

double vnd_sim_dc_link_util(const struct vnd_sim_dc *dc)
{
    return (double)dc->sum_tx / ((double)dc->p.servers * (double)dc->p.nic_kbps);
}

void vnd_sim_dc_server(const struct vnd_sim_dc *dc, int s, struct vnd_sim_server *out)
{
    out->tx = dc->tx[s];
    out->rx = dc->rx[s];
    out->local = dc->local[s];
    out->fwd = fwd_of(dc, s);
    out->vms = dc->vms[s];
}

int vnd_sim_dc_vm_server(const struct vnd_sim_dc *dc, int64_t t, int vm)
{
    if (t < 0 || t >= dc->ntenants || vm < 0 || vm >= dc->t_vm0[t + 1] - dc->t_vm0[t])
        return -1;
    return dc->vm_server[dc->t_vm0[t] + vm];
}

/* ---- Diagnosis requests ---- */

int vnd_sim_dc_diagnose(const struct vnd_sim_dc *dc, const int64_t *order, int with_executor,
                        enum vnd_sim_stop stop, struct vnd_sim_diag *out)
{
    size_t n = (size_t)dc->p.servers;
    int64_t *sw_free = malloc(n * sizeof *sw_free);
    int64_t *ex_free = malloc(n * sizeof *ex_free);
    int64_t *need = calloc(n, sizeof *need);       /* the tenant's capture, per server */
    int *touched = malloc(n * sizeof *touched);
    if (!sw_free || !ex_free || !need || !touched) {
        free(sw_free);
        free(ex_free);
        free(need);
        free(touched);
        return ENOMEM;
    }
    for (size_t s = 0; s < n; s++) {
        /* Forwarding comes first; mirroring gets what is left. */
        sw_free[s] = dc->p.switch_kbps - fwd_of(dc, (int)s);
        ex_free[s] = dc->p.executor_kbps;
    }
    memset(out, 0, sizeof *out);
    out->first_reject = -1;

    for (int64_t k = 0; k < dc->ntenants; k++) {
        int64_t t = order ? order[k] : k;
        int nt = 0;
        for (int64_t f = dc->t_f0[t]; f < dc->t_f0[t + 1]; f++) {
            int s = dc->f_src[f];
            if (!need[s])
                touched[nt++] = s;
            need[s] += dc->f_kbps[f];
        }
        int sw_ok = 1, ex_ok = 1;
        for (int i = 0; i < nt; i++) {
            int s = touched[i];
            if (need[s] > sw_free[s])
                sw_ok = 0;
            if (with_executor && need[s] > ex_free[s])
                ex_ok = 0;
        }
        int64_t total = 0;
        for (int i = 0; i < nt; i++) {
            int s = touched[i];
            if (sw_ok && ex_ok) {
                sw_free[s] -= need[s];
                if (with_executor)
                    ex_free[s] -= need[s];
                total += need[s];
            }
            need[s] = 0;
        }
        if (sw_ok && ex_ok) {
            out->accepted++;
            out->captured_kbps += total;
            continue;
        }
        if (out->first_reject < 0) {
            out->first_reject = t;
            out->limit = !sw_ok && !ex_ok ? VND_SIM_LIMIT_BOTH
                         : !sw_ok         ? VND_SIM_LIMIT_SWITCH
                                          : VND_SIM_LIMIT_EXECUTOR;
        }
        if (stop == VND_SIM_STOP_FIRST)
            break;
    }
    free(sw_free);
    free(ex_free);
    free(need);
    free(touched);
    return 0;
}

/* ---- One row of Table 4 ---- */

int vnd_sim_run(const struct vnd_sim_params *p, double util, struct vnd_sim_result *res)
{
    if (vnd_sim_params_check(p, NULL) || !(util > 0 && util <= 1))
        return EINVAL;
    memset(res, 0, sizeof *res);
    res->target_util = util;

    struct vnd_sim_dc *dc;
    int rc = vnd_sim_dc_new(p, &dc);
    if (rc)
        return rc;
    struct vnd_sim_flow *flows = malloc((size_t)vnd_sim_max_flows(p->flows, p->vms_max) * sizeof *flows);
    int64_t *order = NULL;
    if (!flows) {
        rc = ENOMEM;
        goto out_free_dc;
    }

    /* Fill: one tenant at a time until the links carry util of their
     * capacity.  The tenant that crosses the threshold stays. */
    struct vnd_rng gen;
    vnd_rng_seed(&gen, p->seed);
    double target = util * (double)p->servers * (double)p->nic_kbps;
    while ((double)dc->sum_tx < target) {
        if (dc->ntenants >= VND_SIM_MAX_TENANTS) {
            rc = E2BIG;
            goto out_free_flows;
        }
        int n = (int)vnd_rng_range(&gen, p->vms_min, p->vms_max);
        int nf = vnd_sim_make_flows(p->flows, n, p->flow_min_kbps, p->flow_max_kbps, &gen, flows);
        rc = vnd_sim_dc_add_tenant(dc, n, flows, nf, &gen);
        if (rc == ENOSPC) {
            res->full = 1;
            rc = 0;
            break;
        }
        if (rc)
            goto out_free_flows;
    }
    res->tenants = dc->ntenants;
    res->vms = dc->nvm;
    res->flows = dc->nf;
    res->link_util = vnd_sim_dc_link_util(dc);

    if (p->order == VND_SIM_ORDER_RANDOM && dc->ntenants > 0) {
        order = malloc((size_t)dc->ntenants * sizeof *order);
        if (!order) {
            rc = ENOMEM;
            goto out_free_flows;
        }
        /* Its own stream, so the order does not shift the tenants drawn. */
        struct vnd_rng ord;
        vnd_rng_seed(&ord, p->seed ^ 0x6f72646572000000ULL);
        for (int64_t i = 0; i < dc->ntenants; i++)
            order[i] = i;
        for (int64_t i = dc->ntenants - 1; i > 0; i--) {
            int64_t j = vnd_rng_range(&ord, 0, i);
            int64_t tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
    }

    struct vnd_sim_diag d;
    rc = vnd_sim_dc_diagnose(dc, order, 0, p->stop, &d);
    if (rc)
        goto out_free_order;
    res->collected = d.accepted;
    res->collect_limit = d.limit;
    rc = vnd_sim_dc_diagnose(dc, order, 1, p->stop, &d);
    if (rc)
        goto out_free_order;
    res->queried = d.accepted;
    res->query_limit = d.limit;
    res->queried_kbps = d.captured_kbps;

out_free_order:
    free(order);
out_free_flows:
    free(flows);
out_free_dc:
    vnd_sim_dc_free(dc);
    return rc;
}
